// The vectors published in docs/PROTOCOL.md (docs/vectors/core.json) hold for the core.
#include <gtest/gtest.h>

#include "pushpeer/base64url.hpp"
#include "pushpeer/p256.hpp"
#include "pushpeer/vapid.hpp"
#include "vectors.hpp"

namespace pushpeer::test {
namespace {

json doc_vectors() { return load_json_file(PUSHPEER_DOC_VECTORS); }

TEST(DocVectors, CanonicalVapidJwt) {
  const json all = doc_vectors();
  ASSERT_TRUE(all.is_object());
  const json& v = all["canonical_vapid_jwt"];
  const Bytes priv = b64u(str(v, "private_key"));
  p256::PublicKey pub;
  ASSERT_EQ(p256::public_key_from_private(priv, pub), Status::ok);
  EXPECT_EQ(base64url::encode(pub), str(v, "public_key"));
  const json& c = v["claims"];
  vapid::Claims claims{str(c, "aud"), c["exp"].get<std::int64_t>(), str(c, "sub")};
  std::string jwt;
  ASSERT_EQ(vapid::sign_jwt(priv, claims, claims.exp - 3600, jwt), Status::ok);
  EXPECT_EQ(jwt, str(v, "jwt"));
  // The rebuild rule: claims + signature alone give the same text.
  p256::Signature sig;
  ASSERT_EQ(vapid::sign_claims(priv, claims, sig), Status::ok);
  EXPECT_EQ(vapid::assemble_jwt(claims, sig), str(v, "jwt"));
  const std::size_t dot = jwt.find('.');
  EXPECT_EQ(to_text(b64u(jwt.substr(dot + 1, jwt.rfind('.') - dot - 1))), str(v, "claims_json"));
}

TEST(DocVectors, Rfc6979) {
  const json all = doc_vectors();
  ASSERT_TRUE(all.is_object());
  const json& v = all["rfc6979_p256_sha256"];
  const Bytes priv = hex(str(v, "private_key_hex"));
  for (const json& c : v["cases"]) {
    p256::Signature sig;
    ASSERT_EQ(p256::sign(priv, to_bytes(str(c, "message_utf8")), sig), Status::ok);
    EXPECT_EQ(to_hex(sig), str(c, "signature_hex"));
  }
}

TEST(DocVectors, Audiences) {
  const json all = doc_vectors();
  ASSERT_TRUE(all.is_object());
  int checked = 0;
  for (const json& a : all["audiences"]) {
    std::string audience;
    const Status s = vapid::audience_for_endpoint(str(a, "endpoint"), audience);
    if (a.contains("error")) {
      EXPECT_EQ(std::string(status_name(s)), str(a, "error")) << str(a, "endpoint");
    } else {
      EXPECT_EQ(s, Status::ok) << str(a, "endpoint");
      EXPECT_EQ(audience, str(a, "audience"));
    }
    ++checked;
  }
  EXPECT_GE(checked, 10);
}

}  // namespace
}  // namespace pushpeer::test

#include "pushpeer/card.hpp"
#include "pushpeer/envelope.hpp"
#include "pushpeer/sdp_codec.hpp"

