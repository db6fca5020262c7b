// Contact cards from untrusted bytes (docs/PROTOCOL.md §3): card::decode parses, then verifies the card and grant
// signatures. Seeds are real cards, so mutations reach the signature checks.
#include <cstddef>
#include <cstdint>

#include "fuzz_common.hpp"
#include "pushpeer/card.hpp"
#include "pushpeer/vapid.hpp"

using namespace pushpeer;
using pushpeer::fuzz::one_of;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  card::Card c;
  const Status s = card::decode({data, size}, c);
  PP_FUZZ_CHECK(one_of(s, {Status::ok, Status::bad_card, Status::bad_key, Status::bad_signature,
                           Status::unsupported_version, Status::bad_jwt}));
  if (s != Status::ok) return 0;
  PP_FUZZ_CHECK(size <= card::kMaxLength);
  PP_FUZZ_CHECK(c.name.size() <= card::kMaxNameLength && c.subject.size() <= card::kMaxSubjectLength);
  PP_FUZZ_CHECK(c.grants.size() <= grant::kMaxGrants);
  std::string audience;
  PP_FUZZ_CHECK(vapid::audience_for_endpoint(c.endpoint, audience) == Status::ok);
  PP_FUZZ_CHECK(p256::validate_public_key(c.identity) == Status::ok);
  PP_FUZZ_CHECK(p256::validate_public_key(c.p256dh) == Status::ok);
  return 0;
}
