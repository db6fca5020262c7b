// A complete Web Push request (RFC 8030 + 8291 + 8292) for a PushSubscription: parsing the subscription JSON,
// the request headers and their checks, the 4096-octet body limit, and the VAPID token cache.
#include <algorithm>
#include <cctype>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "pushpeer/base64url.hpp"
#include "pushpeer/p256.hpp"
#include "pushpeer/push_request.hpp"
#include "pushpeer/vapid.hpp"
#include "pushpeer/webpush.hpp"
#include "vectors.hpp"

namespace pushpeer {
namespace {

using test::to_hex;

constexpr std::int64_t kNow = 1700000000;
constexpr const char* kEndpoint = "https://fcm.googleapis.com/fcm/send/dGVzdA:APA91b";
constexpr const char* kSubject = "mailto:push@example.com";

std::string subscription_json(std::string_view endpoint, std::string_view p256dh, std::string_view auth) {
  return R"({"endpoint":")" + std::string(endpoint) + R"(","expirationTime":null,"keys":{"p256dh":")" +
         std::string(p256dh) + R"(","auth":")" + std::string(auth) + R"("}})";
}

std::optional<std::string> header_value(const PushRequest& request, std::string_view name) {
  std::optional<std::string> found;
  for (const auto& [key, value] : request.headers) {
    const bool same = key.size() == name.size() &&
                      std::equal(key.begin(), key.end(), name.begin(), [](char a, char b) {
                        return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
                      });
    if (!same) continue;
    EXPECT_FALSE(found.has_value()) << "header " << name << " appears twice";
    found = value;
  }
  return found;
}

class PushRequestTest : public testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(p256::generate_key_pair(ua_private_, ua_public_), Status::ok);
    ASSERT_EQ(p256::generate_key_pair(vapid_private_, vapid_public_), Status::ok);
    auth_ = test::pattern(webpush::kAuthSecretLength, 99);
    p256dh_b64_ = base64url::encode(ua_public_);
    auth_b64_ = base64url::encode(auth_);
    json_ = subscription_json(kEndpoint, p256dh_b64_, auth_b64_);
  }

  PushRequestOptions options(ByteView payload) const {
    PushRequestOptions o;
    o.subscription_json = json_;
    o.payload = payload;
    o.vapid_private_key = vapid_private_.view();
    o.vapid_public_key = vapid_public_;
    o.subject = kSubject;
    o.now = kNow;
    o.ttl = 60;
    return o;
  }

  Bytes decrypt(const PushRequest& request) const {
    Bytes plaintext;
    EXPECT_EQ(webpush::decrypt(ua_private_.view(), ua_public_, auth_, request.body, plaintext), Status::ok);
    return plaintext;
  }

  p256::PrivateKey ua_private_, vapid_private_;
  p256::PublicKey ua_public_{}, vapid_public_{};
  Bytes auth_;
  std::string p256dh_b64_, auth_b64_, json_;
};

// ---- parse_subscription -----------------------------------------------------------------------------------------

TEST_F(PushRequestTest, ParsesASubscription) {
  Subscription s;
  ASSERT_EQ(parse_subscription(json_, s), Status::ok);
  EXPECT_EQ(s.endpoint, kEndpoint);
  EXPECT_EQ(to_hex(s.p256dh), to_hex(ua_public_));
  EXPECT_EQ(to_hex(s.auth.view()), to_hex(auth_));
}

TEST_F(PushRequestTest, ParsesOtherLayouts) {
  // Member order, whitespace and extra members do not matter.
  const std::string json = "{\n  \"keys\": { \"auth\": \"" + auth_b64_ + "\", \"p256dh\": \"" + p256dh_b64_ +
                           "\", \"extra\": 1 },\n  \"endpoint\": \"" + kEndpoint +
                           "\",\n  \"expirationTime\": 1700000000000, \"other\": [1, 2]\n}";
  Subscription s;
  ASSERT_EQ(parse_subscription(json, s), Status::ok);
  EXPECT_EQ(s.endpoint, kEndpoint);
  EXPECT_EQ(to_hex(s.p256dh), to_hex(ua_public_));
  EXPECT_EQ(to_hex(s.auth.view()), to_hex(auth_));
}

