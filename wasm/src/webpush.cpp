#include "pushpeer/webpush.hpp"
#include "pushpeer/for_size.hpp"

#include <cstring>

#include "pushpeer/ece.hpp"
#include "pushpeer/p256.hpp"
#include "pushpeer/symmetric.hpp"
#include "random.hpp"

PUSHPEER_FOR_SIZE_BEGIN  // not hot: a few calls per connection (pushpeer/for_size.hpp)

namespace pushpeer::webpush {

namespace {

constexpr std::size_t kIkmLength = 32;

// RFC 8291 §3.3-3.4: IKM = HKDF(salt = auth_secret, ikm = ECDH secret,
//                               info = "WebPush: info" 0x00 || ua_public || as_public, L = 32).
Status derive_ikm(ByteView ecdh_secret, ByteView auth_secret, ByteView ua_public, ByteView as_public,
                  Secret<kIkmLength>& ikm) {
  static constexpr char kLabel[] = "WebPush: info";  // sizeof includes the 0x00 separator
  std::uint8_t info[sizeof kLabel + 2 * p256::kPublicKeyLength];
  std::memcpy(info, kLabel, sizeof kLabel);
  std::memcpy(info + sizeof kLabel, ua_public.data(), p256::kPublicKeyLength);
  std::memcpy(info + sizeof kLabel + p256::kPublicKeyLength, as_public.data(), p256::kPublicKeyLength);
  return symmetric::hkdf_sha256(auth_secret, ecdh_secret, {info, sizeof info}, ikm.span());
}

Status check_single_record(std::size_t plaintext, std::size_t padding, std::uint32_t record_size) {
  // A push service takes at most 4096 bytes of body (RFC 8291 §4): 3993 of content in one record.
  if (plaintext > kMaxPlaintextLength || padding > kMaxPlaintextLength - plaintext) return Status::payload_too_large;
  if (record_size < ece::kMinRecordSize) return Status::ece_bad_record_size;
  if (plaintext + padding + ece::kTagLength + 1 > record_size) return Status::ece_bad_record_size;
  return Status::ok;
}

}  // namespace

Status encrypt_with_keys(ByteView ua_public, ByteView auth_secret, ByteView as_private, ByteView as_public,
                         ByteView salt, ByteView plaintext, std::uint32_t record_size, std::size_t padding,
                         Bytes& body) {
  body.clear();
  if (auth_secret.size() != kAuthSecretLength) return Status::bad_key;
  if (salt.size() != ece::kSaltLength) return Status::bad_argument;
  if (as_public.size() != p256::kPublicKeyLength) return Status::bad_key;
  if (Status s = check_single_record(plaintext.size(), padding, record_size); s != Status::ok) return s;
  p256::SharedSecret secret;
  if (Status s = p256::ecdh(as_private, ua_public, secret); s != Status::ok) return s;
  Secret<kIkmLength> ikm;
  if (Status s = derive_ikm(secret.view(), auth_secret, ua_public, as_public, ikm); s != Status::ok) return s;
  return ece::encrypt_with_ikm(ikm.view(), salt, as_public, record_size, padding, plaintext, body);
}

Status encrypt(ByteView ua_public, ByteView auth_secret, ByteView plaintext, std::uint32_t record_size,
               std::size_t padding, Bytes& body) {
  body.clear();
  if (auth_secret.size() != kAuthSecretLength || ua_public.size() != p256::kPublicKeyLength) return Status::bad_key;
  if (Status s = check_single_record(plaintext.size(), padding, record_size); s != Status::ok) return s;
  p256::PrivateKey as_private;
  p256::PublicKey as_public;
  if (Status s = p256::generate_key_pair(as_private, as_public); s != Status::ok) return s;
  std::uint8_t salt[ece::kSaltLength];
  detail::random_bytes(salt, sizeof salt);
  return encrypt_with_keys(ua_public, auth_secret, as_private.view(), as_public, {salt, sizeof salt}, plaintext,
                           record_size, padding, body);
}

Status decrypt(ByteView ua_private, ByteView ua_public, ByteView auth_secret, ByteView body, Bytes& plaintext) {
  plaintext.clear();
  if (auth_secret.size() != kAuthSecretLength || ua_public.size() != p256::kPublicKeyLength ||
      ua_private.size() != p256::kPrivateKeyLength) {
    return Status::bad_key;
  }
  if (Status s = p256::validate_public_key(ua_public); s != Status::ok) return s;
  ece::Header header;
  std::size_t header_length = 0;
  if (Status s = ece::parse_header(body, header, header_length); s != Status::ok) return s;
  // RFC 8291 §4: the key id carries the sender's ephemeral public key.
  if (header.key_id.size() != p256::kPublicKeyLength) return Status::ece_bad_key_id;
  p256::SharedSecret secret;
  if (Status s = p256::ecdh(ua_private, header.key_id, secret); s != Status::ok) {
    return s == Status::bad_key && p256::validate_public_key(header.key_id) != Status::ok ? Status::ece_bad_key_id
                                                                                           : s;
  }
  Secret<kIkmLength> ikm;
  if (Status s = derive_ikm(secret.view(), auth_secret, ua_public, header.key_id, ikm); s != Status::ok) return s;
  return ece::decrypt_with_ikm(ikm.view(), body, plaintext);
}

}  // namespace pushpeer::webpush

PUSHPEER_FOR_SIZE_END
