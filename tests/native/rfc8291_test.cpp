// RFC 8291 Message Encryption for Web Push: Appendix A both ways, the intermediate ECDH secret, and the failure
// statuses of the receiver side.
#include <algorithm>

#include <gtest/gtest.h>

#include "pushpeer/ece.hpp"
#include "pushpeer/p256.hpp"
#include "pushpeer/webpush.hpp"
#include "vectors.hpp"

namespace pushpeer::webpush {
namespace {

using test::to_hex;

struct AppendixA {
  Bytes plaintext, as_public, as_private, ua_public, ua_private, salt, auth_secret, ecdh_secret, header, body;
  std::uint32_t record_size = 0;
};

const AppendixA& appendix_a() {
  static const AppendixA a = [] {
    AppendixA v;
    const test::json doc = test::load_vectors("rfc/rfc8291-appendix-a.json");
    const char* where = "rfc8291";
    v.plaintext = test::b64u_member(doc, "plaintext", where);
    v.as_public = test::b64u_member(doc, "as_public", where);
    v.as_private = test::b64u_member(doc, "as_private", where);
    v.ua_public = test::b64u_member(doc, "ua_public", where);
    v.ua_private = test::b64u_member(doc, "ua_private", where);
    v.salt = test::b64u_member(doc, "salt", where);
    v.auth_secret = test::b64u_member(doc, "auth_secret", where);
    v.ecdh_secret = test::b64u_member(doc, "ecdh_secret", where);
    v.header = test::b64u_member(doc, "header", where);
    v.body = test::b64u_member(doc, "body", where);
    v.record_size = static_cast<std::uint32_t>(test::integer(doc, "record_size", where));
    return v;
  }();
  return a;
}

Status decrypt_a(ByteView body, Bytes* plaintext = nullptr) {
  const AppendixA& a = appendix_a();
  Bytes out;
  const Status s = decrypt(a.ua_private, a.ua_public, a.auth_secret, body, out);
  if (plaintext) *plaintext = out;
  return s;
}

TEST(Rfc8291, VectorShape) {
  const AppendixA& a = appendix_a();
  EXPECT_EQ(a.body.size(), 144u);  // the RFC prints Content-Length 145 (see the vector file)
  EXPECT_EQ(a.record_size, 4096u);
  EXPECT_EQ(a.header.size(), kWebPushHeaderLength);
  EXPECT_EQ(a.body.size(), kWebPushHeaderLength + a.plaintext.size() + 17);
}

TEST(Rfc8291, KeysMatchTheirPrivateHalves) {
  const AppendixA& a = appendix_a();
  p256::PublicKey pub{};
  ASSERT_EQ(p256::public_key_from_private(a.as_private, pub), Status::ok);
  EXPECT_EQ(to_hex(pub), to_hex(a.as_public));
  ASSERT_EQ(p256::public_key_from_private(a.ua_private, pub), Status::ok);
  EXPECT_EQ(to_hex(pub), to_hex(a.ua_public));
}

TEST(Rfc8291, EcdhSecret) {
  const AppendixA& a = appendix_a();
  p256::SharedSecret shared;
  ASSERT_EQ(p256::ecdh(a.as_private, a.ua_public, shared), Status::ok);
  EXPECT_EQ(to_hex(shared.view()), to_hex(a.ecdh_secret));
  ASSERT_EQ(p256::ecdh(a.ua_private, a.as_public, shared), Status::ok);
  EXPECT_EQ(to_hex(shared.view()), to_hex(a.ecdh_secret));
}

TEST(Rfc8291, EncryptWithKeysReproducesTheBody) {
  const AppendixA& a = appendix_a();
  Bytes body;
  ASSERT_EQ(encrypt_with_keys(a.ua_public, a.auth_secret, a.as_private, a.as_public, a.salt, a.plaintext,
                              a.record_size, 0, body),
            Status::ok);
  EXPECT_EQ(to_hex(body), to_hex(a.body));
  EXPECT_EQ(to_hex(ByteView(body).first(std::min(body.size(), a.header.size()))), to_hex(a.header));
}

TEST(Rfc8291, DecryptTheBody) {
  const AppendixA& a = appendix_a();
  Bytes plaintext;
  ASSERT_EQ(decrypt_a(a.body, &plaintext), Status::ok);
  EXPECT_EQ(to_hex(plaintext), to_hex(a.plaintext));
  EXPECT_EQ(test::to_text(plaintext), "When I grow up, I want to be a watermelon");
}

TEST(Rfc8291, RandomRoundTrip) {
  p256::PrivateKey ua_private;
  p256::PublicKey ua_public{};
  ASSERT_EQ(p256::generate_key_pair(ua_private, ua_public), Status::ok);
  const Bytes auth = test::pattern(kAuthSecretLength, 77);
  const std::size_t lengths[] = {0, 1, 100, 1000, kMaxPlaintextLength};
  for (const std::size_t length : lengths) {
    for (const std::size_t padding : {std::size_t{0}, std::size_t{7}}) {
      if (length + padding > kMaxPlaintextLength) continue;
      SCOPED_TRACE(testing::Message() << "length " << length << " padding " << padding);
      const Bytes plaintext = test::pattern(length, static_cast<std::uint32_t>(length + 5));
      Bytes body, again;
      ASSERT_EQ(encrypt(ua_public, auth, plaintext, kDefaultRecordSize, padding, body), Status::ok);
      EXPECT_EQ(body.size(), kWebPushHeaderLength + length + padding + 17);
      EXPECT_EQ(body[20], p256::kPublicKeyLength) << "idlen";
      EXPECT_EQ(body[21], 0x04) << "key id is an uncompressed point";
      Bytes decrypted;
      ASSERT_EQ(decrypt(ua_private.view(), ua_public, auth, body, decrypted), Status::ok);
      EXPECT_EQ(to_hex(decrypted), to_hex(plaintext));
      // A fresh ephemeral key and salt every time.
      ASSERT_EQ(encrypt(ua_public, auth, plaintext, kDefaultRecordSize, padding, again), Status::ok);
      EXPECT_NE(to_hex(ByteView(again).first(16)), to_hex(ByteView(body).first(16))) << "salt reused";
      EXPECT_NE(to_hex(ByteView(again).subspan(21, 65)), to_hex(ByteView(body).subspan(21, 65))) << "key reused";
    }
  }
}

TEST(Rfc8291, AnySingleOctetChangeIsRejected) {
  const AppendixA& a = appendix_a();
  for (std::size_t i = 0; i < a.body.size(); ++i) {
    for (const std::uint8_t flip : {0x01, 0x80}) {
      Bytes body = a.body;
      body[i] ^= flip;
      Bytes plaintext;
      const Status s = decrypt_a(body, &plaintext);
      if (i >= 16 && i < 20) {
        // rs is not authenticated (RFC 8188 §2.1): a larger rs still covers the single record, and that is
        // harmless, since the plaintext cannot change. A smaller one must fail.
        if (s == Status::ok) {
          EXPECT_EQ(to_hex(plaintext), to_hex(a.plaintext)) << "rs octet " << i;
        }
        continue;
      }
      EXPECT_NE(s, Status::ok) << "octet " << i << " ^ " << int(flip);
      if (i >= 86 || i < 16) {
        EXPECT_EQ(s, Status::decrypt_failed) << "record or salt octet " << i << " ^ " << int(flip);
      }
      // idlen 64 is the wrong key id length; idlen 193 runs past the body.
      if (i == 20 && flip == 0x01) {
        EXPECT_EQ(s, Status::ece_bad_key_id) << "idlen 64";
      }
      if (i == 20 && flip == 0x80) {
        EXPECT_TRUE(s == Status::ece_truncated_header || s == Status::ece_bad_key_id) << testing::PrintToString(s);
      }
      // The sender's key (the key id) is no longer a P-256 point: the key id is at fault, not our keys.
      if (i >= 21 && i < 86) {
        EXPECT_EQ(s, Status::ece_bad_key_id) << "key id octet " << i << " ^ " << int(flip);
      }
    }
  }
}

TEST(Rfc8291, ReceiverFailures) {
  const AppendixA& a = appendix_a();
  Bytes out;
  // Wrong auth secret or wrong receiver key: the tag fails.
  Bytes auth = a.auth_secret;
  auth[0] ^= 1;
  EXPECT_EQ(decrypt(a.ua_private, a.ua_public, auth, a.body, out), Status::decrypt_failed);
  p256::PrivateKey other;
  p256::PublicKey other_public{};
  ASSERT_EQ(p256::generate_key_pair(other, other_public), Status::ok);
  EXPECT_EQ(decrypt(other.view(), other_public, a.auth_secret, a.body, out), Status::decrypt_failed);
  // Invalid receiver keys.
  Bytes bad_public = a.ua_public;
  bad_public[64] ^= 1;
  EXPECT_EQ(decrypt(a.ua_private, bad_public, a.auth_secret, a.body, out), Status::bad_key);
  EXPECT_EQ(decrypt(Bytes(32, 0), a.ua_public, a.auth_secret, a.body, out), Status::bad_key);
  EXPECT_NE(decrypt(a.ua_private, a.ua_public, ByteView(a.auth_secret).first(15), a.body, out), Status::ok)
      << "15-byte auth secret";
  // Cut bodies.
  EXPECT_EQ(decrypt_a(ByteView(a.body).first(20)), Status::ece_truncated_header);
  EXPECT_EQ(decrypt_a(ByteView(a.body).first(50)), Status::ece_truncated_header) << "inside the key id";
  EXPECT_EQ(decrypt_a(ByteView(a.body).first(86 + 16)), Status::ece_truncated_record);
  EXPECT_EQ(decrypt_a(ByteView(a.body).first(a.body.size() - 1)), Status::decrypt_failed);
}

TEST(Rfc8291, KeyIdMustBeA65OctetKey) {
  // A valid aes128gcm body (RFC 8188 §3.1, empty key id) is not a Web Push message.
  const AppendixA& a = appendix_a();
  const test::json doc = test::load_vectors("rfc/rfc8188-examples.json");
  ASSERT_TRUE(doc.contains("examples") && doc["examples"].is_array() && !doc["examples"].empty());
  const Bytes body = test::b64u_member(doc["examples"][0], "body", "3.1");
  EXPECT_EQ(decrypt_a(body), Status::ece_bad_key_id);
  // And a 64-octet key id.
  Bytes short_id;
  ASSERT_EQ(ece::encrypt_with_ikm(Bytes(16, 1), Bytes(16, 2), ByteView(a.as_public).first(64), 4096, 0,
                                  a.plaintext, short_id),
            Status::ok);
  EXPECT_EQ(decrypt_a(short_id), Status::ece_bad_key_id);
}

TEST(Rfc8291, RecordSizeMustHoldTheWholeMessage) {
  const AppendixA& a = appendix_a();
  const std::uint32_t needed = static_cast<std::uint32_t>(a.plaintext.size() + 17);
  Bytes body;
  EXPECT_EQ(encrypt_with_keys(a.ua_public, a.auth_secret, a.as_private, a.as_public, a.salt, a.plaintext, needed, 0,
                              body),
            Status::ok);
  EXPECT_EQ(encrypt_with_keys(a.ua_public, a.auth_secret, a.as_private, a.as_public, a.salt, a.plaintext, needed - 1,
                              0, body),
            Status::ece_bad_record_size);
  EXPECT_EQ(encrypt_with_keys(a.ua_public, a.auth_secret, a.as_private, a.as_public, a.salt, a.plaintext, needed, 1,
                              body),
            Status::ece_bad_record_size)
      << "padding counts";
  EXPECT_EQ(encrypt(a.ua_public, a.auth_secret, a.plaintext, needed - 1, 0, body), Status::ece_bad_record_size);
  EXPECT_EQ(encrypt(a.ua_public, a.auth_secret, a.plaintext, 17, 0, body), Status::ece_bad_record_size);
  // The smallest record size still decrypts.
  ASSERT_EQ(encrypt(a.ua_public, a.auth_secret, a.plaintext, needed, 0, body), Status::ok);
  Bytes plaintext;
  ASSERT_EQ(decrypt_a(body, &plaintext), Status::ok);
  EXPECT_EQ(to_hex(plaintext), to_hex(a.plaintext));
}

TEST(Rfc8291, SenderArgumentChecks) {
  const AppendixA& a = appendix_a();
  Bytes body;
  Bytes bad_public = a.ua_public;
  bad_public[64] ^= 1;
  EXPECT_EQ(encrypt(bad_public, a.auth_secret, a.plaintext, 4096, 0, body), Status::bad_key) << "off curve";
  EXPECT_EQ(encrypt(ByteView(a.ua_public).first(33), a.auth_secret, a.plaintext, 4096, 0, body), Status::bad_key)
      << "33-octet key";
  EXPECT_NE(encrypt(a.ua_public, ByteView(a.auth_secret).first(15), a.plaintext, 4096, 0, body), Status::ok)
      << "15-byte auth secret";
  EXPECT_EQ(encrypt_with_keys(a.ua_public, a.auth_secret, Bytes(32, 0), a.as_public, a.salt, a.plaintext, 4096, 0,
                              body),
            Status::bad_key)
      << "zero ephemeral private key";
  EXPECT_NE(encrypt_with_keys(a.ua_public, a.auth_secret, a.as_private, a.as_public, ByteView(a.salt).first(15),
                              a.plaintext, 4096, 0, body),
            Status::ok)
      << "15-byte salt";
}

}  // namespace
}  // namespace pushpeer::webpush
