// Grants, cards and envelopes: round trips, sizes against the push limit with every corpus SDP, and each kind of
// bad input (tampered, truncated, replayed, stale, wrongly signed, expired grant) refused with its own status.
#include <gtest/gtest.h>


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
  Bytes v2 = a.encoded;
  v2[0] = 0xC2;
  EXPECT_EQ(card::decode(v2, out), Status::unsupported_version);
}

TEST(Envelope, OfferWithCardForEveryCorpusSdpFitsOnePush) {
  Peer alice(kMozilla), bob(kMozilla, "Bob");
  for (const auto& [name, sdp] : corpus_sdps()) {
    Bytes packed;
    ASSERT_EQ(sdp::pack(sdp, packed), Status::ok);
    envelope::Sealed e;
    e.type = envelope::Type::offer;
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
    ASSERT_EQ(envelope::open(sealed, kNow + 5, nullptr, &guard, o), Status::ok);
    EXPECT_TRUE(o.has_card);
    EXPECT_EQ(o.sender_key, alice.pub);
    std::string back;
    ASSERT_EQ(sdp::unpack(o.body, back), Status::ok);
    EXPECT_EQ(back, sdp);
  }
}

TEST(Envelope, EachFailureHasItsOwnStatus) {
  Peer alice(kMozilla), mallory(kMozilla, "Mallory");
  const std::uint8_t body[] = {1, 2, 3};
  envelope::Sealed e;
  e.type = envelope::Type::answer;
  e.session.fill(9);
  e.sequence = 3;
  e.timestamp = static_cast<std::uint32_t>(kNow);
  e.body = body;
  Bytes sealed;  // key-id form (not first contact)
  ASSERT_EQ(envelope::seal(e, alice.priv.view(), sealed), Status::ok);
  envelope::Opened o;
  envelope::ReplayGuard guard;
  card::KeyId id;
  bool has_card = true;
  ASSERT_EQ(envelope::peek_sender(sealed, id, has_card), Status::ok);
  EXPECT_FALSE(has_card);
  EXPECT_EQ(id, card::key_id(alice.pub));
  EXPECT_EQ(envelope::open(sealed, kNow, nullptr, &guard, o), Status::unknown_sender);
  EXPECT_EQ(envelope::open(sealed, kNow, &mallory.pub, &guard, o), Status::unknown_sender);
  ASSERT_EQ(envelope::open(sealed, kNow, &alice.pub, &guard, o), Status::ok);
  EXPECT_EQ(o.type, envelope::Type::answer);
  EXPECT_EQ(o.body, Bytes(body, body + 3));
  EXPECT_EQ(envelope::open(sealed, kNow, &alice.pub, &guard, o), Status::replayed_message);
  EXPECT_TRUE(o.body.empty());
  // The guard survives a save/restore (a service worker that restarts).
  envelope::ReplayGuard restored;
  ASSERT_EQ(restored.restore(guard.save()), Status::ok);
  EXPECT_EQ(envelope::open(sealed, kNow + 1, &alice.pub, &restored, o), Status::replayed_message);
  EXPECT_EQ(envelope::open(sealed, kNow + envelope::kDefaultMaxAgeSeconds + 1, &alice.pub, nullptr, o),
            Status::stale_message);
  EXPECT_EQ(envelope::open(sealed, kNow - envelope::kDefaultMaxSkewSeconds - 1, &alice.pub, nullptr, o),
            Status::stale_message);
  Bytes tampered = sealed;
  tampered[tampered.size() - 70] ^= 1;  // inside the body or timestamp
  EXPECT_EQ(envelope::open(tampered, kNow, &alice.pub, nullptr, o), Status::bad_signature);
  // Mallory signs an envelope that claims Alice's key id.
  Bytes forged = sealed;
  Bytes by_mallory;
  ASSERT_EQ(envelope::seal(e, mallory.priv.view(), by_mallory), Status::ok);
  std::copy(sealed.begin() + 3, sealed.begin() + 11, by_mallory.begin() + 3);
  EXPECT_EQ(envelope::open(by_mallory, kNow, &alice.pub, nullptr, o), Status::bad_signature);
  for (std::size_t n = 0; n < sealed.size(); ++n) {
    EXPECT_NE(envelope::open(ByteView(sealed).first(n), kNow, &alice.pub, nullptr, o), Status::ok) << n;
  }
  // A card that belongs to someone else cannot be attached.
  e.sender_card = mallory.encoded;
  EXPECT_EQ(envelope::seal(e, alice.priv.view(), sealed), Status::bad_key);
}

TEST(Envelope, ReplayGuardStaysBounded) {
  envelope::ReplayGuard guard;
  card::KeyId k{};
  envelope::SessionId s{};
  for (std::uint32_t i = 0; i < envelope::ReplayGuard::kCapacity + 100; ++i) {
    EXPECT_TRUE(guard.check_and_record(k, s, i, kNow, kNow, 720));
  }
  EXPECT_LE(guard.size(), envelope::ReplayGuard::kCapacity);
  // Entries are forgotten once such an envelope would be stale anyway.
  EXPECT_TRUE(guard.check_and_record(k, s, 1, kNow + 800, kNow + 800, 720));
  EXPECT_EQ(guard.size(), 1u);
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
