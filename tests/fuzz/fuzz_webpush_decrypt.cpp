// RFC 8291 receiver side (webpush::decrypt) on untrusted bodies, with a fixed subscription key pair and auth
// secret. The whole input is the body. Only inputs whose key id is a valid P-256 point reach the ECDH (one
// scalar multiplication); the seeds are messages encrypted to this subscription by make_seeds. The same body goes to
// neighbour::open (docs/PROTOCOL.md §4.1) with that key pair as an identity: the same decoder with a derived auth
// secret, behind a size and an rs check.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "fuzz_common.hpp"
#include "pushpeer/ece.hpp"
#include "pushpeer/neighbour.hpp"
#include "pushpeer/p256.hpp"
#include "pushpeer/webpush.hpp"

using namespace pushpeer;
using pushpeer::fuzz::ece_decrypt_status;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const p256::PublicKey receiver_public = fuzz::public_of(fuzz::kReceiverPrivate);
  ByteView body{data, size};

  Bytes plaintext{0xAA};  // decrypt must clear it on every path
  const Status s = webpush::decrypt({fuzz::kReceiverPrivate, 32}, receiver_public,
                                    {fuzz::kAuthSecret, sizeof fuzz::kAuthSecret}, body, plaintext);
  // The receiver's own keys are valid, so bad_key (or anything outside RFC 8188's errors) would be a bug.
  PP_FUZZ_CHECK(ece_decrypt_status(s, {Status::ece_bad_key_id}));
  if (s != Status::ok) PP_FUZZ_CHECK(plaintext.empty());

  ece::Header header;
  std::size_t header_length = 0;
  const Status h = ece::parse_header(body, header, header_length);

  // neighbour::open: a push's errors, plus payload_too_large beyond one push and ece_bad_record_size for rs != 4096,
  // which leave nothing unchecked: what it accepts is exactly one record of a body of at most 4096 bytes.
  Bytes envelope{0xAA};
  const Status n = neighbour::open({fuzz::kReceiverPrivate, 32}, receiver_public, body, envelope);
  PP_FUZZ_CHECK(ece_decrypt_status(n, {Status::ece_bad_key_id, Status::payload_too_large}));
  if (n != Status::ok) PP_FUZZ_CHECK(envelope.empty());
  if (body.size() > webpush::kMaxBodyLength) {
    PP_FUZZ_CHECK(n == Status::payload_too_large);
  } else if (h != Status::ok) {
    PP_FUZZ_CHECK(n == h);
  } else if (header.record_size != webpush::kDefaultRecordSize) {
    PP_FUZZ_CHECK(n == Status::ece_bad_record_size);
  } else if (n == Status::ok) {
    PP_FUZZ_CHECK(header_length == webpush::kWebPushHeaderLength);
    PP_FUZZ_CHECK(envelope.size() + webpush::kWebPushHeaderLength + ece::kTagLength + 1 <= body.size());
  }

  if (h != Status::ok) {
    PP_FUZZ_CHECK(s == h);  // header errors are reported before any key work
    return 0;
  }
  // RFC 8291 §4: the key id is the sender's uncompressed P-256 key; anything else is ece_bad_key_id, and a
  // valid key is never reported as one.
  const bool key_ok = header.key_id.size() == p256::kPublicKeyLength &&
                      p256::validate_public_key(header.key_id) == Status::ok;
  PP_FUZZ_CHECK((s == Status::ece_bad_key_id) == !key_ok);
  if (s == Status::ok) {
    PP_FUZZ_CHECK(header_length == webpush::kWebPushHeaderLength);
    PP_FUZZ_CHECK(plaintext.size() + header_length + ece::kTagLength + 1 <= body.size());
  }
  return 0;
}
