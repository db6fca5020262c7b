// Helpers shared by the native tests: loading the vector files in place (tests/vectors, and the Wycheproof files
// fetched into build/wycheproof) and decoding their hex / base64url fields.
//
// The tests are built with JSON_NOEXCEPTION (tests/native/CMakeLists.txt), so nlohmann_json aborts instead of throwing:
// parse with allow_exceptions = false, and read members only after checking they exist with the right type.
#pragma once
#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "pushpeer/bytes.hpp"
#include "pushpeer/status.hpp"

namespace pushpeer {
// GoogleTest prints a Status as its name in failure messages.
void PrintTo(Status status, std::ostream* os);
}  // namespace pushpeer

namespace pushpeer::test {

using json = nlohmann::json;

// Path of a vector file, e.g. vector_path("rfc/rfc8291-appendix-a.json").
std::string vector_path(std::string_view relative);
// Parses a vector file. On a missing or malformed file: records a test failure and returns null (not an object).
json load_vectors(std::string_view relative);
// Wycheproof (fetched, never committed): whether cmake/fetch-wycheproof.sh verified the files, and if not, why
// (its reason, or that it has not run). Tests skip with that reason: GTEST_SKIP() << reason.
bool wycheproof_available(std::string& reason);
// A verified Wycheproof file, e.g. load_wycheproof("aes_gcm_test.json"); as load_vectors.
json load_wycheproof(std::string_view name);
// The same for any JSON file (e.g. docs/vectors/core.json).
json load_json_file(const std::string& path);
// A whole file's bytes (a test failure and "" when it cannot be read).
std::string read_file(const std::string& path);
// The SDP corpus (tests/corpus/sdp, read in place), sorted by file name.
struct CorpusSdp {
  std::string name, sdp;
};
std::vector<CorpusSdp> corpus_sdps();

// Decoders for test data. On malformed input they record a test failure and return what they have.
Bytes hex(std::string_view text);
Bytes b64u(std::string_view text);  // strict base64url, through pushpeer::base64url::decode
std::string to_hex(ByteView bytes);
std::string to_text(ByteView bytes);
Bytes to_bytes(std::string_view text);

// Typed member access that never aborts: a missing member or one of the wrong type records a test failure and
// yields an empty value. `where` names the vector in the failure message.
std::string str(const json& object, const char* key, std::string_view where = {});
std::int64_t integer(const json& object, const char* key, std::string_view where = {});
const json& member(const json& object, const char* key, std::string_view where = {});  // null if absent
Bytes hex_member(const json& object, const char* key, std::string_view where = {});
Bytes b64u_member(const json& object, const char* key, std::string_view where = {});

// Deterministic filler for round-trip tests (xorshift; not a secret, not random).
Bytes pattern(std::size_t length, std::uint32_t seed = 1);

}  // namespace pushpeer::test