TEST_F(PushRequestTest, ToleratesPaddedKeys) {
  // Some user agents emit '=' padding: 65 octets -> 87 characters + "=", 16 octets -> 22 characters + "==".
  ASSERT_EQ(p256dh_b64_.size(), 87u);
  ASSERT_EQ(auth_b64_.size(), 22u);
  Subscription s;
  ASSERT_EQ(parse_subscription(subscription_json(kEndpoint, p256dh_b64_ + "=", auth_b64_ + "=="), s), Status::ok);
  EXPECT_EQ(to_hex(s.p256dh), to_hex(ua_public_));
  EXPECT_EQ(to_hex(s.auth.view()), to_hex(auth_));
}

TEST_F(PushRequestTest, MalformedSubscriptions) {
  const std::string p = p256dh_b64_, a = auth_b64_;
  const std::string e = std::string("\"") + kEndpoint + "\"";
  const std::string not_json[] = {
      "",
      "not json",
      "{",
      "[]",
      "null",
      "\"" + std::string(kEndpoint) + "\"",
      // missing members
      R"({"keys":{"p256dh":")" + p + R"(","auth":")" + a + R"("}})",
      R"({"endpoint":)" + e + "}",
      R"({"endpoint":)" + e + R"(,"keys":{"auth":")" + a + R"("}})",
      R"({"endpoint":)" + e + R"(,"keys":{"p256dh":")" + p + R"("}})",
      R"({"endpoint":)" + e + R"(,"keys":{}})",
      // wrong types
      R"({"endpoint":42,"keys":{"p256dh":")" + p + R"(","auth":")" + a + R"("}})",
      R"({"endpoint":null,"keys":{"p256dh":")" + p + R"(","auth":")" + a + R"("}})",
      R"({"endpoint":)" + e + R"(,"keys":"p256dh"})",
      R"({"endpoint":)" + e + R"(,"keys":[")" + p + R"(",")" + a + R"("]})",
      R"({"endpoint":)" + e + R"(,"keys":{"p256dh":65,"auth":")" + a + R"("}})",
      R"({"endpoint":)" + e + R"(,"keys":{"p256dh":")" + p + R"(","auth":true}})",
  };
  for (const std::string& json : not_json) {
    Subscription s;
    EXPECT_EQ(parse_subscription(json, s), Status::bad_subscription) << json;
  }
}

TEST_F(PushRequestTest, BadKeys) {
  Subscription s;
  // p256dh of the wrong length, compressed, or off the curve.
  EXPECT_EQ(parse_subscription(subscription_json(kEndpoint, base64url::encode(ByteView(ua_public_).first(64)),
                                                 auth_b64_),
                               s),
            Status::bad_key)
      << "64-octet p256dh";
  Bytes compressed(ua_public_.begin(), ua_public_.begin() + 33);
  compressed[0] = 0x02 | (ua_public_[64] & 1);
  EXPECT_EQ(parse_subscription(subscription_json(kEndpoint, base64url::encode(compressed), auth_b64_), s),
            Status::bad_key)
      << "compressed p256dh";
  Bytes off_curve(ua_public_.begin(), ua_public_.end());
  off_curve[64] ^= 1;
  EXPECT_EQ(parse_subscription(subscription_json(kEndpoint, base64url::encode(off_curve), auth_b64_), s),
            Status::bad_key)
      << "p256dh off the curve";
  // auth of the wrong length: a key of the wrong length (bad_key) or a malformed subscription.
  for (const std::size_t n : {0u, 15u, 17u, 32u}) {
    const Status status = parse_subscription(
        subscription_json(kEndpoint, p256dh_b64_, base64url::encode(test::pattern(n, 5))), s);
    EXPECT_TRUE(status == Status::bad_key || status == Status::bad_subscription)
        << n << "-octet auth: " << testing::PrintToString(status);
  }
}

TEST_F(PushRequestTest, BadBase64InKeys) {
  // Padding is tolerated, nothing else: the standard alphabet, whitespace, padding in the middle.
  std::string standard = p256dh_b64_;
  std::replace(standard.begin(), standard.end(), '-', '+');
  std::replace(standard.begin(), standard.end(), '_', '/');
  const bool changed = standard != p256dh_b64_;
  const std::string bad_p256dh[] = {
      p256dh_b64_.substr(0, 40) + "=" + p256dh_b64_.substr(40),
      p256dh_b64_.substr(0, 40) + " " + p256dh_b64_.substr(40),
      p256dh_b64_ + "===",
      p256dh_b64_ + "!",
      changed ? standard : p256dh_b64_.substr(1) + "+",
  };
  for (const std::string& p : bad_p256dh) {
    Subscription s;
    const Status status = parse_subscription(subscription_json(kEndpoint, p, auth_b64_), s);
    EXPECT_TRUE(status == Status::bad_base64 || status == Status::bad_subscription || status == Status::bad_key)
        << p << ": " << testing::PrintToString(status);
  }
  Subscription s;
  const Status status = parse_subscription(subscription_json(kEndpoint, p256dh_b64_, auth_b64_ + "===="), s);
  EXPECT_NE(status, Status::ok) << "auth with four '='";
}

