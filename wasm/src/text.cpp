#include "pushpeer/text.hpp"
#include "pushpeer/for_size.hpp"

PUSHPEER_FOR_SIZE_BEGIN  // not hot: a few calls per connection (pushpeer/for_size.hpp)

namespace pushpeer::text {

namespace {

// Decodes one code point at s[i], advancing i; returns -1 for anything that is not strict UTF-8.
std::int32_t next(std::string_view s, std::size_t& i) {
  const auto byte = [&](std::size_t k) { return static_cast<std::uint8_t>(s[k]); };
  const std::uint8_t c = byte(i);
  if (c < 0x80) {
    ++i;
    return c;
  }
  std::size_t n;
  std::int32_t cp;
  std::int32_t min;
  if ((c & 0xE0) == 0xC0) {
    n = 2, cp = c & 0x1F, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3, cp = c & 0x0F, min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4, cp = c & 0x07, min = 0x10000;
  } else {
    return -1;  // a continuation byte first, or F8..FF
  }
  if (i + n > s.size()) return -1;
  for (std::size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return -1;
    cp = cp << 6 | (byte(i + k) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;  // overlong, too large, surrogate
  i += n;
  return cp;
}

bool displayable(std::int32_t cp) {
  if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) return false;                     // C0, DEL, C1
  if (cp == 0x061C || cp == 0x200E || cp == 0x200F) return false;                  // bidi marks
  if (cp >= 0x200B && cp <= 0x200D) return false;                                  // zero-width characters
  if (cp >= 0x2028 && cp <= 0x202E) return false;                                  // separators, bidi embeddings
  if (cp >= 0x2060 && cp <= 0x2069) return false;                                  // invisible operators, isolates
  if (cp == 0xFEFF || (cp >= 0xFFF9 && cp <= 0xFFFB)) return false;                // BOM, annotations
  if ((cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE) return false;     // noncharacters
  return true;
}

}  // namespace

bool valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    if (next(s, i) < 0) return false;
  }
  return true;
}

bool valid_display_text(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const std::int32_t cp = next(s, i);
    if (cp < 0 || !displayable(cp)) return false;
  }
  return true;
}

}  // namespace pushpeer::text

PUSHPEER_FOR_SIZE_END
