// Envelopes: the signed, replay-protected frames peers send each other (inside Web Push messages, or relayed over
// data channels). Byte layout: docs/PROTOCOL.md §4.
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include "pushpeer/card.hpp"
#include "pushpeer/p256.hpp"
#include "pushpeer/status.hpp"

namespace pushpeer::envelope {

inline constexpr std::uint8_t kMagic = 0xE1;  // envelope, version 1
inline constexpr std::size_t kMaxBodyLength = 3993;
// Default acceptance window around the receiver's clock: a signal older than this is useless (the caller has
// given up), and one from the future means a skewed clock.
inline constexpr std::int64_t kDefaultMaxAgeSeconds = 10 * 60;
inline constexpr std::int64_t kDefaultMaxSkewSeconds = 2 * 60;

enum class Type : std::uint8_t { offer = 1, answer = 2, bye = 3, grants = 4, card = 5, introduction = 6 };

using SessionId = std::array<std::uint8_t, 8>;

struct Sealed {
  Type type = Type::offer;
  SessionId session{};
  std::uint32_t sequence = 0;
  std::uint32_t timestamp = 0;  // seconds since the epoch
  ByteView body;
  ByteView sender_card;  // the sender's encoded card (first contact), or empty: then only its key id is sent
};

struct Opened {
  Type type = Type::offer;
  card::KeyId sender{};
  p256::PublicKey sender_key{};
  bool has_card = false;
  card::Card card;  // when has_card
  SessionId session{};
  std::uint32_t sequence = 0;
  std::uint32_t timestamp = 0;
  Bytes body;
};

// Remembers (sender, session, sequence) for as long as such an envelope could still be inside the acceptance
// window, so a replay is refused and memory stays bounded.
class ReplayGuard {
 public:
  static constexpr std::size_t kCapacity = 4096;
  // false if seen; otherwise records it (expiring at timestamp + max_age + max_skew) and returns true.
  bool check_and_record(const card::KeyId& sender, const SessionId& session, std::uint32_t sequence,
                        std::int64_t timestamp, std::int64_t now, std::int64_t window);
  Bytes save() const;            // for persistence (e.g. IndexedDB)
  Status restore(ByteView state);
  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    card::KeyId sender;
    SessionId session;
    std::uint32_t sequence;
    std::int64_t expires;
  };
  std::vector<Entry> entries_;
};

// Builds and signs. The private key must be the identity of sender_card when one is given.
Status seal(const Sealed& e, ByteView identity_private, Bytes& out);

// Who sent it (key id) and whether it carries the sender's card, without verifying anything.
Status peek_sender(ByteView bytes, card::KeyId& sender, bool& has_card);

// Verifies and opens. The sender key comes from the embedded card, else from known_sender (which must have the
// envelope's key id; unknown_sender otherwise). Then the signature, the time window (now - max_age <= timestamp
// <= now + max_skew) and, when guard is given, replays.
Status open(ByteView bytes, std::int64_t now, const p256::PublicKey* known_sender, ReplayGuard* guard, Opened& out,
            std::int64_t max_age = kDefaultMaxAgeSeconds, std::int64_t max_skew = kDefaultMaxSkewSeconds);

}  // namespace pushpeer::envelope
