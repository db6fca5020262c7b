#include "pushpeer/envelope.hpp"
#include "pushpeer/for_size.hpp"

#include <algorithm>
#include <cstring>

#include "pushpeer/base64url.hpp"
#include "pushpeer/symmetric.hpp"
#include "wire.hpp"

PUSHPEER_FOR_SIZE_BEGIN  // not hot: a few calls per connection (pushpeer/for_size.hpp)

namespace pushpeer::envelope {

namespace {

constexpr std::string_view kSignatureContext = "pushpeer/envelope/v2";
constexpr std::string_view kTopicContext = "pushpeer/topic/v1";
constexpr std::uint8_t kHasCard = 0x01;
constexpr std::uint8_t kHasRef = 0x02;

bool known_type(std::uint8_t t) {
  return t == static_cast<std::uint8_t>(Type::offer) || t == static_cast<std::uint8_t>(Type::answer) ||
         t == static_cast<std::uint8_t>(Type::bye) || t == static_cast<std::uint8_t>(Type::card);
}

// Which types carry a ref: answers and byes name the offer they answer.
bool needs_ref(Type t) { return t == Type::answer || t == Type::bye; }

Bytes signing_input(ByteView body) {
  Bytes input(kSignatureContext.begin(), kSignatureContext.end());
  input.insert(input.end(), body.begin(), body.end());
  return input;
}

struct Parsed {
  Type type;
  bool has_card;
  ByteView card;
  card::KeyId sender{};
  card::KeyId recipient{};
  SessionId session{};
  std::uint32_t sequence;
  std::uint32_t timestamp;
  std::optional<Ref> ref;
  ByteView body;
  std::size_t signed_length;
  ByteView signature;
};

Status parse(ByteView bytes, Parsed& p) {
  wire::Reader r{bytes};
  const std::uint8_t magic = r.u8();
  if (!r.ok) return Status::bad_envelope;
  if (magic != kMagic) return (magic >> 4) == (kMagic >> 4) ? Status::unsupported_version : Status::bad_envelope;
  const std::uint8_t type = r.u8();
  const std::uint8_t flags = r.u8();
  if (!r.ok || !known_type(type) || (flags & ~(kHasCard | kHasRef)) != 0) return Status::bad_envelope;
  p.type = static_cast<Type>(type);
  p.has_card = flags & kHasCard;
  if (((flags & kHasRef) != 0) != needs_ref(p.type) || (p.type == Type::card && !p.has_card)) {
    return Status::bad_envelope;
  }
  if (p.has_card) {
    p.card = r.blob(card::kMaxLength);
  } else {
    copy_exact(r.bytes(p.sender.size()), p.sender);
  }
  copy_exact(r.bytes(p.recipient.size()), p.recipient);
  copy_exact(r.bytes(p.session.size()), p.session);
  p.sequence = r.varint();
  p.timestamp = r.u32();
  if (flags & kHasRef) {
    Ref ref{};
    copy_exact(r.bytes(kRefLength), ref);
    p.ref = ref;
  }
  p.body = r.blob(kMaxBodyLength);
  p.signed_length = r.at;
  p.signature = r.bytes(p256::kSignatureLength);
  return r.done() ? Status::ok : Status::bad_envelope;
}

}  // namespace

Status ReplayGuard::check_and_record(const card::KeyId& sender, const SessionId& session, std::uint32_t sequence,
                                     std::int64_t timestamp, std::int64_t now, std::int64_t max_age) {
  std::erase_if(entries_, [now](const Entry& e) { return e.expires < now; });
  std::erase_if(floors_, [now](const Floor& f) { return f.expires < now; });
  const std::int64_t expires = timestamp + max_age;
  std::size_t from_sender = 0;
  std::int64_t oldest = INT64_MAX;
  for (const Entry& e : entries_) {
    if (e.sender != sender) continue;
    if (e.session == session && e.sequence == sequence) return Status::replayed_message;
    ++from_sender;
    oldest = std::min(oldest, e.expires);
  }
  auto floor = std::find_if(floors_.begin(), floors_.end(), [&](const Floor& f) { return f.sender == sender; });
  if (floor != floors_.end() && expires <= floor->expires) return Status::stale_message;
  if (from_sender >= kPerSender) {
    // The sender's oldest entries (all that share the oldest end of life) give way to its floor. The new envelope
    // must then lie above it, or it could be one of those just forgotten.
    if (expires <= oldest) return Status::stale_message;
    std::erase_if(entries_, [&](const Entry& e) { return e.sender == sender && e.expires == oldest; });
    if (floor != floors_.end()) floor->expires = oldest;
    else floors_.push_back({sender, oldest});
  }
  // Full with many senders' live entries: refuse rather than forget one (its envelope could then be replayed).
  if (entries_.size() >= kCapacity) return Status::replay_guard_full;
  entries_.push_back({sender, session, sequence, expires});
  return Status::ok;
}

namespace {
constexpr std::uint8_t kGuardFormat = 2;  // 1: entries only (before floors)
std::uint32_t clamp_u32(std::int64_t v) { return static_cast<std::uint32_t>(std::clamp<std::int64_t>(v, 0, UINT32_MAX)); }
}  // namespace

Bytes ReplayGuard::save() const {
  wire::Writer w;
  w.u8(kGuardFormat);
  w.varint(static_cast<std::uint32_t>(entries_.size()));
  for (const Entry& e : entries_) {
    w.bytes(e.sender);
    w.bytes(e.session);
    w.u32(e.sequence);
    w.u32(clamp_u32(e.expires));
  }
  w.varint(static_cast<std::uint32_t>(floors_.size()));
  for (const Floor& f : floors_) {
    w.bytes(f.sender);
    w.u32(clamp_u32(f.expires));
  }
  return w.out;
}

Status ReplayGuard::restore(ByteView state) {
  wire::Reader r{state};
  const std::uint8_t format = r.u8();
  if (!r.ok || (format != 1 && format != kGuardFormat)) return Status::bad_argument;
  const std::uint32_t n = r.varint();
  if (!r.ok || n > kCapacity) return Status::bad_argument;
  std::vector<Entry> entries;
  for (std::uint32_t i = 0; i < n; ++i) {
    Entry e;
    copy_exact(r.bytes(e.sender.size()), e.sender);
    copy_exact(r.bytes(e.session.size()), e.session);
    e.sequence = r.u32();
    e.expires = r.u32();
    if (!r.ok) return Status::bad_argument;
    entries.push_back(e);
  }
  std::vector<Floor> floors;
  if (format == kGuardFormat) {
    const std::uint32_t m = r.varint();
    if (!r.ok || m > kCapacity) return Status::bad_argument;
    for (std::uint32_t i = 0; i < m; ++i) {
      Floor f;
      copy_exact(r.bytes(f.sender.size()), f.sender);
      f.expires = r.u32();
      if (!r.ok) return Status::bad_argument;
      const bool repeated = std::any_of(floors.begin(), floors.end(), [&](const Floor& g) { return g.sender == f.sender; });
      if (repeated) return Status::bad_argument;
      floors.push_back(f);
    }
  }
  if (!r.done()) return Status::bad_argument;
  entries_ = std::move(entries);
  floors_ = std::move(floors);
  return Status::ok;
}

Status seal(const Sealed& e, ByteView identity_private, Bytes& out) {
  out.clear();
  if (e.body.size() > kMaxBodyLength || e.sender_card.size() > card::kMaxLength) return Status::bad_argument;
  if (!known_type(static_cast<std::uint8_t>(e.type)) || e.ref.has_value() != needs_ref(e.type) ||
      (e.type == Type::card && e.sender_card.empty())) {
    return Status::bad_argument;
  }
  p256::PublicKey identity;
  if (Status s = p256::public_key_from_private(identity_private, identity); s != Status::ok) return s;
  wire::Writer w;
  w.u8(kMagic);
  w.u8(static_cast<std::uint8_t>(e.type));
  const std::uint8_t ref_flag = e.ref ? kHasRef : 0;
  if (!e.sender_card.empty()) {
    card::Card c;
    if (Status s = card::decode(e.sender_card, c); s != Status::ok) return s;
    if (c.identity != identity) return Status::bad_key;
    w.u8(kHasCard | ref_flag);
    w.blob(e.sender_card);
  } else {
    w.u8(ref_flag);
    w.bytes(card::key_id(identity));
  }
  w.bytes(e.recipient);
  w.bytes(e.session);
  w.varint(e.sequence);
  w.u32(e.timestamp);
  if (e.ref) w.bytes(*e.ref);
  w.blob(e.body);
  p256::Signature sig;
  if (Status s = p256::sign_low_s(identity_private, signing_input(w.out), sig); s != Status::ok) return s;
  w.bytes(sig);
  out = std::move(w.out);
  return Status::ok;
}

Status peek_sender(ByteView bytes, card::KeyId& sender, bool& has_card) {
  Parsed p;
  if (Status s = parse(bytes, p); s != Status::ok) return s;
  has_card = p.has_card;
  if (p.has_card) {
    // The key id of the card's identity, read without verifying (open() verifies).
    p256::PublicKey identity;
    if (Status s = card::identity_of(p.card, identity); s != Status::ok) return s;
    sender = card::key_id(identity);
  } else {
    sender = p.sender;
  }
  return Status::ok;
}

Status open(ByteView bytes, std::int64_t now, const card::KeyId& self, const p256::PublicKey* known_sender,
            ReplayGuard* guard, Opened& out, std::int64_t max_age, std::int64_t max_skew) {
  out = Opened{};
  Parsed p;
  if (Status s = parse(bytes, p); s != Status::ok) return s;
  Opened o;
  if (p.has_card) {
    if (Status s = card::decode(p.card, o.card); s != Status::ok) return s;
    o.has_card = true;
    o.card_bytes.assign(p.card.begin(), p.card.end());
    o.sender_key = o.card.identity;
    o.sender = card::key_id(o.sender_key);
  } else {
    if (known_sender == nullptr || card::key_id(*known_sender) != p.sender) return Status::unknown_sender;
    o.sender_key = *known_sender;
    o.sender = p.sender;
  }
  // Never act on unauthenticated input: the signature first, then recipient, time and replay.
  if (Status s = p256::verify_low_s(o.sender_key, signing_input(bytes.first(p.signed_length)), p.signature);
      s != Status::ok) {
    return s;
  }
  if (p.recipient != self) return Status::wrong_recipient;
  const std::int64_t ts = p.timestamp;
  if (ts < now - max_age || ts > now + max_skew) return Status::stale_message;
  if (guard != nullptr) {
    if (Status s = guard->check_and_record(o.sender, p.session, p.sequence, ts, now, max_age); s != Status::ok) {
      return s;
    }
  }
  o.type = p.type;
  o.recipient = p.recipient;
  o.session = p.session;
  o.sequence = p.sequence;
  o.timestamp = p.timestamp;
  o.ref = p.ref;
  o.body.assign(p.body.begin(), p.body.end());
  out = std::move(o);
  return Status::ok;
}

Ref reference(ByteView envelope_bytes) {
  std::uint8_t h[symmetric::kSha256Length];
  symmetric::sha256(envelope_bytes, h);
  Ref ref;
  std::memcpy(ref.data(), h, ref.size());
  return ref;
}

std::string topic(Type type, const card::KeyId& recipient, const SessionId& session) {
  Bytes input(kTopicContext.begin(), kTopicContext.end());
  input.insert(input.end(), recipient.begin(), recipient.end());
  input.push_back(static_cast<std::uint8_t>(type));
  input.insert(input.end(), session.begin(), session.end());
  std::uint8_t h[symmetric::kSha256Length];
  symmetric::sha256(input, h);
  return base64url::encode(ByteView(h, 12));
}

}  // namespace pushpeer::envelope

PUSHPEER_FOR_SIZE_END