// ---- build_push_request -------------------------------------------------------------------------------------

TEST_F(PushRequestTest, BuildsARequest) {
  const Bytes payload = test::to_bytes("offer: v=0 ...");
  PushRequest request;
  ASSERT_EQ(build_push_request(options(payload), request), Status::ok);
  EXPECT_EQ(request.endpoint, kEndpoint);
  EXPECT_EQ(header_value(request, "Content-Encoding"), "aes128gcm");
  EXPECT_EQ(header_value(request, "TTL"), "60");
  const auto authorization = header_value(request, "Authorization");
  ASSERT_TRUE(authorization.has_value());
  EXPECT_EQ(authorization->rfind("vapid t=", 0), 0u) << *authorization;
  EXPECT_FALSE(header_value(request, "Urgency").has_value()) << "no urgency asked for";
  EXPECT_FALSE(header_value(request, "Topic").has_value()) << "no topic asked for";
  EXPECT_EQ(request.body.size(), webpush::kWebPushHeaderLength + payload.size() + 17);
  EXPECT_EQ(test::to_text(decrypt(request)), test::to_text(payload));
  // If a Content-Length is given it matches the body.
  if (const auto length = header_value(request, "Content-Length")) {
    EXPECT_EQ(*length, std::to_string(request.body.size()));
  }
}

TEST_F(PushRequestTest, AuthorizationNamesThePushService) {
  PushRequest request;
  ASSERT_EQ(build_push_request(options(as_bytes("x")), request), Status::ok);
  const auto authorization = header_value(request, "Authorization");
  ASSERT_TRUE(authorization.has_value());
  std::string jwt;
  Bytes k;
  ASSERT_EQ(vapid::parse_authorization(*authorization, jwt, k), Status::ok);
  EXPECT_EQ(to_hex(k), to_hex(vapid_public_));
  vapid::Claims claims;
  ASSERT_EQ(vapid::verify_jwt(jwt, vapid_public_, claims), Status::ok);
  EXPECT_EQ(claims.aud, "https://fcm.googleapis.com");
  EXPECT_EQ(claims.sub, kSubject);
  EXPECT_GT(claims.exp, kNow);
  EXPECT_LE(claims.exp, kNow + vapid::kMaxLifetimeSeconds);
}

TEST_F(PushRequestTest, UrgencyAndTopic) {
  for (const char* urgency : {"very-low", "low", "normal", "high"}) {
    auto o = options(as_bytes("x"));
    o.urgency = urgency;
    o.topic = "signal";
    PushRequest request;
    ASSERT_EQ(build_push_request(o, request), Status::ok) << urgency;
    EXPECT_EQ(header_value(request, "Urgency"), urgency);
    EXPECT_EQ(header_value(request, "Topic"), "signal");
  }
  for (const char* urgency : {"urgent", "HIGH", "High", "normal ", " low", "very_low", "none"}) {
    auto o = options(as_bytes("x"));
    o.urgency = urgency;
    PushRequest request;
    EXPECT_EQ(build_push_request(o, request), Status::bad_urgency) << '"' << urgency << '"';
  }
  const std::string max_topic(32, 'T');
  const std::string topics_ok[] = {"a", max_topic, "AZaz09-_"};
  for (const std::string& topic : topics_ok) {
    auto o = options(as_bytes("x"));
    o.topic = topic;
    PushRequest request;
    ASSERT_EQ(build_push_request(o, request), Status::ok) << topic;
    EXPECT_EQ(header_value(request, "Topic"), topic);
  }
  const std::string topics_bad[] = {std::string(33, 'T'), "a+b", "a/b", "a=", "a b", "caf\xc3\xa9", "a.b", "a\nb"};
  for (const std::string& topic : topics_bad) {
    auto o = options(as_bytes("x"));
    o.topic = topic;
    PushRequest request;
    EXPECT_EQ(build_push_request(o, request), Status::bad_topic) << '"' << topic << '"';
  }
}

