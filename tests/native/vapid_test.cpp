// RFC 8292 VAPID: the §2.4 example, the canonical JWT we sign, claim checks, origins of push endpoints, and the
// Authorization header.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "pushpeer/base64url.hpp"
#include "pushpeer/p256.hpp"
#include "pushpeer/vapid.hpp"
#include "vectors.hpp"

namespace pushpeer::vapid {
namespace {

using test::to_hex;

struct Example {
  std::string t;
  Bytes k;
  Claims claims;
};

const Example& rfc_example() {
  static const Example e = [] {
    Example x;
    const test::json doc = test::load_vectors("rfc/rfc8292-vapid-example.json");
    x.t = test::str(doc, "t", "rfc8292");
    x.k = test::b64u_member(doc, "k", "rfc8292");
    const test::json& claims = test::member(doc, "claims", "rfc8292");
    x.claims.aud = test::str(claims, "aud", "rfc8292 claims");
    x.claims.exp = test::integer(claims, "exp", "rfc8292 claims");
    x.claims.sub = test::str(claims, "sub", "rfc8292 claims");
    return x;
  }();
  return e;
}

std::vector<std::string> split(const std::string& jwt) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    const std::size_t dot = jwt.find('.', start);
    parts.push_back(jwt.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) return parts;
    start = dot + 1;
  }
}

std::string b64(std::string_view text) { return base64url::encode(as_bytes(text)); }

// A JWT over arbitrary header and claims text, properly ES256-signed, so that only its contents can be wrong.
std::string signed_jwt(std::string_view header, std::string_view claims, ByteView private_key) {
  const std::string input = b64(header) + "." + b64(claims);
  p256::Signature sig{};
  EXPECT_EQ(p256::sign(private_key, as_bytes(input), sig), Status::ok);
  return input + "." + base64url::encode(sig);
}

class Vapid : public testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(p256::generate_key_pair(key_, pub_), Status::ok); }
  ByteView key() const { return key_.view(); }
  ByteView pub() const { return pub_; }

  static constexpr std::int64_t kNow = 1700000000;
  p256::PrivateKey key_;
  p256::PublicKey pub_{};
};

// ---- the RFC 8292 §2.4 example --------------------------------------------------------------------------------

TEST(VapidExample, Verifies) {
  const Example& x = rfc_example();
  Claims claims;
  ASSERT_EQ(verify_jwt(x.t, x.k, claims), Status::ok);
  EXPECT_EQ(claims.aud, "https://push.example.net");
  EXPECT_EQ(claims.exp, 1453523768);
  EXPECT_EQ(claims.sub, "mailto:push@example.com");
  EXPECT_EQ(claims.aud, x.claims.aud);
  EXPECT_EQ(claims.exp, x.claims.exp);
  EXPECT_EQ(claims.sub, x.claims.sub);
}

TEST(VapidExample, IsCanonical) {
  // The RFC's JWT happens to be in our canonical form: exp and the signature rebuild it byte for byte.
  const Example& x = rfc_example();
  const auto parts = split(x.t);
  ASSERT_EQ(parts.size(), 3u);
  Bytes sig;
  ASSERT_EQ(base64url::decode(parts[2], sig), Status::ok);
  ASSERT_EQ(sig.size(), p256::kSignatureLength);
  EXPECT_EQ(assemble_jwt(x.claims, sig), x.t);
}

