// Our windowed P-256 multiplication (wasm/src/p256_window.c) against BearSSL's stock br_ec_p256_m31, an
// independent implementation of the same operations: same points for random and edge-case scalars.
#include <bearssl.h>
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "vectors.hpp"

extern "C" const br_ec_impl pushpeer_p256_window;

namespace pushpeer::test {
namespace {

using Scalar = std::array<std::uint8_t, 32>;

// n - k for small k, big-endian.
Scalar order_minus(std::uint8_t k) {
  Scalar s;
  const Bytes n = hex("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
  std::memcpy(s.data(), n.data(), 32);
  s[31] = static_cast<std::uint8_t>(s[31] - k);  // n ends in 0x51, so no borrow for k <= 0x51
  return s;
}

std::vector<Scalar> scalars() {
  std::vector<Scalar> out;
  auto small = [](std::uint32_t v) {
    Scalar s{};
    for (int i = 0; i < 4; ++i) s[31 - i] = static_cast<std::uint8_t>(v >> (8 * i));
    return s;
  };
  for (std::uint32_t v : {1u, 2u, 3u, 15u, 16u, 17u, 255u, 256u, 0xFFFFu, 0x10000u, 0xFFFFFFFFu}) out.push_back(small(v));
  for (std::uint8_t k : {1, 2, 3, 15, 16}) out.push_back(order_minus(k));
  for (int bit = 0; bit < 255; bit += 7) {  // single bits: one non-zero window
    Scalar s{};
    s[31 - bit / 8] = static_cast<std::uint8_t>(1u << (bit % 8));
    out.push_back(s);
  }
  Scalar all_f{};
  std::memset(all_f.data(), 0xFF, 32);
  all_f[0] = 0x7F;  // every window 15 (below n)
  out.push_back(all_f);
  std::mt19937_64 rng(20261123);
  for (int i = 0; i < 200; ++i) {
    Scalar s;
    for (auto& b : s) b = static_cast<std::uint8_t>(rng());
    s[0] &= 0x7F;  // < 2^255 < n
    out.push_back(s);
  }
  return out;
}

TEST(P256Window, MulgenMatchesBearSsl) {
  for (const Scalar& k : scalars()) {
    std::uint8_t a[65], b[65];
    ASSERT_EQ(br_ec_p256_m31.mulgen(a, k.data(), 32, BR_EC_secp256r1), 65u);
    ASSERT_EQ(pushpeer_p256_window.mulgen(b, k.data(), 32, BR_EC_secp256r1), 65u);
    ASSERT_EQ(to_hex({a, 65}), to_hex({b, 65})) << "k = " << to_hex(k);
  }
}

TEST(P256Window, ShortScalarsMatchBearSsl) {
  // xlen < 32 must mean the same integer as its zero-extended 32-byte form.
  const std::uint8_t k[] = {0x01, 0x23, 0x45};
  std::uint8_t a[65], b[65];
  br_ec_p256_m31.mulgen(a, k, sizeof k, BR_EC_secp256r1);
  pushpeer_p256_window.mulgen(b, k, sizeof k, BR_EC_secp256r1);
  EXPECT_EQ(to_hex({a, 65}), to_hex({b, 65}));
  std::memcpy(a, b, 65);
  ASSERT_EQ(br_ec_p256_m31.mul(a, 65, k, sizeof k, BR_EC_secp256r1), 1u);
  ASSERT_EQ(pushpeer_p256_window.mul(b, 65, k, sizeof k, BR_EC_secp256r1), 1u);
  EXPECT_EQ(to_hex({a, 65}), to_hex({b, 65}));
}

TEST(P256Window, MulMatchesBearSsl) {
  const std::vector<Scalar> ks = scalars();
  std::uint8_t base[65];
  const Scalar seed = ks.back();
  br_ec_p256_m31.mulgen(base, seed.data(), 32, BR_EC_secp256r1);
  for (const Scalar& k : ks) {
    std::uint8_t a[65], b[65];
    std::memcpy(a, base, 65);
    std::memcpy(b, base, 65);
    ASSERT_EQ(br_ec_p256_m31.mul(a, 65, k.data(), 32, BR_EC_secp256r1), 1u);
    ASSERT_EQ(pushpeer_p256_window.mul(b, 65, k.data(), 32, BR_EC_secp256r1), 1u);
    ASSERT_EQ(to_hex({a, 65}), to_hex({b, 65})) << "k = " << to_hex(k);
  }
}

TEST(P256Window, MulRejectsInvalidPoints) {
  std::uint8_t p[65];
  br_ec_p256_m31.mulgen(p, order_minus(5).data(), 32, BR_EC_secp256r1);
  p[64] ^= 1;  // off the curve
  const Scalar k = order_minus(9);
  std::uint8_t q[65];
  std::memcpy(q, p, 65);
  EXPECT_EQ(pushpeer_p256_window.mul(q, 65, k.data(), 32, BR_EC_secp256r1), 0u);
  std::memcpy(q, p, 65);
  q[64] ^= 1;
  q[0] = 0x02;  // compressed form is not accepted
  EXPECT_EQ(pushpeer_p256_window.mul(q, 65, k.data(), 32, BR_EC_secp256r1), 0u);
}

TEST(P256Window, MuladdMatchesBearSsl) {
  const std::vector<Scalar> ks = scalars();
  std::uint8_t base[65], other[65];
  br_ec_p256_m31.mulgen(base, ks[40].data(), 32, BR_EC_secp256r1);
  br_ec_p256_m31.mulgen(other, ks[41].data(), 32, BR_EC_secp256r1);
  for (std::size_t i = 0; i + 1 < ks.size(); i += 3) {
    for (const std::uint8_t* B : {static_cast<const std::uint8_t*>(nullptr), static_cast<const std::uint8_t*>(other)}) {
      std::uint8_t a[65], b[65];
      std::memcpy(a, base, 65);
      std::memcpy(b, base, 65);
      const auto ra = br_ec_p256_m31.muladd(a, B, 65, ks[i].data(), 32, ks[i + 1].data(), 32, BR_EC_secp256r1);
      const auto rb = pushpeer_p256_window.muladd(b, B, 65, ks[i].data(), 32, ks[i + 1].data(), 32, BR_EC_secp256r1);
      ASSERT_EQ(ra, rb);
      if (ra) {
        ASSERT_EQ(to_hex({a, 65}), to_hex({b, 65}));
      }
    }
  }
}

TEST(P256Window, MuladdDoublingAndInfinityCases) {
  // x*P + y*G with P = G: x = y takes the doubling path; x = n - y gives the point at infinity (an error).
  std::uint8_t g[65];
  const Scalar one = [] { Scalar s{}; s[31] = 1; return s; }();
  br_ec_p256_m31.mulgen(g, one.data(), 32, BR_EC_secp256r1);
  Scalar seven{};
  seven[31] = 7;
  std::uint8_t a[65], b[65];
  std::memcpy(a, g, 65);
  std::memcpy(b, g, 65);
  ASSERT_EQ(pushpeer_p256_window.muladd(a, nullptr, 65, seven.data(), 32, seven.data(), 32, BR_EC_secp256r1), 1u);
  Scalar fourteen{};
  fourteen[31] = 14;
  ASSERT_EQ(pushpeer_p256_window.mulgen(b, fourteen.data(), 32, BR_EC_secp256r1), 65u);
  EXPECT_EQ(to_hex({a, 65}), to_hex({b, 65}));
  std::memcpy(a, g, 65);
  EXPECT_EQ(pushpeer_p256_window.muladd(a, nullptr, 65, seven.data(), 32, order_minus(7).data(), 32, BR_EC_secp256r1),
            0u);
}

}  // namespace
}  // namespace pushpeer::test
