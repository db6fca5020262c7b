#include "random.hpp"

#include <sodium/core.h>
#include <sodium/randombytes.h>
#include <sodium/utils.h>

namespace pushpeer::detail {

void random_bytes(std::uint8_t* out, std::size_t n) {
  // sodium_init is idempotent and cheap after the first call; it seeds and checks the generator.
  static const int initialised = sodium_init();
  (void)initialised;
  randombytes_buf(out, n);
}

}  // namespace pushpeer::detail

namespace pushpeer::detail {

__attribute__((noinline)) void burn_stack() {
  // BearSSL's deepest secret-handling frames (P-256 m31 mul, ECDSA i31 sign) stay well under this.
  unsigned char region[16384];
  sodium_memzero(region, sizeof region);
}

}  // namespace pushpeer::detail
