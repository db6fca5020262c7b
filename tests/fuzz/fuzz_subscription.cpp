// PushSubscription JSON (parse_subscription: JSON, endpoint check, padded-or-not base64url keys, point check)
// on untrusted text. The same text also goes straight to vapid::audience_for_endpoint, the URL parser behind
// the endpoint check, and to vapid::check_subject.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_common.hpp"
#include "pushpeer/p256.hpp"
#include "pushpeer/push_request.hpp"
#include "pushpeer/vapid.hpp"

using namespace pushpeer;
using pushpeer::fuzz::one_of;

namespace {

// An audience is an origin (RFC 6454 serialisation): the audience of an origin is the origin itself.
void check_audience(std::string_view endpoint) {
  std::string audience;
  const Status s = vapid::audience_for_endpoint(endpoint, audience);
  PP_FUZZ_CHECK(one_of(s, {Status::ok, Status::bad_endpoint}));
  if (s != Status::ok) return;
  PP_FUZZ_CHECK(audience.starts_with("https://") || audience.starts_with("http://"));
  PP_FUZZ_CHECK(audience.size() <= endpoint.size() + 1);  // scheme and host only, at most a ':' added
  if (fuzz::skipped("audience-roundtrip")) return;
  std::string again;
  PP_FUZZ_CHECK(vapid::audience_for_endpoint(audience, again) == Status::ok);
  PP_FUZZ_CHECK(again == audience);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  Subscription subscription;
  const Status s = parse_subscription(text, subscription);
  PP_FUZZ_CHECK(one_of(s, {Status::ok, Status::bad_subscription, Status::bad_endpoint, Status::bad_base64,
                           Status::bad_key}));
  if (s == Status::ok) {
    PP_FUZZ_CHECK(p256::validate_public_key(subscription.p256dh) == Status::ok);
    check_audience(subscription.endpoint);
  }

  check_audience(text);
  PP_FUZZ_CHECK(one_of(vapid::check_subject(text), {Status::ok, Status::bad_subject}));
  return 0;
}
