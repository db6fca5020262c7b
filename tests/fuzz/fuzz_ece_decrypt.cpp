// RFC 8188 aes128gcm decryption (ece::parse_header, ece::decrypt_with_ikm) on untrusted bodies.
//
// Input byte 0 picks the mode:
//  even  raw:    bytes 1..16 are the IKM, the rest is the body, decrypted as it comes. Finds memory errors in
//                the header and record walk; past a tag only the seeds (encrypted with kEceIkm) get through.
//  odd   sealed: byte 1 = rs - 18, byte 2 = key id length, byte 3 = padding, 16 bytes salt, the key id, then the
//                content of the records *before* encryption. The target cuts the content into rs - 16 octet
//                records, seals each with keys it derives itself (RFC 8188 §2.2-2.3) and checks the decrypted
//                status and plaintext against a reference reading of §2 (delimiters and padding). The fuzzer
//                thus reaches every padding and delimiter rule behind a valid tag. It also round-trips the
//                content through encrypt_with_ikm with the same salt, key id, rs and padding.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "fuzz_common.hpp"
#include "pushpeer/ece.hpp"
#include "pushpeer/symmetric.hpp"

using namespace pushpeer;
using pushpeer::fuzz::ece_decrypt_status;
using pushpeer::fuzz::one_of;

