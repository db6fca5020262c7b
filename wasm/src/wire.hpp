// Internal: the byte writer/reader of pushpeer's binary formats (cards, envelopes). Varints are LEB128
// (7 bits per byte, low first, at most 5 bytes for u32); a reader never reads past its end.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "pushpeer/bytes.hpp"

namespace pushpeer::wire {

struct Writer {
  Bytes out;
  void u8(std::uint8_t v) { out.push_back(v); }
  void u32(std::uint32_t v) {
    for (int i = 3; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  void varint(std::uint32_t v) {
    while (v >= 0x80) {
      out.push_back(static_cast<std::uint8_t>(v | 0x80));
      v >>= 7;
    }
    out.push_back(static_cast<std::uint8_t>(v));
  }
  void bytes(ByteView b) { out.insert(out.end(), b.begin(), b.end()); }
  void blob(ByteView b) {  // varint length + bytes
    varint(static_cast<std::uint32_t>(b.size()));
    bytes(b);
  }
};

struct Reader {
  ByteView in;
  std::size_t at = 0;
  bool ok = true;  // false after any read past the end or malformed varint; reads then return zeros

  bool done() const { return ok && at == in.size(); }
  std::size_t left() const { return in.size() - at; }
  std::uint8_t u8() {
    if (!ok || left() < 1) return fail8();
    return in[at++];
  }
  std::uint32_t u32() {
    if (!ok || left() < 4) return fail8();
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = v << 8 | in[at++];
    return v;
  }
  std::uint32_t varint() {
    std::uint32_t v = 0;
    for (int i = 0; i < 5; ++i) {
      const std::uint8_t b = u8();
      if (!ok) return 0;
      if (i == 4 && b > 0x0F) return fail8();                    // beyond 32 bits
      if (i > 0 && b == 0 && (in[at - 2] & 0x80)) return fail8();  // non-minimal encoding
      v |= static_cast<std::uint32_t>(b & 0x7F) << (7 * i);
      if (!(b & 0x80)) return v;
    }
    return fail8();
  }
  ByteView bytes(std::size_t n) {
    if (!ok || left() < n) {
      fail8();
      return {};
    }
    ByteView v = in.subspan(at, n);
    at += n;
    return v;
  }
  ByteView blob(std::size_t max) {
    const std::uint32_t n = varint();
    if (n > max) {
      fail8();
      return {};
    }
    return bytes(n);
  }

 private:
  std::uint8_t fail8() {
    ok = false;
    return 0;
  }
};

}  // namespace pushpeer::wire
