#include "json_reader.hpp"
#include "pushpeer/for_size.hpp"

#include "pushpeer/text.hpp"

PUSHPEER_FOR_SIZE_BEGIN  // not hot: a few calls per connection (pushpeer/for_size.hpp)

namespace pushpeer::json {

const Value* Value::get(std::string_view name) const {
  if (kind != Kind::object) return nullptr;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) return &values[i];
  }
  return nullptr;
}

namespace {

struct Parser {
  std::string_view in;
  std::size_t at = 0;

  bool end() const { return at >= in.size(); }
  char peek() const { return end() ? '\0' : in[at]; }
  void space() {
    while (!end() && (in[at] == ' ' || in[at] == '\t' || in[at] == '\n' || in[at] == '\r')) ++at;
  }
  bool literal(std::string_view word) {
    if (in.substr(at, word.size()) != word) return false;
    at += word.size();
    return true;
  }

  static void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | cp >> 6);
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | cp >> 12);
      out += static_cast<char>(0x80 | (cp >> 6 & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | cp >> 18);
      out += static_cast<char>(0x80 | (cp >> 12 & 0x3F));
      out += static_cast<char>(0x80 | (cp >> 6 & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  bool hex4(std::uint32_t& v) {
    if (at + 4 > in.size()) return false;
    v = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = in[at++];
      const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
      if (d < 0) return false;
      v = v << 4 | static_cast<std::uint32_t>(d);
    }
    return true;
  }

  bool string(std::string& out) {
    if (peek() != '"') return false;
    ++at;
    out.clear();
    while (!end()) {
      const char c = in[at++];
      if (c == '"') return text::valid_utf8(out);
      if (static_cast<unsigned char>(c) < 0x20) return false;  // control characters must be escaped
      if (c != '\\') {
        out += c;
        continue;
      }
      if (end()) return false;
      switch (in[at++]) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          std::uint32_t cp;
          if (!hex4(cp)) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF) {  // a surrogate pair, or nothing
            std::uint32_t low;
            if (!literal("\\u") || !hex4(low) || low < 0xDC00 || low > 0xDFFF) return false;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return false;
          }
          append_utf8(out, cp);
          break;
        }
        default:
          return false;
      }
    }
    return false;
  }

  // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
  bool number(Value& v) {
    const bool negative = peek() == '-';
    if (negative) ++at;
    const auto digits = [&] {
      const std::size_t from = at;
      while (!end() && in[at] >= '0' && in[at] <= '9') ++at;
      return at - from;
    };
    const std::size_t int_start = at;
    const std::size_t n = digits();
    if (n == 0 || (n > 1 && in[int_start] == '0')) return false;
    bool integer = true;
    if (peek() == '.') {
      ++at;
      if (digits() == 0) return false;
      integer = false;
    }
    if (peek() == 'e' || peek() == 'E') {
      ++at;
      if (peek() == '+' || peek() == '-') ++at;
      if (digits() == 0) return false;
      integer = false;
    }
    v.kind = Value::Kind::number;
    v.is_integer = false;
    if (!integer || n > 18) return true;  // up to 18 digits always fit in int64
    std::int64_t x = 0;
    for (std::size_t i = int_start; i < int_start + n; ++i) x = x * 10 + (in[i] - '0');
    v.is_integer = true;
    v.integer = negative ? -x : x;
    return true;
  }

  bool value(Value& v, int depth) {
    if (depth > kMaxDepth) return false;
    space();
    switch (peek()) {
      case '{': {
        ++at;
        v.kind = Value::Kind::object;
        space();
        if (peek() == '}') return ++at, true;
        for (;;) {
          std::string name;
          space();
          if (!string(name)) return false;
          if (v.get(name) != nullptr) return false;  // a member twice: parsers disagree on which one counts
          space();
          if (peek() != ':') return false;
          ++at;
          Value member;
          if (!value(member, depth + 1)) return false;
          v.names.push_back(std::move(name));
          v.values.push_back(std::move(member));
          space();
          if (peek() == ',') {
            ++at;
            continue;
          }
          if (peek() == '}') return ++at, true;
          return false;
        }
      }
      case '[': {
        ++at;
        v.kind = Value::Kind::array;
        space();
        if (peek() == ']') return ++at, true;
        for (;;) {
          Value item;
          if (!value(item, depth + 1)) return false;
          v.items.push_back(std::move(item));
          space();
          if (peek() == ',') {
            ++at;
            continue;
          }
          if (peek() == ']') return ++at, true;
          return false;
        }
      }
      case '"':
        v.kind = Value::Kind::string;
        return string(v.string);
      case 't':
        v.kind = Value::Kind::boolean;
        v.boolean = true;
        return literal("true");
      case 'f':
        v.kind = Value::Kind::boolean;
        return literal("false");
      case 'n':
        v.kind = Value::Kind::null;
        return literal("null");
      default:
        return number(v);
    }
  }
};

}  // namespace

bool parse(std::string_view text, Value& out) {
  out = Value{};
  Parser p{text};
  if (!p.value(out, 0)) return false;
  p.space();
  return p.end();
}

}  // namespace pushpeer::json

PUSHPEER_FOR_SIZE_END