namespace pushpeer::test {
namespace {

// Both format versions decode to the text, and our encoder gives the bytes: pack() version 2, pack_version(1) the
// version 1 vector.
TEST(DocVectors, PackedSdp) {
  const json all = doc_vectors();
  ASSERT_TRUE(all.is_object());
  for (const auto& [name, version] : {std::pair{"packed_sdp", 1}, std::pair{"packed_sdp_v2", 2}}) {
    const json& v = all[name];
    std::string text;
    ASSERT_EQ(sdp::unpack(b64u(str(v, "packed")), text), Status::ok) << name;
    EXPECT_EQ(text, str(v, "sdp")) << name;
    Bytes packed;
    ASSERT_EQ(sdp::pack_version(str(v, "sdp"), static_cast<std::uint8_t>(version), packed), Status::ok);
    EXPECT_EQ(base64url::encode(packed), str(v, "packed")) << name;
  }
  Bytes packed;
  ASSERT_EQ(sdp::pack(str(all["packed_sdp_v2"], "sdp"), packed), Status::ok);
  EXPECT_EQ(base64url::encode(packed), str(all["packed_sdp_v2"], "packed"));
}

TEST(DocVectors, CardAndEnvelopes) {
  const json all = doc_vectors();
  ASSERT_TRUE(all.is_object());
  const json& v = all["card"];
  const Bytes priv = b64u(str(v, "identity_private_key"));
  card::Card c;
  c.created = v["created"].get<std::uint32_t>();
  c.endpoint = str(v, "endpoint");
  const Bytes p256dh = b64u(str(v, "p256dh")), auth = hex(str(v, "auth_hex"));
  std::copy(p256dh.begin(), p256dh.end(), c.p256dh.begin());
  std::copy(auth.begin(), auth.end(), c.auth.begin());
  ASSERT_EQ(p256::public_key_from_private(priv, c.identity), Status::ok);
  c.subject = str(v, "subject");
  c.name = str(v, "name");
  const json& g = v["grants"];
  ASSERT_EQ(grant::issue(priv, c.endpoint, c.subject, g["first_exp"].get<std::uint32_t>(),
                         g["interval"].get<std::uint32_t>(), g["count"].get<std::size_t>(), c.grants),
            Status::ok);
  Bytes encoded;
  ASSERT_EQ(card::encode(c, priv, encoded), Status::ok);
  EXPECT_EQ(base64url::encode(encoded), str(v, "bytes"));
  EXPECT_EQ(base64url::encode(card::key_id(c.identity)), str(v, "key_id"));
  card::Card decoded;
  ASSERT_EQ(card::decode(b64u(str(v, "bytes")), decoded), Status::ok);
  EXPECT_EQ(decoded.endpoint, c.endpoint);
  EXPECT_EQ(decoded.name, "Alice");

  const json& e = all["envelope"];
  const Bytes bob_priv = b64u(str(e, "recipient_private_key"));
  p256::PublicKey bob;
  ASSERT_EQ(p256::public_key_from_private(bob_priv, bob), Status::ok);
  const card::KeyId bob_id = card::key_id(bob), alice_id = card::key_id(c.identity);
  EXPECT_EQ(base64url::encode(bob_id), str(e, "recipient_key_id"));
  envelope::Sealed s;
  s.type = envelope::Type::offer;
  s.recipient = bob_id;
  const Bytes session = hex(str(e, "session_id_hex"));
  std::copy(session.begin(), session.end(), s.session.begin());
  s.timestamp = e["timestamp"].get<std::uint32_t>();
  const Bytes packed = b64u(str(all["packed_sdp"], "packed"));
  s.sequence = e["offer"]["sequence"].get<std::uint32_t>();
  s.body = packed;
  s.sender_card = encoded;
  Bytes offer;
  ASSERT_EQ(envelope::seal(s, priv, offer), Status::ok);
  EXPECT_EQ(base64url::encode(offer), str(e["offer"], "bytes"));
  const envelope::Ref ref = envelope::reference(offer);
  EXPECT_EQ(base64url::encode(ref), str(e, "offer_reference"));
  EXPECT_EQ(envelope::topic(envelope::Type::offer, bob_id, s.session), str(e["topics"], "offer"));
  EXPECT_EQ(envelope::topic(envelope::Type::answer, alice_id, s.session), str(e["topics"], "answer"));

  s.sequence = e["offer_by_key_id"]["sequence"].get<std::uint32_t>();
  s.body = {};
  s.sender_card = {};
  Bytes follow_up;
  ASSERT_EQ(envelope::seal(s, priv, follow_up), Status::ok);
  EXPECT_EQ(base64url::encode(follow_up), str(e["offer_by_key_id"], "bytes"));

  // Bob's answer and bye: key-id form, addressed to Alice, naming the offer.
  envelope::Sealed r;
  r.recipient = alice_id;
  r.session = s.session;
  r.ref = ref;
  r.type = envelope::Type::answer;
  r.sequence = e["answer"]["sequence"].get<std::uint32_t>();
  r.timestamp = e["answer"]["timestamp"].get<std::uint32_t>();
  r.body = packed;
  Bytes answer;
  ASSERT_EQ(envelope::seal(r, bob_priv, answer), Status::ok);
  EXPECT_EQ(base64url::encode(answer), str(e["answer"], "bytes"));
  r.type = envelope::Type::bye;
  r.sequence = e["bye"]["sequence"].get<std::uint32_t>();
  r.timestamp = e["bye"]["timestamp"].get<std::uint32_t>();
  r.body = {};
  Bytes bye;
  ASSERT_EQ(envelope::seal(r, bob_priv, bye), Status::ok);
  EXPECT_EQ(base64url::encode(bye), str(e["bye"], "bytes"));

  envelope::Opened o;
  ASSERT_EQ(envelope::open(b64u(str(e["offer"], "bytes")), s.timestamp, bob_id, nullptr, nullptr, o), Status::ok);
  EXPECT_EQ(o.body, packed);
  ASSERT_EQ(envelope::open(b64u(str(e["offer_by_key_id"], "bytes")), s.timestamp, bob_id, &c.identity, nullptr, o),
            Status::ok);
  EXPECT_EQ(o.sequence, 2u);
  ASSERT_EQ(envelope::open(answer, r.timestamp, alice_id, &bob, nullptr, o), Status::ok);
  ASSERT_TRUE(o.ref.has_value());
  EXPECT_EQ(*o.ref, ref);
  // What the vectors say must be refused.
  EXPECT_STREQ(status_name(envelope::open(offer, s.timestamp, alice_id, nullptr, nullptr, o)),
               str(e["refused"], "wrong_recipient").c_str());
  Bytes v1 = offer;
  v1[0] = hex(str(e["refused"], "version_1_magic_hex"))[0];
  EXPECT_STREQ(status_name(envelope::open(v1, s.timestamp, bob_id, nullptr, nullptr, o)),
               str(e["refused"], "version_1").c_str());
}

}  // namespace
}  // namespace pushpeer::test
