// Key material wipes itself: Secret<N> zeroes its bytes in its destructor (sodium_memzero), and wipe() and
// equal_ct() behave as documented in bytes.hpp.
#include <algorithm>
#include <cstring>
#include <memory>
#include <new>

#include <gtest/gtest.h>

#include "pushpeer/bytes.hpp"
#include "pushpeer/p256.hpp"
#include "vectors.hpp"

namespace pushpeer {
namespace {

// The object's lifetime has ended: tell the optimizer its storage may hold anything, so the checks below read the
// bytes actually left there rather than assuming them indeterminate.
void after_lifetime(void* storage) { asm volatile("" : : "r"(storage) : "memory"); }

template <std::size_t N>
void expect_destructor_wipes() {
  // Construct in storage we own, fill, destroy, and look at the storage afterwards (it outlives the object).
  alignas(Secret<N>) unsigned char storage[sizeof(Secret<N>)];
  std::memset(storage, 0x5a, sizeof storage);
  auto* secret = new (storage) Secret<N>();
  ASSERT_TRUE(std::all_of(secret->bytes.begin(), secret->bytes.end(), [](std::uint8_t b) { return b == 0; }))
      << "Secret<" << N << "> must start zeroed";
  std::fill(secret->bytes.begin(), secret->bytes.end(), 0xa5);
  const std::size_t offset = static_cast<std::size_t>(secret->data() - reinterpret_cast<std::uint8_t*>(storage));
  std::destroy_at(secret);
  after_lifetime(storage);
  for (std::size_t i = 0; i < N; ++i) {
    ASSERT_EQ(storage[offset + i], 0) << "Secret<" << N << "> byte " << i << " not wiped";
  }
}

TEST(Secret, DestructorWipes) {
  expect_destructor_wipes<1>();
  expect_destructor_wipes<16>();
  expect_destructor_wipes<32>();
  expect_destructor_wipes<65>();
}

TEST(Secret, PrivateKeyWipedAfterUse) {
  // The same for a real key: generate into a PrivateKey constructed in our storage, then destroy it.
  alignas(p256::PrivateKey) unsigned char storage[sizeof(p256::PrivateKey)];
  auto* key = new (storage) p256::PrivateKey();
  p256::PublicKey public_key{};
  ASSERT_EQ(p256::generate_key_pair(*key, public_key), Status::ok);
  ASSERT_FALSE(std::all_of(key->bytes.begin(), key->bytes.end(), [](std::uint8_t b) { return b == 0; }));
  const std::size_t offset = static_cast<std::size_t>(key->data() - reinterpret_cast<std::uint8_t*>(storage));
  std::destroy_at(key);
  after_lifetime(storage);
  for (std::size_t i = 0; i < p256::kPrivateKeyLength; ++i) ASSERT_EQ(storage[offset + i], 0) << "byte " << i;
}

TEST(Secret, Accessors) {
  Secret<16> secret;
  EXPECT_EQ(Secret<16>::size(), 16u);
  EXPECT_EQ(secret.view().size(), 16u);
  EXPECT_EQ(secret.view().data(), secret.data());
  EXPECT_EQ(secret.span().data(), secret.data());
}

TEST(Wipe, ZeroesExactlyTheRange) {
  std::uint8_t buffer[48];
  std::memset(buffer, 0xff, sizeof buffer);
  wipe(buffer + 8, 32);
  for (std::size_t i = 0; i < sizeof buffer; ++i) {
    EXPECT_EQ(buffer[i], (i >= 8 && i < 40) ? 0 : 0xff) << "byte " << i;
  }
  wipe(nullptr, 0);  // an empty range is a no-op
}

TEST(EqualCt, ComparesContentsAndLengths) {
  const Bytes a = test::pattern(32, 7);
  Bytes b = a;
  EXPECT_TRUE(equal_ct(a, b));
  EXPECT_TRUE(equal_ct(ByteView{}, ByteView{}));
  for (const std::size_t i : {std::size_t{0}, std::size_t{15}, std::size_t{31}}) {
    Bytes c = a;
    c[i] ^= 0x80;
    EXPECT_FALSE(equal_ct(a, c)) << "byte " << i;
  }
  b.pop_back();
  EXPECT_FALSE(equal_ct(a, b));
  EXPECT_FALSE(equal_ct(b, a));
}

}  // namespace
}  // namespace pushpeer
