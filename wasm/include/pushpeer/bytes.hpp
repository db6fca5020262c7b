// Byte containers shared by the core: views for inputs, vectors for variable outputs, and Secret<N> for key
// material, which wipes itself (sodium_memzero) when it goes out of scope.
#pragma once
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace pushpeer {

using ByteView = std::span<const std::uint8_t>;
using Bytes = std::vector<std::uint8_t>;

void wipe(void* p, std::size_t n);  // sodium_memzero
bool equal_ct(ByteView a, ByteView b);  // constant time in the contents (lengths are public)

template <std::size_t N>
struct Secret {
  std::array<std::uint8_t, N> bytes{};
  Secret() = default;
  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;
  ~Secret() { wipe(bytes.data(), N); }
  std::uint8_t* data() { return bytes.data(); }
  const std::uint8_t* data() const { return bytes.data(); }
  static constexpr std::size_t size() { return N; }
  ByteView view() const { return {bytes.data(), N}; }
  std::span<std::uint8_t> span() { return {bytes.data(), N}; }
};

// A wiped-on-destruction growable buffer for intermediate plaintext and derived secrets of variable size.
struct SecretBytes {
  Bytes bytes;
  SecretBytes() = default;
  explicit SecretBytes(std::size_t n) : bytes(n) {}
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  ~SecretBytes() { wipe(bytes.data(), bytes.size()); }
};

// Copies `from` into `to` when their sizes match; false, with `to` untouched, when they do not.
inline bool copy_exact(ByteView from, std::span<std::uint8_t> to) {
  if (from.size() != to.size()) return false;
  std::copy(from.begin(), from.end(), to.begin());
  return true;
}

inline ByteView as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace pushpeer
