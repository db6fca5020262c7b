// Groups (docs/PROTOCOL.md §7.8): the group id and a member's proof, HMAC-SHA-256 keyed by the group secret. The
// expected values come from libsodium's HMAC-SHA-256 (its own SHA-256, not BearSSL's), and the vector printed in
// §7.8 is read from the document itself.
#include <sodium.h>

#include <string>

#include <gtest/gtest.h>

#include "pushpeer/card.hpp"
#include "pushpeer/group.hpp"
#include "pushpeer/p256.hpp"
#include "vectors.hpp"

namespace pushpeer::group {
namespace {

using test::to_hex;

// The oracle: libsodium's HMAC-SHA-256 of label || suffix, truncated to 16 bytes.
Bytes sodium_hmac16(ByteView secret, std::string_view label, ByteView suffix = {}) {
  Bytes message = test::to_bytes(label);
  message.insert(message.end(), suffix.begin(), suffix.end());
  crypto_auth_hmacsha256_state state;
  std::uint8_t mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_init(&state, secret.data(), secret.size());
  crypto_auth_hmacsha256_update(&state, message.data(), message.size());
  crypto_auth_hmacsha256_final(&state, mac);
  return Bytes(mac, mac + 16);
}

std::string id_hex(ByteView secret) {
  std::uint8_t out[kIdLength];
  EXPECT_EQ(id(secret, out), Status::ok);
  return to_hex({out, sizeof out});
}

std::string proof_hex(ByteView secret, ByteView key_id) {
  std::uint8_t out[kProofLength];
  EXPECT_EQ(proof(secret, key_id, out), Status::ok);
  return to_hex({out, sizeof out});
}

bool checks(ByteView secret, ByteView key_id, ByteView candidate) {
  bool valid = true;
  EXPECT_EQ(check_proof(secret, key_id, candidate, valid), Status::ok);
  return valid;
}

Bytes proof_bytes(ByteView secret, ByteView key_id) {
  Bytes out(kProofLength);
  EXPECT_EQ(proof(secret, key_id, out.data()), Status::ok);
  return out;
}

// The §7.8 vector: the JSON block that starts with "group_proof" in docs/PROTOCOL.md.
test::json protocol_vector() {
  const std::string doc = test::read_file(PUSHPEER_PROTOCOL_DOC);
  static constexpr std::string_view kStart = "```json\n{\n  \"group_proof\"";
  const std::size_t start = doc.find(kStart);
  if (start == std::string::npos) {
    ADD_FAILURE() << "no group_proof JSON block in " << PUSHPEER_PROTOCOL_DOC;
    return nullptr;
  }
  const std::size_t json_start = start + std::string_view("```json\n").size();
  const std::size_t end = doc.find("\n```", json_start);
  const test::json all = test::json::parse(doc.substr(json_start, end - json_start), nullptr, false);
  if (!all.is_object() || !all.contains("group_proof")) {
    ADD_FAILURE() << "the group_proof block in " << PUSHPEER_PROTOCOL_DOC << " is not valid JSON";
    return nullptr;
  }
  return all["group_proof"];
}

TEST(Group, ProtocolVector) {
  const test::json v = protocol_vector();
  if (!v.is_object()) return;
  const Bytes secret = test::b64u_member(v, "secret", "group_proof");
  const Bytes key_id = test::b64u_member(v, "key_id", "group_proof");
  const Bytes group_id = test::b64u_member(v, "group_id", "group_proof");
  const Bytes member_proof = test::b64u_member(v, "proof", "group_proof");
  ASSERT_EQ(secret.size(), 32u);
  ASSERT_EQ(key_id.size(), 8u);
  // The vector itself is HMAC-SHA-256 as §7.8 writes it, by libsodium.
  EXPECT_EQ(to_hex(sodium_hmac16(secret, "pushpeer/group/v1/id")), to_hex(group_id));
  EXPECT_EQ(to_hex(sodium_hmac16(secret, "pushpeer/group/v1/member", key_id)), to_hex(member_proof));
  // And the core agrees, byte for byte.
  EXPECT_EQ(id_hex(secret), to_hex(group_id));
  EXPECT_EQ(proof_hex(secret, key_id), to_hex(member_proof));
  EXPECT_TRUE(checks(secret, key_id, member_proof));
  // The key id is Bob's (§4.1): SHA-256 of his compressed identity key.
  const Bytes bob = test::b64u(
      "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4");
  p256::PublicKey bob_key{};
  ASSERT_TRUE(copy_exact(bob, bob_key));
  const card::KeyId bob_id = card::key_id(bob_key);
  EXPECT_EQ(to_hex(bob_id), to_hex(key_id));
}

TEST(Group, AgreesWithLibsodiumAtEverySecretLength) {
  for (const std::size_t length : {kMinSecretLength, std::size_t{17}, std::size_t{32}, std::size_t{63},
                                   kMaxSecretLength}) {
    for (std::uint32_t seed = 1; seed <= 8; ++seed) {
      SCOPED_TRACE(testing::Message() << "secret of " << length << " bytes, seed " << seed);
      const Bytes secret = test::pattern(length, seed * 7919 + static_cast<std::uint32_t>(length));
      const Bytes key_id = test::pattern(8, seed * 104729);
      EXPECT_EQ(id_hex(secret), to_hex(sodium_hmac16(secret, "pushpeer/group/v1/id")));
      EXPECT_EQ(proof_hex(secret, key_id), to_hex(sodium_hmac16(secret, "pushpeer/group/v1/member", key_id)));
    }
  }
}

TEST(Group, CheckAcceptsTheProofAndNothingElse) {
  const Bytes secret = test::pattern(32, 5);
  const Bytes other_secret = test::pattern(32, 6);
  const Bytes alice = test::pattern(8, 7);
  const Bytes carol = test::pattern(8, 8);
  const Bytes good = proof_bytes(secret, alice);
  EXPECT_TRUE(checks(secret, alice, good));
  for (std::size_t bit = 0; bit < kProofLength * 8; ++bit) {
    Bytes flipped = good;
    flipped[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    EXPECT_FALSE(checks(secret, alice, flipped)) << "bit " << bit;
  }
  EXPECT_FALSE(checks(secret, carol, good)) << "another key id";
  EXPECT_FALSE(checks(other_secret, alice, good)) << "another secret";
  // RFC 2104 pads the key with zeros to the block: the secret followed by 0x00 is the same HMAC key (§7.8).
  Bytes longer_secret = secret;
  longer_secret.push_back(0);
  EXPECT_TRUE(checks(longer_secret, alice, good)) << "the secret and a 0x00";
  longer_secret.back() = 1;
  EXPECT_FALSE(checks(longer_secret, alice, good)) << "the secret and a 0x01";
  // The id is no one's proof.
  std::uint8_t group_id[kIdLength];
  ASSERT_EQ(id(secret, group_id), Status::ok);
  EXPECT_FALSE(checks(secret, alice, {group_id, sizeof group_id}));
}

TEST(Group, AProofOfAnotherLengthIsFalseNotAnError) {
  const Bytes secret = test::pattern(16, 9);
  const Bytes key_id = test::pattern(8, 10);
  const Bytes good = proof_bytes(secret, key_id);
  for (std::size_t n = 0; n < kProofLength; ++n) {
    EXPECT_FALSE(checks(secret, key_id, ByteView(good).first(n))) << n << " bytes";
  }
  Bytes longer = good;
  longer.push_back(0);
  EXPECT_FALSE(checks(secret, key_id, longer));
  // The whole 32-byte HMAC is not accepted either: the proof is its first 16 bytes and nothing more.
  Bytes full = good;
  full.resize(32, 0);
  EXPECT_FALSE(checks(secret, key_id, full));
}

TEST(Group, BadLengthsAreBadArgument) {
  const Bytes key_id = test::pattern(8, 11);
  const Bytes good_secret = test::pattern(32, 12);
  const Bytes good_proof = proof_bytes(good_secret, key_id);
  std::uint8_t out[16];
  for (const std::size_t length : {std::size_t{0}, std::size_t{1}, kMinSecretLength - 1, kMaxSecretLength + 1,
                                   std::size_t{200}}) {
    SCOPED_TRACE(testing::Message() << "secret of " << length << " bytes");
    const Bytes secret = test::pattern(length, 13);
    EXPECT_EQ(id(secret, out), Status::bad_argument);
    EXPECT_EQ(proof(secret, key_id, out), Status::bad_argument);
    bool valid = true;
    EXPECT_EQ(check_proof(secret, key_id, good_proof, valid), Status::bad_argument);
    EXPECT_FALSE(valid);
  }
  for (const std::size_t length : {std::size_t{0}, std::size_t{7}, std::size_t{9}, std::size_t{65}}) {
    SCOPED_TRACE(testing::Message() << "key id of " << length << " bytes");
    const Bytes bad_id = test::pattern(length, 14);
    EXPECT_EQ(proof(good_secret, bad_id, out), Status::bad_argument);
    bool valid = true;
    EXPECT_EQ(check_proof(good_secret, bad_id, good_proof, valid), Status::bad_argument);
    EXPECT_FALSE(valid);
  }
  // A bad argument wins over a proof of the wrong length.
  bool valid = true;
  EXPECT_EQ(check_proof(test::pattern(15, 1), key_id, ByteView(good_proof).first(3), valid), Status::bad_argument);
}

}  // namespace
}  // namespace pushpeer::group
