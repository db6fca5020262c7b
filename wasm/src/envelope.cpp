#include "pushpeer/envelope.hpp"

#include <algorithm>

#include "wire.hpp"

namespace pushpeer::envelope {

namespace {

constexpr std::string_view kSignatureContext = "pushpeer/envelope/v1";
constexpr std::uint8_t kHasCard = 0x01;

Bytes signing_input(ByteView body) {
  Bytes input(kSignatureContext.begin(), kSignatureContext.end());
  input.insert(input.end(), body.begin(), body.end());
  return input;
}

struct Parsed {
  std::uint8_t type;
  bool has_card;
  ByteView card;
  card::KeyId sender{};
  SessionId session{};
  std::uint32_t sequence;
  std::uint32_t timestamp;
  ByteView body;
  std::size_t signed_length;
  ByteView signature;
};

Status parse(ByteView bytes, Parsed& p) {
  wire::Reader r{bytes};
  const std::uint8_t magic = r.u8();
  if (!r.ok) return Status::bad_envelope;
  if (magic != kMagic) return (magic >> 4) == (kMagic >> 4) ? Status::unsupported_version : Status::bad_envelope;
  p.type = r.u8();
  const std::uint8_t flags = r.u8();
  if (!r.ok || p.type == 0 || flags > kHasCard) return Status::bad_envelope;
  p.has_card = flags & kHasCard;
  if (p.has_card) {
    p.card = r.blob(card::kMaxLength);
  } else {
    const ByteView id = r.bytes(p.sender.size());
    if (r.ok) std::copy(id.begin(), id.end(), p.sender.begin());
  }
  const ByteView session = r.bytes(p.session.size());
  if (r.ok) std::copy(session.begin(), session.end(), p.session.begin());
  p.sequence = r.varint();
  p.timestamp = r.u32();
  p.body = r.blob(kMaxBodyLength);
  p.signed_length = r.at;
  p.signature = r.bytes(p256::kSignatureLength);
  return r.done() ? Status::ok : Status::bad_envelope;
}

}  // namespace

bool ReplayGuard::check_and_record(const card::KeyId& sender, const SessionId& session, std::uint32_t sequence,
                                   std::int64_t timestamp, std::int64_t now, std::int64_t window) {
  std::erase_if(entries_, [now](const Entry& e) { return e.expires < now; });
  for (const Entry& e : entries_) {
    if (e.sender == sender && e.session == session && e.sequence == sequence) return false;
  }
  if (entries_.size() >= kCapacity) {
    // Full: drop the entry closest to expiry (bounded memory; the window keeps that replay stale soon).
    entries_.erase(std::min_element(entries_.begin(), entries_.end(),
                                    [](const Entry& a, const Entry& b) { return a.expires < b.expires; }));
  }
  entries_.push_back({sender, session, sequence, timestamp + window});
  return true;
}

Bytes ReplayGuard::save() const {
  wire::Writer w;
  w.u8(1);
  w.varint(static_cast<std::uint32_t>(entries_.size()));
  for (const Entry& e : entries_) {
    w.bytes(e.sender);
    w.bytes(e.session);
    w.u32(e.sequence);
    w.u32(static_cast<std::uint32_t>(std::clamp<std::int64_t>(e.expires, 0, UINT32_MAX)));
  }
  return w.out;
}

Status ReplayGuard::restore(ByteView state) {
  wire::Reader r{state};
  if (r.u8() != 1) return Status::bad_argument;
  const std::uint32_t n = r.varint();
  if (!r.ok || n > kCapacity) return Status::bad_argument;
  std::vector<Entry> entries;
  for (std::uint32_t i = 0; i < n; ++i) {
    Entry e;
    const ByteView s = r.bytes(e.sender.size());
    const ByteView sid = r.bytes(e.session.size());
    e.sequence = r.u32();
    e.expires = r.u32();
    if (!r.ok) return Status::bad_argument;
    std::copy(s.begin(), s.end(), e.sender.begin());
    std::copy(sid.begin(), sid.end(), e.session.begin());
    entries.push_back(e);
  }
  if (!r.done()) return Status::bad_argument;
  entries_ = std::move(entries);
  return Status::ok;
}

Status seal(const Sealed& e, ByteView identity_private, Bytes& out) {
  out.clear();
  if (e.body.size() > kMaxBodyLength || e.sender_card.size() > card::kMaxLength) return Status::bad_argument;
  if (static_cast<std::uint8_t>(e.type) == 0) return Status::bad_argument;
  p256::PublicKey identity;
  if (Status s = p256::public_key_from_private(identity_private, identity); s != Status::ok) return s;
  wire::Writer w;
  w.u8(kMagic);
  w.u8(static_cast<std::uint8_t>(e.type));
  if (!e.sender_card.empty()) {
    card::Card c;
    if (Status s = card::decode(e.sender_card, c); s != Status::ok) return s;
    if (c.identity != identity) return Status::bad_key;
    w.u8(kHasCard);
    w.blob(e.sender_card);
  } else {
    w.u8(0);
    w.bytes(card::key_id(identity));
  }
  w.bytes(e.session);
  w.varint(e.sequence);
  w.u32(e.timestamp);
  w.blob(e.body);
  p256::Signature sig;
  if (Status s = p256::sign(identity_private, signing_input(w.out), sig); s != Status::ok) return s;
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

Status open(ByteView bytes, std::int64_t now, const p256::PublicKey* known_sender, ReplayGuard* guard, Opened& out,
            std::int64_t max_age, std::int64_t max_skew) {
  out = Opened{};
  Parsed p;
  if (Status s = parse(bytes, p); s != Status::ok) return s;
  if (p.has_card) {
    if (Status s = card::decode(p.card, out.card); s != Status::ok) return s;
    out.has_card = true;
    out.sender_key = out.card.identity;
    out.sender = card::key_id(out.sender_key);
  } else {
    if (known_sender == nullptr || card::key_id(*known_sender) != p.sender) return Status::unknown_sender;
    out.sender_key = *known_sender;
    out.sender = p.sender;
  }
  // Never act on unauthenticated input: the signature first, then time and replay.
  if (Status s = p256::verify(out.sender_key, signing_input(bytes.first(p.signed_length)), p.signature);
      s != Status::ok) {
    out = Opened{};
    return s;
  }
  const std::int64_t ts = p.timestamp;
  if (ts < now - max_age || ts > now + max_skew) {
    out = Opened{};
    return Status::stale_message;
  }
  if (guard != nullptr && !guard->check_and_record(out.sender, p.session, p.sequence, ts, now, max_age + max_skew)) {
    out = Opened{};
    return Status::replayed_message;
  }
  out.type = static_cast<Type>(p.type);
  out.session = p.session;
  out.sequence = p.sequence;
  out.timestamp = p.timestamp;
  out.body.assign(p.body.begin(), p.body.end());
  return Status::ok;
}

}  // namespace pushpeer::envelope
