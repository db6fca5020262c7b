#include "pushpeer/grant.hpp"
#include "pushpeer/for_size.hpp"

#include "pushpeer/base64url.hpp"
#include "pushpeer/vapid.hpp"

PUSHPEER_FOR_SIZE_BEGIN  // not hot: a few calls per connection (pushpeer/for_size.hpp)

namespace pushpeer::grant {

namespace {
Status claims_for(std::string_view endpoint, std::string_view subject, std::uint32_t exp, vapid::Claims& claims) {
  if (Status s = vapid::audience_for_endpoint(endpoint, claims.aud); s != Status::ok) return s;
  if (Status s = vapid::check_subject(subject); s != Status::ok) return s;
  claims.sub = std::string(subject);
  claims.exp = exp;
  return Status::ok;
}
}  // namespace

Status issue(ByteView identity_private, std::string_view endpoint, std::string_view subject, std::uint32_t first_exp,
             std::uint32_t interval, std::size_t count, std::vector<Grant>& grants) {
  grants.clear();
  if (count == 0 || count > kMaxGrants) return Status::bad_argument;
  if (count > 1 && (interval == 0 || first_exp + std::uint64_t{interval} * (count - 1) > UINT32_MAX)) {
    return Status::bad_argument;
  }
  for (std::size_t i = 0; i < count; ++i) {
    Grant g;
    g.exp = static_cast<std::uint32_t>(first_exp + std::uint64_t{interval} * i);
    vapid::Claims claims;
    if (Status s = claims_for(endpoint, subject, g.exp, claims); s != Status::ok) return s;
    if (Status s = vapid::sign_claims(identity_private, claims, g.signature); s != Status::ok) return s;
    grants.push_back(g);
  }
  return Status::ok;
}

Status verify(const Grant& grant, std::string_view endpoint, std::string_view subject, ByteView identity_public) {
  if (!p256::is_low_s(grant.signature)) return Status::bad_signature;  // our format: one form per signature
  vapid::Claims claims;
  if (Status s = claims_for(endpoint, subject, grant.exp, claims); s != Status::ok) return s;
  vapid::Claims parsed;
  return vapid::verify_jwt(vapid::assemble_jwt(claims, grant.signature), identity_public, parsed);
}

bool usable(const Grant& grant, std::int64_t now) {
  const std::int64_t exp = grant.exp;
  return exp >= now + kMinRemainingSeconds && exp <= now + vapid::kMaxLifetimeSeconds - kClockSkewSeconds;
}

Status pick(const std::vector<Grant>& grants, std::int64_t now, std::size_t& index) {
  bool found = false;
  for (std::size_t i = 0; i < grants.size(); ++i) {
    if (usable(grants[i], now) && (!found || grants[i].exp < grants[index].exp)) {
      index = i;
      found = true;
    }
  }
  return found ? Status::ok : Status::no_usable_grant;
}

Status authorization(const Grant& grant, std::string_view endpoint, std::string_view subject,
                     ByteView identity_public, std::string& header) {
  vapid::Claims claims;
  if (Status s = claims_for(endpoint, subject, grant.exp, claims); s != Status::ok) return s;
  if (Status s = p256::validate_public_key(identity_public); s != Status::ok) return s;
  header = "vapid t=" + vapid::assemble_jwt(claims, grant.signature) + ", k=" + base64url::encode(identity_public);
  return Status::ok;
}

}  // namespace pushpeer::grant

PUSHPEER_FOR_SIZE_END