namespace {

std::uint32_t read_u32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

// parse_header must agree with the header layout of RFC 8188 §2.1 and keep every view inside the body.
Status check_header(ByteView body) {
  ece::Header header;
  std::size_t header_length = 0;
  const Status s = ece::parse_header(body, header, header_length);
  PP_FUZZ_CHECK(one_of(s, {Status::ok, Status::ece_truncated_header, Status::ece_bad_record_size}));
  if (s != Status::ok) return s;
  PP_FUZZ_CHECK(body.size() >= ece::kHeaderLength);
  PP_FUZZ_CHECK(std::equal(header.salt.begin(), header.salt.end(), body.begin()));
  PP_FUZZ_CHECK(header.record_size == read_u32(body.data() + 16));
  PP_FUZZ_CHECK(header.record_size >= ece::kMinRecordSize);
  PP_FUZZ_CHECK(header_length == ece::kHeaderLength + body[20]);
  PP_FUZZ_CHECK(header_length <= body.size());
  PP_FUZZ_CHECK(header.key_id.data() == body.data() + ece::kHeaderLength);
  PP_FUZZ_CHECK(header.key_id.size() == body[20]);
  return s;
}

void raw_mode(ByteView ikm, ByteView body) {
  const Status header_status = check_header(body);
  Bytes plaintext{0xAA};  // decrypt must clear it on every path
  const Status s = ece::decrypt_with_ikm(ikm, body, plaintext);
  PP_FUZZ_CHECK(ece_decrypt_status(s));
  if (header_status != Status::ok) PP_FUZZ_CHECK(s == header_status);
  if (s != Status::ok) {
    PP_FUZZ_CHECK(plaintext.empty());
    return;
  }
  // Each record costs a tag and at least a delimiter: the plaintext is that much shorter than the records.
  const std::size_t header_length = ece::kHeaderLength + body[20];
  const std::uint32_t rs = read_u32(body.data() + 16);
  const std::size_t records_bytes = body.size() - header_length;
  PP_FUZZ_CHECK(records_bytes > 0);
  const std::size_t records = (records_bytes + rs - 1) / rs;
  PP_FUZZ_CHECK(plaintext.size() + records * (ece::kTagLength + 1) <= records_bytes);
  // Dropping the last record at a record boundary leaves a last record with delimiter 1: truncation detected.
  if (records > 1) {
    Bytes truncated;
    const Status t = ece::decrypt_with_ikm(ikm, body.first(header_length + (records - 1) * std::size_t{rs}),
                                           truncated);
    PP_FUZZ_CHECK(t == Status::ece_truncated_message);
    PP_FUZZ_CHECK(truncated.empty());
  }
}

// The reference: RFC 8188 §2 applied to the record contents the target sealed. No plaintext on failure.
Status expected_plaintext(const std::vector<ByteView>& records, Bytes& plaintext) {
  plaintext.clear();
  if (records.empty()) return Status::ece_truncated_message;  // a header and no record
  Bytes out;
  for (std::size_t i = 0; i < records.size(); ++i) {
    ByteView r = records[i];
    std::size_t end = r.size();
    while (end > 0 && r[end - 1] == 0) --end;  // padding is zeros after the delimiter
    if (end == 0 || r[end - 1] > 2) return Status::ece_bad_padding;
    const bool last = i + 1 == records.size();
    if (r[end - 1] == 2 && !last) return Status::ece_bad_delimiter;
    if (r[end - 1] == 1 && last) return Status::ece_truncated_message;
    out.insert(out.end(), r.begin(), r.begin() + static_cast<std::ptrdiff_t>(end - 1));
  }
  plaintext = std::move(out);
  return Status::ok;
}

void sealed_mode(const std::uint8_t* data, std::size_t size) {
  constexpr std::size_t kFixed = 4 + ece::kSaltLength;
  if (size < kFixed) return;
  const std::uint32_t rs = ece::kMinRecordSize + data[1];
  const std::size_t padding = data[3];
  ByteView salt{data + 4, ece::kSaltLength};
  const std::size_t id_length = std::min<std::size_t>(data[2], size - kFixed);
  ByteView key_id{data + kFixed, id_length};
  ByteView content{data + kFixed + id_length, size - kFixed - id_length};
  ByteView ikm{fuzz::kEceIkm, sizeof fuzz::kEceIkm};

  // RFC 8188 §2.2-2.3, derived here rather than by the code under test.
  static constexpr char kCekInfo[] = "Content-Encoding: aes128gcm";  // sizeof includes the 0x00
  static constexpr char kNonceInfo[] = "Content-Encoding: nonce";
  std::uint8_t cek[16], base_nonce[12];
  PP_FUZZ_CHECK(symmetric::hkdf_sha256(salt, ikm, as_bytes({kCekInfo, sizeof kCekInfo}), cek) == Status::ok);
  PP_FUZZ_CHECK(symmetric::hkdf_sha256(salt, ikm, as_bytes({kNonceInfo, sizeof kNonceInfo}), base_nonce) ==
                Status::ok);

  Bytes body(salt.begin(), salt.end());
  body.insert(body.end(), {static_cast<std::uint8_t>(rs >> 24), static_cast<std::uint8_t>(rs >> 16),
                           static_cast<std::uint8_t>(rs >> 8), static_cast<std::uint8_t>(rs),
                           static_cast<std::uint8_t>(id_length)});
  body.insert(body.end(), key_id.begin(), key_id.end());
  const std::size_t chunk = rs - ece::kTagLength;
  std::vector<ByteView> records;
  for (std::size_t at = 0; at < content.size(); at += chunk) {
    records.push_back(content.subspan(at, std::min(chunk, content.size() - at)));
  }
  for (std::size_t seq = 0; seq < records.size(); ++seq) {
    std::uint8_t nonce[12];
    std::copy(base_nonce, base_nonce + 12, nonce);
    for (int i = 0; i < 8; ++i) nonce[11 - i] ^= static_cast<std::uint8_t>(std::uint64_t{seq} >> (8 * i));
    const std::size_t at = body.size();
    body.resize(at + records[seq].size() + ece::kTagLength);
    PP_FUZZ_CHECK(symmetric::aes128gcm_seal(cek, nonce, {}, records[seq], {body.data() + at, body.size() - at}) ==
                  Status::ok);
  }

  Bytes want;
  const Status expected = expected_plaintext(records, want);
  Bytes got{0xAA};
  const Status s = ece::decrypt_with_ikm(ikm, body, got);
  PP_FUZZ_CHECK(s == expected);
  PP_FUZZ_CHECK(got == want);  // empty on failure

  // The encrypter with the same parameters: the predicted length, and a body that decrypts back.
  Bytes sealed;
  const Status e = ece::encrypt_with_ikm(ikm, salt, key_id, rs, padding, content, sealed);
  PP_FUZZ_CHECK(e == Status::ok);
  PP_FUZZ_CHECK(sealed.size() == ece::encrypted_length(content.size(), padding, id_length, rs));
  PP_FUZZ_CHECK(std::equal(sealed.begin(), sealed.begin() + static_cast<std::ptrdiff_t>(ece::kHeaderLength),
                           body.begin()));
  PP_FUZZ_CHECK(std::equal(key_id.begin(), key_id.end(), sealed.begin() + ece::kHeaderLength));
  Bytes opened;
  PP_FUZZ_CHECK(ece::decrypt_with_ikm(ikm, sealed, opened) == Status::ok);
  PP_FUZZ_CHECK(std::equal(opened.begin(), opened.end(), content.begin(), content.end()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  if ((data[0] & 1) == 0) {
    if (size < 17) return 0;
    raw_mode({data + 1, 16}, {data + 17, size - 17});
  } else {
    sealed_mode(data, size);
  }
  return 0;
}
