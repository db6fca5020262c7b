// Shared by the Embind files in wasm/bindings/ (the only code that knows about JavaScript).
//
// Conventions (js/core.js relies on them):
// - Byte inputs arrive as (pointer, length) into buffers js/core.js allocated with _malloc; it wipes and frees
//   them after the call, so secrets never linger in freed heap memory.
// - Byte outputs leave as new Uint8Array copies, never views into the heap.
// - Errors are returned as the (negative) status number; js/core.js turns them into PushPeerError.
#pragma once
#include <emscripten/bind.h>
#include <emscripten/val.h>

#include <cmath>
#include <cstdint>
#include <string>

#include "pushpeer/bytes.hpp"
#include "pushpeer/status.hpp"

namespace pushpeer::js {

using emscripten::val;

inline ByteView in(std::uintptr_t ptr, std::size_t len) { return {reinterpret_cast<const std::uint8_t*>(ptr), len}; }

[[gnu::noinline]] inline val copy_out(ByteView bytes) {
  // new Uint8Array(typedArray) copies, so no view into the Wasm heap escapes.
  return val::global("Uint8Array").new_(emscripten::typed_memory_view(bytes.size(), bytes.data()));
}

// A field of a result object. Embind's val::set is a template per key length and value type, inlined at every call
// site; these out-of-line setters, one per kind of value, keep a field to one call (bench/RESULTS.md, "Sizes").
[[gnu::noinline]] inline void put(val& o, const char* key, const val& v) { o.set(key, v); }
[[gnu::noinline]] inline void put(val& o, const char* key, double v) { o.set(key, v); }
inline void put(val& o, const char* key, int v) { put(o, key, static_cast<double>(v)); }
[[gnu::noinline]] inline void put(val& o, const char* key, bool v) { o.set(key, v); }
[[gnu::noinline]] inline void put(val& o, const char* key, const std::string& v) { o.set(key, v); }
void put(val& o, const char* key, const char* v) = delete;  // would pick the bool overload: pass a std::string

inline val fail(Status s) { return val(static_cast<int>(s)); }

template <typename T>
val bytes_or_fail(Status s, const T& bytes) {
  return s == Status::ok ? copy_out({bytes.data(), bytes.size()}) : fail(s);
}

inline std::int64_t seconds(double v) { return std::isfinite(v) ? static_cast<std::int64_t>(v) : INT64_MIN; }

}  // namespace pushpeer::js
