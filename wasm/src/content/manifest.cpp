#include "pushpeer/content/manifest.hpp"

#include <sodium/crypto_generichash_blake2b.h>

#include <string_view>
#include <utility>
#include <vector>

#include "../wire.hpp"
#include "pushpeer/text.hpp"

// Runs once per manifest or frame: optimised for size (the module's gzip size is budgeted, bench/RESULTS.md).
#if defined(__clang__)
#define PP_SIZE [[clang::minsize, gnu::noinline]]
#else
#define PP_SIZE
#endif

namespace pushpeer::manifest {

namespace {

constexpr std::string_view kSignatureContext = "pushpeer/manifest/v1";
constexpr char kIdPersonal[] = "pushpeer-mfst-v1";
static_assert(sizeof kIdPersonal - 1 == crypto_generichash_blake2b_PERSONALBYTES);
constexpr std::size_t kSignatureLength = 64;

PP_SIZE Bytes signing_input(ByteView body) {
  Bytes input(kSignatureContext.begin(), kSignatureContext.end());
  input.insert(input.end(), body.begin(), body.end());
  return input;
}

void u64(wire::Writer& w, std::uint64_t v) {
  w.u32(static_cast<std::uint32_t>(v >> 32));
  w.u32(static_cast<std::uint32_t>(v));
}

PP_SIZE bool tchar(char c) {  // RFC 9110 token characters
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

PP_SIZE bool token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!tchar(c)) return false;
  }
  return true;
}

// Receivers save a share as a folder tree: two files may not have the same path, nor may one path be a folder of
// another's ("a" and "a/b").
PP_SIZE bool paths_clash(std::string_view a, std::string_view b) {
  if (a.size() > b.size()) std::swap(a, b);
  return b.substr(0, a.size()) == a && (b.size() == a.size() || b[a.size()] == '/');
}

PP_SIZE bool distinct_paths(const std::vector<File>& files) {
  for (std::size_t i = 1; i < files.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (paths_clash(files[i].name, files[j].name)) return false;
    }
  }
  return true;
}

}  // namespace

PP_SIZE bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength || !text::valid_display_text(name)) return false;
  if (name.find('\\') != std::string_view::npos) return false;
  std::size_t start = 0;
  while (true) {
    const std::size_t slash = name.find('/', start);
    const std::string_view segment = name.substr(start, slash == std::string_view::npos ? name.npos : slash - start);
    if (segment.empty() || segment == "." || segment == "..") return false;
    if (slash == std::string_view::npos) return true;
    start = slash + 1;
  }
}

PP_SIZE bool valid_type(std::string_view type) {
  if (type.empty()) return true;
  if (type.size() > kMaxTypeLength) return false;
  const std::size_t semicolon = type.find(';');
  const std::string_view essence = type.substr(0, semicolon);
  const std::size_t slash = essence.find('/');
  if (slash == std::string_view::npos || !token(essence.substr(0, slash)) || !token(essence.substr(slash + 1))) {
    return false;
  }
  for (char c : type) {
    if (c < 0x20 || c > 0x7E) return false;  // printable ASCII: nothing that could end a header line
  }
  return true;
}

