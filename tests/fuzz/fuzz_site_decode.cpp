// Site manifests from untrusted bytes (docs/PROTOCOL.md §10): site::decode. The whole input is tried as it is; then,
// when it starts with the magic, once more "repaired": its tail (after the record) taken as a share manifest body and
// signed by the fixed sharer (kSharerPrivate), and a record with the input's own flags, version and created time,
// naming that key and that manifest's id, signed by it. Mutations then get past both signatures, and acceptance
// must be exactly: flags 0, version at least 1, and the manifest accepted by manifest::decode (its sharer the
// record's publisher). What is accepted re-encodes (site::encode) to the same bytes.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_content.hpp"
#include "pushpeer/content/site.hpp"

using namespace pushpeer;
using pushpeer::fuzz::one_of;

namespace {

constexpr std::string_view kContext = "pushpeer/site/v1";

bool same(ByteView a, ByteView b) { return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin()); }

const p256::PublicKey& publisher() {
  static const p256::PublicKey key = fuzz::public_of(fuzz::kSharerPrivate);
  return key;
}

// A record (§10.1) for `files` (a signed share manifest) with these fields, signed by the fixed key, then `files`.
Bytes site_signed(std::uint8_t flags, std::uint32_t version, std::uint32_t created, ByteView files) {
  p256::CompressedKey key{};
  if (p256::compress(publisher(), key) != Status::ok) fuzz::fail("compress", __FILE__, __LINE__);
  content::Hash id{};
  if (manifest::id(files, id) != Status::ok) id.fill(0);
  fuzz::Writer w;
  w.u8(site::kMagic);
  w.u8(flags);
  w.u32(version);
  w.u32(created);
  w.bytes(key);
  w.bytes(id);
  Bytes input(kContext.begin(), kContext.end());
  input.insert(input.end(), w.out.begin(), w.out.end());
  p256::Signature sig;
  if (p256::sign_low_s({fuzz::kSharerPrivate, 32}, input, sig) != Status::ok) fuzz::fail("sign", __FILE__, __LINE__);
  w.bytes(sig);
  w.bytes(files);
  return std::move(w.out);
}

Status check(ByteView in) {
  site::Record r;
  manifest::Manifest m;
  std::size_t at = 0;
  const Status s = site::decode(in, r, m, at);
  PP_FUZZ_CHECK(one_of(s, {Status::ok, Status::bad_manifest, Status::unsupported_version}));
  const bool other_version = !in.empty() && in.size() <= site::kMaxLength && in[0] != site::kMagic &&
                             (in[0] & 0xF0) == (site::kMagic & 0xF0);
  PP_FUZZ_CHECK((s == Status::unsupported_version) == other_version);
  if (s != Status::ok) return s;
  PP_FUZZ_CHECK(at == site::kRecordLength && in[0] == site::kMagic && in[1] == 0 && r.version >= 1);
  PP_FUZZ_CHECK(p256::validate_public_key(r.publisher) == Status::ok && m.sharer == r.publisher);
  const ByteView files = in.subspan(at);
  manifest::Manifest again;
  PP_FUZZ_CHECK(manifest::decode(files, again) == Status::ok);
  content::Hash id{};
  PP_FUZZ_CHECK(manifest::id(files, id) == Status::ok && id == r.share);
  if (r.publisher == publisher()) {
    Bytes encoded;
    PP_FUZZ_CHECK(site::encode(r.version, r.created, {fuzz::kSharerPrivate, 32}, files, encoded) == Status::ok);
    PP_FUZZ_CHECK(same(encoded, in));
  }
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteView in{data, size};
  if (check(in) == Status::ok || size < site::kRecordLength || data[0] != site::kMagic) return 0;
  // Repaired: the tail signed as a manifest by the fixed key, the record re-made around it.
  const Bytes files = fuzz::manifest_signed(in.subspan(site::kRecordLength), fuzz::kSharerPrivate);
  const std::uint32_t version = std::uint32_t{data[2]} << 24 | std::uint32_t{data[3]} << 16 | std::uint32_t{data[4]} << 8 | data[5];
  const std::uint32_t created = std::uint32_t{data[6]} << 24 | std::uint32_t{data[7]} << 16 | std::uint32_t{data[8]} << 8 | data[9];
  const Bytes repaired = site_signed(data[1], version, created, files);
  manifest::Manifest m;
  const bool files_ok = manifest::decode(files, m) == Status::ok && m.sharer == publisher();
  const bool expected = data[1] == 0 && version >= 1 && files_ok && repaired.size() <= site::kMaxLength;
  PP_FUZZ_CHECK((check(repaired) == Status::ok) == expected);
  return 0;
}
