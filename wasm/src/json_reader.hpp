// Internal: a small, strict JSON reader (RFC 8259) for the little JSON the core reads: VAPID JWT headers and claims
// (RFC 8292), PushSubscription JSON. Strict where parsers disagree, so that a JWT means one thing to every verifier:
// no byte-order mark, no member name twice in one object, strings of valid UTF-8 only, at most kMaxDepth levels.
// Numbers keep whether they are an exact integer (no fraction or exponent) that fits in 64 bits.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pushpeer::json {

inline constexpr int kMaxDepth = 32;

struct Value {
  enum class Kind { null, boolean, number, string, array, object };
  Kind kind = Kind::null;
  bool boolean = false;
  bool is_integer = false;  // a number written without fraction or exponent, within int64
  std::int64_t integer = 0;
  std::string string;
  std::vector<Value> items;
  // An object's members, in order: names[i] is the name of values[i] (no std::pair: Value is incomplete here).
  std::vector<std::string> names;
  std::vector<Value> values;

  bool is_object() const { return kind == Kind::object; }
  bool is_string() const { return kind == Kind::string; }
  // The member named `name` of an object, or nullptr.
  const Value* get(std::string_view name) const;
};

// Parses exactly one JSON value (white space around it allowed); false on anything else.
bool parse(std::string_view text, Value& out);

}  // namespace pushpeer::json
