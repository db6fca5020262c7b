// RFC 8291 Message Encryption for Web Push: aes128gcm keyed by ECDH between an ephemeral application-server key
// and the subscription's p256dh, mixed with the subscription's 16-byte auth secret.
#pragma once

#include "pushpeer/bytes.hpp"
#include "pushpeer/status.hpp"

namespace pushpeer::webpush {

inline constexpr std::size_t kAuthSecretLength = 16;
inline constexpr std::size_t kMaxBodyLength = 4096;         // what push services accept (RFC 8291 §4)
inline constexpr std::size_t kWebPushHeaderLength = 86;     // 21 + 65-byte key id
inline constexpr std::size_t kMaxPlaintextLength = 3993;    // one record: 4096 - 86 - 16 tag - 1 delimiter
inline constexpr std::uint32_t kDefaultRecordSize = 4096;

// Sender side: a fresh ephemeral key pair and salt per message. The whole message is one record
// (RFC 8291 §4): plaintext + padding at most 3993 bytes (else payload_too_large, the body would exceed what
// push services take) and record_size >= plaintext + padding + 17 (else ece_bad_record_size).
Status encrypt(ByteView ua_public, ByteView auth_secret, ByteView plaintext, std::uint32_t record_size,
               std::size_t padding, Bytes& body);

// TEST ONLY: the same with the ephemeral key pair and salt given, for RFC 8291 Appendix A. Never reuse an
// ephemeral key or salt in production: that breaks the encryption.
Status encrypt_with_keys(ByteView ua_public, ByteView auth_secret, ByteView as_private, ByteView as_public,
                         ByteView salt, ByteView plaintext, std::uint32_t record_size, std::size_t padding,
                         Bytes& body);

// Receiver side: the subscription's own key pair and auth secret. The key id must be the sender's 65-byte key.
Status decrypt(ByteView ua_private, ByteView ua_public, ByteView auth_secret, ByteView body, Bytes& plaintext);

}  // namespace pushpeer::webpush
