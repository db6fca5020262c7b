// Groups (docs/PROTOCOL.md §7.8): a group is named by a shared secret of 16 to 64 bytes, handed out in an invite
// link; whoever holds it is a member. Its public id and a member's proof for its own key id are HMAC-SHA-256 keyed by
// the secret, truncated to 16 bytes: a PRF, so a proof for one key id says nothing of another's and the id nothing
// of the secret.
#pragma once
#include <cstddef>
#include <cstdint>

#include "pushpeer/bytes.hpp"
#include "pushpeer/status.hpp"

namespace pushpeer::group {

inline constexpr std::size_t kMinSecretLength = 16;  // 128-bit security
inline constexpr std::size_t kMaxSecretLength = 64;  // SHA-256's block: HMAC uses the key as it is
inline constexpr std::size_t kIdLength = 16;
inline constexpr std::size_t kProofLength = 16;

// HMAC-SHA256(secret, "pushpeer/group/v1/id")[0..16]. bad_argument for a secret outside 16..64 bytes.
Status id(ByteView secret, std::uint8_t out[kIdLength]);

// HMAC-SHA256(secret, "pushpeer/group/v1/member" || key_id)[0..16]. bad_argument for a secret outside 16..64
// bytes or a key id that is not 8 bytes (card::KeyId).
Status proof(ByteView secret, ByteView key_id, std::uint8_t out[kProofLength]);

// Whether `proof` is key_id's proof, compared in constant time. A proof of another length is not one: ok, with
// valid false. The secret and the key id as for proof (valid false on bad_argument).
Status check_proof(ByteView secret, ByteView key_id, ByteView proof, bool& valid);

}  // namespace pushpeer::group
