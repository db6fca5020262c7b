// Project Wycheproof vectors (testvectors_v1) for every primitive the core exposes. The files are third-party data,
// fetched and verified by cmake/fetch-wycheproof.sh (tests/run.sh runs it); when it could not fetch them each test
// here is skipped with its reason, never passed without vectors. Each file is tallied, and the tallies are printed
// at the end of the run, one line per file (then why vectors were skipped or rejected):
//   wycheproof <file>: N vectors, P passed, F failed, A acceptable(accepted), R acceptable(rejected), S skipped
// "acceptable" vectors may go either way (the counts document ours); if accepted, the result must still be right.
// Not fetched: ecdsa_secp256r1_sha256_test.json (DER signatures; the core only takes IEEE P1363 r||s, as JWS
// does) and ed25519_test.json (no Ed25519 in the core).
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "pushpeer/base64url.hpp"
#include "pushpeer/p256.hpp"
#include "pushpeer/symmetric.hpp"
#include "vectors.hpp"

namespace pushpeer {
namespace {

using test::hex;
using test::json;
using test::to_hex;

// ---- tallies --------------------------------------------------------------------------------------------------

struct Tally {
  std::string name;
  int vectors = 0, passed = 0, failed = 0, accepted = 0, rejected = 0, skipped = 0;
  std::map<std::string, int> skip_reasons;
  std::map<std::string, int> rejections;  // of acceptable vectors, by flag

  std::string line() const {
    std::string out = "wycheproof " + name + ": " + std::to_string(vectors) + " vectors, " + std::to_string(passed) +
                      " passed, " + std::to_string(failed) + " failed, " + std::to_string(accepted) +
                      " acceptable(accepted), " + std::to_string(rejected) + " acceptable(rejected), " +
                      std::to_string(skipped) + " skipped";
    for (const auto& [reason, n] : skip_reasons) out += "\n    skipped " + std::to_string(n) + ": " + reason;
    for (const auto& [flags, n] : rejections) out += "\n    acceptable, rejected " + std::to_string(n) + ": " + flags;
    return out;
  }
};

std::vector<Tally>& tallies() {
  static std::vector<Tally> all;
  return all;
}

class Report : public testing::Environment {
 public:
  void TearDown() override {
    if (tallies().empty()) return;
    std::printf("\n");
    for (const Tally& t : tallies()) std::printf("%s\n", t.line().c_str());
    std::fflush(stdout);
  }
};
[[maybe_unused]] testing::Environment* const kReport = testing::AddGlobalTestEnvironment(new Report);

constexpr int kMaxReportedFailures = 25;

// Opens a fetched file as `doc`, or skips the test with the reason the files are not there.
#define WYCHEPROOF_FILE(doc, name)                                       \
  std::string unavailable_;                                              \
  if (!test::wycheproof_available(unavailable_)) GTEST_SKIP() << unavailable_; \
  const json doc = test::load_wycheproof(name)

// Runs one file: `check` returns whether the operation succeeded (ok) and, if so, whether its output was right.
struct Outcome {
  bool ok = false;       // the core accepted the input
  bool correct = true;   // if ok: the output matched the vector
  std::string detail;    // printed on failure
};

class Runner {
 public:
  explicit Runner(std::string name) { tally_.name = std::move(name); }
  ~Runner() { tallies().push_back(tally_); }

  void skip(const std::string& reason, int n = 1) {
    tally_.vectors += n;
    tally_.skipped += n;
    tally_.skip_reasons[reason] += n;
  }

  void record(const json& t, const Outcome& o) {
    ++tally_.vectors;
    const std::string result = test::str(t, "result");
    const bool must_pass = result == "valid", must_fail = result == "invalid";
    bool good;
    if (must_pass) {
      good = o.ok && o.correct;
    } else if (must_fail) {
      // For MACs "ok" means the tag matched, so an invalid vector must not be ok.
      good = !o.ok;
    } else if (result == "acceptable") {
      if (o.ok && o.correct) {
        ++tally_.accepted;
        return;
      }
      if (!o.ok) {
        ++tally_.rejected;
        tally_.rejections[flags(t)]++;
        return;
      }
      good = false;  // accepted with a wrong result
    } else {
      ADD_FAILURE() << tally_.name << ": unknown result \"" << result << "\"";
      good = false;
    }
    if (good) {
      ++tally_.passed;
      return;
    }
    ++tally_.failed;
    if (tally_.failed <= kMaxReportedFailures) {
      ADD_FAILURE() << tally_.name << " tcId " << test::integer(t, "tcId") << " (" << result << ", "
                    << test::str(t, "comment") << ", flags " << flags(t) << "): "
                    << (o.ok ? (o.correct ? "accepted" : "accepted with a wrong result") : "rejected")
                    << (o.detail.empty() ? "" : ": ") << o.detail;
    } else if (tally_.failed == kMaxReportedFailures + 1) {
      ADD_FAILURE() << tally_.name << ": more failures not shown (see the count)";
    }
  }

