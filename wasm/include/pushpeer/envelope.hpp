// Envelopes: the signed, replay-protected frames peers send each other (inside Web Push messages, or relayed over
// data channels). Each names its sender and its recipient; an answer or a bye names the offer it answers.
// Byte layout: docs/PROTOCOL.md §4.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pushpeer/card.hpp"
#include "pushpeer/p256.hpp"
#include "pushpeer/status.hpp"

namespace pushpeer::envelope {

// Envelope, version 2 (recipient and offer reference). Version 1 (0xE1) is refused with unsupported_version.
inline constexpr std::uint8_t kMagic = 0xE2;
inline constexpr std::size_t kMaxBodyLength = 3993;
// Text mode (channels that carry only text): base64url of the envelope, at most this many characters.
inline constexpr std::size_t kMaxTextLength = 4096;
// Default acceptance window around the receiver's clock: a signal older than this is useless (the caller has
// given up), and one from the future means a skewed clock.
inline constexpr std::int64_t kDefaultMaxAgeSeconds = 10 * 60;
inline constexpr std::int64_t kDefaultMaxSkewSeconds = 2 * 60;

// 4 (grants) and 6 (introduction) are reserved; any type not listed is refused (bad_envelope).
enum class Type : std::uint8_t { offer = 1, answer = 2, bye = 3, card = 5 };

using SessionId = std::array<std::uint8_t, 8>;
inline constexpr std::size_t kRefLength = 16;
using Ref = std::array<std::uint8_t, kRefLength>;

struct Sealed {
  Type type = Type::offer;
  card::KeyId recipient{};  // key id of the peer it is for
  SessionId session{};
  std::uint32_t sequence = 0;
  std::uint32_t timestamp = 0;  // seconds since the epoch
  std::optional<Ref> ref;       // answer and bye: reference() of the offer they answer; offer and card: none
  ByteView body;
  ByteView sender_card;  // the sender's encoded card (first contact), or empty: then only its key id is sent
};

struct Opened {
  Type type = Type::offer;
  card::KeyId sender{};
  p256::PublicKey sender_key{};
  card::KeyId recipient{};
  bool has_card = false;
  card::Card card;   // when has_card
  Bytes card_bytes;  // when has_card: the card as it was sent (to keep, and to push back with)
  SessionId session{};
  std::uint32_t sequence = 0;
  std::uint32_t timestamp = 0;
  std::optional<Ref> ref;
  Bytes body;
};

// Remembers (sender, session, sequence) for exactly as long as such an envelope could pass the time window, so a
// replay is refused and memory stays bounded. It never forgets a live entry without a trace:
// - one sender holds at most kPerSender entries; past that its oldest give way to a floor for that sender (the
//   latest end of life among those forgotten), and its envelopes whose end of life is at or below the floor are
//   refused as stale_message. So a peer who calls a lot is never refused, and nothing forgotten can be replayed
//   (an envelope it delayed past a newer kPerSender is refused as well: it cannot be told from a replay);
// - when kCapacity entries from many senders are live, new envelopes are refused (replay_guard_full) until old
//   ones expire, and nothing is forgotten early.
class ReplayGuard {
 public:
  static constexpr std::size_t kCapacity = 4096;
  static constexpr std::size_t kPerSender = 256;
  // replayed_message if seen; stale_message if at or below the sender's floor; replay_guard_full if there is no
  // room; otherwise records it (until timestamp + max_age, the last second the window accepts it) and returns ok.
  Status check_and_record(const card::KeyId& sender, const SessionId& session, std::uint32_t sequence,
                          std::int64_t timestamp, std::int64_t now, std::int64_t max_age);
  Bytes save() const;  // for persistence (e.g. IndexedDB)
  Status restore(ByteView state);  // reads what save() wrote, and the format before floors
  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    card::KeyId sender;
    SessionId session;
    std::uint32_t sequence;
    std::int64_t expires;
  };
  struct Floor {
    card::KeyId sender;
    std::int64_t expires;  // refuse this sender's envelopes that would expire at or before this
  };
  std::vector<Entry> entries_;
  std::vector<Floor> floors_;  // at most one per sender with live entries, so at most kCapacity
};

// Builds and signs. The private key must be the identity of sender_card when one is given. Answers and byes need
// a ref; offers and cards must not have one; a card envelope carries the sender's card.
Status seal(const Sealed& e, ByteView identity_private, Bytes& out);

// Who sent it (key id) and whether it carries the sender's card, without verifying anything.
Status peek_sender(ByteView bytes, card::KeyId& sender, bool& has_card);

// Verifies and opens, in this order: structure (bad_envelope), the sender key (from the embedded card, else
// known_sender, which must have the envelope's key id: unknown_sender), the signature (bad_signature), the
// recipient (must be `self`: wrong_recipient), the time window (now - max_age <= timestamp <= now + max_skew:
// stale_message) and, when guard is given, replays (replayed_message, replay_guard_full).
Status open(ByteView bytes, std::int64_t now, const card::KeyId& self, const p256::PublicKey* known_sender,
            ReplayGuard* guard, Opened& out, std::int64_t max_age = kDefaultMaxAgeSeconds,
            std::int64_t max_skew = kDefaultMaxSkewSeconds);

// How an answer or a bye names the envelope it answers: the first 16 bytes of SHA-256(envelope bytes).
Ref reference(ByteView envelope_bytes);

// The push Topic for an envelope (RFC 8030 §5.4: a newer message with the same Topic replaces a pending one):
// base64url of the first 12 bytes of SHA-256("pushpeer/topic/v1" || recipient || type || session), 16 characters.
// Retries of one offer share it; the relay and the push service never see the session id itself.
std::string topic(Type type, const card::KeyId& recipient, const SessionId& session);

}  // namespace pushpeer::envelope
