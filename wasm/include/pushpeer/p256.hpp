// P-256 (secp256r1) keys, ECDH and ECDSA-SHA256 on BearSSL's constant-time br_ec_p256_m31.
// Public keys are 65-byte uncompressed points (0x04 || X || Y); private keys 32-byte big-endian scalars in
// [1, n-1]; signatures raw r || s (64 bytes, IEEE P1363 / JWS form).
#pragma once
#include <array>

#include "pushpeer/bytes.hpp"
#include "pushpeer/status.hpp"

namespace pushpeer::p256 {

inline constexpr std::size_t kPublicKeyLength = 65;
inline constexpr std::size_t kPrivateKeyLength = 32;
inline constexpr std::size_t kSharedSecretLength = 32;
inline constexpr std::size_t kSignatureLength = 64;

using PublicKey = std::array<std::uint8_t, kPublicKeyLength>;
using PrivateKey = Secret<kPrivateKeyLength>;
using SharedSecret = Secret<kSharedSecretLength>;
using Signature = std::array<std::uint8_t, kSignatureLength>;

Status generate_key_pair(PrivateKey& private_key, PublicKey& public_key);
// Checks the scalar range and derives the public key (import of a 32-byte private key).
Status public_key_from_private(ByteView private_key, PublicKey& public_key);
// Checks length, the 0x04 prefix and that the point is on the curve.
Status validate_public_key(ByteView public_key);
// Raw X coordinate of private * peer. Rejects invalid points and out-of-range scalars.
Status ecdh(ByteView private_key, ByteView peer_public_key, SharedSecret& shared);
// Deterministic ECDSA (RFC 6979) over SHA-256(message).
Status sign(ByteView private_key, ByteView message, Signature& signature);
Status verify(ByteView public_key, ByteView message, ByteView signature);
// Our own formats (cards, grants, envelopes) take one form of each signature: s <= n/2 ("low S"). sign_low_s
// replaces a high s by n - s (the same signature, mirrored); verify_low_s refuses a high s as bad_signature, so
// nobody can make a second valid encoding of a message we signed. verify() accepts both, as ECDSA (and RFC 8292,
// for other implementations' VAPID JWTs) does.
Status sign_low_s(ByteView private_key, ByteView message, Signature& signature);
bool is_low_s(ByteView signature);  // a 64-byte r || s with s <= n/2
Status verify_low_s(ByteView public_key, ByteView message, ByteView signature);
inline constexpr std::size_t kCompressedLength = 33;
using CompressedKey = std::array<std::uint8_t, kCompressedLength>;
// SEC 1 point compression: 0x02/0x03 (parity of Y) || X. The input must be a valid uncompressed point.
Status compress(ByteView public_key, CompressedKey& compressed);
// Inverse; rejects X not on the curve, X >= p and other prefixes.
Status decompress(ByteView compressed, PublicKey& public_key);

// SubjectPublicKeyInfo DER with id-ecPublicKey / prime256v1 and an uncompressed point -> raw public key.
Status public_key_from_spki(ByteView der, PublicKey& public_key);

}  // namespace pushpeer::p256
