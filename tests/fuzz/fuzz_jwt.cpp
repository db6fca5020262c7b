// RFC 8292 VAPID on untrusted text: vapid::verify_jwt (JWT split, base64url, JSON header and claims, ES256
// verification) with a fixed public key, and vapid::parse_authorization (`vapid t=…, k=…`), whose JWT is then
// verified with the key the header names. The whole input is the text for both; the seeds hold JWTs signed
// with the fixed key (make_seeds) and headers carrying them. Only inputs that parse completely reach ECDSA.
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_common.hpp"
#include "pushpeer/base64url.hpp"
#include "pushpeer/p256.hpp"
#include "pushpeer/vapid.hpp"

using namespace pushpeer;
using pushpeer::fuzz::one_of;

namespace {

constexpr std::int64_t kMaxExactInteger = (std::int64_t{1} << 53) - 1;

// What holds for every JWT verify_jwt accepts.
void check_verified(std::string_view jwt, const vapid::Claims& claims) {
  PP_FUZZ_CHECK(std::count(jwt.begin(), jwt.end(), '.') == 2);
  PP_FUZZ_CHECK(claims.exp >= 0 && claims.exp <= kMaxExactInteger);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const p256::PublicKey vapid_public = fuzz::public_of(fuzz::kVapidPrivate);
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  vapid::Claims claims;
  const Status v = vapid::verify_jwt(text, vapid_public, claims);
  PP_FUZZ_CHECK(one_of(v, {Status::ok, Status::bad_jwt, Status::bad_signature}));  // the key is valid
  if (v == Status::ok) check_verified(text, claims);

  std::string jwt;
  Bytes key;
  const Status p = vapid::parse_authorization(text, jwt, key);
  PP_FUZZ_CHECK(one_of(p, {Status::ok, Status::bad_jwt, Status::bad_base64}));
  if (p != Status::ok) return 0;
  // Both parameters come from the text: "vapid " (any case), then t= and k= split at commas.
  PP_FUZZ_CHECK(size >= 6);
  std::string scheme(text.substr(0, 6));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(), [](unsigned char c) { return std::tolower(c); });
  PP_FUZZ_CHECK(scheme == "vapid ");
  PP_FUZZ_CHECK(text.find("t=" + jwt) != std::string_view::npos);
  PP_FUZZ_CHECK(jwt.find(',') == std::string::npos);
  PP_FUZZ_CHECK(text.find("k=" + base64url::encode(key)) != std::string_view::npos);

  vapid::Claims header_claims;
  const Status hv = vapid::verify_jwt(jwt, key, header_claims);
  PP_FUZZ_CHECK(one_of(hv, {Status::ok, Status::bad_jwt, Status::bad_signature, Status::bad_key}));
  if (key.size() != p256::kPublicKeyLength || key[0] != 0x04) PP_FUZZ_CHECK(hv != Status::ok);
  if (hv == Status::ok) check_verified(jwt, header_claims);
  return 0;
}
