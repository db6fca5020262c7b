// Shared by the fuzz targets and the seed generator: fixed keys (so committed seeds stay decryptable and
// verifiable) and the checks that turn a broken invariant into a crash libFuzzer reports.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <string>
#include <string_view>

#include "pushpeer/bytes.hpp"
#include "pushpeer/p256.hpp"
#include "pushpeer/status.hpp"

namespace pushpeer::fuzz {

// A broken invariant: say which, then trap so libFuzzer saves the input as a crash artifact.
[[noreturn]] inline void fail(const char* what, const char* file, int line) {
  std::fprintf(stderr, "pushpeer fuzz invariant broken at %s:%d: %s\n", file, line, what);
  __builtin_trap();
}

#define PP_FUZZ_CHECK(cond) ((cond) ? (void)0 : ::pushpeer::fuzz::fail(#cond, __FILE__, __LINE__))

// Whether the invariant `name` is switched off by PUSHPEER_FUZZ_SKIP (names separated by commas). Only for long
// runs while a reported bug is open, so that it does not mask others; tests/run.sh never sets it.
inline bool skipped(std::string_view name) {
  static const std::string list = [] {
    const char* env = std::getenv("PUSHPEER_FUZZ_SKIP");
    return env == nullptr ? std::string() : "," + std::string(env) + ",";
  }();
  return list.find("," + std::string(name) + ",") != std::string::npos;
}

// A status the core's own table names (status_name falls back to INTERNAL for a value it does not know).
inline bool is_known(Status s) {
  return s == Status::internal || std::strcmp(status_name(s), "INTERNAL") != 0;
}

// Every status a function may return for untrusted input; anything else (internal, bad_argument from a
// length computed inside the core, an unknown value) is a bug.
inline bool one_of(Status s, std::initializer_list<Status> allowed) {
  if (!is_known(s)) return false;
  for (Status a : allowed) {
    if (s == a) return true;
  }
  return false;
}

// What RFC 8188 decryption may report for any body.
inline bool ece_decrypt_status(Status s, std::initializer_list<Status> more = {}) {
  return one_of(s, {Status::ok, Status::ece_truncated_header, Status::ece_bad_record_size,
                    Status::ece_truncated_record, Status::decrypt_failed, Status::ece_bad_padding,
                    Status::ece_bad_delimiter, Status::ece_truncated_message}) ||
         one_of(s, more);
}

// Fixed key material. Not secret: test keys whose only job is to make the corpus reproducible.
inline constexpr std::uint8_t kEceIkm[16] = {'p', 'u', 's', 'h', 'p', 'e', 'e', 'r', ' ',
                                             'f', 'u', 'z', 'z', 'i', 'k', 'm'};
inline constexpr std::uint8_t kReceiverPrivate[32] = {
    0x1f, 0x2e, 0x3d, 0x4c, 0x5b, 0x6a, 0x79, 0x88, 0x97, 0xa6, 0xb5, 0xc4, 0xd3, 0xe2, 0xf1, 0x00,
    0x0f, 0x1e, 0x2d, 0x3c, 0x4b, 0x5a, 0x69, 0x78, 0x87, 0x96, 0xa5, 0xb4, 0xc3, 0xd2, 0xe1, 0xf0};
inline constexpr std::uint8_t kAuthSecret[16] = {'p', 'u', 's', 'h', 'p', 'e', 'e', 'r',
                                                 ' ', 'f', 'u', 'z', 'z', 'a', 'u', 'h'};
inline constexpr std::uint8_t kSenderPrivate[32] = {
    0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
    0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x01};
inline constexpr std::uint8_t kVapidPrivate[32] = {
    0x0a, 0x11, 0x0a, 0x11, 0x0a, 0x11, 0x0a, 0x11, 0x0a, 0x11, 0x0a, 0x11, 0x0a, 0x11, 0x0a, 0x11,
    0x5e, 0xed, 0x5e, 0xed, 0x5e, 0xed, 0x5e, 0xed, 0x5e, 0xed, 0x5e, 0xed, 0x5e, 0xed, 0x5e, 0xed};
// The sharer of the manifest seeds (content_frame's manifest seed too).
inline constexpr std::uint8_t kSharerPrivate[32] = {
    0x3c, 0x5a, 0x3c, 0x5a, 0x3c, 0x5a, 0x3c, 0x5a, 0x3c, 0x5a, 0x3c, 0x5a, 0x3c, 0x5a, 0x3c, 0x5a,
    0x51, 0xa2, 0x51, 0xa2, 0x51, 0xa2, 0x51, 0xa2, 0x51, 0xa2, 0x51, 0xa2, 0x51, 0xa2, 0x51, 0xa2};

// Public half of a fixed private key, derived once per process.
inline p256::PublicKey public_of(const std::uint8_t (&private_key)[32]) {
  p256::PublicKey pub{};
  if (p256::public_key_from_private({private_key, 32}, pub) != Status::ok) fail("fixed key", __FILE__, __LINE__);
  return pub;
}

}  // namespace pushpeer::fuzz
