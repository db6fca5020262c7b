#include "pushpeer/bytes.hpp"

#include <sodium/utils.h>

namespace pushpeer {

void wipe(void* p, std::size_t n) {
  if (p != nullptr && n != 0) sodium_memzero(p, n);
}

bool equal_ct(ByteView a, ByteView b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace pushpeer
