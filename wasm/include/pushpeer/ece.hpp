// RFC 8188 Encrypted Content-Encoding, the "aes128gcm" coding.
// Body = header (salt 16 | rs u32 big-endian | idlen u8 | keyid) || records; each record is
// AES-128-GCM(plaintext chunk || delimiter || zero padding), delimiter 0x01 for every record but the last (0x02).
#pragma once
#include <array>

#include "pushpeer/bytes.hpp"
#include "pushpeer/status.hpp"

namespace pushpeer::ece {

inline constexpr std::size_t kSaltLength = 16;
inline constexpr std::size_t kKeyLength = 16;    // CEK for aes128gcm (the IKM may be any length)
inline constexpr std::size_t kNonceLength = 12;
inline constexpr std::size_t kTagLength = 16;
inline constexpr std::size_t kHeaderLength = 21;  // without the key id
inline constexpr std::uint32_t kMinRecordSize = 18;  // tag + delimiter + at least one octet (RFC 8188 §2)

struct Header {
  std::array<std::uint8_t, kSaltLength> salt{};
  std::uint32_t record_size = 0;
  ByteView key_id;  // a view into the parsed body
};

// Parses and checks the header. Distinct statuses for a short body, rs < 18 and an id longer than the body.
Status parse_header(ByteView body, Header& header, std::size_t& header_length);

// Length of the body encrypt_with_ikm would produce, or 0 if rs is too small (< 18).
std::size_t encrypted_length(std::size_t plaintext_length, std::size_t padding, std::size_t key_id_length,
                             std::uint32_t record_size);

// Encrypts with an explicit IKM and salt. Padding is placed as early as possible (each record takes as much of
// the remaining padding as fits, then plaintext), which reproduces the RFC 8188 §3.2 example.
Status encrypt_with_ikm(ByteView ikm, ByteView salt, ByteView key_id, std::uint32_t record_size,
                        std::size_t padding, ByteView plaintext, Bytes& body);

// Decrypts any number of records with the given IKM. Every malformed input has its own status (see status.hpp).
Status decrypt_with_ikm(ByteView ikm, ByteView body, Bytes& plaintext);

}  // namespace pushpeer::ece
