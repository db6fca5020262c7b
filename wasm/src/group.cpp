#include "pushpeer/group.hpp"
#include "pushpeer/for_size.hpp"

#include <cstring>
#include <string_view>

#include "pushpeer/card.hpp"
#include "pushpeer/symmetric.hpp"

PUSHPEER_FOR_SIZE_BEGIN  // not hot: a few calls per connection (pushpeer/for_size.hpp)

namespace pushpeer::group {

namespace {

constexpr std::string_view kIdLabel = "pushpeer/group/v1/id";
constexpr std::string_view kMemberLabel = "pushpeer/group/v1/member";
constexpr std::size_t kKeyIdLength = std::tuple_size_v<card::KeyId>;

bool secret_ok(ByteView secret) {
  return secret.size() >= kMinSecretLength && secret.size() <= kMaxSecretLength;
}

// HMAC-SHA256(secret, message)[0..16]; the full MAC is wiped (symmetric::hmac_sha256 wipes its key schedule).
void hmac16(ByteView secret, ByteView message, std::uint8_t out[16]) {
  Secret<symmetric::kSha256Length> mac;
  symmetric::hmac_sha256(secret, message, mac.data());
  std::memcpy(out, mac.data(), 16);
}

}  // namespace

Status id(ByteView secret, std::uint8_t out[kIdLength]) {
  if (!secret_ok(secret)) return Status::bad_argument;
  hmac16(secret, as_bytes(kIdLabel), out);
  return Status::ok;
}

Status proof(ByteView secret, ByteView key_id, std::uint8_t out[kProofLength]) {
  if (!secret_ok(secret) || key_id.size() != kKeyIdLength) return Status::bad_argument;
  std::uint8_t message[kMemberLabel.size() + kKeyIdLength];
  std::memcpy(message, kMemberLabel.data(), kMemberLabel.size());
  std::memcpy(message + kMemberLabel.size(), key_id.data(), kKeyIdLength);
  hmac16(secret, {message, sizeof message}, out);
  return Status::ok;
}

Status check_proof(ByteView secret, ByteView key_id, ByteView candidate, bool& valid) {
  valid = false;
  Secret<kProofLength> expected;
  if (Status s = proof(secret, key_id, expected.data()); s != Status::ok) return s;
  // The length is public; the contents are compared in constant time.
  valid = candidate.size() == kProofLength && equal_ct(candidate, expected.view());
  return Status::ok;
}

}  // namespace pushpeer::group

PUSHPEER_FOR_SIZE_END
