// The core's strict JSON reader (wasm/src/json_reader.hpp): what RFC 8259 allows, and what it refuses where parsers
// disagree (a byte-order mark, a member twice, invalid UTF-8, lone surrogates) or where input could be hostile
// (nesting depth).
#include <gtest/gtest.h>

#include <string>

#include "json_reader.hpp"

namespace pushpeer::json {
namespace {

bool ok(std::string_view text) {
  Value v;
  return parse(text, v);
}

TEST(Json, ValuesOfEveryKind) {
  Value v;
  ASSERT_TRUE(parse(R"( {"a": [1, -2, 3.5, 1e3, true, false, null, "x"], "b": {"c": ""}} )", v));
  ASSERT_TRUE(v.is_object());
  const Value* a = v.get("a");
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(a->items.size(), 8u);
  EXPECT_TRUE(a->items[0].is_integer);
  EXPECT_EQ(a->items[1].integer, -2);
  EXPECT_FALSE(a->items[2].is_integer);  // a fraction
  EXPECT_FALSE(a->items[3].is_integer);  // an exponent
  EXPECT_EQ(a->items[4].kind, Value::Kind::boolean);
  EXPECT_TRUE(a->items[4].boolean);
  EXPECT_EQ(a->items[6].kind, Value::Kind::null);
  EXPECT_EQ(a->items[7].string, "x");
  EXPECT_EQ(v.get("b")->get("c")->string, "");
  EXPECT_EQ(v.get("missing"), nullptr);
}

TEST(Json, StringsAndEscapes) {
  Value v;
  ASSERT_TRUE(parse(R"("a\"b\\c\/d\b\f\n\r\t\u00e9\u20AC\ud83d\ude00")", v));
  EXPECT_EQ(v.string, "a\"b\\c/d\b\f\n\r\t\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
  ASSERT_TRUE(parse("\"Zo\xC3\xAB\"", v));  // UTF-8 as is
  EXPECT_EQ(v.string, "Zo\xC3\xAB");
  for (const char* bad : {R"("\ud83d")", R"("\ude00")", R"("\ud83dx")", R"("\u12")", R"("\x")", "\"a\nb\"",
                          "\"\xC0\x8A\"", "\"\xED\xA0\x80\"", "\"\xFF\"", R"("open)"}) {
    EXPECT_FALSE(ok(bad)) << bad;
  }
}

TEST(Json, NumbersFollowTheGrammar) {
  Value v;
  ASSERT_TRUE(parse("999999999999999999", v));  // 18 digits: an exact integer
  EXPECT_TRUE(v.is_integer);
  EXPECT_EQ(v.integer, 999999999999999999);
  ASSERT_TRUE(parse("9999999999999999999", v));  // 19 digits: a number, not taken as an integer
  EXPECT_FALSE(v.is_integer);
  ASSERT_TRUE(parse("-0", v));
  EXPECT_TRUE(v.is_integer);
  for (const char* bad : {"01", "-", "1.", ".5", "1e", "1e+", "+1", "0x10", "1.5.2", "NaN", "Infinity", "1 2"}) {
    EXPECT_FALSE(ok(bad)) << bad;
  }
}

TEST(Json, RefusesWhatParsersReadDifferently) {
  EXPECT_FALSE(ok("\xEF\xBB\xBF{}"));                    // byte-order mark
  EXPECT_FALSE(ok(R"({"a":1,"a":2})"));                  // a member twice
  EXPECT_FALSE(ok(R"({"x":{"a":1,"b":{},"a":2}})"));     // ...nested too
  EXPECT_TRUE(ok(R"({"a":{"a":1},"b":{"a":2}})"));        // the same name in different objects is fine
  EXPECT_FALSE(ok(R"({"a":1,})"));                        // trailing comma
  EXPECT_FALSE(ok(R"([1,])"));
  EXPECT_FALSE(ok("{} {}"));                              // two values
  EXPECT_FALSE(ok(""));
  EXPECT_FALSE(ok("{'a':1}"));
  EXPECT_FALSE(ok("// comment\n{}"));
}

TEST(Json, NestingIsBounded) {
  EXPECT_TRUE(ok(std::string(kMaxDepth, '[') + std::string(kMaxDepth, ']')));
  EXPECT_FALSE(ok(std::string(kMaxDepth + 2, '[') + std::string(kMaxDepth + 2, ']')));
  EXPECT_FALSE(ok(std::string(100000, '[')));  // no recursion to the stack's end
}

}  // namespace
}  // namespace pushpeer::json
