#include "pushpeer/neighbour.hpp"
#include "pushpeer/for_size.hpp"

#include <cstring>

#include "pushpeer/card.hpp"
#include "pushpeer/ece.hpp"
#include "pushpeer/symmetric.hpp"

PUSHPEER_FOR_SIZE_BEGIN  // not hot: a few calls per connection (pushpeer/for_size.hpp)

namespace pushpeer::neighbour {

namespace {

// The identity as a full point (else bad_key), and the auth secret that goes with it.
Status recipient_keys(ByteView identity, p256::PublicKey& key, std::uint8_t auth[webpush::kAuthSecretLength]) {
  if (!copy_exact(identity, key) || p256::validate_public_key(key) != Status::ok) return Status::bad_key;
  auth_secret(key, auth);
  return Status::ok;
}

}  // namespace

void auth_secret(const p256::PublicKey& identity, std::uint8_t out[webpush::kAuthSecretLength]) {
  static constexpr char kLabel[] = "pushpeer/neighbour/v1";  // without its 0x00
  const card::KeyId id = card::key_id(identity);
  std::uint8_t input[sizeof kLabel - 1 + id.size()];
  std::memcpy(input, kLabel, sizeof kLabel - 1);
  std::memcpy(input + sizeof kLabel - 1, id.data(), id.size());
  std::uint8_t digest[symmetric::kSha256Length];
  symmetric::sha256({input, sizeof input}, digest);
  std::memcpy(out, digest, webpush::kAuthSecretLength);
}

Status seal(ByteView recipient_identity, ByteView envelope, Bytes& body) {
  body.clear();
  p256::PublicKey key;
  std::uint8_t auth[webpush::kAuthSecretLength];
  if (Status s = recipient_keys(recipient_identity, key, auth); s != Status::ok) return s;
  return webpush::encrypt(key, {auth, sizeof auth}, envelope, webpush::kDefaultRecordSize, 0, body);
}

Status seal_with_keys(ByteView recipient_identity, ByteView envelope, ByteView ephemeral_private,
                      ByteView ephemeral_public, ByteView salt, Bytes& body) {
  body.clear();
  p256::PublicKey key;
  std::uint8_t auth[webpush::kAuthSecretLength];
  if (Status s = recipient_keys(recipient_identity, key, auth); s != Status::ok) return s;
  return webpush::encrypt_with_keys(key, {auth, sizeof auth}, ephemeral_private, ephemeral_public, salt, envelope,
                                    webpush::kDefaultRecordSize, 0, body);
}

Status open(ByteView identity_private, ByteView identity_public, ByteView body, Bytes& envelope) {
  envelope.clear();
  if (body.size() > webpush::kMaxBodyLength) return Status::payload_too_large;
  p256::PublicKey key;
  std::uint8_t auth[webpush::kAuthSecretLength];
  if (Status s = recipient_keys(identity_public, key, auth); s != Status::ok) return s;
  ece::Header header;
  std::size_t header_length = 0;
  if (Status s = ece::parse_header(body, header, header_length); s != Status::ok) return s;
  // One record of rs 4096, as seal makes: a body of at most 4096 bytes is then a single record.
  if (header.record_size != webpush::kDefaultRecordSize) return Status::ece_bad_record_size;
  return webpush::decrypt(identity_private, key, {auth, sizeof auth}, body, envelope);
}

}  // namespace pushpeer::neighbour

PUSHPEER_FOR_SIZE_END
