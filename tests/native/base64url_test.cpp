// base64url without padding (RFC 4648 §5), strict: anything but the canonical unpadded form is bad_base64.
#include <string>

#include <gtest/gtest.h>

#include "pushpeer/base64url.hpp"
#include "vectors.hpp"

namespace pushpeer {
namespace {

using test::to_bytes;
using test::to_hex;

struct Known {
  const char* text;
  const char* encoded;
};

// RFC 4648 §10 test vectors, unpadded.
constexpr Known kRfc4648[] = {
    {"", ""},         {"f", "Zg"},         {"fo", "Zm8"},         {"foo", "Zm9v"},
    {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"},
};

TEST(Base64url, Rfc4648Vectors) {
  for (const auto& [text, encoded] : kRfc4648) {
    EXPECT_EQ(base64url::encode(as_bytes(text)), encoded) << '"' << text << '"';
    Bytes out;
    ASSERT_EQ(base64url::decode(encoded, out), Status::ok) << encoded;
    EXPECT_EQ(test::to_text(out), text);
  }
}

TEST(Base64url, UsesTheUrlAlphabet) {
  // 0xfb 0xff 0xbf is "+/+/" in standard base64.
  const Bytes bytes = {0xfb, 0xff, 0xbf};
  EXPECT_EQ(base64url::encode(bytes), "-_-_");
  Bytes out;
  ASSERT_EQ(base64url::decode("-_-_", out), Status::ok);
  EXPECT_EQ(out, bytes);
  EXPECT_EQ(base64url::encode(Bytes{0xfb, 0xff}), "-_8");
}

TEST(Base64url, RoundTripsEveryLengthAndByteValue) {
  Bytes all(256);
  for (int i = 0; i < 256; ++i) all[i] = static_cast<std::uint8_t>(i);
  for (std::size_t length = 0; length <= 256; ++length) {
    const Bytes in = length == 256 ? all : test::pattern(length, static_cast<std::uint32_t>(length) + 1);
    const std::string encoded = base64url::encode(in);
    EXPECT_EQ(encoded.size(), (length * 4 + 2) / 3) << "length " << length;
    EXPECT_EQ(encoded.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
              std::string::npos);
    Bytes out;
    ASSERT_EQ(base64url::decode(encoded, out), Status::ok) << encoded;
    EXPECT_EQ(to_hex(out), to_hex(in)) << "length " << length;
  }
}

TEST(Base64url, DecodeReplacesTheOutput) {
  Bytes out = {1, 2, 3, 4, 5};
  ASSERT_EQ(base64url::decode("Zm9v", out), Status::ok);
  EXPECT_EQ(test::to_text(out), "foo");
  ASSERT_EQ(base64url::decode("", out), Status::ok);
  EXPECT_TRUE(out.empty());
}

TEST(Base64url, AcceptsCanonicalTrailingBits) {
  struct Case {
    const char* encoded;
    Bytes bytes;
  };
  const Case cases[] = {
      {"AA", {0x00}}, {"AQ", {0x01}}, {"_w", {0xff}},
      {"AAE", {0x00, 0x01}}, {"__8", {0xff, 0xff}},
  };
  for (const auto& c : cases) {
    Bytes out;
    ASSERT_EQ(base64url::decode(c.encoded, out), Status::ok) << c.encoded;
    EXPECT_EQ(to_hex(out), to_hex(c.bytes)) << c.encoded;
  }
}

TEST(Base64url, RejectsAnythingNotStrict) {
  const std::string_view bad[] = {
      // padding, in any amount and position
      "Zg==", "Zg=", "Zm8=", "Zm9v====", "=", "==", "Zm9v=", "Z=g",
      // the standard alphabet
      "+/+/", "-_+/", "ab/c",
      // whitespace and line breaks
      " Zm9v", "Zm9v ", "Zm9 v", "Zm9v\n", "Zm9v\r\nYg", "\tZm9v",
      // length mod 4 == 1 can never be produced
      "Z", "Zm9vY", "Zm9vYmFyY",
      // non-zero unused bits: 1 byte leaves 4 unused bits, 2 bytes leave 2
      "AB", "AH", "Zh", "_x", "AAB", "AAD", "Zm9", "Zm9vYh",
      // other characters
      "Zm9v.", "Zm!v", "Zm9v*", "\xc3\xa9\xc3\xa9",
  };
  for (const std::string_view in : bad) {
    Bytes out;
    EXPECT_EQ(base64url::decode(in, out), Status::bad_base64) << '"' << in << '"';
  }
  // An embedded NUL is not part of the alphabet either.
  Bytes out;
  EXPECT_EQ(base64url::decode(std::string_view("Zm\0v", 4), out), Status::bad_base64);
  EXPECT_EQ(base64url::decode(std::string_view("Zm9v\0", 5), out), Status::bad_base64);
}

TEST(Base64url, RejectsEveryNonAlphabetByte) {
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  for (int c = 0; c < 256; ++c) {
    if (alphabet.find(static_cast<char>(c)) != std::string::npos) continue;
    std::string in = "Zm9v";
    in[1] = static_cast<char>(c);
    Bytes out;
    EXPECT_EQ(base64url::decode(in, out), Status::bad_base64) << "byte " << c;
  }
}

}  // namespace
}  // namespace pushpeer
