// Grants: pre-signed VAPID JWT signatures that let a peer push to the grantor. Only exp and the 64-byte signature
// travel; the holder rebuilds the canonical JWT (vapid.hpp) for the grantor's endpoint and subject.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pushpeer/p256.hpp"
#include "pushpeer/status.hpp"

namespace pushpeer::grant {

inline constexpr std::size_t kWireLength = 4 + p256::kSignatureLength;  // exp (u32) + signature
// A grant is picked only with at least this much time left, and only once its exp is at most 24 h minus this
// clock-skew allowance ahead (push services refuse exp > now + 24 h at the time of the request).
inline constexpr std::int64_t kMinRemainingSeconds = 60;
inline constexpr std::int64_t kClockSkewSeconds = 300;
inline constexpr std::size_t kMaxGrants = 16;

struct Grant {
  std::uint32_t exp = 0;
  p256::Signature signature{};
};

// Signs count grants for the grantor's own endpoint and subject: exp = first_exp + i * interval.
Status issue(ByteView identity_private, std::string_view endpoint, std::string_view subject, std::uint32_t first_exp,
             std::uint32_t interval, std::size_t count, std::vector<Grant>& grants);
// Checks a grant's signature against the grantor's identity key.
Status verify(const Grant& grant, std::string_view endpoint, std::string_view subject, ByteView identity_public);
// now + kMinRemainingSeconds <= exp <= now + 24 h - kClockSkewSeconds.
bool usable(const Grant& grant, std::int64_t now);
// The usable grant that expires first (later ones stay for later); no_usable_grant when there is none.
Status pick(const std::vector<Grant>& grants, std::int64_t now, std::size_t& index);
// `vapid t=<rebuilt JWT>, k=<grantor key>` for a push to the grantor's endpoint.
Status authorization(const Grant& grant, std::string_view endpoint, std::string_view subject,
                     ByteView identity_public, std::string& header);

}  // namespace pushpeer::grant
