#include "vectors.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <sstream>

#include <gtest/gtest.h>

#include "pushpeer/base64url.hpp"

#if !defined(PUSHPEER_VECTORS_DIR) || !defined(PUSHPEER_WYCHEPROOF_FILES) || !defined(PUSHPEER_SDP_CORPUS)
#error "PUSHPEER_VECTORS_DIR, PUSHPEER_WYCHEPROOF_FILES and PUSHPEER_SDP_CORPUS must name the test data directories"
#endif

namespace pushpeer {

void PrintTo(Status status, std::ostream* os) {
  const char* name = status_name(status);
  *os << (name ? name : "(null)") << " (" << static_cast<int>(status) << ")";
}

}  // namespace pushpeer

namespace pushpeer::test {

namespace {
// `name` inside the directory `dir` (a path the build configured, with or without a trailing '/').
std::string path_in(std::string dir, std::string_view name) {
  if (!dir.empty() && dir.back() != '/') dir += '/';
  return dir += name;
}
}  // namespace

std::string vector_path(std::string_view relative) { return path_in(PUSHPEER_VECTORS_DIR, relative); }

std::string read_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    ADD_FAILURE() << "cannot open " << path;
    return {};
  }
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

std::vector<CorpusSdp> corpus_sdps() {
  namespace fs = std::filesystem;
  std::vector<CorpusSdp> out;
  const fs::path dir = PUSHPEER_SDP_CORPUS;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.path().extension() == ".sdp") out.push_back({e.path().filename().string(), read_file(e.path().string())});
  }
  if (ec) ADD_FAILURE() << "cannot list the SDP corpus at " << dir;
  std::sort(out.begin(), out.end(), [](const CorpusSdp& a, const CorpusSdp& b) { return a.name < b.name; });
  return out;
}

json load_json_file(const std::string& path) {
  const std::string text = read_file(path);
  if (text.empty()) return nullptr;
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    ADD_FAILURE() << "not a JSON object: " << path;
    return nullptr;
  }
  return doc;
}

json load_vectors(std::string_view relative) { return load_json_file(vector_path(relative)); }

namespace {
std::string wycheproof_path(std::string_view name) { return path_in(PUSHPEER_WYCHEPROOF_FILES, name); }
}  // namespace

bool wycheproof_available(std::string& reason) {
  if (std::filesystem::exists(wycheproof_path("VERIFIED"))) return true;
  std::ifstream why(wycheproof_path("UNAVAILABLE"));
  if (!why || !std::getline(why, reason) || reason.empty()) {
    reason = std::string("Wycheproof vectors not fetched: no ") + PUSHPEER_WYCHEPROOF_FILES +
             "/VERIFIED (tests/run.sh runs cmake/fetch-wycheproof.sh)";
  }
  return false;
}

json load_wycheproof(std::string_view name) { return load_json_file(wycheproof_path(name)); }

namespace {
int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

Bytes hex(std::string_view text) {
  Bytes out;
  if (text.size() % 2 != 0) {
    ADD_FAILURE() << "odd-length hex: " << text;
    return out;
  }
  out.reserve(text.size() / 2);
  for (std::size_t i = 0; i < text.size(); i += 2) {
    const int hi = hex_digit(text[i]), lo = hex_digit(text[i + 1]);
    if (hi < 0 || lo < 0) {
      ADD_FAILURE() << "bad hex: " << text;
      return out;
    }
    out.push_back(static_cast<std::uint8_t>(hi << 4 | lo));
  }
  return out;
}

Bytes b64u(std::string_view text) {
  Bytes out;
  const Status status = base64url::decode(text, out);
  if (status != Status::ok) ADD_FAILURE() << "base64url::decode failed on test data: " << text;
  return out;
}

std::string to_hex(ByteView bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const std::uint8_t b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

std::string to_text(ByteView bytes) { return std::string(bytes.begin(), bytes.end()); }

Bytes to_bytes(std::string_view text) { return Bytes(text.begin(), text.end()); }

const json& member(const json& object, const char* key, std::string_view where) {
  static const json kNull;
  if (!object.is_object() || !object.contains(key)) {
    ADD_FAILURE() << "vector " << where << " has no member \"" << key << "\"";
    return kNull;
  }
  return object[key];
}

std::string str(const json& object, const char* key, std::string_view where) {
  const json& value = member(object, key, where);
  if (!value.is_string()) {
    if (!value.is_null()) ADD_FAILURE() << "vector " << where << ": \"" << key << "\" is not a string";
    return {};
  }
  return value.get<std::string>();
}

std::int64_t integer(const json& object, const char* key, std::string_view where) {
  const json& value = member(object, key, where);
  if (!value.is_number_integer()) {
    if (!value.is_null()) ADD_FAILURE() << "vector " << where << ": \"" << key << "\" is not an integer";
    return 0;
  }
  return value.get<std::int64_t>();
}

Bytes hex_member(const json& object, const char* key, std::string_view where) {
  return hex(str(object, key, where));
}

Bytes b64u_member(const json& object, const char* key, std::string_view where) {
  return b64u(str(object, key, where));
}

Bytes pattern(std::size_t length, std::uint32_t seed) {
  Bytes out(length);
  std::uint32_t x = seed * 2654435761u + 1;
  for (auto& b : out) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    b = static_cast<std::uint8_t>(x >> 24);
  }
  return out;
}

}  // namespace pushpeer::test
