// An envelope sealed for a neighbour to carry (docs/PROTOCOL.md §4.1): RFC 8291 to the recipient's identity key
// with an auth secret derived from its key id. The vector is the one printed in §4.1, read from the document itself.
#include <string>

#include <gtest/gtest.h>

#include "pushpeer/base64url.hpp"
#include "pushpeer/card.hpp"
#include "pushpeer/ece.hpp"
#include "pushpeer/neighbour.hpp"
#include "pushpeer/p256.hpp"
#include "pushpeer/symmetric.hpp"
#include "pushpeer/webpush.hpp"
#include "vectors.hpp"

namespace pushpeer::neighbour {
namespace {

using test::to_hex;

struct Identity {
  p256::PrivateKey private_key;
  p256::PublicKey public_key{};
  Identity() { EXPECT_EQ(p256::generate_key_pair(private_key, public_key), Status::ok); }
};

Status open_as(const Identity& who, ByteView body, Bytes& envelope) {
  return open(who.private_key.view(), who.public_key, body, envelope);
}

// The §4.1 vector: the JSON block that starts with "neighbour_seal" in docs/PROTOCOL.md.
test::json protocol_vector() {
  const std::string doc = test::read_file(PUSHPEER_PROTOCOL_DOC);
  static constexpr std::string_view kStart = "```json\n{\n  \"neighbour_seal\"";
  const std::size_t start = doc.find(kStart);
  if (start == std::string::npos) {
    ADD_FAILURE() << "no neighbour_seal JSON block in " << PUSHPEER_PROTOCOL_DOC;
    return nullptr;
  }
  const std::size_t json_start = start + std::string_view("```json\n").size();
  const std::size_t end = doc.find("\n```", json_start);
  const test::json all = test::json::parse(doc.substr(json_start, end - json_start), nullptr, false);
  if (!all.is_object() || !all.contains("neighbour_seal")) {
    ADD_FAILURE() << "the neighbour_seal block in " << PUSHPEER_PROTOCOL_DOC << " is not valid JSON";
    return nullptr;
  }
  return all["neighbour_seal"];
}

TEST(Neighbour, AuthSecretIsTheKeyIdHashedWithTheLabel) {
  const Identity bob;
  std::uint8_t auth[webpush::kAuthSecretLength];
  auth_secret(bob.public_key, auth);
  const card::KeyId id = card::key_id(bob.public_key);
  const Bytes input = [&] {
    Bytes b = test::to_bytes("pushpeer/neighbour/v1");
    b.insert(b.end(), id.begin(), id.end());
    return b;
  }();
  std::uint8_t digest[symmetric::kSha256Length];
  symmetric::sha256(input, digest);
  EXPECT_EQ(to_hex({auth, sizeof auth}), to_hex({digest, webpush::kAuthSecretLength}));
}

TEST(Neighbour, RoundTripAtEverySize) {
  const Identity bob;
  for (const std::size_t length : {std::size_t{0}, std::size_t{1}, std::size_t{97}, std::size_t{1200},
                                   webpush::kMaxPlaintextLength}) {
    SCOPED_TRACE(testing::Message() << "envelope of " << length << " bytes");
    const Bytes envelope = test::pattern(length, static_cast<std::uint32_t>(length + 11));
    Bytes body, again, opened;
    ASSERT_EQ(seal(bob.public_key, envelope, body), Status::ok);
    // RFC 8188 header: salt 16, rs 4096, idlen 65, key id = an uncompressed point; then one record.
    ASSERT_EQ(body.size(), webpush::kWebPushHeaderLength + length + ece::kTagLength + 1);
    EXPECT_EQ(to_hex(ByteView(body).subspan(16, 5)), "0000100041");
    EXPECT_EQ(body[21], 0x04);
    EXPECT_EQ(p256::validate_public_key(ByteView(body).subspan(21, 65)), Status::ok);
    Bytes stale{1, 2, 3};  // open replaces whatever the output held
    ASSERT_EQ(open_as(bob, body, stale), Status::ok);
    EXPECT_EQ(to_hex(stale), to_hex(envelope));
    // A fresh ephemeral key and salt for every seal.
    ASSERT_EQ(seal(bob.public_key, envelope, again), Status::ok);
    EXPECT_NE(to_hex(ByteView(again).first(16)), to_hex(ByteView(body).first(16))) << "salt reused";
    EXPECT_NE(to_hex(ByteView(again).subspan(21, 65)), to_hex(ByteView(body).subspan(21, 65))) << "key reused";
  }
}

TEST(Neighbour, IsRfc8291WithTheDerivedAuthSecret) {
  // The same code path as a push body: webpush::encrypt_with_keys with ua_public = the identity key reproduces a
  // seal byte for byte, and webpush::decrypt opens it.
  const Identity bob, ephemeral;
  const Bytes salt = test::pattern(16, 3);
  const Bytes envelope = test::pattern(300, 4);
  std::uint8_t auth[webpush::kAuthSecretLength];
  auth_secret(bob.public_key, auth);
  Bytes sealed, pushed, opened;
  ASSERT_EQ(seal_with_keys(bob.public_key, envelope, ephemeral.private_key.view(), ephemeral.public_key, salt, sealed),
            Status::ok);
  ASSERT_EQ(webpush::encrypt_with_keys(bob.public_key, {auth, sizeof auth}, ephemeral.private_key.view(),
                                       ephemeral.public_key, salt, envelope, webpush::kDefaultRecordSize, 0, pushed),
            Status::ok);
  EXPECT_EQ(to_hex(sealed), to_hex(pushed));
  ASSERT_EQ(webpush::decrypt(bob.private_key.view(), bob.public_key, {auth, sizeof auth}, sealed, opened), Status::ok);
  EXPECT_EQ(to_hex(opened), to_hex(envelope));
}

TEST(Neighbour, OnlyTheRecipientOpensIt) {
  const Identity bob, carol;
  const Bytes envelope = test::pattern(120, 5);
  Bytes body, opened{9};
  ASSERT_EQ(seal(bob.public_key, envelope, body), Status::ok);
  EXPECT_EQ(open_as(carol, body, opened), Status::decrypt_failed);
  EXPECT_TRUE(opened.empty());
  // Bob's private key with another public key: the auth secret and the HKDF info differ.
  EXPECT_EQ(open(bob.private_key.view(), carol.public_key, body, opened), Status::decrypt_failed);
  EXPECT_TRUE(opened.empty());
  // Carol's private key claiming Bob's public key: the ECDH differs.
  EXPECT_EQ(open(carol.private_key.view(), bob.public_key, body, opened), Status::decrypt_failed);
  EXPECT_TRUE(opened.empty());
}

TEST(Neighbour, AFlippedByteAnywhereIsRefusedWithItsCode) {
  // Every byte is checked: the salt, the key id and the record through the key schedule and the GCM tag; rs and
  // idlen, which RFC 8188 leaves unauthenticated, by their required values (4096 and 65).
  const Identity bob;
  const Bytes envelope = test::pattern(97, 6);
  Bytes body;
  ASSERT_EQ(seal(bob.public_key, envelope, body), Status::ok);
  for (std::size_t i = 0; i < body.size(); ++i) {
    for (const std::uint8_t mask : {std::uint8_t{0x01}, std::uint8_t{0x80}, std::uint8_t{0xff}}) {
      SCOPED_TRACE(testing::Message() << "byte " << i << " ^ " << int{mask});
      Bytes tampered = body;
      tampered[i] ^= mask;
      Bytes opened{7};
      const Status s = open_as(bob, tampered, opened);
      EXPECT_TRUE(opened.empty());
      if (i < 16) {
        EXPECT_EQ(s, Status::decrypt_failed) << "salt";
      } else if (i < 20) {
        EXPECT_EQ(s, Status::ece_bad_record_size) << "rs";
      } else if (i == 20) {
        EXPECT_TRUE(s == Status::ece_bad_key_id || s == Status::ece_truncated_header) << "idlen: " << status_name(s);
      } else if (i < webpush::kWebPushHeaderLength) {
        EXPECT_TRUE(s == Status::ece_bad_key_id || s == Status::decrypt_failed) << "key id: " << status_name(s);
      } else {
        EXPECT_EQ(s, Status::decrypt_failed) << "record";
      }
    }
  }
}

TEST(Neighbour, TruncatedBodiesAreRefused) {
  const Identity bob;
  Bytes body;
  ASSERT_EQ(seal(bob.public_key, test::pattern(97, 7), body), Status::ok);
  for (std::size_t n = 0; n < body.size(); ++n) {
    SCOPED_TRACE(testing::Message() << "first " << n << " bytes");
    Bytes opened{7};
    const Status s = open_as(bob, ByteView(body).first(n), opened);
    EXPECT_TRUE(opened.empty());
    if (n < webpush::kWebPushHeaderLength) {
      EXPECT_EQ(s, Status::ece_truncated_header);
    } else if (n == webpush::kWebPushHeaderLength) {
      EXPECT_EQ(s, Status::ece_truncated_message);
    } else if (n - webpush::kWebPushHeaderLength <= ece::kTagLength) {
      EXPECT_EQ(s, Status::ece_truncated_record);
    } else {
      EXPECT_EQ(s, Status::decrypt_failed);
    }
  }
}

TEST(Neighbour, SizeLimitsAreAPushBodys) {
  const Identity bob;
  Bytes body, opened;
  // The largest envelope fills a 4096-byte body exactly; one byte more does not fit a push.
  ASSERT_EQ(seal(bob.public_key, test::pattern(webpush::kMaxPlaintextLength, 8), body), Status::ok);
  EXPECT_EQ(body.size(), webpush::kMaxBodyLength);
  EXPECT_EQ(seal(bob.public_key, test::pattern(webpush::kMaxPlaintextLength + 1, 8), body), Status::payload_too_large);
  EXPECT_TRUE(body.empty());
  // A body longer than a push is refused before any key work, whatever it holds.
  Bytes big;
  ASSERT_EQ(seal(bob.public_key, test::pattern(100, 9), big), Status::ok);
  big.resize(webpush::kMaxBodyLength + 1, 0);
  EXPECT_EQ(open_as(bob, big, opened), Status::payload_too_large);
  EXPECT_EQ(open_as(bob, Bytes(1 << 20, 0), opened), Status::payload_too_large);
}

TEST(Neighbour, OneRecordOfSize4096Only) {
  // What a push decryptor accepts beyond that (other rs, several records) is refused: nothing in the header can be
  // changed in transit without the recipient noticing.
  const Identity bob, ephemeral;
  std::uint8_t auth[webpush::kAuthSecretLength];
  auth_secret(bob.public_key, auth);
  const Bytes salt = test::pattern(16, 10);
  Bytes body, opened;
  ASSERT_EQ(webpush::encrypt_with_keys(bob.public_key, {auth, sizeof auth}, ephemeral.private_key.view(),
                                       ephemeral.public_key, salt, test::pattern(50, 11), 4095, 0, body),
            Status::ok);
  EXPECT_EQ(open_as(bob, body, opened), Status::ece_bad_record_size);
  ASSERT_EQ(webpush::encrypt_with_keys(bob.public_key, {auth, sizeof auth}, ephemeral.private_key.view(),
                                       ephemeral.public_key, salt, test::pattern(50, 11), 4096, 0, body),
            Status::ok);
  ASSERT_EQ(open_as(bob, body, opened), Status::ok);
  // Padding inside the record is RFC 8188's and authenticated: accepted.
  ASSERT_EQ(webpush::encrypt_with_keys(bob.public_key, {auth, sizeof auth}, ephemeral.private_key.view(),
                                       ephemeral.public_key, salt, test::pattern(50, 11), 4096, 30, body),
            Status::ok);
  ASSERT_EQ(open_as(bob, body, opened), Status::ok);
  EXPECT_EQ(opened.size(), 50u);
}

TEST(Neighbour, BadKeysAreRefused) {
  const Identity bob;
  Bytes body, opened;
  const Bytes envelope = test::pattern(10, 12);
  EXPECT_EQ(seal(ByteView(bob.public_key).first(64), envelope, body), Status::bad_key);
  p256::PublicKey off_curve = bob.public_key;
  off_curve[64] ^= 1;
  EXPECT_EQ(seal(off_curve, envelope, body), Status::bad_key);
  p256::CompressedKey compressed{};
  ASSERT_EQ(p256::compress(bob.public_key, compressed), Status::ok);
  EXPECT_EQ(seal(compressed, envelope, body), Status::bad_key);
  EXPECT_TRUE(body.empty());
  ASSERT_EQ(seal(bob.public_key, envelope, body), Status::ok);
  EXPECT_EQ(open(ByteView(bob.private_key.view()).first(31), bob.public_key, body, opened), Status::bad_key);
  EXPECT_EQ(open(bob.private_key.view(), off_curve, body, opened), Status::bad_key);
  const Bytes zero(32, 0);
  EXPECT_EQ(open(zero, bob.public_key, body, opened), Status::bad_key);
  // Test-only entry point: its ephemeral key and salt are checked too.
  EXPECT_EQ(seal_with_keys(bob.public_key, envelope, bob.private_key.view(), bob.public_key,
                           test::pattern(15, 1), body),
            Status::bad_argument);
}

TEST(Neighbour, ProtocolVector) {
  const test::json v = protocol_vector();
  ASSERT_TRUE(v.is_object());
  const char* where = "PROTOCOL.md §4.1";
  const Bytes recipient_private = test::b64u_member(v, "recipient_private_key", where);
  const Bytes identity = test::b64u_member(v, "recipient_identity", where);
  const Bytes sender_private = test::b64u_member(v, "ephemeral_private_key", where);
  const Bytes sender_public = test::b64u_member(v, "ephemeral_public_key", where);
  const Bytes salt = test::b64u_member(v, "salt", where);
  const Bytes envelope = test::b64u_member(v, "envelope", where);
  const Bytes expected = test::b64u_member(v, "body", where);
  p256::PublicKey pub{};
  ASSERT_EQ(p256::public_key_from_private(recipient_private, pub), Status::ok);
  ASSERT_EQ(to_hex(pub), to_hex(identity));
  EXPECT_EQ(base64url::encode(card::key_id(pub)), test::str(v, "recipient_key_id", where));
  std::uint8_t auth[webpush::kAuthSecretLength];
  auth_secret(pub, auth);
  EXPECT_EQ(to_hex({auth, sizeof auth}), test::str(v, "auth_secret_hex", where));
  Bytes body, opened;
  ASSERT_EQ(seal_with_keys(identity, envelope, sender_private, sender_public, salt, body), Status::ok);
  EXPECT_EQ(test::to_hex(body), test::to_hex(expected));
  ASSERT_EQ(open(recipient_private, identity, expected, opened), Status::ok);
  EXPECT_EQ(to_hex(opened), to_hex(envelope));
}

}  // namespace
}  // namespace pushpeer::neighbour
