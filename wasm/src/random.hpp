// Internal: the CSPRNG (libsodium's randombytes: getrandom() natively, crypto.getRandomValues under Emscripten).
#pragma once
#include <cstddef>
#include <cstdint>

namespace pushpeer::detail {
void random_bytes(std::uint8_t* out, std::size_t n);
}

namespace pushpeer::detail {
// Overwrites the stack region below the caller's frame, where BearSSL's scalar multiplication, ECDSA, AES and HMAC
// leave key-dependent temporaries (under Wasm that region is ordinary linear memory). Call after secret work.
void burn_stack();
}