TEST_F(PushRequestTest, Ttl) {
  for (const std::uint32_t ttl : {0u, 1u, 86400u, kMaxTtlSeconds}) {
    auto o = options(as_bytes("x"));
    o.ttl = ttl;
    PushRequest request;
    ASSERT_EQ(build_push_request(o, request), Status::ok) << ttl;
    EXPECT_EQ(header_value(request, "TTL"), std::to_string(ttl));
  }
  for (const std::uint32_t ttl : {kMaxTtlSeconds + 1, 0xffffffffu}) {
    auto o = options(as_bytes("x"));
    o.ttl = ttl;
    PushRequest request;
    EXPECT_EQ(build_push_request(o, request), Status::bad_ttl) << ttl;
  }
}

TEST_F(PushRequestTest, BodyLimit) {
  const Bytes largest = test::pattern(webpush::kMaxPlaintextLength, 8);
  PushRequest request;
  ASSERT_EQ(build_push_request(options(largest), request), Status::ok);
  EXPECT_EQ(request.body.size(), webpush::kMaxBodyLength);
  EXPECT_EQ(to_hex(decrypt(request)), to_hex(largest));

  const Bytes too_large = test::pattern(webpush::kMaxPlaintextLength + 1, 8);
  EXPECT_EQ(build_push_request(options(too_large), request), Status::payload_too_large);
  EXPECT_EQ(build_push_request(options(test::pattern(100000, 8)), request), Status::payload_too_large);
}

TEST_F(PushRequestTest, SmallerRecordSize) {
  auto o = options(as_bytes("hello"));
  o.record_size = 100;
  PushRequest request;
  ASSERT_EQ(build_push_request(o, request), Status::ok);
  EXPECT_EQ(test::to_text(decrypt(request)), "hello");
  const Bytes big = test::pattern(200, 1);
  o.payload = big;
  EXPECT_EQ(build_push_request(o, request), Status::ece_bad_record_size) << "the message must fit one record";
}

TEST_F(PushRequestTest, Failures) {
  PushRequest request;
  {
    auto o = options(as_bytes("x"));
    o.subscription_json = "{}";
    EXPECT_EQ(build_push_request(o, request), Status::bad_subscription);
  }
  {
    const std::string json = subscription_json("http://example.com/push", p256dh_b64_, auth_b64_);
    auto o = options(as_bytes("x"));
    o.subscription_json = json;
    EXPECT_EQ(build_push_request(o, request), Status::bad_endpoint);
  }
  {
    auto o = options(as_bytes("x"));
    o.subject = "http://example.com";
    EXPECT_EQ(build_push_request(o, request), Status::bad_subject);
  }
  {
    const Bytes zero(32, 0);
    auto o = options(as_bytes("x"));
    o.vapid_private_key = zero;
    EXPECT_EQ(build_push_request(o, request), Status::bad_key);
  }
}

TEST_F(PushRequestTest, LoopbackPushService) {
  const std::string json = subscription_json("http://127.0.0.1:8080/push/abc", p256dh_b64_, auth_b64_);
  auto o = options(as_bytes("x"));
  o.subscription_json = json;
  PushRequest request;
  ASSERT_EQ(build_push_request(o, request), Status::ok);
  std::string jwt;
  Bytes k;
  ASSERT_EQ(vapid::parse_authorization(header_value(request, "Authorization").value_or(""), jwt, k), Status::ok);
  vapid::Claims claims;
  ASSERT_EQ(vapid::verify_jwt(jwt, vapid_public_, claims), Status::ok);
  EXPECT_EQ(claims.aud, "http://127.0.0.1:8080");
}

// ---- VapidTokenCache ---------------------------------------------------------------------------------------------

