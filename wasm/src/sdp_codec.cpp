#include "pushpeer/sdp_codec.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>
#include <vector>

#include "sdp_dictionary.hpp"

// Version 2's additions run once per packed SDP: optimised for size, not speed (the module's gzip size is budgeted).
#if defined(__clang__)
#define PP_SIZE [[clang::minsize, gnu::noinline]]
#else
#define PP_SIZE
#endif

namespace pushpeer::sdp {

namespace {

// First byte: version (high nibble) and mode (low nibble). Version 1 = this layout + dictionary v1; version 2 adds
// the ICE priority token (kIcePriority) and dictionary v2. pack() writes version 2; unpack() reads both.
constexpr std::uint8_t kVersion1 = 1;
constexpr std::uint8_t kVersion2 = 2;
constexpr std::uint8_t kPackVersion = kVersion2;

// Token markers in the skeleton text. SDP on the token path is printable ASCII plus TAB, CR and LF, so these
// bytes never occur in it.
enum Marker : std::uint8_t {
  kFingerprint = 0x01,  // 32 bytes: "XX:XX:...:XX", upper-case hex (a=fingerprint:sha-256)
  kUuid = 0x02,         // 16 bytes: 8-4-4-4-12 lower-case hex (msid, mDNS host names)
  kHex = 0x03,          // n (1 byte), n bytes: 2n lower-case hex digits, n in 4..255 (Firefox ICE credentials)
  kU32 = 0x04,          // 4 bytes big-endian: a 9- or 10-digit decimal (priorities), 5 to 10 for foundations, ssrcs
  kU64 = 0x05,          // 8 bytes big-endian: an 11- to 20-digit decimal (session ids)
  kU16 = 0x06,          // 2 bytes big-endian: a 5-digit decimal (ports)
  kIceChars = 0x07,     // n (1 byte), ceil(6n/8) bytes: n characters of [A-Za-z0-9+/] packed 6 bits each
  kRepeat = 0x08,       // followed in the skeleton by d (1..255): the same text as the d-th previous token
  kIpv4 = 0x0B,         // 4 bytes: dotted quad (not 0.0.0.0 or 127.0.0.1, which the dictionary holds)
  kIpv6 = 0x0C,         // m (1 byte: bit i set = group i non-zero), 2 bytes per non-zero group: RFC 5952 text
  kIce4 = 0x0E,         // 3 bytes: kIceChars with n = 4 (Chromium's ICE ufrag)
  kIce24 = 0x0F,        // 18 bytes: kIceChars with n = 24 (Chromium's ICE pwd)
  kHex4 = 0x10,         // 4 bytes: kHex with n = 4 (Firefox's ICE ufrag)
  kHex16 = 0x11,        // 16 bytes: kHex with n = 16 (Firefox's ICE pwd)
  kPriority = 0x12,     // 3 bytes b0 b1 b2: the decimal of b0 b1 b2 0xFF (ICE priority of a component-1 candidate)
  // Version 2 only. The priority of an a=candidate line, (type preference << 24) | (local preference << 8) |
  // (256 - component), RFC 8445 §5.1.2.1. Followed in the skeleton by t = type preference + 1 and by
  // s = 1 + 11 * (component - 1) + how the local preference is given (Local); its field is 0 to 2 bytes.
  kIcePriority = 0x13,
  // Version 2 only. Before a run of n (2..8) a=candidate lines: the skeleton has them in a canonical order (host,
  // srflx, prflx, relay, others; UDP before TCP, then IPv4 before IPv6 within each; otherwise as given) so that the
  // order in which a browser's gathering finished costs little. Followed in the skeleton by n and 2 bytes (big-
  // endian): the rank of the permutation that gives back the original order, its Lehmer code read in the factorial
  // number system (0: it was already canonical).
  kCandidateOrder = 0x14,
};
constexpr std::size_t kMaxOrderedLines = 8;

constexpr std::size_t factorial(std::size_t n) { return n < 2 ? 1 : n * factorial(n - 1); }

// How kIcePriority gives the local preference, against `recent`, the local preferences of the SDP's earlier
// kIcePriority tokens, most recent first, each once, at most 4. Browsers give every candidate of one interface the
// same local preference, or one a few steps off it (Chromium's relay, Firefox's srflx and relay candidates).
enum Local : std::uint8_t {
  kLocalLiteral = 0,  // 2 bytes big-endian
  kLocalRecent = 1,   // 1..4: recent[0..3], no bytes
  kLocalNext = 5,     // 5, 6: recent[0] + 1, recent[1] + 1, no bytes
  kLocalPrevious = 7, // 7, 8: recent[0] - 1, recent[1] - 1, no bytes
  kLocalHigh = 9,     // 9, 10: the high byte of recent[0], recent[1], then 1 byte: the low byte
  kLocalCodes = 11,
};
// The recent local preferences: most recent first, each value once, at most four.
struct Recent {
  std::uint16_t value[4] = {};
  std::size_t size = 0;