TEST(VapidExample, ModifiedSignatureFails) {
  const Example& x = rfc_example();
  const auto parts = split(x.t);
  ASSERT_EQ(parts.size(), 3u);
  Bytes sig;
  ASSERT_EQ(base64url::decode(parts[2], sig), Status::ok);
  for (const std::size_t i : {std::size_t{0}, std::size_t{31}, std::size_t{32}, std::size_t{63}}) {
    Bytes bad = sig;
    bad[i] ^= 0x01;
    const std::string jwt = parts[0] + "." + parts[1] + "." + base64url::encode(bad);
    Claims claims;
    EXPECT_EQ(verify_jwt(jwt, x.k, claims), Status::bad_signature) << "signature octet " << i;
  }
  // Other claims under the same signature.
  Claims later = x.claims;
  later.exp += 1;
  Claims claims;
  EXPECT_EQ(verify_jwt(assemble_jwt(later, sig), x.k, claims), Status::bad_signature);
  // Another key.
  p256::PrivateKey other;
  p256::PublicKey other_pub{};
  ASSERT_EQ(p256::generate_key_pair(other, other_pub), Status::ok);
  EXPECT_EQ(verify_jwt(x.t, other_pub, claims), Status::bad_signature);
  // A public key that is no key.
  Bytes bad_key = x.k;
  bad_key[64] ^= 1;
  EXPECT_EQ(verify_jwt(x.t, bad_key, claims), Status::bad_key);
}

// ---- malformed JWTs ------------------------------------------------------------------------------------------

TEST_F(Vapid, MalformedStructure) {
  const std::string good = signed_jwt(R"({"typ":"JWT","alg":"ES256"})",
                                      R"({"aud":"https://push.example.net","exp":1700003600,"sub":"mailto:a@b.c"})",
                                      key());
  Claims claims;
  ASSERT_EQ(verify_jwt(good, pub(), claims), Status::ok);
  const auto parts = split(good);
  ASSERT_EQ(parts.size(), 3u);
  for (const std::string& jwt : {std::string(), std::string("abc"), parts[0] + "." + parts[1],
                                 good + "." + parts[2], good + ".", std::string(".."), std::string("..."),
                                 "." + parts[1] + "." + parts[2]}) {
    EXPECT_EQ(verify_jwt(jwt, pub(), claims), Status::bad_jwt) << '"' << jwt << '"';
  }
}

TEST_F(Vapid, MalformedBase64) {
  const std::string good = signed_jwt(R"({"typ":"JWT","alg":"ES256"})",
                                      R"({"aud":"https://push.example.net","exp":1700003600,"sub":"mailto:a@b.c"})",
                                      key());
  const auto parts = split(good);
  ASSERT_EQ(parts.size(), 3u);
  // Padding, the standard alphabet, whitespace, and a length no encoder produces, in each part.
  const std::vector<std::string> bad = {
      parts[0] + "=." + parts[1] + "." + parts[2],
      parts[0] + "." + parts[1] + "==." + parts[2],
      parts[0] + "." + parts[1] + "." + parts[2] + "==",
      "+" + parts[0].substr(1) + "." + parts[1] + "." + parts[2],
      parts[0] + "." + parts[1] + " ." + parts[2],
      parts[0] + "." + parts[1] + "." + parts[2] + "AAA",  // 89 characters: 1 mod 4
      parts[0] + "." + parts[1] + "." + parts[2].substr(0, 85) + "!",
  };
  for (const std::string& jwt : bad) {
    Claims claims;
    const Status s = verify_jwt(jwt, pub(), claims);
    // base64 inside a JWT: either name is a fair description, but it must never pass.
    EXPECT_TRUE(s == Status::bad_base64 || s == Status::bad_jwt) << jwt << ": " << testing::PrintToString(s);
  }
}

