// RFC 8292 VAPID: an ES256 JWT naming the push service's origin (aud), an expiry (exp, at most 24 h ahead) and a
// contact (sub, mailto: or https:), sent as `Authorization: vapid t=<jwt>, k=<public key>`.
// The JWT is canonical: header {"typ":"JWT","alg":"ES256"} and claims {"aud":…,"exp":…,"sub":…} in that order
// with no spaces, so that anyone holding exp and the signature can rebuild it byte for byte.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "pushpeer/bytes.hpp"
#include "pushpeer/p256.hpp"
#include "pushpeer/status.hpp"

namespace pushpeer::vapid {

inline constexpr std::int64_t kMaxLifetimeSeconds = 24 * 60 * 60;
inline constexpr std::int64_t kDefaultLifetimeSeconds = 12 * 60 * 60;
inline constexpr std::size_t kMaxJwtLength = 4096;  // what the relay forwards in Authorization, and more than enough

struct Claims {
  std::string aud;
  std::int64_t exp = 0;
  std::string sub;
};

// Origin of a push endpoint ("https://host[:port]"). https only, except http for loopback hosts
// (localhost, 127.0.0.0/8, [::1]) which local push services use.
Status audience_for_endpoint(std::string_view endpoint, std::string& audience);
Status check_subject(std::string_view subject);

// Signs the canonical JWT. Checks sub, and exp against now (exp > now, exp <= now + 24 h).
Status sign_jwt(ByteView private_key, const Claims& claims, std::int64_t now, std::string& jwt);
// Signs only: the 64-byte signature over the canonical signing input of claims (for grants, which carry exp and
// the signature and rebuild the rest).
Status sign_claims(ByteView private_key, const Claims& claims, p256::Signature& signature);
// Rebuilds the canonical JWT text from claims and a signature (no checks on the signature).
std::string assemble_jwt(const Claims& claims, ByteView signature);

// Verifies an ES256 JWT with the given public key and returns its claims. Accepts any member order and JSON
// formatting (JWTs from other implementations) but only alg ES256, and only unambiguous JSON: a byte-order mark
// or a member name that occurs twice in one object is bad_jwt (parsers disagree on which duplicate wins).
// Does not check exp against a clock.
Status verify_jwt(std::string_view jwt, ByteView public_key, Claims& claims);

// `vapid t=<jwt>, k=<base64url public key>` for a request to endpoint.
Status authorization(std::string_view endpoint, std::string_view subject, ByteView private_key,
                     ByteView public_key, std::int64_t expiration, std::int64_t now, std::string& header);

// Splits an Authorization header value into t and k (either order, as RFC 8292 §3 allows).
Status parse_authorization(std::string_view header, std::string& jwt, Bytes& public_key);

}  // namespace pushpeer::vapid