  PP_SIZE void remember(std::uint16_t local) {
    std::size_t at = 0;
    while (at < size && value[at] != local) ++at;
    if (at == size && size < 4) ++size;
    for (std::size_t k = at < 4 ? at : 3; k > 0; --k) value[k] = value[k - 1];
    value[0] = local;
  }
};

// Decodes a kIcePriority token: its priority, or -1 if the parameters name none. `field` holds `available` bytes;
// `used` receives how many the token takes. The encoder calls it too, to find and check its choice.
PP_SIZE std::int64_t ice_priority(std::uint8_t t, std::uint8_t s, const Recent& recent, const std::uint8_t* field,
                                  std::size_t available, std::size_t& used) {
  if (t == 0 || s == 0 || s > 2 * kLocalCodes) return -1;
  const unsigned component = 1 + (s - 1) / kLocalCodes;
  const unsigned code = (s - 1) % kLocalCodes;
  used = code == kLocalLiteral ? 2 : code >= kLocalHigh ? 1 : 0;
  if (available < used) return -1;
  unsigned local = code == kLocalLiteral ? field[0] << 8 | field[1] : 0;
  if (code != kLocalLiteral) {
    const std::size_t which = code < kLocalNext ? code - kLocalRecent : (code - kLocalNext) % 2;
    if (which >= recent.size) return -1;
    local = recent.value[which];
    if (code >= kLocalHigh) {
      local = (local & 0xFF00) | field[0];
    } else if (code >= kLocalNext) {
      local = (code < kLocalPrevious ? local + 1 : local - 1) & 0xFFFF;
    }
  }
  return std::int64_t{t - 1} << 24 | local << 8 | (256 - component);
}

constexpr char kBase64Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Markers whose field starts with a count byte.
bool counted(std::uint8_t m) { return m == kHex || m == kIceChars || m == kIpv6; }

// Fixed-length aliases of counted markers: (alias, base marker, count).
struct Alias {
  std::uint8_t alias, base, count;
};
constexpr Alias kAliases[] = {{kIce4, kIceChars, 4}, {kIce24, kIceChars, 24}, {kHex4, kHex, 4}, {kHex16, kHex, 16}};

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_lower_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f'); }
bool is_upper_hex(char c) { return is_digit(c) || (c >= 'A' && c <= 'F'); }
bool is_alnum(char c) { return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
int ice_value(char c) {
  const char* p = std::strchr(kBase64Alphabet, c);
  return c != '\0' && p != nullptr ? static_cast<int>(p - kBase64Alphabet) : -1;
}
int hex_value(char c) {
  if (is_digit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Only SDP that is printable ASCII (plus TAB, CR, LF) takes the token path.
bool tokenizable(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u >= 0x20 && u < 0x7F) || c == '\t' || c == '\r' || c == '\n';
  });
}

// --- rendering (shared by both directions: pack keeps a token only if rendering reproduces its text) ---

void put_hex(std::string& out, std::uint8_t b, const char* digits) {
  out += digits[b >> 4];
  out += digits[b & 15];
}

std::string render_ipv6(const std::uint8_t* b) {
  // RFC 5952: lower case, no leading zeros, the longest run (first if tied) of two or more zero groups as "::".
  std::uint16_t g[8];
  for (int i = 0; i < 8; ++i) g[i] = static_cast<std::uint16_t>(b[2 * i] << 8 | b[2 * i + 1]);
  int best = -1, best_len = 0;
  for (int i = 0; i < 8;) {
    if (g[i] != 0) {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && g[j] == 0) ++j;
    if (j - i > best_len && j - i >= 2) {
      best = i;
      best_len = j - i;
    }
    i = j;
  }
  std::string out;
  static constexpr char kDigits[] = "0123456789abcdef";
  for (int i = 0; i < 8; ++i) {
    if (i == best) {
      out += "::";
      i += best_len - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out += ':';
    char buf[5];
    int n = 0;
    bool started = false;
    for (int shift = 12; shift >= 0; shift -= 4) {
      const int d = (g[i] >> shift) & 15;
      if (d != 0 || started || shift == 0) {
        buf[n++] = kDigits[d];
        started = true;
      }
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

std::string render_token(std::uint8_t marker, const std::uint8_t* f, std::size_t n) {
  std::string out;
  for (const Alias& a : kAliases) {
    if (marker == a.alias) return render_token(a.base, f, a.count);
  }
  switch (marker) {
    case kFingerprint:
      for (std::size_t i = 0; i < 32; ++i) {
        if (i) out += ':';
        put_hex(out, f[i], "0123456789ABCDEF");
      }
      break;
    case kUuid:
      for (std::size_t i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
        put_hex(out, f[i], "0123456789abcdef");
      }
      break;
    case kHex:
      for (std::size_t i = 0; i < n; ++i) put_hex(out, f[i], "0123456789abcdef");
      break;
    case kU16:
    case kU32:
    case kU64: {
      std::uint64_t v = 0;
      for (std::size_t i = 0; i < n; ++i) v = v << 8 | f[i];
      out = std::to_string(v);
      break;
    }
    case kIceChars: {  // n characters from ceil(6n/8) bytes
      std::uint32_t acc = 0;
      int bits = 0;
      std::size_t k = 0;
      for (std::size_t i = 0; i < n; ++i) {
        while (bits < 6) {
          acc = acc << 8 | f[k++];
          bits += 8;
        }
        bits -= 6;
        out += kBase64Alphabet[(acc >> bits) & 63];
      }
      break;
    }
    case kIpv4:
      out = std::to_string(f[0]) + "." + std::to_string(f[1]) + "." + std::to_string(f[2]) + "." + std::to_string(f[3]);
      break;
    case kIpv6: {  // n is the group mask; f holds the non-zero groups
      std::uint8_t full[16] = {};
      std::size_t k = 0;
      for (int g = 0; g < 8; ++g) {
        if (n & (1u << g)) {
          full[2 * g] = f[k++];
          full[2 * g + 1] = f[k++];
        }
      }
      out = render_ipv6(full);
      break;
    }
    case kPriority: {
      const std::uint32_t v = std::uint32_t{f[0]} << 24 | std::uint32_t{f[1]} << 16 | std::uint32_t{f[2]} << 8 | 0xFF;
      out = std::to_string(v);
      break;
    }
  }
  return out;
}

// Bytes of the field for a marker (kHex and kIceChars: given the count byte).
std::size_t field_length(std::uint8_t marker, std::size_t count) {
  switch (marker) {
    case kFingerprint: return 32;
    case kUuid: return 16;
    case kHex: return count;
    case kU32: return 4;
    case kU64: return 8;
    case kU16: return 2;
    case kIceChars: return (6 * count + 7) / 8;
    case kIpv4: return 4;
    case kIpv6: return 2 * static_cast<std::size_t>(__builtin_popcount(static_cast<unsigned>(count)));
    case kIce4: return 3;
    case kIce24: return 18;
    case kHex4: return 4;
    case kHex16: return 16;
    case kPriority: return 3;
  }
  return 0;
}


// --- tokenizer ---

struct Token {
  std::uint8_t marker;
  Bytes field;  // including the count byte for kHex / kIceChars
  std::size_t length;  // characters of text it replaces
};

std::optional<Token> match_fingerprint(std::string_view s) {
  if (s.size() < 95) return std::nullopt;
  Token t{kFingerprint, Bytes(32), 95};
  for (std::size_t i = 0; i < 32; ++i) {
    const char a = s[3 * i], b = s[3 * i + 1];
    if (!is_upper_hex(a) || !is_upper_hex(b) || (i < 31 && s[3 * i + 2] != ':')) return std::nullopt;
    t.field[i] = static_cast<std::uint8_t>(hex_value(a) << 4 | hex_value(b));
  }
  return t;
}

std::optional<Token> match_uuid(std::string_view s) {
  if (s.size() < 36) return std::nullopt;
  Token t{kUuid, Bytes(16), 36};
  std::size_t k = 0;
  for (std::size_t i = 0; i < 36;) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return std::nullopt;
      ++i;
      continue;
    }
    if (!is_lower_hex(s[i]) || !is_lower_hex(s[i + 1])) return std::nullopt;
    t.field[k++] = static_cast<std::uint8_t>(hex_value(s[i]) << 4 | hex_value(s[i + 1]));
    i += 2;
  }
  if (s.size() > 36 && is_alnum(s[36])) return std::nullopt;
  return t;
}

std::optional<Token> match_ipv4(std::string_view s) {
  std::size_t end = 0;
  while (end < s.size() && (is_digit(s[end]) || s[end] == '.')) ++end;
  if (end < s.size() && is_alnum(s[end])) return std::nullopt;
  const std::string_view text = s.substr(0, end);
  Token t{kIpv4, Bytes(4), end};
  std::size_t part = 0, i = 0;
  while (part < 4) {
    std::size_t j = i;
    unsigned v = 0;
    while (j < text.size() && is_digit(text[j]) && j - i < 3) v = v * 10 + static_cast<unsigned>(text[j++] - '0');
    if (j == i || v > 255) return std::nullopt;
    t.field[part++] = static_cast<std::uint8_t>(v);
    i = j;
    if (part < 4) {
      if (i >= text.size() || text[i] != '.') return std::nullopt;
      ++i;
    }
  }
  if (i != text.size()) return std::nullopt;
  if (text == "0.0.0.0" || text == "127.0.0.1") return std::nullopt;  // cheaper from the dictionary
  return t;  // canonical form is checked by re-rendering
}

std::optional<Token> match_ipv6(std::string_view s) {
  std::size_t end = 0;
  while (end < s.size() && (is_lower_hex(s[end]) || s[end] == ':')) ++end;
  if (end < s.size() && (is_alnum(s[end]) || s[end] == '.')) return std::nullopt;
  const std::string_view text = s.substr(0, end);
  if (std::count(text.begin(), text.end(), ':') < 2 || text.size() > 39) return std::nullopt;
  // Parse groups around at most one "::".
  std::vector<std::uint16_t> head, tail;
  bool gap = false;
  std::vector<std::uint16_t>* cur = &head;
  std::size_t i = 0;
  if (text.starts_with("::")) {
    gap = true;
    cur = &tail;
    i = 2;
  }
  while (i < text.size()) {
    std::size_t j = i;
    unsigned v = 0;
    while (j < text.size() && text[j] != ':' && j - i < 4) v = v << 4 | static_cast<unsigned>(hex_value(text[j++]));
    if (j == i || (j < text.size() && text[j] != ':')) return std::nullopt;
    cur->push_back(static_cast<std::uint16_t>(v));
    i = j;
    if (i == text.size()) break;
    if (text.substr(i).starts_with("::")) {
      if (gap) return std::nullopt;
      gap = true;
      cur = &tail;
      i += 2;
    } else {
      ++i;
      if (i == text.size()) return std::nullopt;
    }
  }
  if (head.size() + tail.size() > (gap ? 7u : 8u) || (!gap && head.size() != 8)) return std::nullopt;
  std::uint16_t groups[8] = {};
  for (std::size_t g = 0; g < head.size(); ++g) groups[g] = head[g];
  for (std::size_t g = 0; g < tail.size(); ++g) groups[8 - tail.size() + g] = tail[g];
  Token t{kIpv6, Bytes(1, 0), end};
  for (int g = 0; g < 8; ++g) {
    if (groups[g] == 0) continue;
    t.field[0] = static_cast<std::uint8_t>(t.field[0] | (1u << g));
    t.field.push_back(static_cast<std::uint8_t>(groups[g] >> 8));
    t.field.push_back(static_cast<std::uint8_t>(groups[g]));
  }
  if (t.field[0] == 0) return std::nullopt;  // "::" is shorter as text
  return t;
}

// `random_id`: the run is a random 32-bit identifier (a candidate foundation, an SSRC), which has fewer than
// nine digits about once in forty; elsewhere 6- to 8-digit decimals are constants the dictionary holds as text.
std::optional<Token> match_decimal(std::string_view run, bool random_id) {
  if (run.size() < 5 || run.size() > 20 || run[0] == '0') return std::nullopt;
  if (run.size() >= 6 && run.size() <= 8 && !random_id) return std::nullopt;  // cheaper as deflated text
  std::uint64_t v = 0;
  for (char c : run) {
    const std::uint64_t d = static_cast<std::uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  std::uint8_t marker;
  std::size_t n;
  if (random_id && run.size() <= 10 && v <= 0xFFFFFFFFu) {
    // Always this marker, whatever the value: an id's skeleton then matches the dictionary's, where a rarer
    // marker would cost more in deflate than its shorter field saves.
    marker = kU32;
    n = 4;
  } else if (run.size() == 5 && v <= 0xFFFF) {
    marker = kU16;
    n = 2;
  } else if (run.size() >= 9 && run.size() <= 10 && v <= 0xFFFFFFFFu && (v & 0xFF) == 0xFF) {
    Token t{kPriority, Bytes(3), run.size()};
    for (std::size_t i = 0; i < 3; ++i) t.field[i] = static_cast<std::uint8_t>(v >> (8 * (3 - i)));
    return t;
  } else if (run.size() >= 9 && run.size() <= 10 && v <= 0xFFFFFFFFu) {
    marker = kU32;
    n = 4;
  } else if (run.size() >= 11) {
    marker = kU64;
    n = 8;
  } else {
    return std::nullopt;
  }
  Token t{marker, Bytes(n), run.size()};
  for (std::size_t i = 0; i < n; ++i) t.field[n - 1 - i] = static_cast<std::uint8_t>(v >> (8 * i));
  return t;
}

std::optional<Token> match_hex_run(std::string_view run) {
  if (run.size() < 8 || run.size() > 510 || run.size() % 2 != 0) return std::nullopt;
  if (!std::all_of(run.begin(), run.end(), is_lower_hex)) return std::nullopt;
  if (std::all_of(run.begin(), run.end(), is_digit)) return std::nullopt;
  Token t{kHex, Bytes(1 + run.size() / 2), run.size()};
  t.field[0] = static_cast<std::uint8_t>(run.size() / 2);
  for (std::size_t i = 0; i < run.size() / 2; ++i) {
    t.field[1 + i] = static_cast<std::uint8_t>(hex_value(run[2 * i]) << 4 | hex_value(run[2 * i + 1]));
  }
  return t;
}

std::optional<Token> match_ice_chars(std::string_view s) {
  std::size_t n = 0;
  while (n < s.size() && n < 255 && ice_value(s[n]) >= 0) ++n;
  if (n < 4 || (n < s.size() && ice_value(s[n]) >= 0)) return std::nullopt;
  if (auto hex = match_hex_run(s.substr(0, n))) return hex;  // Firefox: hex credentials pack tighter
  Token t{kIceChars, Bytes(1 + (6 * n + 7) / 8, 0), n};
  t.field[0] = static_cast<std::uint8_t>(n);
  std::uint32_t acc = 0;
  int bits = 0;
  std::size_t k = 1;
  for (std::size_t i = 0; i < n; ++i) {
    acc = acc << 6 | static_cast<std::uint32_t>(ice_value(s[i]));
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      t.field[k++] = static_cast<std::uint8_t>(acc >> bits);
    }
  }
  if (bits > 0) t.field[k] = static_cast<std::uint8_t>(acc << (8 - bits));
  return t;
}

// ICE credentials and RTCP CNAMEs: random characters of the base64 alphabet after these prefixes.
bool ice_context(std::string_view before) {
  for (std::string_view p : {"a=ice-ufrag:", "a=ice-pwd:", "cname:", " ufrag "}) {
    if (before.ends_with(p)) return true;
  }
  return false;
}

// Candidate foundations (Chromium: a CRC32 in decimal) and SSRCs (a=ssrc, and the list of an a=ssrc-group).
bool random_id_context(std::string_view before) {
  if (before.ends_with("a=candidate:") || before.ends_with("a=ssrc:")) return true;
  const std::size_t line = before.rfind('\n') + 1;  // npos + 1 == 0: the first line
  return before.substr(line).starts_with("a=ssrc-group:") && before.ends_with(' ');
}

std::optional<Token> next_token(std::string_view s, std::size_t i) {
  const std::string_view rest = s.substr(i);
  if (ice_context(s.substr(0, i))) {
    if (auto t = match_ice_chars(rest)) return t;
  }
  if (i > 0 && is_alnum(s[i - 1])) return std::nullopt;  // tokens start at word boundaries
  const char c = s[i];
  if (!is_alnum(c) && c != ':') return std::nullopt;
  if (auto t = match_fingerprint(rest)) return t;
  if (auto t = match_uuid(rest)) return t;
  if (is_digit(c)) {
    if (auto t = match_ipv4(rest)) return t;
  }
  if (is_lower_hex(c) || c == ':') {
    if (auto t = match_ipv6(rest)) return t;
  }
  std::size_t end = 0;
  while (end < rest.size() && is_alnum(rest[end])) ++end;
  const std::string_view run = rest.substr(0, end);
  if (!run.empty() && std::all_of(run.begin(), run.end(), is_digit)) {
    return match_decimal(run, random_id_context(s.substr(0, i)));
  }
  return match_hex_run(run);
}

struct Tokenized {
  std::string skeleton;
  Bytes fields;
};

// Version 2: takes the priority of an a=candidate line, its fourth field ("a=candidate:<foundation> <component>
// <transport> <priority> ..."), as a kIcePriority token when it is the canonical decimal of a priority of component
// 1 or 2, naming the local preference the cheapest way (the first code of Local that gives it); advances `i`.
PP_SIZE bool take_ice_priority(std::string_view s, std::size_t& i, Recent& recent, Tokenized& out,
                               std::vector<std::string>& history) {
  // The cheap test first, and the walk back to the line's start stops past three spaces: a long line of numbers
  // must not cost a walk per number.
  if (i == 0 || s[i - 1] != ' ') return false;
  std::size_t line = i, spaces = 0;
  while (line > 0 && s[line - 1] != '\n' && spaces <= 3) spaces += s[--line] == ' ';
  if (spaces != 3 || s.substr(line, 12) != "a=candidate:") return false;
  std::size_t end = i;
  std::uint64_t v = 0;
  while (end < s.size() && is_digit(s[end]) && v <= 0xFFFFFFFF) v = v * 10 + static_cast<unsigned>(s[end++] - '0');
  if ((end < s.size() && is_alnum(s[end])) || (s[i] == '0' && end - i > 1)) return false;
  if (v > 0xFFFFFFFF || (v & 0xFF) < 254 || v >> 24 == 255) return false;
  const std::uint8_t bytes[2] = {static_cast<std::uint8_t>(v >> 16), static_cast<std::uint8_t>(v >> 8)};
  const char t = static_cast<char>((v >> 24) + 1);
  for (unsigned k = 1; k <= kLocalCodes; ++k) {
    const unsigned code = k % kLocalCodes;  // kLocalRecent first; kLocalLiteral, which always fits, last
    const std::uint8_t* f = code >= kLocalHigh ? bytes + 1 : bytes;
    const char params[3] = {static_cast<char>(kIcePriority), t,
                            static_cast<char>(1 + kLocalCodes * (255 - (v & 0xFF)) + code)};
    std::size_t used = 0;
    if (ice_priority(static_cast<std::uint8_t>(t), static_cast<std::uint8_t>(params[2]), recent, f,
                     static_cast<std::size_t>(bytes + 2 - f), used) == static_cast<std::int64_t>(v)) {
      out.skeleton.append(params, 3);
      for (std::size_t b = 0; b < used; ++b) out.fields.push_back(f[b]);
      history.push_back(std::to_string(v));
      recent.remember(static_cast<std::uint16_t>(v >> 8));
      i = end;
      return true;
    }
  }
  return false;
}

// The canonical rank of a candidate line ("a=candidate:<foundation> <component> <transport> <priority> <address>
// <port> typ <type> ..."): by type (host, srflx, prflx, relay, other), then UDP before anything else, then IPv4
// (no ':' in the address) before IPv6.
PP_SIZE int candidate_key(std::string_view line) {
  std::string_view field[8];
  std::size_t n = 0;
  for (std::size_t at = 0; n < 8 && at <= line.size();) {
    const std::size_t end = std::min(line.find_first_of(" \r\n", at), line.size());
    field[n++] = line.substr(at, end - at);
    at = end + 1;
  }
  const std::string_view type = n == 8 && field[6] == "typ" ? field[7] : std::string_view();
  const int rank = type == "host" ? 0 : type == "srflx" ? 1 : type == "prflx" ? 2 : type == "relay" ? 3 : 4;
  return 4 * rank + 2 * (field[2] != "udp" && field[2] != "UDP") + (field[4].find(':') != std::string_view::npos);
}

// Version 2: the text with every run of 2..8 a=candidate lines (each ending in LF) in canonical order (stable by
// candidate_key), and the kCandidateOrder bytes to put in the skeleton where each run starts in that text.
PP_SIZE std::string canonical_candidates(std::string_view s, std::vector<std::size_t>& mark_at, std::string& marks) {
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    std::string_view lines[kMaxOrderedLines];
    std::size_t n = 0, end = i;
    while (n < kMaxOrderedLines && s.substr(end).starts_with("a=candidate:") &&
           s.find('\n', end) != std::string_view::npos) {
      lines[n] = s.substr(end, s.find('\n', end) + 1 - end);
      end += lines[n++].size();
    }
    if (n < 2) {  // copy one line
      end = s.find('\n', i);
      end = end == std::string_view::npos ? s.size() : end + 1;
      out.append(s.substr(i, end - i));
      i = end;
      continue;
    }
    // position[j]: where line j goes in canonical order (insertion by key; equal keys keep their order).
    int key[kMaxOrderedLines];
    std::size_t position[kMaxOrderedLines], order[kMaxOrderedLines];
    for (std::size_t j = 0; j < n; ++j) {
      key[j] = candidate_key(lines[j]);
      std::size_t k = j;
      for (; k > 0 && key[order[k - 1]] > key[j]; --k) order[k] = order[k - 1];
      order[k] = j;
    }
    for (std::size_t k = 0; k < n; ++k) position[order[k]] = k;
    std::size_t rank = 0;  // the Lehmer code (for each line, the later lines that go before it) as one number
    for (std::size_t j = 0; j + 1 < n; ++j) {
      std::size_t digit = 0;
      for (std::size_t k = j + 1; k < n; ++k) digit += position[k] < position[j];
      rank = rank * (n - j) + digit;
    }
    mark_at.push_back(out.size());
    marks += static_cast<char>(kCandidateOrder);
    marks += static_cast<char>(n);
    marks += static_cast<char>(rank >> 8);
    marks += static_cast<char>(rank);
    for (std::size_t k = 0; k < n; ++k) out.append(lines[order[k]]);
    i = end;
  }
  return out;
}

// Splits text into skeleton (markers in place of tokens) and the tokens' binary fields, with the tokens of
// `version` (from version 2 on: candidate runs in canonical order, kCandidateOrder and kIcePriority).
Tokenized tokenize(std::string_view input, std::uint8_t version) {
  Tokenized out;
  std::vector<std::string> history;  // rendered text of every token so far, for kRepeat
  Recent recent;  // local preferences of the kIcePriority tokens so far
  std::vector<std::size_t> mark_at;
  std::string marks;
  const std::string canonical = version >= kVersion2 ? canonical_candidates(input, mark_at, marks) : std::string();
  const std::string_view s = version >= kVersion2 ? std::string_view(canonical) : input;
  std::size_t i = 0, next_mark = 0;
  while (i < s.size()) {
    if (next_mark < mark_at.size() && mark_at[next_mark] == i) out.skeleton.append(marks, 4 * next_mark++, 4);
    if (version >= kVersion2 && is_digit(s[i]) && take_ice_priority(s, i, recent, out, history)) continue;
    std::optional<Token> t = next_token(s, i);
    if (t) {
      const bool has_count = counted(t->marker);
      const std::size_t count = has_count ? t->field[0] : 0;
      const std::uint8_t* body = t->field.data() + (has_count ? 1 : 0);
      std::string text = render_token(t->marker, body, has_count ? count : t->field.size());
      for (const Alias& a : kAliases) {  // the common lengths need no count byte
        if (t->marker == a.base && count == a.count) {
          t->marker = a.alias;
          t->field.erase(t->field.begin());
        }
      }
      if (text == s.substr(i, t->length)) {  // keep a token only if it renders back exactly
        auto same = std::find(history.rbegin(), history.rend(), text);
        const std::size_t distance = static_cast<std::size_t>(same - history.rbegin()) + 1;
        if (same != history.rend() && distance <= 255) {
          out.skeleton += static_cast<char>(kRepeat);
          out.skeleton += static_cast<char>(distance);
        } else {
          out.skeleton += static_cast<char>(t->marker);
          out.fields.insert(out.fields.end(), t->field.begin(), t->field.end());
        }
        history.push_back(std::move(text));
        i += t->length;
        continue;
      }
    }
    // Copy a whole alphanumeric run at once, so a token never starts inside a word.
    std::size_t j = i + 1;
    if (is_alnum(s[i])) {
      while (j < s.size() && is_alnum(s[j])) ++j;
    }
    out.skeleton.append(s.substr(i, j - i));
    i = j;
  }
  return out;
}

// Puts the lines of a kCandidateOrder run (from `start` to the end of `sdp`, in canonical order) back in their
// original order: original line j is the canonical line the j-th Lehmer digit of `rank` (< n!) picks among those
// not yet taken.
PP_SIZE void reorder_run(std::string& sdp, std::size_t start, std::size_t rank) {
  std::size_t begin[kMaxOrderedLines], n = 0;  // where each canonical line starts (each ends in LF)
  for (std::size_t at = start; at < sdp.size() && n < kMaxOrderedLines; at = sdp.find('\n', at) + 1) begin[n++] = at;
  std::string out;
  for (std::size_t left = n; left > 0; --left) {
    const std::size_t weight = factorial(left - 1);
    const std::size_t pick = rank / weight;  // among the lines not yet taken
    rank %= weight;
    const std::size_t at = begin[pick];
    out.append(sdp, at, sdp.find('\n', at) + 1 - at);
    for (std::size_t k = pick; k + 1 < left; ++k) begin[k] = begin[k + 1];
  }
  sdp.replace(start, std::string::npos, out);
}

// Inverse of tokenize. `consumed` receives the bytes of fields read.
Status render(std::string_view skeleton, ByteView fields, std::uint8_t version, std::string& sdp,
              std::size_t& consumed) {
  std::vector<std::string> history;
  Recent recent;
  std::size_t f = 0;
  // A kCandidateOrder run being rendered: where it starts, how many lines are still to come, and the rank of the
  // permutation that gives back the original order.
  std::size_t run_start = 0, run_left = 0, run_rank = 0;
  sdp.clear();
  for (std::size_t i = 0; i < skeleton.size(); ++i) {
    const auto m = static_cast<std::uint8_t>(skeleton[i]);
    std::string text;
    if (m == kCandidateOrder && version >= kVersion2) {
      if (run_left != 0 || i + 3 >= skeleton.size()) return Status::bad_packed_sdp;
      const std::size_t n = static_cast<std::uint8_t>(skeleton[i + 1]);
      run_rank = static_cast<std::size_t>(static_cast<std::uint8_t>(skeleton[i + 2]) << 8 |
                                          static_cast<std::uint8_t>(skeleton[i + 3]));
      if (n < 2 || n > kMaxOrderedLines || run_rank >= factorial(n)) return Status::bad_packed_sdp;
      run_start = sdp.size();
      run_left = n;
      i += 3;
      continue;
    }
    if (m == kIcePriority && version >= kVersion2) {
      if (i + 2 >= skeleton.size()) return Status::bad_packed_sdp;
      std::size_t used = 0;
      const std::int64_t v = ice_priority(static_cast<std::uint8_t>(skeleton[i + 1]),
                                          static_cast<std::uint8_t>(skeleton[i + 2]), recent, fields.data() + f,
                                          fields.size() - f, used);
      if (v < 0) return Status::bad_packed_sdp;
      i += 2;
      f += used;
      recent.remember(static_cast<std::uint16_t>(v >> 8));
      text = std::to_string(static_cast<std::uint64_t>(v));
    } else if (m == kRepeat) {
      if (i + 1 >= skeleton.size()) return Status::bad_packed_sdp;
      const auto d = static_cast<std::uint8_t>(skeleton[++i]);
      if (d == 0 || d > history.size()) return Status::bad_packed_sdp;
      text = history[history.size() - d];
    } else if ((m >= kFingerprint && m <= kU16) || m == kIceChars || m == kIpv4 || m == kIpv6 ||
               (m >= kIce4 && m <= kPriority)) {
      std::size_t count = 0;
      if (counted(m)) {
        if (f >= fields.size()) return Status::bad_packed_sdp;
        count = fields[f++];
        if (count == 0) return Status::bad_packed_sdp;
      }
      const std::size_t n = field_length(m, count);
      if (fields.size() - f < n) return Status::bad_packed_sdp;
      text = render_token(m, fields.data() + f, counted(m) ? count : n);
      f += n;
    } else {
      // Plain text: only what the token path accepts on input, so the skeleton stays canonical.
      if (!((m >= 0x20 && m < 0x7F) || m == '\t' || m == '\r' || m == '\n')) return Status::bad_packed_sdp;
      sdp += static_cast<char>(m);
      if (sdp.size() > kMaxSdpLength) return Status::bad_packed_sdp;
      if (m == '\n' && run_left != 0 && --run_left == 0) reorder_run(sdp, run_start, run_rank);
      continue;
    }
    sdp += text;
    if (sdp.size() > kMaxSdpLength) return Status::bad_packed_sdp;
    history.push_back(std::move(text));
  }
  if (run_left != 0) return Status::bad_packed_sdp;  // a run cut short
  consumed = f;
  return Status::ok;
}

// --- deflate with an optional preset dictionary (raw streams: no zlib header or checksum) ---

Status deflate_raw(ByteView in, ByteView dictionary, Bytes& out) {
  z_stream z{};
  if (deflateInit2(&z, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY) != Z_OK) return Status::internal;
  if (!dictionary.empty() &&
      deflateSetDictionary(&z, dictionary.data(), static_cast<uInt>(dictionary.size())) != Z_OK) {
    deflateEnd(&z);
    return Status::internal;
  }
  out.resize(deflateBound(&z, static_cast<uLong>(in.size())) + 16);
  z.next_in = const_cast<Bytef*>(in.data());
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  const int r = deflate(&z, Z_FINISH);
  out.resize(out.size() - z.avail_out);
  deflateEnd(&z);
  return r == Z_STREAM_END ? Status::ok : Status::internal;
}

// Inflates one raw stream from the start of `in`, at most `limit` bytes of output. `consumed` is the length
// of the compressed stream (what follows it is not deflate data).
Status inflate_raw(ByteView in, ByteView dictionary, std::size_t limit, std::string& out, std::size_t& consumed) {
  z_stream z{};
  if (inflateInit2(&z, -15) != Z_OK) return Status::internal;
  if (!dictionary.empty() &&
      inflateSetDictionary(&z, dictionary.data(), static_cast<uInt>(dictionary.size())) != Z_OK) {
    inflateEnd(&z);
    return Status::internal;
  }
  out.assign(limit + 1, '\0');  // one byte more than allowed, to detect an over-long stream
  z.next_in = const_cast<Bytef*>(in.data());
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int r = inflate(&z, Z_FINISH);
  const std::size_t produced = out.size() - z.avail_out;
  consumed = in.size() - z.avail_in;
  inflateEnd(&z);
  if (r != Z_STREAM_END || produced > limit) return Status::bad_packed_sdp;
  out.resize(produced);
  return Status::ok;
}

// A dictionary's text in tokenised form, with the tokens of `version`.
Bytes tokenized_dictionary(std::string_view lines, std::uint8_t version) {
  // Each session description ("v=0" onwards) is tokenised on its own, as a packed SDP is, so that the
  // dictionary's back-references (kRepeat) look like those of a real skeleton.
  std::string text;
  for (char c : lines) {
    if (c == '\n') text += '\r';
    text += c;
  }
  Bytes dict;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t next = text.find("\r\nv=0\r\n", start);
    next = next == std::string::npos ? text.size() : next + 2;
    const Tokenized t = tokenize(std::string_view(text).substr(start, next - start), version);
    dict.insert(dict.end(), t.skeleton.begin(), t.skeleton.end());
    start = next;
  }
  return dict;
}

// The preset dictionary of a version, built once (docs/PROTOCOL.md §2.3).
ByteView dictionary(std::uint8_t version) {
  if (version == kVersion1) {
    static const Bytes v1 = tokenized_dictionary(detail::dictionary_v1_text(), kVersion1);
    return v1;
  }
  static const Bytes v2 = tokenized_dictionary(detail::dictionary_v2_text(), kVersion2);
  return v2;
}

}  // namespace

Status pack(std::string_view sdp, Bytes& packed) { return pack_version(sdp, kPackVersion, packed); }

Status pack_version(std::string_view sdp, std::uint8_t version, Bytes& packed) {
  packed.clear();
  if (version != kVersion1 && version != kVersion2) return Status::unsupported_version;
  if (sdp.empty() || sdp.size() > kMaxSdpLength) return Status::bad_sdp;
  const ByteView dict = dictionary(version);
  std::vector<Bytes> candidates;

  if (tokenizable(sdp)) {
    const Tokenized t = tokenize(sdp, version);
    Bytes body;
    if (Status s = deflate_raw(as_bytes(t.skeleton), dict, body); s != Status::ok) return s;
    Bytes c{static_cast<std::uint8_t>(version << 4 | static_cast<std::uint8_t>(Mode::tokens))};
    c.insert(c.end(), body.begin(), body.end());
    c.insert(c.end(), t.fields.begin(), t.fields.end());
    // Belt and braces: use the token path only if it provably gives the same text back.
    std::string check;
    if (unpack(c, check) == Status::ok && check == sdp) candidates.push_back(std::move(c));
  }
  for (Mode mode : {Mode::dictionary, Mode::deflate}) {
    Bytes body;
    if (Status s = deflate_raw(as_bytes(sdp), mode == Mode::dictionary ? dict : ByteView(), body); s != Status::ok) {
      return s;
    }
    Bytes c{static_cast<std::uint8_t>(version << 4 | static_cast<std::uint8_t>(mode))};
    c.insert(c.end(), body.begin(), body.end());
    candidates.push_back(std::move(c));
  }
  packed = std::move(*std::min_element(candidates.begin(), candidates.end(),
                                       [](const Bytes& a, const Bytes& b) { return a.size() < b.size(); }));
  return Status::ok;
}

Status packed_mode(ByteView packed, Mode& mode) {
  if (packed.size() < 2) return Status::bad_packed_sdp;
  const std::uint8_t version = packed[0] >> 4;
  if (version != kVersion1 && version != kVersion2) return Status::unsupported_version;
  const std::uint8_t m = packed[0] & 0x0F;
  if (m > static_cast<std::uint8_t>(Mode::deflate)) return Status::unsupported_version;
  mode = static_cast<Mode>(m);
  return Status::ok;
}

Status unpack(ByteView packed, std::string& sdp) {
  sdp.clear();
  Mode mode;
  if (Status s = packed_mode(packed, mode); s != Status::ok) return s;
  const std::uint8_t version = packed[0] >> 4;
  const ByteView body = packed.subspan(1);
  const ByteView dict = mode == Mode::deflate ? ByteView() : dictionary(version);
  std::string text;
  std::size_t consumed = 0;
  if (Status s = inflate_raw(body, dict, kMaxSdpLength, text, consumed); s != Status::ok) return s;
  if (mode != Mode::tokens) {
    if (consumed != body.size() || text.empty()) return Status::bad_packed_sdp;
    sdp = std::move(text);
    return Status::ok;
  }
  const ByteView fields = body.subspan(consumed);
  std::size_t used = 0;
  if (Status s = render(text, fields, version, sdp, used); s != Status::ok) {
    sdp.clear();
    return s;
  }
  if (used != fields.size() || sdp.empty()) {  // every byte must be accounted for
    sdp.clear();
    return Status::bad_packed_sdp;
  }
  return Status::ok;
}

}  // namespace pushpeer::sdp