TEST_F(Vapid, MalformedHeaderAndClaims) {
  // Each of these is correctly signed, so only its contents can make it fail: bad_jwt.
  const std::string claims_ok = R"({"aud":"https://push.example.net","exp":1700003600,"sub":"mailto:a@b.c"})";
  const std::string header_ok = R"({"typ":"JWT","alg":"ES256"})";
  struct Case {
    const char* what;
    std::string header, claims;
  };
  const Case cases[] = {
      {"alg HS256", R"({"typ":"JWT","alg":"HS256"})", claims_ok},
      {"alg none", R"({"typ":"JWT","alg":"none"})", claims_ok},
      {"alg ES384", R"({"typ":"JWT","alg":"ES384"})", claims_ok},
      {"no alg", R"({"typ":"JWT"})", claims_ok},
      {"alg not a string", R"({"typ":"JWT","alg":256})", claims_ok},
      {"header not JSON", "typ=JWT, alg=ES256", claims_ok},
      {"header truncated JSON", R"({"typ":"JWT","alg":"ES256")", claims_ok},
      {"header an array", R"(["JWT","ES256"])", claims_ok},
      {"header empty", "", claims_ok},
      {"claims not JSON", header_ok, "aud=https://push.example.net"},
      {"claims an array", header_ok, R"(["https://push.example.net",1700003600,"mailto:a@b.c"])"},
      {"claims empty object", header_ok, "{}"},
      {"no aud", header_ok, R"({"exp":1700003600,"sub":"mailto:a@b.c"})"},
      {"no exp", header_ok, R"({"aud":"https://push.example.net","sub":"mailto:a@b.c"})"},
      {"exp a string", header_ok, R"({"aud":"https://push.example.net","exp":"1700003600","sub":"mailto:a@b.c"})"},
      {"exp fractional", header_ok, R"({"aud":"https://push.example.net","exp":1700003600.5,"sub":"mailto:a@b.c"})"},
      {"aud a number", header_ok, R"({"aud":443,"exp":1700003600,"sub":"mailto:a@b.c"})"},
      {"sub null", header_ok, R"({"aud":"https://push.example.net","exp":1700003600,"sub":null})"},
  };
  for (const auto& c : cases) {
    Claims claims;
    EXPECT_EQ(verify_jwt(signed_jwt(c.header, c.claims, key()), pub(), claims), Status::bad_jwt) << c.what;
  }
}

TEST_F(Vapid, WrongLengthSignatures) {
  const std::string input = b64(R"({"typ":"JWT","alg":"ES256"})") + "." +
                            b64(R"({"aud":"https://push.example.net","exp":1700003600,"sub":"mailto:a@b.c"})");
  p256::Signature sig{};
  ASSERT_EQ(p256::sign(key(), as_bytes(input), sig), Status::ok);
  for (const std::size_t n : {0u, 32u, 63u}) {
    Claims claims;
    const Status s = verify_jwt(input + "." + base64url::encode(ByteView(sig).first(n)), pub(), claims);
    EXPECT_TRUE(s == Status::bad_signature || s == Status::bad_jwt) << n << " octets: " << testing::PrintToString(s);
  }
  Bytes longer(sig.begin(), sig.end());
  longer.push_back(0);
  Claims claims;
  const Status s = verify_jwt(input + "." + base64url::encode(longer), pub(), claims);
  EXPECT_TRUE(s == Status::bad_signature || s == Status::bad_jwt) << "65 octets: " << testing::PrintToString(s);
}

TEST_F(Vapid, AcceptsOtherMemberOrderAndFormatting) {
  // Other implementations' JWTs: any member order, whitespace, extra members.
  const std::string jwt = signed_jwt(R"({ "alg" : "ES256", "typ" : "JWT" })",
                                     "{\n  \"sub\": \"https://example.com/contact\",\n  \"exp\": 1700003600,\n"
                                     "  \"aud\": \"https://fcm.googleapis.com\",\n  \"jti\": \"x\"\n}",
                                     key());
  Claims claims;
  ASSERT_EQ(verify_jwt(jwt, pub(), claims), Status::ok);
  EXPECT_EQ(claims.aud, "https://fcm.googleapis.com");
  EXPECT_EQ(claims.exp, 1700003600);
  EXPECT_EQ(claims.sub, "https://example.com/contact");
}

TEST_F(Vapid, AmbiguousJsonIsRefused) {
  // A byte-order mark, or a member twice (which parsers resolve differently), in the header or the claims.
  const std::string claims = R"({"aud":"https://push.example.net","exp":1700003600,"sub":"mailto:a@b.c"})";
  const struct {
    std::string header, claims;
    const char* what;
  } cases[] = {
      {"\xEF\xBB\xBF" R"({"typ":"JWT","alg":"ES256"})", claims, "BOM before the header"},
      {R"({"typ":"JWT","alg":"ES256"})", "\xEF\xBB\xBF" + claims, "BOM before the claims"},
      {R"({"typ":"JWT","alg":"none","alg":"ES256"})", claims, "alg twice"},
      {R"({"typ":"JWT","alg":"ES256"})",
       R"({"aud":"https://evil.example","aud":"https://push.example.net","exp":1700003600})", "aud twice"},
      {R"({"typ":"JWT","alg":"ES256"})", R"({"aud":"https://push.example.net","exp":1,"exp":1700003600})",
       "exp twice"},
      {R"({"typ":"JWT","alg":"ES256"})",
       R"({"aud":"https://push.example.net","exp":1700003600,"x":{"a":1,"a":2}})", "a nested member twice"},
  };
  for (const auto& c : cases) {
    Claims out;
    EXPECT_EQ(verify_jwt(signed_jwt(c.header, c.claims, key()), pub(), out), Status::bad_jwt) << c.what;
  }
  // The same member name in different objects is fine.
  Claims out;
  EXPECT_EQ(verify_jwt(signed_jwt(R"({"typ":"JWT","alg":"ES256"})",
                                  R"({"aud":"https://push.example.net","exp":1700003600,"x":{"aud":1}})", key()),
                       pub(), out),
            Status::ok);
  EXPECT_EQ(verify_jwt(std::string(kMaxJwtLength + 1, 'a'), pub(), out), Status::bad_jwt);
}

TEST_F(Vapid, SubjectIsOptional) {
  // RFC 8292 §2.1: the application server SHOULD (not MUST) include sub; a JWT without it is still valid.
  Claims claims;
  ASSERT_EQ(verify_jwt(signed_jwt(R"({"typ":"JWT","alg":"ES256"})",
                                  R"({"aud":"https://push.example.net","exp":1700003600})", key()),
                       pub(), claims),
            Status::ok);
  EXPECT_EQ(claims.aud, "https://push.example.net");
  EXPECT_EQ(claims.exp, 1700003600);
  EXPECT_TRUE(claims.sub.empty());
}

TEST_F(Vapid, DoesNotCheckExpirationAgainstAClock) {
  Claims claims;
  EXPECT_EQ(verify_jwt(signed_jwt(R"({"typ":"JWT","alg":"ES256"})",
                                  R"({"aud":"https://push.example.net","exp":1,"sub":"mailto:a@b.c"})", key()),
                       pub(), claims),
            Status::ok);
  EXPECT_EQ(claims.exp, 1);
}

// ---- signing ---------------------------------------------------------------------------------------------------

TEST_F(Vapid, SignJwtIsCanonical) {
  const Claims claims{"https://push.example.net", kNow + 3600, "mailto:push@example.com"};
  std::string jwt;
  ASSERT_EQ(sign_jwt(key(), claims, kNow, jwt), Status::ok);
  const auto parts = split(jwt);
  ASSERT_EQ(parts.size(), 3u);
  Bytes header, payload, sig;
  ASSERT_EQ(base64url::decode(parts[0], header), Status::ok);
  ASSERT_EQ(base64url::decode(parts[1], payload), Status::ok);
  ASSERT_EQ(base64url::decode(parts[2], sig), Status::ok);
  EXPECT_EQ(test::to_text(header), R"({"typ":"JWT","alg":"ES256"})");
  EXPECT_EQ(test::to_text(payload),
            R"({"aud":"https://push.example.net","exp":)" + std::to_string(kNow + 3600) +
                R"(,"sub":"mailto:push@example.com"})");
  EXPECT_EQ(sig.size(), p256::kSignatureLength);
  // The header part is a constant.
  EXPECT_EQ(parts[0], "eyJ0eXAiOiJKV1QiLCJhbGciOiJFUzI1NiJ9");

  Claims verified;
  ASSERT_EQ(verify_jwt(jwt, pub(), verified), Status::ok);
  EXPECT_EQ(verified.aud, claims.aud);
  EXPECT_EQ(verified.exp, claims.exp);
  EXPECT_EQ(verified.sub, claims.sub);
}

TEST_F(Vapid, SigningIsDeterministic) {
  const Claims claims{"https://push.example.net", kNow + 3600, "mailto:push@example.com"};
  std::string a, b;
  ASSERT_EQ(sign_jwt(key(), claims, kNow, a), Status::ok);
  ASSERT_EQ(sign_jwt(key(), claims, kNow + 100, b), Status::ok);  // now only bounds exp
  EXPECT_EQ(a, b);
  // sign_claims + assemble_jwt is the same JWT: grants carry only exp and the signature.
  p256::Signature sig{};
  ASSERT_EQ(sign_claims(key(), claims, sig), Status::ok);
  EXPECT_EQ(assemble_jwt(claims, sig), a);
  // Other claims, other signature.
  Claims later = claims;
  later.exp += 1;
  std::string c;
  ASSERT_EQ(sign_jwt(key(), later, kNow, c), Status::ok);
  EXPECT_NE(split(c)[2], split(a)[2]);
}

TEST_F(Vapid, EscapesClaimStrings) {
  // Canonical JSON still has to be JSON: a quote or backslash in sub cannot break out of its string.
  const Claims claims{"https://push.example.net", kNow + 3600, "mailto:\"odd\\name\"@example.com"};
  std::string jwt;
  const Status s = sign_jwt(key(), claims, kNow, jwt);
  if (s == Status::ok) {
    Claims verified;
    ASSERT_EQ(verify_jwt(jwt, pub(), verified), Status::ok);
    EXPECT_EQ(verified.sub, claims.sub);
  } else {
    EXPECT_EQ(s, Status::bad_subject);
  }
}

TEST_F(Vapid, Expiration) {
  const auto at = [&](std::int64_t exp) {
    std::string jwt;
    return sign_jwt(key(), Claims{"https://push.example.net", exp, "mailto:a@b.c"}, kNow, jwt);
  };
  EXPECT_EQ(at(kNow + 1), Status::ok);
  EXPECT_EQ(at(kNow + kDefaultLifetimeSeconds), Status::ok);
  EXPECT_EQ(at(kNow + kMaxLifetimeSeconds), Status::ok) << "exactly 24 h ahead";
  EXPECT_EQ(at(kNow + kMaxLifetimeSeconds + 1), Status::bad_expiration);
  EXPECT_EQ(at(kNow), Status::bad_expiration) << "exp == now";
  EXPECT_EQ(at(kNow - 1), Status::bad_expiration);
  EXPECT_EQ(at(0), Status::bad_expiration);
  EXPECT_EQ(at(-1), Status::bad_expiration);
}

TEST_F(Vapid, SubjectAndKeyChecks) {
  for (const char* sub : {"mailto:push@example.com", "https://example.com", "https://example.com/contact"}) {
    EXPECT_EQ(check_subject(sub), Status::ok) << sub;
  }
  for (const char* sub : {"http://x", "", "mailto", "mailto:", "https://", "ftp://example.com", "push@example.com",
                          "javascript:alert(1)"}) {
    EXPECT_EQ(check_subject(sub), Status::bad_subject) << '"' << sub << '"';
  }
  std::string jwt;
  EXPECT_EQ(sign_jwt(key(), Claims{"https://push.example.net", kNow + 60, "http://x"}, kNow, jwt),
            Status::bad_subject);
  EXPECT_EQ(sign_jwt(Bytes(32, 0), Claims{"https://push.example.net", kNow + 60, "mailto:a@b.c"}, kNow, jwt),
            Status::bad_key);
  EXPECT_EQ(sign_jwt(ByteView(key()).first(31), Claims{"https://push.example.net", kNow + 60, "mailto:a@b.c"}, kNow,
                     jwt),
            Status::bad_key);
}

// ---- audience ----------------------------------------------------------------------------------------------------

TEST(VapidAudience, OriginOfTheEndpoint) {
  struct Case {
    const char* endpoint;
    const char* audience;
  };
  const Case cases[] = {
      {"https://fcm.googleapis.com/fcm/send/abc", "https://fcm.googleapis.com"},
      // The default port is not part of the serialized origin (RFC 6454 §6.2).
      {"https://updates.push.services.mozilla.com:443/wpush/v2/x", "https://updates.push.services.mozilla.com"},
      {"https://updates.push.services.mozilla.com/wpush/v2/gAAAA", "https://updates.push.services.mozilla.com"},
      {"https://push.example.net:8443/p/1", "https://push.example.net:8443"},
      {"https://push.example.net", "https://push.example.net"},
      {"https://push.example.net?x=1", "https://push.example.net"},
      {"https://web.push.apple.com/QGuQyavXutnMH1b", "https://web.push.apple.com"},
      // Loopback push services (tests, local development) may use http.
      {"http://127.0.0.1:8080/p", "http://127.0.0.1:8080"},
      {"http://localhost:8080/push/1", "http://localhost:8080"},
      {"http://127.1.2.3:9/x", "http://127.1.2.3:9"},
      {"http://[::1]:8080/x", "http://[::1]:8080"},
      {"http://localhost/x", "http://localhost"},
  };
  for (const auto& c : cases) {
    std::string audience;
    EXPECT_EQ(audience_for_endpoint(c.endpoint, audience), Status::ok) << c.endpoint;
    EXPECT_EQ(audience, c.audience) << c.endpoint;
  }
}

TEST(VapidAudience, RejectsNonHttpsEndpoints) {
  for (const char* endpoint : {"http://example.com/x", "http://fcm.googleapis.com/fcm/send/abc", "ftp://x", "",
                               "https://", "https:///path", "fcm.googleapis.com/fcm/send/abc", "//example.com/x",
                               "http://128.0.0.1/x", "http://localhost.example.com/x", "ws://localhost/x"}) {
    std::string audience;
    EXPECT_EQ(audience_for_endpoint(endpoint, audience), Status::bad_endpoint) << '"' << endpoint << '"';
  }
}

// ---- the Authorization header ------------------------------------------------------------------------------------

TEST_F(Vapid, AuthorizationHeader) {
  const std::string endpoint = "https://fcm.googleapis.com/fcm/send/abc";
  std::string header;
  ASSERT_EQ(authorization(endpoint, "mailto:push@example.com", key(), pub(), kNow + 3600, kNow, header), Status::ok);
  const std::string k = base64url::encode(pub());
  ASSERT_EQ(header.rfind("vapid t=", 0), 0u) << header;
  const std::size_t comma = header.find(", k=");
  ASSERT_NE(comma, std::string::npos) << header;
  EXPECT_EQ(header.substr(comma + 4), k);
  const std::string t = header.substr(8, comma - 8);

  std::string jwt;
  Bytes public_key;
  ASSERT_EQ(parse_authorization(header, jwt, public_key), Status::ok);
  EXPECT_EQ(jwt, t);
  EXPECT_EQ(to_hex(public_key), to_hex(pub()));
  Claims claims;
  ASSERT_EQ(verify_jwt(jwt, public_key, claims), Status::ok);
  EXPECT_EQ(claims.aud, "https://fcm.googleapis.com");
  EXPECT_EQ(claims.exp, kNow + 3600);
  EXPECT_EQ(claims.sub, "mailto:push@example.com");
  // The token is the canonical one.
  std::string direct;
  ASSERT_EQ(sign_jwt(key(), claims, kNow, direct), Status::ok);
  EXPECT_EQ(jwt, direct);
}

TEST_F(Vapid, AuthorizationChecks) {
  std::string header;
  EXPECT_EQ(authorization("http://example.com/x", "mailto:a@b.c", key(), pub(), kNow + 60, kNow, header),
            Status::bad_endpoint);
  EXPECT_EQ(authorization("https://push.example.net/x", "http://x", key(), pub(), kNow + 60, kNow, header),
            Status::bad_subject);
  EXPECT_EQ(authorization("https://push.example.net/x", "mailto:a@b.c", key(), pub(), kNow, kNow, header),
            Status::bad_expiration);
  EXPECT_EQ(authorization("https://push.example.net/x", "mailto:a@b.c", key(), pub(), kNow + kMaxLifetimeSeconds + 1,
                          kNow, header),
            Status::bad_expiration);
  EXPECT_EQ(authorization("https://push.example.net/x", "mailto:a@b.c", key(), ByteView(pub()).first(64), kNow + 60,
                          kNow, header),
            Status::bad_key);
}

TEST(VapidParseAuthorization, RfcExampleAndOrder) {
  const Example& x = rfc_example();
  const std::string k = base64url::encode(x.k);
  for (const std::string& header : {"vapid t=" + x.t + ", k=" + k, "vapid k=" + k + ", t=" + x.t,
                                    "vapid t=" + x.t + ",k=" + k}) {
    std::string jwt;
    Bytes public_key;
    ASSERT_EQ(parse_authorization(header, jwt, public_key), Status::ok) << header;
    EXPECT_EQ(jwt, x.t);
    EXPECT_EQ(to_hex(public_key), to_hex(x.k));
    Claims claims;
    EXPECT_EQ(verify_jwt(jwt, public_key, claims), Status::ok);
  }
}

TEST(VapidParseAuthorization, RejectsMalformedHeaders) {
  const Example& x = rfc_example();
  const std::string k = base64url::encode(x.k);
  for (const std::string& header : {
           std::string(),
           std::string("vapid"),
           "vapid t=" + x.t,                        // no k
           "vapid k=" + k,                          // no t
           "WebPush " + x.t,                        // the pre-RFC scheme
           "Bearer " + x.t,
           "vapid t=" + x.t + ", k=" + k + "=",     // padded key
       }) {
    std::string jwt;
    Bytes public_key;
    EXPECT_NE(parse_authorization(header, jwt, public_key), Status::ok) << '"' << header << '"';
  }
  // Empty parameters may be split out, but then the token cannot verify.
  for (const std::string& header : {"vapid t=" + x.t + ", k=", "vapid t=, k=" + k}) {
    std::string jwt;
    Bytes public_key;
    if (parse_authorization(header, jwt, public_key) == Status::ok) {
      Claims claims;
      EXPECT_NE(verify_jwt(jwt, public_key, claims), Status::ok) << '"' << header << '"';
    }
  }
}

}  // namespace
}  // namespace pushpeer::vapid

namespace pushpeer::test {
namespace {

// A correctly signed JWT whose exp is outside [0, 2^53 - 1] is refused rather than wrapped.
TEST(VapidExpRange, OutOfRangeExpIsBadJwt) {
  p256::PrivateKey priv;
  p256::PublicKey pub;
  ASSERT_EQ(p256::generate_key_pair(priv, pub), Status::ok);
  for (const char* exp : {"18446744073709551615", "9223372036854775808", "9007199254740992", "-1"}) {
    const std::string claims = std::string(R"({"aud":"https://a.example","exp":)") + exp + R"(,"sub":"mailto:x@y.z"})";
    const std::string input = "eyJ0eXAiOiJKV1QiLCJhbGciOiJFUzI1NiJ9." + base64url::encode(as_bytes(claims));
    p256::Signature sig;
    ASSERT_EQ(p256::sign(priv.view(), as_bytes(input), sig), Status::ok);
    vapid::Claims out;
    EXPECT_EQ(vapid::verify_jwt(input + "." + base64url::encode(sig), pub, out), Status::bad_jwt) << exp;
  }
}

}  // namespace
}  // namespace pushpeer::test
