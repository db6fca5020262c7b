// The vectors published in docs/PROTOCOL.md (docs/vectors/core.json) hold for the core.
#include <gtest/gtest.h>

#include "pushpeer/base64url.hpp"
#include "pushpeer/p256.hpp"
#include "pushpeer/vapid.hpp"
#include "vectors.hpp"

namespace pushpeer::test {
namespace {

json doc_vectors() {
  std::FILE* f = std::fopen(PUSHPEER_DOC_VECTORS, "rb");
  EXPECT_NE(f, nullptr) << PUSHPEER_DOC_VECTORS;
  if (f == nullptr) return json();
  std::string text;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) text.append(buf, n);
  std::fclose(f);
  return json::parse(text, nullptr, false);
}

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
