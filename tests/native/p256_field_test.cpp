// pushpeer's P-256 field multiplication and squaring (wasm/src/p256_f256.h) against BearSSL's (differential):
// every input below 2p in BearSSL's 9 x 30-bit representation, edge values and 10^6 random pairs. Both results
// fully reduced must be equal, and ours must keep the representation (limbs below 2^30, value below 2p).
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <random>
#include <vector>

extern "C" {
void pp_test_ref_mul(std::uint32_t* d, const std::uint32_t* a, const std::uint32_t* b);
void pp_test_ref_square(std::uint32_t* d, const std::uint32_t* a);
std::uint32_t pp_test_reduce_final(std::uint32_t* d);
void pp_test_mul(std::uint32_t* d, const std::uint32_t* a, const std::uint32_t* b);
void pp_test_square(std::uint32_t* d, const std::uint32_t* a);
}

namespace pushpeer::test {
namespace {

using Fe = std::array<std::uint32_t, 9>;
constexpr std::uint32_t kMask = 0x3FFFFFFF;

// x (nine 30-bit limbs, below 2^270) from little-endian 32-bit words.
Fe from_words(const std::array<std::uint32_t, 9>& w) {
  Fe f{};
  for (int bit = 0; bit < 270; ++bit) {
    if ((w[bit / 32] >> (bit % 32)) & 1) f[bit / 30] |= 1u << (bit % 30);
  }
  return f;
}

// Little-endian 32-bit words of p, 2p, 2^256, and x + k with a small signed k (carries propagated).
constexpr std::array<std::uint32_t, 9> kP = {0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0, 0, 0, 1, 0xFFFFFFFF, 0};
std::array<std::uint32_t, 9> add_small(std::array<std::uint32_t, 9> w, std::int64_t k) {
  std::int64_t c = k;
  for (auto& x : w) {
    std::int64_t v = static_cast<std::int64_t>(x) + c;
    x = static_cast<std::uint32_t>(v);
    c = v >> 32;
  }
  return w;
}
std::array<std::uint32_t, 9> twice(std::array<std::uint32_t, 9> w) {
  std::uint32_t carry = 0;
  for (auto& x : w) {
    std::uint32_t top = x >> 31;
    x = (x << 1) | carry;
    carry = top;
  }
  return w;
}

std::vector<Fe> edge_values() {
  std::vector<Fe> out;
  const auto p = kP;
  const auto p2 = twice(kP);
  std::array<std::uint32_t, 9> two256{};
  two256[8] = 1;
  for (std::int64_t k : {0, 1, 2, 3}) out.push_back(from_words(add_small({}, k)));  // 0, 1, 2, 3
  for (std::int64_t k : {-2, -1, 0, 1, 2}) out.push_back(from_words(add_small(p, k)));  // around p
  for (std::int64_t k : {-3, -2, -1}) out.push_back(from_words(add_small(p2, k)));      // just below 2p
  for (std::int64_t k : {-1, 0, 1}) out.push_back(from_words(add_small(two256, k)));   // around 2^256
  for (int limb = 1; limb < 9; ++limb) {  // limb boundaries: 2^(30 limb) - 1 and 2^(30 limb), when below 2p
    Fe lo{}, hi{};
    for (int i = 0; i < limb; ++i) lo[i] = kMask;
    hi[limb] = 1;
    out.push_back(lo);
    out.push_back(hi);
  }
  for (int bit = 0; bit < 257; bit += 5) {  // single bits (2^256 is below 2p)
    Fe f{};
    f[bit / 30] = 1u << (bit % 30);
    out.push_back(f);
  }
  Fe all{};
  for (int i = 0; i < 8; ++i) all[i] = kMask;
  all[8] = 0xFFFF;  // 2^256 - 1
  out.push_back(all);
  return out;
}

// A random value below 2p: below 2^256, or 2^256 + something below 2^224 (2p - 2^256 > 2^255).
Fe random_value(std::mt19937_64& rng) {
  Fe f{};
  const unsigned kind = rng() % 4;
  for (auto& x : f) x = static_cast<std::uint32_t>(rng()) & kMask;
  if (kind == 0) {
    f[8] = 0x10000;
    f[7] &= 0x3FFF;
  } else if (kind == 1) {  // long runs of ones and zeros
    for (auto& x : f) x = (rng() & 1) ? kMask : 0;
    f[8] &= 0xFFFF;
  } else {
    f[8] &= 0xFFFF;
  }
  return f;
}

void check_representation(const Fe& d) {
  for (int i = 0; i < 8; ++i) ASSERT_LE(d[i], kMask);
  ASSERT_LE(d[8], 0x1FFFFu);
}

void check_pair(const Fe& a, const Fe& b) {
  Fe want, got;
  pp_test_ref_mul(want.data(), a.data(), b.data());
  pp_test_mul(got.data(), a.data(), b.data());
  check_representation(got);
  pp_test_reduce_final(want.data());
  pp_test_reduce_final(got.data());
  ASSERT_EQ(want, got) << "mul";
  ASSERT_EQ(pp_test_reduce_final(got.data()), 0u);  // got was below 2p: one subtraction reduced it

  pp_test_ref_square(want.data(), a.data());
  pp_test_square(got.data(), a.data());
  check_representation(got);
  pp_test_reduce_final(want.data());
  pp_test_reduce_final(got.data());
  ASSERT_EQ(want, got) << "square";
}

TEST(P256Field, EdgeValuesMatchBearSsl) {
  const std::vector<Fe> edges = edge_values();
  for (const Fe& a : edges) {
    for (const Fe& b : edges) {
      ASSERT_NO_FATAL_FAILURE(check_pair(a, b));
    }
  }
}

TEST(P256Field, RandomValuesMatchBearSsl) {
  std::mt19937_64 rng(20261123);
  const std::vector<Fe> edges = edge_values();
  for (int i = 0; i < 1000000; ++i) {
    const Fe a = random_value(rng);
    const Fe b = (i % 8 == 0) ? edges[rng() % edges.size()] : random_value(rng);
    ASSERT_NO_FATAL_FAILURE(check_pair(a, b));
  }
}

TEST(P256Field, AliasedOutput) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 1000; ++i) {
    Fe a = random_value(rng), b = random_value(rng), want, x = a, y = b;
    pp_test_mul(want.data(), a.data(), b.data());
    pp_test_mul(x.data(), x.data(), b.data());
    ASSERT_EQ(want, x);
    pp_test_mul(y.data(), a.data(), y.data());
    ASSERT_EQ(want, y);
    pp_test_square(want.data(), a.data());
    x = a;
    pp_test_square(x.data(), x.data());
    ASSERT_EQ(want, x);
  }
}

}  // namespace
}  // namespace pushpeer::test
