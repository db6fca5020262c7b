// Text that other people will see (names on cards): strict UTF-8 and nothing that can rearrange or hide what is
// shown next to it. A name is displayed in notifications and prompts ("Alice wants to connect"), so a right-to-left
// override, a newline or a NUL in it could make it pose as other text.
#pragma once
#include <cstdint>
#include <string_view>

namespace pushpeer::text {

// Strict UTF-8 (RFC 3629): the shortest form only (no overlong encodings such as C0 8A), no surrogates
// (U+D800..U+DFFF), nothing above U+10FFFF. Returns false on any violation.
bool valid_utf8(std::string_view s);

// valid_utf8, and no code point that is a control (C0, DEL, C1), a line or paragraph separator, a bidirectional
// control (U+061C, U+200E, U+200F, U+202A..U+202E, U+2066..U+2069), an invisible format character (U+200B..U+200D,
// U+2060..U+2064, U+FEFF, U+FFF9..U+FFFB) or a noncharacter (U+FDD0..U+FDEF, U+xxFFFE, U+xxFFFF).
bool valid_display_text(std::string_view s);

}  // namespace pushpeer::text