  const Tally& tally() const { return tally_; }

 private:
  static std::string flags(const json& t) {
    std::string out = "[";
    if (t.contains("flags") && t["flags"].is_array()) {
      for (const auto& f : t["flags"]) {
        if (!f.is_string()) continue;
        if (out.size() > 1) out += ",";
        out += f.get<std::string>();
      }
    }
    return out + "]";
  }

  Tally tally_;
};

// Calls fn(group, test) for every test of every group.
template <typename Fn>
void for_each_vector(const json& doc, Fn fn) {
  const json& groups = test::member(doc, "testGroups", "wycheproof");
  ASSERT_TRUE(groups.is_array());
  for (const auto& group : groups) {
    const json& tests = test::member(group, "tests", "wycheproof group");
    ASSERT_TRUE(tests.is_array());
    for (const auto& t : tests) fn(group, t);
  }
}

void expect_count(const json& doc, const Tally& tally) {
  if (doc.contains("numberOfTests") && doc["numberOfTests"].is_number_integer()) {
    EXPECT_EQ(tally.vectors, doc["numberOfTests"].get<int>()) << tally.name << ": not every vector was counted";
  }
  EXPECT_EQ(tally.failed, 0) << tally.name;
}

// ---- ECDH ---------------------------------------------------------------------------------------------------------

// Private keys are big-endian integers, sometimes with a leading 00 (ASN.1 sign octet) or fewer than 32 octets.
// Left-pad or strip to 32; a value that cannot fit is passed through as is, for the core to reject.
Bytes normalize_private(Bytes d) {
  std::size_t zeros = 0;
  while (zeros < d.size() && d[zeros] == 0) ++zeros;
  if (d.size() - zeros > p256::kPrivateKeyLength) return d;
  Bytes out(p256::kPrivateKeyLength - (d.size() - zeros), 0);
  out.insert(out.end(), d.begin() + static_cast<std::ptrdiff_t>(zeros), d.end());
  return out;
}

Outcome ecdh_outcome(ByteView private_key, ByteView public_key, ByteView expected) {
  Outcome o;
  p256::SharedSecret shared;
  const Status s = p256::ecdh(private_key, public_key, shared);
  o.ok = s == Status::ok;
  if (o.ok) {
    o.correct = to_hex(shared.view()) == to_hex(expected);
    if (!o.correct) o.detail = "shared " + to_hex(shared.view()) + ", expected " + to_hex(expected);
  } else {
    o.detail = "ecdh: " + testing::PrintToString(s);
  }
  return o;
}

TEST(Wycheproof, EcdhSecp256r1Spki) {
  WYCHEPROOF_FILE(doc, "ecdh_secp256r1_test.json");
  ASSERT_TRUE(doc.is_object());
  Runner run("ecdh_secp256r1_test");
  for_each_vector(doc, [&](const json&, const json& t) {
    const Bytes der = test::hex_member(t, "public");
    const Bytes priv = normalize_private(test::hex_member(t, "private"));
    const Bytes shared = test::hex_member(t, "shared");
    p256::PublicKey pub{};
    const Status imported = p256::public_key_from_spki(der, pub);
    if (imported != Status::ok) {
      run.record(t, Outcome{false, true, "public_key_from_spki: " + testing::PrintToString(imported)});
      return;
    }
    run.record(t, ecdh_outcome(priv, pub, shared));
  });
  expect_count(doc, run.tally());
}

TEST(Wycheproof, EcdhSecp256r1Ecpoint) {
  WYCHEPROOF_FILE(doc, "ecdh_secp256r1_ecpoint_test.json");
  ASSERT_TRUE(doc.is_object());
  Runner run("ecdh_secp256r1_ecpoint_test");
  for_each_vector(doc, [&](const json&, const json& t) {
    const Bytes point = test::hex_member(t, "public");
    const Bytes priv = normalize_private(test::hex_member(t, "private"));
    run.record(t, ecdh_outcome(priv, point, test::hex_member(t, "shared")));
  });
  expect_count(doc, run.tally());
}

// WebCrypto JWK import, modelled by the harness: kty EC, crv P-256, x and y 32 octets each (RFC 7518 §6.2.1),
// then the core checks the point. A key this import refuses counts as rejected.
bool jwk_coordinates(const json& jwk, Bytes& point, std::string& why) {
  if (!jwk.is_object() || !jwk.contains("kty") || jwk["kty"] != "EC") {
    why = "JWK kty is not EC";
    return false;
  }
  if (!jwk.contains("crv") || jwk["crv"] != "P-256") {
    why = "JWK crv is not P-256";
    return false;
  }
  if (!jwk.contains("x") || !jwk["x"].is_string() || !jwk.contains("y") || !jwk["y"].is_string()) {
    why = "JWK without x/y";
    return false;
  }
  Bytes x, y;
  if (base64url::decode(jwk["x"].get<std::string>(), x) != Status::ok ||
      base64url::decode(jwk["y"].get<std::string>(), y) != Status::ok) {
    why = "JWK x/y not base64url";
    return false;
  }
  if (x.size() != 32 || y.size() != 32) {
    why = "JWK x/y not 32 octets";
    return false;
  }
  point = {0x04};
  point.insert(point.end(), x.begin(), x.end());
  point.insert(point.end(), y.begin(), y.end());
  return true;
}

TEST(Wycheproof, EcdhSecp256r1Webcrypto) {
  WYCHEPROOF_FILE(doc, "ecdh_secp256r1_webcrypto_test.json");
  ASSERT_TRUE(doc.is_object());
  Runner run("ecdh_secp256r1_webcrypto_test");
  for_each_vector(doc, [&](const json&, const json& t) {
    const json& public_jwk = test::member(t, "public");
    const json& private_jwk = test::member(t, "private");
    Bytes point;
    std::string why;
    if (!jwk_coordinates(public_jwk, point, why)) {
      run.record(t, Outcome{false, true, why});
      return;
    }
    Bytes d;
    if (!private_jwk.is_object() || !private_jwk.contains("d") || !private_jwk["d"].is_string() ||
        base64url::decode(private_jwk["d"].get<std::string>(), d) != Status::ok) {
      run.record(t, Outcome{false, true, "private JWK without a valid d"});
      return;
    }
    run.record(t, ecdh_outcome(d, point, test::hex_member(t, "shared")));
  });
  expect_count(doc, run.tally());
}

// ---- ECDSA --------------------------------------------------------------------------------------------------------

TEST(Wycheproof, EcdsaSecp256r1Sha256P1363) {
  WYCHEPROOF_FILE(doc, "ecdsa_secp256r1_sha256_p1363_test.json");
  ASSERT_TRUE(doc.is_object());
  Runner run("ecdsa_secp256r1_sha256_p1363_test");
  for_each_vector(doc, [&](const json& group, const json& t) {
    if (test::str(group, "sha") != "SHA-256") {
      run.skip("hash other than SHA-256");
      return;
    }
    const Bytes pub = test::hex_member(test::member(group, "publicKey"), "uncompressed");
    const Bytes msg = test::hex_member(t, "msg");
    const Bytes sig = test::hex_member(t, "sig");
    const Status s = p256::verify(pub, msg, sig);
    run.record(t, Outcome{s == Status::ok, true, "verify: " + testing::PrintToString(s)});
  });
  expect_count(doc, run.tally());
}

// ---- AES-GCM ------------------------------------------------------------------------------------------------------

TEST(Wycheproof, AesGcm) {
  WYCHEPROOF_FILE(doc, "aes_gcm_test.json");
  ASSERT_TRUE(doc.is_object());
  Runner run("aes_gcm_test");
  for_each_vector(doc, [&](const json& group, const json& t) {
    const std::int64_t key_bits = test::integer(group, "keySize"), iv_bits = test::integer(group, "ivSize"),
                       tag_bits = test::integer(group, "tagSize");
    if (key_bits != 128 || iv_bits != 96 || tag_bits != 128) {
      run.skip("outside parameters (AES-128, 96-bit IV, 128-bit tag)");
      return;
    }
    const Bytes key = test::hex_member(t, "key"), iv = test::hex_member(t, "iv"), aad = test::hex_member(t, "aad"),
                msg = test::hex_member(t, "msg"), ct = test::hex_member(t, "ct"), tag = test::hex_member(t, "tag");
    Bytes sealed_expected = ct;
    sealed_expected.insert(sealed_expected.end(), tag.begin(), tag.end());
    Outcome o;
    // Open: must succeed (with msg) for valid vectors, fail for invalid ones.
    Bytes opened(ct.size(), 0xee);
    const Status open_status = symmetric::aes128gcm_open(key, iv, aad, sealed_expected, opened);
    o.ok = open_status == Status::ok;
    if (o.ok) {
      o.correct = to_hex(opened) == to_hex(msg);
      if (!o.correct) o.detail = "opened " + to_hex(opened);
    } else {
      o.detail = "open: " + testing::PrintToString(open_status);
      // Nothing of the plaintext is released on a failed open.
      for (const std::uint8_t b : opened) {
        if (b != 0) {
          ADD_FAILURE() << "aes_gcm_test tcId " << test::integer(t, "tcId") << ": output not wiped after "
                        << testing::PrintToString(open_status);
          break;
        }
      }
    }
    // Seal: a valid vector is reproduced exactly.
    if (test::str(t, "result") == "valid") {
      Bytes sealed(msg.size() + symmetric::kGcmTagLength);
      const Status seal_status = symmetric::aes128gcm_seal(key, iv, aad, msg, sealed);
      if (seal_status != Status::ok || to_hex(sealed) != to_hex(sealed_expected)) {
        o.correct = false;
        o.detail += " seal: " + testing::PrintToString(seal_status) + " " + to_hex(sealed);
      }
    }
    run.record(t, o);
  });
  expect_count(doc, run.tally());
}

// ---- HKDF, HMAC ---------------------------------------------------------------------------------------------------

TEST(Wycheproof, HkdfSha256) {
  WYCHEPROOF_FILE(doc, "hkdf_sha256_test.json");
  ASSERT_TRUE(doc.is_object());
  Runner run("hkdf_sha256_test");
  for_each_vector(doc, [&](const json&, const json& t) {
    const Bytes ikm = test::hex_member(t, "ikm"), salt = test::hex_member(t, "salt"), info = test::hex_member(t, "info"),
                okm = test::hex_member(t, "okm");
    const std::int64_t size = test::integer(t, "size");
    if (size < 0 || size > 1 << 20) {
      run.skip("output size not representable");
      return;
    }
    Bytes out(static_cast<std::size_t>(size));
    const Status s = symmetric::hkdf_sha256(salt, ikm, info, out);
    Outcome o{s == Status::ok, true, testing::PrintToString(s)};
    if (o.ok) o.correct = to_hex(out) == to_hex(okm);
    if (!o.ok && test::str(t, "result") == "invalid") {
      EXPECT_EQ(s, Status::bad_argument) << "tcId " << test::integer(t, "tcId");
    }
    run.record(t, o);
  });
  expect_count(doc, run.tally());
}

TEST(Wycheproof, HmacSha256) {
  WYCHEPROOF_FILE(doc, "hmac_sha256_test.json");
  ASSERT_TRUE(doc.is_object());
  Runner run("hmac_sha256_test");
  for_each_vector(doc, [&](const json& group, const json& t) {
    const std::int64_t tag_bits = test::integer(group, "tagSize");
    if (tag_bits <= 0 || tag_bits > 256 || tag_bits % 8 != 0) {
      run.skip("tag size not a whole number of octets up to 256 bits");
      return;
    }
    const Bytes key = test::hex_member(t, "key"), msg = test::hex_member(t, "msg"), tag = test::hex_member(t, "tag");
    std::uint8_t mac[symmetric::kSha256Length];
    symmetric::hmac_sha256(key, msg, mac);
    const ByteView truncated(mac, static_cast<std::size_t>(tag_bits / 8));
    // "ok" = the tag verifies: valid vectors must, invalid ones must not.
    const bool match = tag.size() == truncated.size() && equal_ct(truncated, tag);
    run.record(t, Outcome{match, true, "computed " + to_hex(truncated)});
  });
  expect_count(doc, run.tally());
}

}  // namespace
}  // namespace pushpeer
