// Contact cards: a compact, signed introduction (push endpoint, subscription keys, identity key, grants, name).
// Byte layout: docs/PROTOCOL.md §3. Shared as bytes, or base64url in a link (#card=...) or QR code.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "pushpeer/grant.hpp"
#include "pushpeer/p256.hpp"
#include "pushpeer/status.hpp"

namespace pushpeer::card {

// Card, version 2: low-S signatures only and names of displayable text (wasm/include/pushpeer/text.hpp).
// Version 1 cards (0xC1) are refused with unsupported_version.
inline constexpr std::uint8_t kMagic = 0xC2;
inline constexpr std::size_t kMaxEndpointLength = 1024;
inline constexpr std::size_t kMaxSubjectLength = 255;
inline constexpr std::size_t kMaxNameLength = 64;
inline constexpr std::size_t kMaxLength = 2048;

using KeyId = std::array<std::uint8_t, 8>;

struct Card {
  std::uint32_t created = 0;  // seconds since the epoch
  std::string endpoint;
  p256::PublicKey p256dh{};
  std::array<std::uint8_t, 16> auth{};
  p256::PublicKey identity{};  // the peer's VAPID / signing key
  std::string subject;         // VAPID sub its grants are signed with
  std::string name;            // optional display name (text::valid_display_text, at most 64 bytes)
  std::vector<grant::Grant> grants;
};

// First 8 bytes of SHA-256 over the compressed identity key: how envelopes name a known sender.
KeyId key_id(const p256::PublicKey& identity);

// Encodes and signs with the identity key (which must match card.identity). Checks every field's limits.
Status encode(const Card& card, ByteView identity_private, Bytes& out);
// Decodes, verifies the card signature and every grant's signature. Anything else is bad_card / bad_signature.
Status decode(ByteView bytes, Card& card);
// The identity key a well-formed card names, WITHOUT verifying anything (to look up a sender; decode verifies).
Status identity_of(ByteView bytes, p256::PublicKey& identity);

}  // namespace pushpeer::card
