// P-256 keys, ECDH and ECDSA-SHA256: RFC 6979 known answers, scalar and point range checks, and SPKI import.
// The bulk of the vectors is in wycheproof_test.cpp.
#include <gtest/gtest.h>

#include "pushpeer/p256.hpp"
#include "vectors.hpp"

namespace pushpeer::p256 {
namespace {

using test::hex;
using test::to_hex;

constexpr const char* kGx = "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296";
constexpr const char* kGy = "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5";
constexpr const char* kOrder = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";
constexpr const char* kOrderMinus1 = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632550";
constexpr const char* kPrime = "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff";

Bytes point(const char* x, const char* y) { return hex(std::string("04") + x + y); }

// RFC 6979 A.2.5: P-256 with SHA-256.
constexpr const char* kRfc6979Private = "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721";
constexpr const char* kRfc6979Ux = "60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6";
constexpr const char* kRfc6979Uy = "7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299";

TEST(P256, Rfc6979PublicKey) {
  PublicKey pub{};
  ASSERT_EQ(public_key_from_private(hex(kRfc6979Private), pub), Status::ok);
  EXPECT_EQ(to_hex(pub), to_hex(point(kRfc6979Ux, kRfc6979Uy)));
}

TEST(P256, Rfc6979DeterministicSignatures) {
  struct Case {
    const char* message;
    const char* r;
    const char* s;
  };
  const Case cases[] = {
      {"sample", "efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716",
       "f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8"},
      {"test", "f1abb023518351cd71d881567b1ea663ed3efcf6c5132b354f28d3b0b7d38367",
       "019f4113742a2b14bd25926b49c649155f267e60d3814b4c0cc84250e46f0083"},
  };
  const Bytes priv = hex(kRfc6979Private);
  const Bytes pub = point(kRfc6979Ux, kRfc6979Uy);
  for (const auto& c : cases) {
    Signature sig{};
    ASSERT_EQ(sign(priv, as_bytes(c.message), sig), Status::ok) << c.message;
    EXPECT_EQ(to_hex(sig), std::string(c.r) + c.s) << c.message;
    EXPECT_EQ(verify(pub, as_bytes(c.message), sig), Status::ok) << c.message;
  }
}

TEST(P256, GeneratedKeysAreValidAndDistinct) {
  PrivateKey a, b;
  PublicKey pa{}, pb{};
  ASSERT_EQ(generate_key_pair(a, pa), Status::ok);
  ASSERT_EQ(generate_key_pair(b, pb), Status::ok);
  EXPECT_NE(to_hex(a.view()), to_hex(b.view()));
  EXPECT_NE(to_hex(pa), to_hex(pb));
  EXPECT_EQ(pa[0], 0x04);
  EXPECT_EQ(validate_public_key(pa), Status::ok);
  PublicKey derived{};
  ASSERT_EQ(public_key_from_private(a.view(), derived), Status::ok);
  EXPECT_EQ(to_hex(derived), to_hex(pa));
}

TEST(P256, PrivateKeyRange) {
  PublicKey pub{};
  // 1 and n-1 are the extremes of [1, n-1]: G and -G.
  ASSERT_EQ(public_key_from_private(hex(std::string(62, '0') + "01"), pub), Status::ok);
  EXPECT_EQ(to_hex(pub), to_hex(point(kGx, kGy)));
  ASSERT_EQ(public_key_from_private(hex(kOrderMinus1), pub), Status::ok);
  EXPECT_EQ(to_hex(pub), to_hex(point(kGx, "b01cbd1c01e58065711814b583f061e9d431cca994cea1313449bf97c840ae0a")));

  EXPECT_EQ(public_key_from_private(Bytes(32, 0), pub), Status::bad_key) << "zero";
  EXPECT_EQ(public_key_from_private(hex(kOrder), pub), Status::bad_key) << "n";
  EXPECT_EQ(public_key_from_private(Bytes(32, 0xff), pub), Status::bad_key) << "2^256 - 1";
  EXPECT_EQ(public_key_from_private(Bytes(31, 1), pub), Status::bad_key) << "31 bytes";
  EXPECT_EQ(public_key_from_private(Bytes(33, 1), pub), Status::bad_key) << "33 bytes";

  const Bytes g = point(kGx, kGy);
  SharedSecret shared;
  Signature sig{};
  EXPECT_EQ(ecdh(Bytes(32, 0), g, shared), Status::bad_key);
  EXPECT_EQ(ecdh(hex(kOrder), g, shared), Status::bad_key);
  EXPECT_EQ(sign(Bytes(32, 0), as_bytes("m"), sig), Status::bad_key);
  EXPECT_EQ(sign(hex(kOrder), as_bytes("m"), sig), Status::bad_key);
}

TEST(P256, PublicKeyValidation) {
  EXPECT_EQ(validate_public_key(point(kGx, kGy)), Status::ok);
  Bytes g = point(kGx, kGy);

  Bytes compressed(g.begin(), g.begin() + 33);
  compressed[0] = 0x03;  // Gy is odd
  EXPECT_EQ(validate_public_key(compressed), Status::bad_key) << "compressed";
  Bytes prefix = g;
  prefix[0] = 0x02;
  EXPECT_EQ(validate_public_key(prefix), Status::bad_key) << "0x02 prefix on 65 bytes";
  prefix[0] = 0x06;
  EXPECT_EQ(validate_public_key(prefix), Status::bad_key) << "hybrid 0x06 prefix";
  EXPECT_EQ(validate_public_key(ByteView(g).subspan(1)), Status::bad_key) << "64 bytes without prefix";
  EXPECT_EQ(validate_public_key(ByteView(g).first(64)), Status::bad_key) << "truncated";
  Bytes longer = g;
  longer.push_back(0);
  EXPECT_EQ(validate_public_key(longer), Status::bad_key) << "66 bytes";
  EXPECT_EQ(validate_public_key(ByteView{}), Status::bad_key) << "empty";

  Bytes off_curve = g;
  off_curve[64] ^= 1;
  EXPECT_EQ(validate_public_key(off_curve), Status::bad_key) << "y + 1";
  EXPECT_EQ(validate_public_key(point(std::string(64, '0').c_str(), std::string(64, '0').c_str())),
            Status::bad_key)
      << "(0, 0)";
  // x = p is out of the field (it would reduce to x = 0).
  EXPECT_EQ(validate_public_key(point(kPrime, kGy)), Status::bad_key) << "x = p";
  // y = p is out of the field too.
  EXPECT_EQ(validate_public_key(point(kGx, kPrime)), Status::bad_key) << "y = p";
}

TEST(P256, EcdhAgreesBothWays) {
  PrivateKey a, b;
  PublicKey pa{}, pb{};
  ASSERT_EQ(generate_key_pair(a, pa), Status::ok);
  ASSERT_EQ(generate_key_pair(b, pb), Status::ok);
  SharedSecret ab, ba;
  ASSERT_EQ(ecdh(a.view(), pb, ab), Status::ok);
  ASSERT_EQ(ecdh(b.view(), pa, ba), Status::ok);
  EXPECT_EQ(to_hex(ab.view()), to_hex(ba.view()));

  // 1 * P is the x coordinate of P.
  SharedSecret x;
  ASSERT_EQ(ecdh(hex(std::string(62, '0') + "01"), pb, x), Status::ok);
  EXPECT_EQ(to_hex(x.view()), to_hex(ByteView(pb).subspan(1, 32)));

  Bytes off_curve(pb.begin(), pb.end());
  off_curve[64] ^= 1;
  EXPECT_EQ(ecdh(a.view(), off_curve, ab), Status::bad_key);
  EXPECT_EQ(ecdh(a.view(), ByteView(pb).first(33), ab), Status::bad_key);
}

TEST(P256, SignVerify) {
  PrivateKey key;
  PublicKey pub{};
  ASSERT_EQ(generate_key_pair(key, pub), Status::ok);
  const Bytes message = test::pattern(100, 3);
  Signature sig{}, again{};
  ASSERT_EQ(sign(key.view(), message, sig), Status::ok);
  ASSERT_EQ(sign(key.view(), message, again), Status::ok);
  EXPECT_EQ(to_hex(sig), to_hex(again)) << "RFC 6979 signatures are deterministic";
  EXPECT_EQ(verify(pub, message, sig), Status::ok);

  Bytes other = message;
  other[0] ^= 1;
  EXPECT_EQ(verify(pub, other, sig), Status::bad_signature) << "other message";
  for (const std::size_t i : {std::size_t{0}, std::size_t{31}, std::size_t{32}, std::size_t{63}}) {
    Signature bad = sig;
    bad[i] ^= 0x40;
    EXPECT_EQ(verify(pub, message, bad), Status::bad_signature) << "signature byte " << i;
  }
  const Signature zero{};
  EXPECT_EQ(verify(pub, message, zero), Status::bad_signature) << "r = s = 0";
  EXPECT_NE(verify(pub, message, ByteView(sig).first(63)), Status::ok) << "63-byte signature";
  EXPECT_NE(verify(pub, message, ByteView{}), Status::ok) << "empty signature";

  PrivateKey other_key;
  PublicKey other_pub{};
  ASSERT_EQ(generate_key_pair(other_key, other_pub), Status::ok);
  EXPECT_EQ(verify(other_pub, message, sig), Status::bad_signature) << "other key";
  Bytes bad_pub(pub.begin(), pub.end());
  bad_pub[64] ^= 1;
  EXPECT_EQ(verify(bad_pub, message, sig), Status::bad_key) << "public key off the curve";
}

constexpr const char* kSpkiPrefix = "3059301306072a8648ce3d020106082a8648ce3d030107034200";

TEST(P256, SpkiImport) {
  const Bytes der = hex(std::string(kSpkiPrefix) + "04" + kGx + kGy);
  PublicKey pub{};
  ASSERT_EQ(public_key_from_spki(der, pub), Status::ok);
  EXPECT_EQ(to_hex(pub), to_hex(point(kGx, kGy)));

  EXPECT_NE(public_key_from_spki(ByteView(der).first(der.size() - 1), pub), Status::ok) << "truncated";
  Bytes trailing = der;
  trailing.push_back(0);
  EXPECT_NE(public_key_from_spki(trailing, pub), Status::ok) << "trailing byte";
  EXPECT_NE(public_key_from_spki(ByteView{}, pub), Status::ok) << "empty";
  Bytes wrong_curve = der;
  wrong_curve[22] = 0x01;  // last byte of the prime256v1 OID 1.2.840.10045.3.1.7 -> prime192v1 (…3.1.1)
  EXPECT_NE(public_key_from_spki(wrong_curve, pub), Status::ok) << "other named curve";
  Bytes off_curve = der;
  off_curve.back() ^= 1;
  EXPECT_EQ(public_key_from_spki(off_curve, pub), Status::bad_key) << "point off the curve";
}

}  // namespace
}  // namespace pushpeer::p256
