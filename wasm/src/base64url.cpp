#include "pushpeer/base64url.hpp"
#include "pushpeer/for_size.hpp"

#include <sodium/utils.h>

PUSHPEER_FOR_SIZE_BEGIN  // not hot: a few calls per connection (pushpeer/for_size.hpp)

namespace pushpeer::base64url {

std::string encode(ByteView in) {
  const std::size_t cap = sodium_base64_ENCODED_LEN(in.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  std::string out(cap, '\0');
  sodium_bin2base64(out.data(), cap, in.data(), in.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(cap - 1);  // drop the terminating NUL
  return out;
}

Status decode(std::string_view in, Bytes& out) {
  // A length of 1 mod 4 cannot encode whole bytes; libsodium checks the rest, including non-zero trailing bits.
  if (in.size() % 4 == 1) return Status::bad_base64;
  // libsodium 1.0.18 reads the input as (signed) char and its constant-time range checks assume 0..255:
  // every octet >= 0x80 decodes as '_'. Reject them here.
  for (const char c : in) {
    if (static_cast<unsigned char>(c) >= 0x80) return Status::bad_base64;
  }
  out.assign(in.size() / 4 * 3 + 3, 0);
  std::size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(out.data(), out.size(), in.data(), in.size(), nullptr, &len, &end,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
      end != in.data() + in.size()) {
    out.clear();
    return Status::bad_base64;
  }
  out.resize(len);
  return Status::ok;
}

}  // namespace pushpeer::base64url

PUSHPEER_FOR_SIZE_END