TEST_F(PushRequestTest, CacheReusesFreshTokens) {
  VapidTokenCache cache;
  std::string first, again, later, other_path;
  ASSERT_EQ(cache.authorization(kEndpoint, kSubject, vapid_private_.view(), vapid_public_, kNow, first), Status::ok);
  ASSERT_EQ(cache.authorization(kEndpoint, kSubject, vapid_private_.view(), vapid_public_, kNow, again), Status::ok);
  EXPECT_EQ(again, first);
  ASSERT_EQ(cache.authorization(kEndpoint, kSubject, vapid_private_.view(), vapid_public_, kNow + 3600, later),
            Status::ok);
  EXPECT_EQ(later, first) << "an hour later the token still has 11 h to run";
  // The audience is the origin: another subscription on the same push service shares the token.
  ASSERT_EQ(cache.authorization("https://fcm.googleapis.com/fcm/send/other", kSubject, vapid_private_.view(),
                                vapid_public_, kNow + 10, other_path),
            Status::ok);
  EXPECT_EQ(other_path, first);

  // The cached token is a normal VAPID token with exp = now + 12 h.
  std::string jwt;
  Bytes k;
  ASSERT_EQ(vapid::parse_authorization(first, jwt, k), Status::ok);
  vapid::Claims claims;
  ASSERT_EQ(vapid::verify_jwt(jwt, vapid_public_, claims), Status::ok);
  EXPECT_EQ(claims.aud, "https://fcm.googleapis.com");
  EXPECT_EQ(claims.exp, kNow + vapid::kDefaultLifetimeSeconds);
  EXPECT_EQ(claims.sub, kSubject);
}

TEST_F(PushRequestTest, CacheRenewsTokensNearExpiry) {
  VapidTokenCache cache;
  std::string first, still, renewed;
  ASSERT_EQ(cache.authorization(kEndpoint, kSubject, vapid_private_.view(), vapid_public_, kNow, first), Status::ok);
  const std::int64_t exp = kNow + vapid::kDefaultLifetimeSeconds;
  const std::int64_t renew_at = exp - VapidTokenCache::kMinRemainingSeconds;
  ASSERT_EQ(cache.authorization(kEndpoint, kSubject, vapid_private_.view(), vapid_public_, renew_at - 1, still),
            Status::ok);
  EXPECT_EQ(still, first);
  ASSERT_EQ(cache.authorization(kEndpoint, kSubject, vapid_private_.view(), vapid_public_, renew_at + 1, renewed),
            Status::ok);
  EXPECT_NE(renewed, first);
  std::string jwt;
  Bytes k;
  ASSERT_EQ(vapid::parse_authorization(renewed, jwt, k), Status::ok);
  vapid::Claims claims;
  ASSERT_EQ(vapid::verify_jwt(jwt, vapid_public_, claims), Status::ok);
  EXPECT_EQ(claims.exp, renew_at + 1 + vapid::kDefaultLifetimeSeconds);
  // Long after expiry, too.
  std::string much_later;
  ASSERT_EQ(cache.authorization(kEndpoint, kSubject, vapid_private_.view(), vapid_public_, exp + 86400, much_later),
            Status::ok);
  ASSERT_EQ(vapid::parse_authorization(much_later, jwt, k), Status::ok);
  ASSERT_EQ(vapid::verify_jwt(jwt, vapid_public_, claims), Status::ok);
  EXPECT_EQ(claims.exp, exp + 86400 + vapid::kDefaultLifetimeSeconds);
}

TEST_F(PushRequestTest, CacheKeysOnAudienceSubjectAndKey) {
  VapidTokenCache cache;
  std::string base, other_origin, other_subject, other_key;
  ASSERT_EQ(cache.authorization(kEndpoint, kSubject, vapid_private_.view(), vapid_public_, kNow, base), Status::ok);
  ASSERT_EQ(cache.authorization("https://updates.push.services.mozilla.com/wpush/v2/x", kSubject,
                                vapid_private_.view(), vapid_public_, kNow, other_origin),
            Status::ok);
  EXPECT_NE(other_origin, base);
  ASSERT_EQ(cache.authorization(kEndpoint, "mailto:other@example.com", vapid_private_.view(), vapid_public_, kNow,
                                other_subject),
            Status::ok);
  EXPECT_NE(other_subject, base);
  p256::PrivateKey key2;
  p256::PublicKey pub2{};
  ASSERT_EQ(p256::generate_key_pair(key2, pub2), Status::ok);
  ASSERT_EQ(cache.authorization(kEndpoint, kSubject, key2.view(), pub2, kNow, other_key), Status::ok);
  EXPECT_NE(other_key, base);
  std::string jwt;
  Bytes k;
  ASSERT_EQ(vapid::parse_authorization(other_key, jwt, k), Status::ok);
  EXPECT_EQ(to_hex(k), to_hex(pub2));
  // And the first entry is still there.
  std::string again;
  ASSERT_EQ(cache.authorization(kEndpoint, kSubject, vapid_private_.view(), vapid_public_, kNow + 5, again),
            Status::ok);
  EXPECT_EQ(again, base);
}

