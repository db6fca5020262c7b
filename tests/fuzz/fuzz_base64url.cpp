// Strict unpadded base64url (RFC 4648 §5): base64url::decode on untrusted text, checked against a small
// reference decoder written here (alphabet, length mod 4, zero trailing bits), then encode(decode(x)) == x.
// The input bytes also go through encode and back.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_common.hpp"
#include "pushpeer/base64url.hpp"

using namespace pushpeer;

namespace {

int sextet(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

// The reference: true and the bytes when `in` is strict unpadded base64url.
bool reference_decode(std::string_view in, Bytes& out) {
  out.clear();
  if (in.size() % 4 == 1) return false;  // 6 bits cannot end a byte
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    const int v = sextet(c);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>(acc >> bits));
      acc &= (1u << bits) - 1;
    }
  }
  return acc == 0;  // the 2 or 4 leftover bits must be zero (canonical encoding)
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  Bytes decoded{0xAA};  // decode replaces the output
  const Status s = base64url::decode(text, decoded);
  PP_FUZZ_CHECK(s == Status::ok || s == Status::bad_base64);
  Bytes want;
  const bool valid = reference_decode(text, want);
  PP_FUZZ_CHECK((s == Status::ok) == valid);
  if (s == Status::ok) {
    PP_FUZZ_CHECK(decoded == want);
    PP_FUZZ_CHECK(decoded.size() == size * 3 / 4);
    PP_FUZZ_CHECK(base64url::encode(decoded) == text);  // strict: one text per byte string
  }

  // Any bytes: encode has the unpadded length, uses only the URL alphabet and decodes back.
  const std::string encoded = base64url::encode({data, size});
  PP_FUZZ_CHECK(encoded.size() == (size * 4 + 2) / 3);
  for (char c : encoded) PP_FUZZ_CHECK(sextet(c) >= 0);
  Bytes back;
  PP_FUZZ_CHECK(base64url::decode(encoded, back) == Status::ok);
  PP_FUZZ_CHECK(back == Bytes(data, data + size));
  return 0;
}