PP_SIZE Status encode(const Manifest& m, ByteView identity_private, Bytes& out) {
  out.clear();
  if (m.files.empty() || m.files.size() > kMaxFiles || m.title.size() > kMaxTitleLength) return Status::bad_argument;
  if (!text::valid_display_text(m.title)) return Status::bad_text;
  for (const File& f : m.files) {
    if (f.size > content::kMaxSize || f.type.size() > kMaxTypeLength || f.name.size() > kMaxNameLength) {
      return Status::bad_argument;
    }
    if (!valid_name(f.name)) return Status::bad_text;
    if (!valid_type(f.type)) return Status::bad_argument;
  }
  if (!distinct_paths(m.files)) return Status::bad_text;
  p256::PublicKey derived;
  if (Status s = p256::public_key_from_private(identity_private, derived); s != Status::ok) return s;
  if (derived != m.sharer) return Status::bad_key;
  p256::CompressedKey sharer{};
  if (Status s = p256::compress(m.sharer, sharer); s != Status::ok) return s;

  wire::Writer w;
  w.u8(kMagic);
  w.u8(0);  // flags
  w.u32(m.created);
  w.bytes(sharer);
  w.blob(as_bytes(m.title));
  w.varint(static_cast<std::uint32_t>(m.files.size()));
  for (const File& f : m.files) {
    w.blob(as_bytes(f.name));
    u64(w, f.size);
    w.blob(as_bytes(f.type));
    w.bytes(f.root);
  }
  if (w.out.size() + kSignatureLength > kMaxLength) return Status::bad_argument;
  p256::Signature sig;
  if (Status s = p256::sign_low_s(identity_private, signing_input(w.out), sig); s != Status::ok) return s;
  w.bytes(sig);
  out = std::move(w.out);
  return Status::ok;
}

PP_SIZE Status decode(ByteView bytes, Manifest& m) {
  m = Manifest{};
  if (bytes.empty() || bytes.size() > kMaxLength) return Status::bad_manifest;
  if (bytes[0] != kMagic) return (bytes[0] & 0xF0) == (kMagic & 0xF0) ? Status::unsupported_version : Status::bad_manifest;
  if (bytes.size() < 1 + kSignatureLength) return Status::bad_manifest;
  const ByteView body = bytes.first(bytes.size() - kSignatureLength);
  wire::Reader r{body};
  r.u8();
  if (r.u8() != 0) return Status::bad_manifest;  // flags: none defined
  m.created = r.u32();
  const ByteView sharer = r.bytes(33);
  const ByteView title = r.blob(kMaxTitleLength);
  const std::uint32_t count = r.varint();
  if (!r.ok || count == 0 || count > kMaxFiles) return Status::bad_manifest;
  if (p256::decompress(sharer, m.sharer) != Status::ok) return Status::bad_manifest;
  m.title.assign(title.begin(), title.end());
  if (!text::valid_display_text(m.title)) return Status::bad_manifest;
  m.files.reserve(count);
  for (std::uint32_t i = 0; i < count && r.ok; ++i) {
    File f;
    const ByteView name = r.blob(kMaxNameLength);
    const std::uint64_t high = r.u32();
    f.size = high << 32 | r.u32();
    const ByteView type = r.blob(kMaxTypeLength);
    const ByteView root = r.bytes(content::kHashLength);
    if (!r.ok) break;
    f.name.assign(name.begin(), name.end());
    f.type.assign(type.begin(), type.end());
    std::copy(root.begin(), root.end(), f.root.begin());
    if (f.size > content::kMaxSize || !valid_name(f.name) || !valid_type(f.type)) return Status::bad_manifest;
    m.files.push_back(std::move(f));
  }
  if (!r.done() || !distinct_paths(m.files)) return Status::bad_manifest;
  if (p256::verify_low_s(m.sharer, signing_input(body), bytes.last(kSignatureLength)) != Status::ok) {
    return Status::bad_manifest;
  }
  return Status::ok;
}

PP_SIZE Status id(ByteView bytes, content::Hash& out) {
  if (bytes.size() <= kSignatureLength || bytes.size() > kMaxLength) return Status::bad_manifest;
  const ByteView body = bytes.first(bytes.size() - kSignatureLength);
  crypto_generichash_blake2b_salt_personal(out.data(), out.size(), body.data(), body.size(), nullptr, 0, nullptr,
                                           reinterpret_cast<const unsigned char*>(kIdPersonal));
  return Status::ok;
}

PP_SIZE Status decode_expecting(ByteView bytes, ByteView expected, Manifest& m) {
  m = Manifest{};
  if (expected.size() != content::kHashLength) return Status::bad_argument;
  content::Hash got;
  if (Status s = id(bytes, got); s != Status::ok) return s;
  if (!equal_ct(expected, got)) return Status::bad_manifest;
  return decode(bytes, m);
}

}  // namespace pushpeer::manifest