TEST_F(PushRequestTest, CacheClearAndErrors) {
  VapidTokenCache cache;
  std::string first, after_clear, header;
  ASSERT_EQ(cache.authorization(kEndpoint, kSubject, vapid_private_.view(), vapid_public_, kNow, first), Status::ok);
  cache.clear();
  ASSERT_EQ(cache.authorization(kEndpoint, kSubject, vapid_private_.view(), vapid_public_, kNow + 10, after_clear),
            Status::ok);
  EXPECT_NE(after_clear, first) << "a cleared cache signs anew (exp = now + 12 h moves)";
  EXPECT_EQ(cache.authorization("http://example.com/x", kSubject, vapid_private_.view(), vapid_public_, kNow, header),
            Status::bad_endpoint);
  EXPECT_EQ(cache.authorization(kEndpoint, "http://x", vapid_private_.view(), vapid_public_, kNow, header),
            Status::bad_subject);
}

TEST_F(PushRequestTest, BuildUsesTheCache) {
  VapidTokenCache cache;
  auto o = options(as_bytes("x"));
  o.cache = &cache;
  PushRequest a, b;
  ASSERT_EQ(build_push_request(o, a), Status::ok);
  o.now = kNow + 600;
  ASSERT_EQ(build_push_request(o, b), Status::ok);
  EXPECT_EQ(header_value(a, "Authorization"), header_value(b, "Authorization"));
  EXPECT_NE(to_hex(a.body), to_hex(b.body)) << "each message has its own ephemeral key and salt";
  std::string direct;
  ASSERT_EQ(cache.authorization(kEndpoint, kSubject, vapid_private_.view(), vapid_public_, kNow + 1200, direct),
            Status::ok);
  EXPECT_EQ(header_value(a, "Authorization"), direct);
}

}  // namespace
}  // namespace pushpeer

namespace pushpeer::test {
namespace {

TEST(VapidTokenCacheKeys, AnotherPrivateKeyMissesTheCache) {
  p256::PrivateKey priv, other;
  p256::PublicKey pub, other_pub;
  ASSERT_EQ(p256::generate_key_pair(priv, pub), Status::ok);
  ASSERT_EQ(p256::generate_key_pair(other, other_pub), Status::ok);
  VapidTokenCache cache;
  std::string header;
  const std::int64_t now = 1700000000;
  ASSERT_EQ(cache.authorization("https://push.example.net/x", "mailto:a@b.example", priv.view(), pub, now, header),
            Status::ok);
  // Same public key, a private key that does not belong to it: not served from the cache, refused.
  EXPECT_EQ(cache.authorization("https://push.example.net/x", "mailto:a@b.example", other.view(), pub, now, header),
            Status::bad_key);
  const std::uint8_t zeros[32] = {};
  EXPECT_EQ(cache.authorization("https://push.example.net/x", "mailto:a@b.example", {zeros, 32}, pub, now, header),
            Status::bad_key);
}

TEST(WebPushLimits, PlaintextOverOnePushIsTooLarge) {
  p256::PrivateKey priv;
  p256::PublicKey pub;
  ASSERT_EQ(p256::generate_key_pair(priv, pub), Status::ok);
  const std::uint8_t auth[16] = {9};
  Bytes body;
  Bytes ok(webpush::kMaxPlaintextLength, 'a'), big(webpush::kMaxPlaintextLength + 1, 'a');
  EXPECT_EQ(webpush::encrypt(pub, {auth, 16}, ok, 4096, 0, body), Status::ok);
  EXPECT_EQ(body.size(), webpush::kMaxBodyLength);
  EXPECT_EQ(webpush::encrypt(pub, {auth, 16}, big, 8192, 0, body), Status::payload_too_large);
  EXPECT_EQ(webpush::encrypt(pub, {auth, 16}, ok, 4096, 1, body), Status::payload_too_large);
  // A huge record size is only a header value: no allocation of that size.
  EXPECT_EQ(webpush::encrypt(pub, {auth, 16}, ok, 0xFFFFFFFFu, 0, body), Status::ok);
  Bytes out;
  EXPECT_EQ(webpush::decrypt(priv.view(), pub, {auth, 16}, body, out), Status::ok);
  EXPECT_EQ(out, ok);
}

}  // namespace
}  // namespace pushpeer::test
