// Grants, cards and envelopes: round trips, sizes against the push limit with every corpus SDP, and each kind of
// bad input (tampered, truncated, replayed, stale, wrongly signed, expired grant, addressed to someone else, a
// second signature form, a spoofing name) refused with its own status.
#include <gtest/gtest.h>

#include <cstring>

#include "pushpeer/card.hpp"
#include "pushpeer/envelope.hpp"
#include "pushpeer/grant.hpp"
#include "pushpeer/sdp_codec.hpp"
#include "pushpeer/vapid.hpp"
#include "pushpeer/webpush.hpp"
#include "vectors.hpp"

namespace pushpeer::test {
namespace {

constexpr std::int64_t kNow = 1795000000;
constexpr char kMozilla[] =
    "https://updates.push.services.mozilla.com/wpush/v2/gAAAAABnZXRfYV9yZWFsX2xvb2tpbmdfZmVybmV0X3Rva2VuX3RoYXRf"
    "aXNfbG9uZ19lbm91Z2hfdG9fbWF0dGVyX2Zvcl9zaXplcw";

struct Peer {
  p256::PrivateKey priv;
  p256::PublicKey pub;
  card::Card card;
  Bytes encoded;
  explicit Peer(const std::string& endpoint, const std::string& name = "Alice") {
    EXPECT_EQ(p256::generate_key_pair(priv, pub), Status::ok);
    p256::PrivateKey ua;
    EXPECT_EQ(p256::generate_key_pair(ua, card.p256dh), Status::ok);
    card.auth.fill(0x42);
    card.identity = pub;
    card.created = static_cast<std::uint32_t>(kNow);
    card.endpoint = endpoint;
    card.subject = "https://pushpeer.example";
    card.name = name;
    EXPECT_EQ(grant::issue(priv.view(), endpoint, card.subject, static_cast<std::uint32_t>(kNow + 20 * 3600), 20 * 3600,
                           4, card.grants),
              Status::ok);
    EXPECT_EQ(card::encode(card, priv.view(), encoded), Status::ok);
  }
};

TEST(Grant, UsableWindowAndPick) {
  Peer a(kMozilla);
  std::size_t i = 99;
  ASSERT_EQ(grant::pick(a.card.grants, kNow, i), Status::ok);
  EXPECT_EQ(i, 0u);  // exp = now + 20 h: usable now
  EXPECT_FALSE(grant::usable(a.card.grants[1], kNow));  // now + 40 h: not yet
  ASSERT_EQ(grant::pick(a.card.grants, kNow + 30 * 3600, i), Status::ok);
  EXPECT_EQ(i, 1u);
  EXPECT_EQ(grant::pick(a.card.grants, kNow + 200 * 3600, i), Status::no_usable_grant);  // all expired
  EXPECT_EQ(grant::pick(a.card.grants, kNow - 10 * 3600, i), Status::no_usable_grant);   // none usable yet
  // The rebuilt Authorization carries a JWT that verifies under the grantor's key, for its endpoint's origin.
  std::string header, jwt;
  ASSERT_EQ(grant::authorization(a.card.grants[0], a.card.endpoint, a.card.subject, a.pub, header), Status::ok);
  Bytes k;
  ASSERT_EQ(vapid::parse_authorization(header, jwt, k), Status::ok);
  vapid::Claims claims;
  ASSERT_EQ(vapid::verify_jwt(jwt, a.pub, claims), Status::ok);
  EXPECT_EQ(claims.aud, "https://updates.push.services.mozilla.com");
  EXPECT_EQ(claims.exp, a.card.grants[0].exp);
}

TEST(Card, RoundTripAndSize) {
  for (const char* endpoint : {kMozilla, "https://fcm.googleapis.com/fcm/send/dGVzdDpBUEE5MWJH",
                               "https://web.push.apple.com/QGuQyavXutnMH_yzJrQVNMnp",
                               "https://wns2-by3p.notify.windows.com/w/?token=BQYAAAB", "http://127.0.0.1:8090/p/x"}) {
    Peer a(endpoint);
    card::Card back;
    ASSERT_EQ(card::decode(a.encoded, back), Status::ok) << endpoint;
    EXPECT_EQ(back.endpoint, endpoint);
    EXPECT_EQ(back.p256dh, a.card.p256dh);
    EXPECT_EQ(back.auth, a.card.auth);
    EXPECT_EQ(back.identity, a.pub);
    EXPECT_EQ(back.name, "Alice");
    EXPECT_EQ(back.grants.size(), 4u);
    std::printf("card %-60.60s %zu bytes (%zu base64url chars)\n", endpoint, a.encoded.size(),
                (a.encoded.size() * 4 + 2) / 3);
    EXPECT_LE(a.encoded.size(), 600u);
  }
}

TEST(Card, TamperingTruncationAndForgeryAreRefused) {
  Peer a(kMozilla);
  card::Card out;
  for (std::size_t n = 0; n < a.encoded.size(); ++n) {
    EXPECT_NE(card::decode(ByteView(a.encoded).first(n), out), Status::ok) << n;
  }
  std::size_t sig_failures = 0;
  for (std::size_t i = 0; i < a.encoded.size(); i += 7) {
    Bytes bad = a.encoded;
    bad[i] ^= 0x01;
    const Status s = card::decode(bad, out);
    EXPECT_NE(s, Status::ok) << "flip at " << i;
    sig_failures += s == Status::bad_signature;
  }
  EXPECT_GT(sig_failures, 0u);
  // Signed by a different key than the one it names.
  Peer mallory(kMozilla, "Mallory");
  Bytes forged;
  EXPECT_EQ(card::encode(a.card, mallory.priv.view(), forged), Status::bad_key);
  Bytes extended = a.encoded;
  extended.push_back(0);
  EXPECT_EQ(card::decode(extended, out), Status::bad_card);
  Bytes v1 = a.encoded;
  v1[0] = 0xC1;  // version 1 (high-S signatures and looser names were accepted): refused by name
  EXPECT_EQ(card::decode(v1, out), Status::unsupported_version);
  Bytes v3 = a.encoded;
  v3[0] = 0xC3;
  EXPECT_EQ(card::decode(v3, out), Status::unsupported_version);
}

// r || (n - s): the other valid ECDSA form of the same signature.
Bytes mirrored(ByteView signature) {
  static const Bytes n = hex("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
  Bytes out(signature.begin(), signature.end());
  int borrow = 0;
  for (int i = 31; i >= 0; --i) {
    const int d = n[i] - signature[32 + i] - borrow;
    out[32 + i] = static_cast<std::uint8_t>(d & 0xFF);
    borrow = d < 0;
  }
  return out;
}

TEST(Signatures, OurFormatsSignLowSAndRefuseTheMirroredForm) {
  p256::PrivateKey k;
  p256::PublicKey pub;
  ASSERT_EQ(p256::generate_key_pair(k, pub), Status::ok);
  int high_seen = 0;
  for (int i = 0; i < 64; ++i) {
    const Bytes msg = pattern(40, static_cast<std::uint32_t>(i + 1));
    p256::Signature plain, low;
    ASSERT_EQ(p256::sign(k.view(), msg, plain), Status::ok);
    ASSERT_EQ(p256::sign_low_s(k.view(), msg, low), Status::ok);
    EXPECT_TRUE(p256::is_low_s(low));
    const Bytes other = mirrored(low);
    high_seen += !p256::is_low_s(plain);
    // ECDSA accepts both forms; our formats only the low one.
    EXPECT_EQ(p256::verify(pub, msg, other), Status::ok);
    EXPECT_EQ(p256::verify_low_s(pub, msg, low), Status::ok);
    EXPECT_EQ(p256::verify_low_s(pub, msg, other), Status::bad_signature);
  }
  EXPECT_GT(high_seen, 8);  // RFC 6979 gives a high s about half the time: normalising was exercised
}

TEST(Card, MirroredSignaturesAreRefused) {
  Peer a(kMozilla);
  card::Card out;
  // The card's own signature, mirrored.
  Bytes bad = a.encoded;
  const Bytes sig = mirrored(ByteView(bad).last(64));
  std::copy(sig.begin(), sig.end(), bad.end() - 64);
  EXPECT_EQ(card::decode(bad, out), Status::bad_signature);
  // A grant's signature, mirrored (and the card re-signed, so only the grant is at fault).
  card::Card c = a.card;
  const Bytes g = mirrored(c.grants[0].signature);
  std::copy(g.begin(), g.end(), c.grants[0].signature.begin());
  Bytes resigned;
  ASSERT_EQ(card::encode(c, a.priv.view(), resigned), Status::ok);
  EXPECT_EQ(card::decode(resigned, out), Status::bad_signature);
}

TEST(Card, NamesThatCouldPoseAsOtherTextAreRefused) {
  Peer a(kMozilla);
  const std::string bad_names[] = {
      std::string("Bob\xC0\x8A", 5),      // overlong newline
      std::string("Bob\xC0\x80", 5),      // overlong NUL
      "\xE0\x80\xAF",                    // overlong '/'
      "Bob\xED\xA0\x80",                 // lone surrogate U+D800
      "Bob\xF4\x90\x80\x80",            // above U+10FFFF
      "Bob\xF8\x88\x80\x80\x80",       // five-byte form
      "Bob\x80",                           // stray continuation byte
      "Bank \xE2\x80\xAE" "gnp.exe",     // right-to-left override U+202E
      "Bank \xE2\x81\xA6x",              // left-to-right isolate U+2066
      "Bob\nwants",                        // newline
      std::string("Bob\0x", 5),            // NUL
      "Bob\x7F",                           // DEL
      "Bob\xC2\x85",                      // NEL (C1)
      "Bob\xE2\x80\xA8",                 // line separator U+2028
      "Bob\xE2\x80\x8B",                 // zero-width space U+200B
      "\xEF\xBB\xBF" "Bob",              // byte-order mark
  };
  for (const std::string& name : bad_names) {
    card::Card c = a.card;
    c.name = name;
    Bytes out;
    EXPECT_EQ(card::encode(c, a.priv.view(), out), Status::bad_text) << to_hex(as_bytes(name));
  }
  // Ordinary names in any script pass.
  for (const char* name : {"Alice", "Zoë", "Łukasz", "محمد", "王小明", "😀 Fox", "A-b_c.d (e)"}) {
    card::Card c = a.card;
    c.name = name;
    Bytes out;
    EXPECT_EQ(card::encode(c, a.priv.view(), out), Status::ok) << name;
    card::Card back;
    ASSERT_EQ(card::decode(out, back), Status::ok) << name;
    EXPECT_EQ(back.name, name);
  }
}

card::KeyId id_of(const Peer& p) { return card::key_id(p.pub); }

TEST(Envelope, OfferWithCardForEveryCorpusSdpFitsOnePush) {
  Peer alice(kMozilla), bob(kMozilla, "Bob");
  for (const auto& [name, sdp] : corpus_sdps()) {
    Bytes packed;
    ASSERT_EQ(sdp::pack(sdp, packed), Status::ok);
    envelope::Sealed e;
    e.type = envelope::Type::offer;
    e.recipient = id_of(bob);
    e.session.fill(7);
    e.sequence = 1;
    e.timestamp = static_cast<std::uint32_t>(kNow);
    e.body = packed;
    e.sender_card = alice.encoded;
    Bytes sealed;
    ASSERT_EQ(envelope::seal(e, alice.priv.view(), sealed), Status::ok);
    EXPECT_LE(sealed.size(), webpush::kMaxPlaintextLength);
    std::printf("envelope: offer %4zu B packed SDP + card -> %4zu B (limit %zu)\n", packed.size(), sealed.size(),
                webpush::kMaxPlaintextLength);
    Bytes body;
    ASSERT_EQ(webpush::encrypt(bob.card.p256dh, bob.card.auth, sealed, 4096, 0, body), Status::ok);
    envelope::Opened o;
    envelope::ReplayGuard guard;
    ASSERT_EQ(envelope::open(sealed, kNow + 5, id_of(bob), nullptr, &guard, o), Status::ok);
    EXPECT_TRUE(o.has_card);
    EXPECT_EQ(o.sender_key, alice.pub);
    EXPECT_EQ(o.card_bytes, alice.encoded);
    EXPECT_EQ(o.recipient, id_of(bob));
    std::string back;
    ASSERT_EQ(sdp::unpack(o.body, back), Status::ok);
    EXPECT_EQ(back, sdp);
  }
}

TEST(Envelope, EachFailureHasItsOwnStatus) {
  Peer alice(kMozilla), bob(kMozilla, "Bob"), mallory(kMozilla, "Mallory");
  const std::uint8_t body[] = {1, 2, 3};
  envelope::Sealed e;
  e.type = envelope::Type::answer;
  e.recipient = id_of(bob);
  e.session.fill(9);
  e.sequence = 3;
  e.timestamp = static_cast<std::uint32_t>(kNow);
  e.ref = envelope::Ref{};
  e.ref->fill(0x5A);
  e.body = body;
  Bytes sealed;  // key-id form (not first contact)
  ASSERT_EQ(envelope::seal(e, alice.priv.view(), sealed), Status::ok);
  const card::KeyId self = id_of(bob);
  envelope::Opened o;
  envelope::ReplayGuard guard;
  card::KeyId id;
  bool has_card = true;
  ASSERT_EQ(envelope::peek_sender(sealed, id, has_card), Status::ok);
  EXPECT_FALSE(has_card);
  EXPECT_EQ(id, card::key_id(alice.pub));
  EXPECT_EQ(envelope::open(sealed, kNow, self, nullptr, &guard, o), Status::unknown_sender);
  EXPECT_EQ(envelope::open(sealed, kNow, self, &mallory.pub, &guard, o), Status::unknown_sender);
  // Addressed to Bob: Carol (here Mallory) refuses it, and it is not recorded as seen.
  EXPECT_EQ(envelope::open(sealed, kNow, id_of(mallory), &alice.pub, &guard, o), Status::wrong_recipient);
  ASSERT_EQ(envelope::open(sealed, kNow, self, &alice.pub, &guard, o), Status::ok);
  EXPECT_EQ(o.type, envelope::Type::answer);
  EXPECT_EQ(o.body, Bytes(body, body + 3));
  ASSERT_TRUE(o.ref.has_value());
  EXPECT_EQ(*o.ref, *e.ref);
  EXPECT_EQ(envelope::open(sealed, kNow, self, &alice.pub, &guard, o), Status::replayed_message);
  EXPECT_TRUE(o.body.empty());
  // The guard survives a save/restore (a service worker that restarts).
  envelope::ReplayGuard restored;
  ASSERT_EQ(restored.restore(guard.save()), Status::ok);
  EXPECT_EQ(envelope::open(sealed, kNow + 1, self, &alice.pub, &restored, o), Status::replayed_message);
  EXPECT_EQ(envelope::open(sealed, kNow + envelope::kDefaultMaxAgeSeconds + 1, self, &alice.pub, nullptr, o),
            Status::stale_message);
  EXPECT_EQ(envelope::open(sealed, kNow - envelope::kDefaultMaxSkewSeconds - 1, self, &alice.pub, nullptr, o),
            Status::stale_message);
  Bytes tampered = sealed;
  tampered[tampered.size() - 70] ^= 1;  // inside the body or timestamp
  EXPECT_EQ(envelope::open(tampered, kNow, self, &alice.pub, nullptr, o), Status::bad_signature);
  // The same signature in its other (high-S) form.
  Bytes high = sealed;
  const Bytes m = mirrored(ByteView(high).last(64));
  std::copy(m.begin(), m.end(), high.end() - 64);
  EXPECT_EQ(envelope::open(high, kNow, self, &alice.pub, nullptr, o), Status::bad_signature);
  // Mallory signs an envelope that claims Alice's key id.
  Bytes by_mallory;
  ASSERT_EQ(envelope::seal(e, mallory.priv.view(), by_mallory), Status::ok);
  std::copy(sealed.begin() + 3, sealed.begin() + 11, by_mallory.begin() + 3);
  EXPECT_EQ(envelope::open(by_mallory, kNow, self, &alice.pub, nullptr, o), Status::bad_signature);
  for (std::size_t n = 0; n < sealed.size(); ++n) {
    EXPECT_NE(envelope::open(ByteView(sealed).first(n), kNow, self, &alice.pub, nullptr, o), Status::ok) << n;
  }
  // A card that belongs to someone else cannot be attached.
  e.sender_card = mallory.encoded;
  EXPECT_EQ(envelope::seal(e, alice.priv.view(), sealed), Status::bad_key);
}

TEST(Envelope, TypesRefsAndVersionsAreStrict) {
  Peer alice(kMozilla), bob(kMozilla, "Bob");
  envelope::Sealed e;
  e.recipient = id_of(bob);
  e.timestamp = static_cast<std::uint32_t>(kNow);
  Bytes out;
  // Answers and byes name the offer they answer; offers and cards name none; a card envelope carries the card.
  e.type = envelope::Type::answer;
  EXPECT_EQ(envelope::seal(e, alice.priv.view(), out), Status::bad_argument);
  e.type = envelope::Type::bye;
  EXPECT_EQ(envelope::seal(e, alice.priv.view(), out), Status::bad_argument);
  e.type = envelope::Type::offer;
  e.ref = envelope::Ref{};
  EXPECT_EQ(envelope::seal(e, alice.priv.view(), out), Status::bad_argument);
  e.ref.reset();
  e.type = envelope::Type::card;
  EXPECT_EQ(envelope::seal(e, alice.priv.view(), out), Status::bad_argument);
  for (std::uint8_t t : {0, 4, 6, 7, 255}) {
    e.type = static_cast<envelope::Type>(t);
    EXPECT_EQ(envelope::seal(e, alice.priv.view(), out), Status::bad_argument) << int{t};
  }
  // On the wire: an unknown type, a ref flag on an offer or a missing one on an answer, unknown flag bits and
  // version 1 are refused before any signature is checked.
  e.type = envelope::Type::offer;
  e.sender_card = alice.encoded;
  Bytes offer;
  ASSERT_EQ(envelope::seal(e, alice.priv.view(), offer), Status::ok);
  envelope::Opened o;
  ASSERT_EQ(envelope::open(offer, kNow, id_of(bob), nullptr, nullptr, o), Status::ok);
  for (std::uint8_t t : {0, 4, 6, 7, 200}) {
    Bytes bad = offer;
    bad[1] = t;
    EXPECT_EQ(envelope::open(bad, kNow, id_of(bob), nullptr, nullptr, o), Status::bad_envelope) << int{t};
  }
  Bytes flagged = offer;
  flagged[2] |= 0x02;
  EXPECT_EQ(envelope::open(flagged, kNow, id_of(bob), nullptr, nullptr, o), Status::bad_envelope);
  flagged[2] = 0x05;
  EXPECT_EQ(envelope::open(flagged, kNow, id_of(bob), nullptr, nullptr, o), Status::bad_envelope);
  Bytes as_answer = offer;
  as_answer[1] = static_cast<std::uint8_t>(envelope::Type::answer);
  EXPECT_EQ(envelope::open(as_answer, kNow, id_of(bob), nullptr, nullptr, o), Status::bad_envelope);
  Bytes v1 = offer;
  v1[0] = 0xE1;
  EXPECT_EQ(envelope::open(v1, kNow, id_of(bob), nullptr, nullptr, o), Status::unsupported_version);
  // The reference and the push topic.
  EXPECT_EQ(envelope::reference(offer), envelope::reference(offer));
  EXPECT_NE(envelope::reference(offer), envelope::reference(ByteView(offer).first(offer.size() - 1)));
  envelope::SessionId s1{}, s2{};
  s2[7] = 1;
  const std::string t1 = envelope::topic(envelope::Type::offer, id_of(bob), s1);
  EXPECT_EQ(t1.size(), 16u);
  EXPECT_EQ(t1, envelope::topic(envelope::Type::offer, id_of(bob), s1));
  EXPECT_NE(t1, envelope::topic(envelope::Type::offer, id_of(bob), s2));
  EXPECT_NE(t1, envelope::topic(envelope::Type::answer, id_of(bob), s1));
  EXPECT_NE(t1, envelope::topic(envelope::Type::offer, id_of(alice), s1));
}

TEST(Envelope, ReplayGuardForgetsOnlyWhatIsStale) {
  envelope::ReplayGuard guard;
  const std::int64_t max_age = envelope::kDefaultMaxAgeSeconds;
  card::KeyId honest{};
  honest.fill(0xAA);
  envelope::SessionId s{};
  ASSERT_EQ(guard.check_and_record(honest, s, 1, kNow, kNow, max_age), Status::ok);
  // A flood from many senders (a Sybil: cards are free to make), stamped as far in the future as the window allows.
  std::size_t refused_full = 0;
  for (std::uint32_t i = 0; i < envelope::ReplayGuard::kCapacity + 500; ++i) {
    card::KeyId k{};
    std::memcpy(k.data(), &i, sizeof i);
    const Status st = guard.check_and_record(k, s, i, kNow + envelope::kDefaultMaxSkewSeconds, kNow, max_age);
    if (st == Status::replay_guard_full) ++refused_full;
    else EXPECT_EQ(st, Status::ok);
  }
  EXPECT_EQ(guard.size(), envelope::ReplayGuard::kCapacity);
  EXPECT_EQ(refused_full, 501u);
  // The honest entry was not evicted: its replay is still refused for as long as the window would accept it.
  EXPECT_EQ(guard.check_and_record(honest, s, 1, kNow, kNow + max_age, max_age), Status::replayed_message);
  // Once it is stale (the window refuses it anyway) it goes, and its room is free; the flood's entries live until
  // theirs end, so the guard is full again.
  EXPECT_EQ(guard.check_and_record(honest, s, 2, kNow + max_age + 1, kNow + max_age + 1, max_age), Status::ok);
  EXPECT_EQ(guard.size(), envelope::ReplayGuard::kCapacity);
  EXPECT_EQ(guard.check_and_record(honest, s, 3, kNow + max_age + 1, kNow + max_age + 1, max_age),
            Status::replay_guard_full);
  const std::int64_t later = kNow + 2 * max_age + 2;
  EXPECT_EQ(guard.check_and_record(honest, s, 4, later, later, max_age), Status::ok);
  EXPECT_EQ(guard.size(), 1u);
}

TEST(Envelope, OneSenderCannotFillTheReplayGuard) {
  envelope::ReplayGuard guard;
  card::KeyId mallory{}, alice{};
  mallory.fill(1);
  alice.fill(2);
  envelope::SessionId s{};
  // Eight a second for most of a window: each is accepted (its oldest entries give way), none stays beyond its share.
  for (std::uint32_t i = 0; i < envelope::ReplayGuard::kCapacity; ++i) {
    ASSERT_EQ(guard.check_and_record(mallory, s, i, kNow + i / 8, kNow + i / 8, 600), Status::ok);
  }
  EXPECT_LE(guard.size(), envelope::ReplayGuard::kPerSender);
  // All in one second: past its share they cannot be told apart from what was forgotten, so they are refused.
  card::KeyId eve{};
  eve.fill(3);
  std::size_t stale = 0;
  for (std::uint32_t i = 0; i < 2 * envelope::ReplayGuard::kPerSender; ++i) {
    const Status st = guard.check_and_record(eve, s, i, kNow + 600, kNow + 600, 600);
    if (st == Status::stale_message) ++stale;
    else EXPECT_EQ(st, Status::ok);
  }
  EXPECT_EQ(stale, envelope::ReplayGuard::kPerSender);
  EXPECT_EQ(guard.check_and_record(alice, s, 1, kNow, kNow, 600), Status::ok);
}

// A peer who calls a lot (1000 calls in ten minutes) is never refused: past kPerSender its oldest entries give way
// to a floor, and an envelope of that sender at or below the floor is refused as stale, so nothing forgotten can be
// replayed.
TEST(Envelope, ABusySenderIsNeverRefusedAndNothingForgottenReplays) {
  envelope::ReplayGuard guard;
  card::KeyId alice{};
  alice.fill(2);
  const std::int64_t max_age = envelope::kDefaultMaxAgeSeconds;
  auto session = [](std::uint32_t i) {
    envelope::SessionId s{};
    std::memcpy(s.data(), &i, sizeof i);
    return s;
  };
  const std::uint32_t calls = 999;
  for (std::uint32_t i = 0; i < calls; ++i) {
    const std::int64_t t = kNow + i / 2;  // two calls a second, within one window
    ASSERT_EQ(guard.check_and_record(alice, session(i), 0, t, t, max_age), Status::ok) << "call " << i;
  }
  // The last call made two entries give way (they shared a second), so the sender is below its share and the floor
  // alone refuses what was forgotten.
  EXPECT_EQ(guard.size(), envelope::ReplayGuard::kPerSender - 1);
  const std::int64_t now = kNow + calls / 2;
  for (std::uint32_t i = 0; i < calls; ++i) {
    const Status st = guard.check_and_record(alice, session(i), 0, kNow + i / 2, now, max_age);
    EXPECT_TRUE(st == Status::replayed_message || st == Status::stale_message) << "call " << i << ": " << status_name(st);
  }
  // An envelope the sender never sent, stamped before the floor, is refused too (it cannot be told from a replay).
  EXPECT_EQ(guard.check_and_record(alice, session(5000), 0, kNow + 10, now, max_age), Status::stale_message);
  // The floor survives a save/restore.
  envelope::ReplayGuard restored;
  ASSERT_EQ(restored.restore(guard.save()), Status::ok);
  EXPECT_EQ(restored.check_and_record(alice, session(3), 0, kNow + 1, now, max_age), Status::stale_message);
  EXPECT_EQ(restored.check_and_record(alice, session(calls - 1), 0, kNow + (calls - 1) / 2, now, max_age),
            Status::replayed_message);
  // Once the window is past, the floor goes with the entries.
  const std::int64_t later = now + 2 * max_age;
  EXPECT_EQ(restored.check_and_record(alice, session(3), 0, later, later, max_age), Status::ok);
  EXPECT_EQ(restored.size(), 1u);
}

// A guard saved before floors existed (format 1: entries only) is still read, so an upgrade forgets nothing.
TEST(Envelope, ReplayGuardReadsTheFormatBeforeFloors) {
  card::KeyId alice{};
  alice.fill(2);
  envelope::SessionId s{};
  s.fill(7);
  Bytes v1 = {1, 1};
  v1.insert(v1.end(), alice.begin(), alice.end());
  v1.insert(v1.end(), s.begin(), s.end());
  const std::uint32_t expires = kNow + 600;
  for (std::uint8_t b : {0, 0, 0, 4}) v1.push_back(b);  // sequence 4
  for (int shift = 24; shift >= 0; shift -= 8) v1.push_back(static_cast<std::uint8_t>(expires >> shift));
  envelope::ReplayGuard guard;
  ASSERT_EQ(guard.restore(v1), Status::ok);
  EXPECT_EQ(guard.check_and_record(alice, s, 4, kNow, kNow, 600), Status::replayed_message);
  EXPECT_EQ(guard.check_and_record(alice, s, 5, kNow, kNow, 600), Status::ok);
  v1[0] = 3;
  EXPECT_EQ(guard.restore(v1), Status::bad_argument);
}

TEST(P256Compression, RoundTripsAndRejectsOffCurve) {
  for (int i = 0; i < 50; ++i) {
    p256::PrivateKey k;
    p256::PublicKey p, q;
    ASSERT_EQ(p256::generate_key_pair(k, p), Status::ok);
    p256::CompressedKey c;
    ASSERT_EQ(p256::compress(p, c), Status::ok);
    ASSERT_EQ(p256::decompress(c, q), Status::ok);
    EXPECT_EQ(p, q);
  }
  p256::CompressedKey bad{};
  bad[0] = 0x04;
  p256::PublicKey q;
  EXPECT_EQ(p256::decompress(bad, q), Status::bad_key);
  bad[0] = 0x02;
  std::fill(bad.begin() + 1, bad.end(), 0xFF);  // x >= p
  EXPECT_EQ(p256::decompress(bad, q), Status::bad_key);
  // About half of all x are not on the curve: find one and check it is refused.
  int refused = 0;
  for (std::uint8_t x = 1; x < 20; ++x) {
    bad.fill(0);
    bad[0] = 0x03;
    bad[32] = x;
    refused += p256::decompress(bad, q) == Status::bad_key;
  }
  EXPECT_GT(refused, 0);
}

}  // namespace
}  // namespace pushpeer::test
