// Share manifests from untrusted bytes (docs/PROTOCOL.md §9.3): manifest::decode, manifest::id and
// manifest::decode_expecting (with the input's own id, another id and a short one). The whole input is tried as it
// is; then, when it is not accepted but starts with the magic and names the fixed sharer (kSharerPrivate), once
// more with its last 64 bytes replaced by that key's signature of the rest, so that mutated manifests get past the
// signature and reach everything decode checks after it. There acceptance must be exactly that of a reference
// reading of §9.3 written here, and an accepted manifest encodes (manifest::encode) back to the same bytes.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "fuzz_content.hpp"
#include "pushpeer/text.hpp"

using namespace pushpeer;
using pushpeer::fuzz::one_of;

namespace {

constexpr std::size_t kSig = fuzz::kManifestSignatureLength;

bool same(ByteView a, ByteView b) { return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin()); }

bool same(const manifest::Manifest& a, const manifest::Manifest& b) {
  if (a.created != b.created || a.sharer != b.sharer || a.title != b.title || a.files.size() != b.files.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.files.size(); ++i) {
    const manifest::File &x = a.files[i], &y = b.files[i];
    if (x.name != y.name || x.size != y.size || x.type != y.type || x.root != y.root) return false;
  }
  return true;
}

const p256::PublicKey& sharer() {
  static const p256::PublicKey key = fuzz::public_of(fuzz::kSharerPrivate);
  return key;
}

// --- the reference reading of §9.3, for bodies whose signature is known to be good --------------------------------

struct Reader {
  ByteView in;
  std::size_t at = 0;
  bool ok = true;

  ByteView bytes(std::size_t n) {
    if (!ok || in.size() - at < n) {
      ok = false;
      return {};
    }
    at += n;
    return in.subspan(at - n, n);
  }
  std::uint64_t be(std::size_t n) {
    std::uint64_t v = 0;
    for (std::uint8_t b : bytes(n)) v = v << 8 | b;
    return v;
  }
  // LEB128, shortest form, at most 32 bits.
  std::uint64_t varint() {
    std::uint64_t v = 0;
    for (int i = 0; i < 5 && ok; ++i) {
      const std::uint8_t b = static_cast<std::uint8_t>(be(1));
      v |= std::uint64_t{b & 0x7Fu} << (7 * i);
      if (ok && !(b & 0x80)) {
        ok = (i == 0 || b != 0) && v <= 0xFFFFFFFFu;
        return v;
      }
    }
    ok = false;
    return 0;
  }
  std::string_view text(std::size_t max) {
    const std::uint64_t n = varint();
    if (n > max) ok = false;
    const ByteView b = bytes(ok ? n : 0);
    return {reinterpret_cast<const char*>(b.data()), b.size()};
  }
};

bool reference_name(std::string_view name) {
  if (name.empty() || name.size() > 255 || !text::valid_display_text(name)) return false;
  if (name.find('\\') != name.npos) return false;
  for (std::size_t start = 0;;) {
    const std::size_t end = std::min(name.find('/', start), name.size());
    const std::string_view segment = name.substr(start, end - start);
    if (segment.empty() || segment == "." || segment == "..") return false;
    if (end == name.size()) return true;
    start = end + 1;
  }
}

// RFC 9110 token.
bool token(std::string_view s) {
  constexpr std::string_view kSpecial = "!#$%&'*+-.^_`|~";
  return !s.empty() && std::all_of(s.begin(), s.end(), [&](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           kSpecial.find(c) != kSpecial.npos;
  });
}

bool reference_type(std::string_view type) {
  if (type.empty()) return true;
  if (type.size() > 127) return false;
  if (!std::all_of(type.begin(), type.end(), [](char c) { return c >= 0x20 && c <= 0x7E; })) return false;
  const std::string_view essence = type.substr(0, type.find(';'));
  const std::size_t slash = essence.find('/');
  return slash != essence.npos && token(essence.substr(0, slash)) && token(essence.substr(slash + 1));
}

