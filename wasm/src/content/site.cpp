#include "pushpeer/content/site.hpp"

#include <algorithm>
#include <string_view>

#include "../wire.hpp"

#if defined(__clang__)
#define PP_SIZE [[clang::minsize, gnu::noinline]]
#else
#define PP_SIZE
#endif

namespace pushpeer::site {

namespace {

// Not the share manifest's context ("pushpeer/manifest/v1"): the two signatures can never stand for each other.
constexpr std::string_view kSignatureContext = "pushpeer/site/v1";

PP_SIZE Bytes signing_input(ByteView body) {
  Bytes input(kSignatureContext.begin(), kSignatureContext.end());
  input.insert(input.end(), body.begin(), body.end());
  return input;
}

}  // namespace

PP_SIZE Status encode(std::uint32_t version, std::uint32_t created, ByteView publisher_private, ByteView manifest_bytes,
                      Bytes& out) {
  out.clear();
  if (version == 0) return Status::bad_argument;
  manifest::Manifest files;
  if (manifest::decode(manifest_bytes, files) != Status::ok) return Status::bad_argument;
  p256::PublicKey publisher;
  if (Status s = p256::public_key_from_private(publisher_private, publisher); s != Status::ok) return s;
  if (publisher != files.sharer) return Status::bad_argument;
  p256::CompressedKey compressed{};
  if (Status s = p256::compress(publisher, compressed); s != Status::ok) return s;
  content::Hash share;
  if (Status s = manifest::id(manifest_bytes, share); s != Status::ok) return s;

  wire::Writer w;
  w.u8(kMagic);
  w.u8(0);  // flags
  w.u32(version);
  w.u32(created);
  w.bytes(compressed);
  w.bytes(share);
  p256::Signature sig;
  if (Status s = p256::sign_low_s(publisher_private, signing_input(w.out), sig); s != Status::ok) return s;
  w.bytes(sig);
  w.bytes(manifest_bytes);
  out = std::move(w.out);
  return Status::ok;
}

PP_SIZE Status decode(ByteView bytes, Record& record, manifest::Manifest& files, std::size_t& manifest_at) {
  record = Record{};
  files = manifest::Manifest{};
  manifest_at = kRecordLength;
  if (bytes.empty() || bytes.size() > kMaxLength) return Status::bad_manifest;
  if (bytes[0] != kMagic) return (bytes[0] & 0xF0) == (kMagic & 0xF0) ? Status::unsupported_version : Status::bad_manifest;
  if (bytes.size() <= kRecordLength) return Status::bad_manifest;
  const ByteView body = bytes.first(kBodyLength);
  wire::Reader r{body};
  r.u8();
  if (r.u8() != 0) return Status::bad_manifest;  // flags: none defined
  record.version = r.u32();
  record.created = r.u32();
  const ByteView publisher = r.bytes(33);
  const ByteView share = r.bytes(content::kHashLength);
  if (!r.done() || record.version == 0) return Status::bad_manifest;
  if (p256::decompress(publisher, record.publisher) != Status::ok) return Status::bad_manifest;
  std::copy(share.begin(), share.end(), record.share.begin());
  if (p256::verify_low_s(record.publisher, signing_input(body), bytes.subspan(kBodyLength, 64)) != Status::ok) {
    return Status::bad_manifest;
  }
  // The files: the manifest the record names, signed by the publisher too.
  if (manifest::decode_expecting(bytes.subspan(kRecordLength), share, files) != Status::ok) return Status::bad_manifest;
  if (files.sharer != record.publisher) return Status::bad_manifest;
  return Status::ok;
}

}  // namespace pushpeer::site
