// An envelope sealed for a neighbour to carry (docs/PROTOCOL.md §4.1): a connected peer forwards it over its control
// channel and sees only ciphertext. The body is a Web Push body (RFC 8291 / RFC 8188 aes128gcm, one record) to the
// recipient's IDENTITY key, the one private key a page holds, with an auth secret derived from its key id: domain
// separation from push bodies, not a secret. Who sealed it is not authenticated here: the envelope's own signature
// says that (envelope::open).
#pragma once

#include "pushpeer/bytes.hpp"
#include "pushpeer/p256.hpp"
#include "pushpeer/status.hpp"
#include "pushpeer/webpush.hpp"

namespace pushpeer::neighbour {

// SHA-256("pushpeer/neighbour/v1" || card::key_id(identity))[0..16].
void auth_secret(const p256::PublicKey& identity, std::uint8_t out[webpush::kAuthSecretLength]);

// A fresh ephemeral key and salt; rs 4096, no padding. An envelope of more than 3993 bytes is payload_too_large,
// a recipient identity that is not a 65-byte point on P-256 bad_key.
Status seal(ByteView recipient_identity, ByteView envelope, Bytes& body);

// TEST ONLY: the same with the ephemeral key pair and salt given (the §4.1 vector). Never reuse either.
Status seal_with_keys(ByteView recipient_identity, ByteView envelope, ByteView ephemeral_private,
                      ByteView ephemeral_public, ByteView salt, Bytes& body);

// With our identity key pair. Beyond what a push decryptor checks, the body must be one push at most (4096 bytes,
// else payload_too_large) with rs = 4096 (else ece_bad_record_size): RFC 8188 leaves the header's rs
// unauthenticated, and this way no byte of the body can change in transit unnoticed.
Status open(ByteView identity_private, ByteView identity_public, ByteView body, Bytes& envelope);

}  // namespace pushpeer::neighbour