bool reference_accepts(ByteView body) {
  if (body.size() + kSig > manifest::kMaxLength) return false;
  Reader r{body};
  if (r.be(1) != 0xD1 || r.be(1) != 0) return false;
  r.be(4);
  r.bytes(33);  // the caller compared it with the fixed sharer's key
  if (!text::valid_display_text(r.text(128))) return false;
  const std::uint64_t count = r.varint();
  if (!r.ok || count < 1 || count > 1024) return false;
  std::vector<std::string> names;
  for (std::uint64_t i = 0; i < count && r.ok; ++i) {
    const std::string_view name = r.text(255);
    if (!reference_name(name)) return false;
    names.emplace_back(name);
    if (r.be(8) > (std::uint64_t{1} << 36)) return false;
    if (!reference_type(r.text(127))) return false;
    r.bytes(32);
  }
  if (!r.ok || r.at != body.size()) return false;
  // No two paths the same, and none a folder of another ("a" and "a/b"): every path and each of its folders, once.
  std::set<std::string> files, folders;
  for (const std::string& name : names) {
    if (!files.insert(name).second || folders.count(name) != 0) return false;
    for (std::size_t slash = name.find('/'); slash != std::string::npos; slash = name.find('/', slash + 1)) {
      const std::string folder = name.substr(0, slash);
      if (files.count(folder) != 0) return false;
      folders.insert(folder);
    }
  }
  return true;
}

// --- checks ---------------------------------------------------------------------------------------------------------

// What any accepted manifest keeps, and that it is the only encoding of what it says.
void check_accepted(ByteView in, const manifest::Manifest& m) {
  PP_FUZZ_CHECK(in.size() > kSig && in.size() <= manifest::kMaxLength && in[0] == manifest::kMagic);
  PP_FUZZ_CHECK(!m.files.empty() && m.files.size() <= manifest::kMaxFiles);
  PP_FUZZ_CHECK(m.title.size() <= manifest::kMaxTitleLength && text::valid_display_text(m.title));
  for (const manifest::File& f : m.files) {
    PP_FUZZ_CHECK(manifest::valid_name(f.name) && f.name.size() <= manifest::kMaxNameLength);
    PP_FUZZ_CHECK(manifest::valid_type(f.type) && f.type.size() <= manifest::kMaxTypeLength);
    PP_FUZZ_CHECK(f.size <= content::kMaxSize);
  }
  PP_FUZZ_CHECK(p256::validate_public_key(m.sharer) == Status::ok);
  PP_FUZZ_CHECK(p256::is_low_s(in.last(kSig)));
  PP_FUZZ_CHECK(same(fuzz::manifest_body(m), in.first(in.size() - kSig)));
  if (m.sharer == sharer()) {
    Bytes again;
    PP_FUZZ_CHECK(manifest::encode(m, {fuzz::kSharerPrivate, 32}, again) == Status::ok);
    PP_FUZZ_CHECK(same(again, in));
  }
}

Status check_all(ByteView in) {
  manifest::Manifest m;
  const Status s = manifest::decode(in, m);
  PP_FUZZ_CHECK(one_of(s, {Status::ok, Status::bad_manifest, Status::unsupported_version}));
  const bool other_version = !in.empty() && in.size() <= manifest::kMaxLength && in[0] != manifest::kMagic &&
                             (in[0] & 0xF0) == (manifest::kMagic & 0xF0);
  PP_FUZZ_CHECK((s == Status::unsupported_version) == other_version);

  content::Hash id{};
  const Status i = manifest::id(in, id);
  PP_FUZZ_CHECK(i == (in.size() > kSig && in.size() <= manifest::kMaxLength ? Status::ok : Status::bad_manifest));
  manifest::Manifest e;
  PP_FUZZ_CHECK(manifest::decode_expecting(in, ByteView(id).first(31), e) == Status::bad_argument);
  if (i == Status::ok) {
    content::Hash other = id;
    other[in.size() % other.size()] ^= 1;
    PP_FUZZ_CHECK(manifest::decode_expecting(in, other, e) == Status::bad_manifest);
    PP_FUZZ_CHECK(manifest::decode_expecting(in, id, e) == s);
  } else {
    PP_FUZZ_CHECK(s != Status::ok);
    PP_FUZZ_CHECK(manifest::decode_expecting(in, id, e) == Status::bad_manifest);
  }
  if (s == Status::ok) {
    PP_FUZZ_CHECK(same(m, e));
    check_accepted(in, m);
  }
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteView in{data, size};
  if (check_all(in) == Status::ok || size <= kSig || data[0] != manifest::kMagic) return 0;
  // Signed again by the fixed sharer, when it names that key (another key's manifest cannot verify either way).
  static const p256::CompressedKey named = [] {
    p256::CompressedKey c{};
    if (p256::compress(sharer(), c) != Status::ok) fuzz::fail("compress", __FILE__, __LINE__);
    return c;
  }();
  const ByteView body = in.first(size - kSig);
  if (body.size() < fuzz::kManifestSharerOffset + named.size() ||
      !same(body.subspan(fuzz::kManifestSharerOffset, named.size()), named)) {
    return 0;
  }
  const Bytes resigned = fuzz::manifest_signed(body, fuzz::kSharerPrivate);
  PP_FUZZ_CHECK((check_all(resigned) == Status::ok) == reference_accepts(body));
  return 0;
}
