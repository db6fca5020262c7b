// Hash, MAC, KDF and AEAD building blocks on BearSSL (SHA-256, HMAC-SHA256, HKDF-SHA256 RFC 5869,
// AES-128-GCM with the constant-time aes_ct64 + ghash_ctmul64).
#pragma once
#include <array>

#include "pushpeer/bytes.hpp"
#include "pushpeer/status.hpp"

namespace pushpeer::symmetric {

inline constexpr std::size_t kSha256Length = 32;
inline constexpr std::size_t kGcmKeyLength = 16;
inline constexpr std::size_t kGcmTagLength = 16;

void sha256(ByteView message, std::uint8_t out[kSha256Length]);
void hmac_sha256(ByteView key, ByteView message, std::uint8_t out[kSha256Length]);
// out.size() <= 255 * 32, else bad_argument.
Status hkdf_sha256(ByteView salt, ByteView ikm, ByteView info, std::span<std::uint8_t> out);
// out receives ciphertext || 16-byte tag; out.size() must be plaintext.size() + 16.
Status aes128gcm_seal(ByteView key, ByteView iv, ByteView aad, ByteView plaintext, std::span<std::uint8_t> out);
// in is ciphertext || tag; out.size() must be in.size() - 16. On a bad tag out is wiped and decrypt_failed
// returned: nothing of the plaintext is released.
Status aes128gcm_open(ByteView key, ByteView iv, ByteView aad, ByteView in, std::span<std::uint8_t> out);

}  // namespace pushpeer::symmetric
