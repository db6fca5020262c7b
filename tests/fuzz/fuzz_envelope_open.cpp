// Envelopes from untrusted bytes (docs/PROTOCOL.md §4): envelope::peek_sender and envelope::open with a fixed
// clock, a fixed recipient and known sender (the seeds' keys) and a replay guard. Nothing is accepted without a
// valid signature, nor when it is addressed to another key.
#include <cstddef>
#include <cstdint>

#include "fuzz_common.hpp"
#include "pushpeer/envelope.hpp"

using namespace pushpeer;
using pushpeer::fuzz::one_of;

namespace {
// The seeds (make_signaling_seeds.mjs) are sealed at this time by the key in docs/vectors/core.json "card"
// (Alice) for the recipient of docs/vectors/core.json "envelope" (Bob).
constexpr std::int64_t kNow = 1800000100;
constexpr std::uint8_t kSenderPrivate[32] = {0xc9, 0xf5, 0x8f, 0x89, 0x81, 0x3e, 0x9f, 0x8e, 0x87, 0x2e, 0x71,
                                             0xf4, 0x2a, 0xa6, 0x4e, 0x17, 0x57, 0xc9, 0x25, 0x4d, 0xcc, 0x62,
                                             0xb7, 0x2d, 0xdc, 0x01, 0x0b, 0xb4, 0x04, 0x3e, 0xa1, 0x1c};
constexpr std::uint8_t kRecipientPrivate[32] = {0xab, 0x57, 0x57, 0xa7, 0x0d, 0xd4, 0xa5, 0x3e, 0x55, 0x3a, 0x6b,
                                                0xbf, 0x71, 0xff, 0xef, 0xea, 0x28, 0x74, 0xec, 0x07, 0xa6, 0xb3,
                                                0x79, 0xe3, 0xc4, 0x8f, 0x89, 0x5a, 0x02, 0xdc, 0x33, 0xde};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const p256::PublicKey known = fuzz::public_of(kSenderPrivate);
  static const card::KeyId self = card::key_id(fuzz::public_of(kRecipientPrivate));
  card::KeyId id;
  bool has_card = false;
  const Status p = envelope::peek_sender({data, size}, id, has_card);
  PP_FUZZ_CHECK(one_of(p, {Status::ok, Status::bad_envelope, Status::unsupported_version, Status::bad_card,
                           Status::bad_key, Status::bad_signature, Status::bad_jwt}));
  envelope::ReplayGuard guard;
  envelope::Opened o;
  const Status s = envelope::open({data, size}, kNow, self, &known, &guard, o);
  PP_FUZZ_CHECK(one_of(s, {Status::ok, Status::bad_envelope, Status::unsupported_version, Status::bad_card,
                           Status::bad_key, Status::bad_signature, Status::bad_jwt, Status::unknown_sender,
                           Status::stale_message, Status::wrong_recipient}));
  if (s != Status::ok) {
    PP_FUZZ_CHECK(o.body.empty());
    return 0;
  }
  PP_FUZZ_CHECK(p == Status::ok && id == o.sender);
  PP_FUZZ_CHECK(o.body.size() <= envelope::kMaxBodyLength);
  PP_FUZZ_CHECK(o.recipient == self);
  PP_FUZZ_CHECK(o.ref.has_value() == (o.type == envelope::Type::answer || o.type == envelope::Type::bye));
  // The same bytes again are a replay.
  envelope::Opened again;
  PP_FUZZ_CHECK(envelope::open({data, size}, kNow, self, &known, &guard, again) == Status::replayed_message);
  return 0;
}
