// Writes the seed corpora of the fuzz targets: small valid inputs produced by the core itself with the fixed keys
// of fuzz_common.hpp, and hand-made near misses (one field wrong). Deterministic: every run writes the same bytes.
// Usage: fuzz_make_seeds DIR   (writes DIR/<target>/<name>; the committed corpus is tests/fuzz/corpus)
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "fuzz_common.hpp"
#include "pushpeer/base64url.hpp"
#include "pushpeer/ece.hpp"
#include "pushpeer/neighbour.hpp"
#include "pushpeer/p256.hpp"
#include "pushpeer/symmetric.hpp"
#include "pushpeer/vapid.hpp"
#include "pushpeer/webpush.hpp"

using namespace pushpeer;
namespace fs = std::filesystem;

namespace {

fs::path g_root;

void write(const char* target, const std::string& name, ByteView bytes) {
  const fs::path dir = g_root / target;
  fs::create_directories(dir);
  std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) {
    std::fprintf(stderr, "make_seeds: cannot write %s/%s\n", target, name.c_str());
    std::exit(1);
  }
}
void write(const char* target, const std::string& name, std::string_view text) { write(target, name, as_bytes(text)); }

void expect(Status s, const char* what) {
  if (s != Status::ok) {
    std::fprintf(stderr, "make_seeds: %s failed: %s\n", what, status_name(s));
    std::exit(1);
  }
}

Bytes concat(std::initializer_list<ByteView> parts) {
  Bytes out;
  for (ByteView p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

Bytes salt_of(std::uint8_t first) {
  Bytes salt(16);
  for (std::size_t i = 0; i < salt.size(); ++i) salt[i] = static_cast<std::uint8_t>(first + 7 * i);
  return salt;
}

// --- ece_decrypt -------------------------------------------------------------------------------------------------

void ece_seeds() {
  const ByteView ikm{fuzz::kEceIkm, sizeof fuzz::kEceIkm};
  const Bytes raw_prefix = concat({Bytes{0x00}, ikm});  // mode byte (even = raw), then the IKM
  auto raw = [&](const std::string& name, ByteView body) {
    write("ece_decrypt", "raw_" + name, concat({raw_prefix, body}));
  };
  auto enc = [&](ByteView key_id, std::uint32_t rs, std::size_t padding, std::string_view plaintext) {
    Bytes body;
    expect(ece::encrypt_with_ikm(ikm, salt_of(1), key_id, rs, padding, as_bytes(plaintext), body), "encrypt_with_ikm");
    return body;
  };

  raw("one_record", enc({}, 4096, 0, "Hello, pushpeer"));
  raw("empty_plaintext", enc({}, 4096, 0, ""));
  raw("padding_only", enc({}, 20, 5, ""));
  const Bytes multi = enc({}, 18, 2, "multi");  // one octet of content per record
  raw("rs18_multi", multi);
  raw("rs25_key_id", enc(as_bytes("a1"), 25, 9, "records with a key id"));
  // Near misses: last record dropped at a boundary, header only, rs 17, key id past the end, short header,
  // flipped tag bit, a last record too short for a tag.
  raw("truncated_at_boundary", ByteView(multi).first(multi.size() - 18));
  raw("header_only", ByteView(multi).first(ece::kHeaderLength));
  Bytes rs17 = enc({}, 4096, 0, "x");
  rs17[19] = 17;
  rs17[18] = rs17[17] = rs17[16] = 0;
  raw("rs17", rs17);
  Bytes long_id = enc({}, 4096, 0, "x");
  long_id[20] = 200;
  raw("key_id_past_end", long_id);
  raw("short_header", ByteView(multi).first(20));
  Bytes flipped = enc({}, 4096, 0, "tamper");
  flipped.back() ^= 1;
  raw("flipped_tag", flipped);
  raw("short_last_record", ByteView(multi).first(ece::kHeaderLength + 18 + 10));

  // Sealed mode: mode byte (odd), rs - 18, key id length, padding, salt, key id, record contents in clear.
  auto sealed = [&](const std::string& name, std::uint8_t rs_minus_18, std::string_view key_id, std::uint8_t padding,
                    std::string_view content) {
    Bytes in{0x01, rs_minus_18, static_cast<std::uint8_t>(key_id.size()), padding};
    const Bytes salt = salt_of(3);
    in.insert(in.end(), salt.begin(), salt.end());
    in.insert(in.end(), key_id.begin(), key_id.end());
    in.insert(in.end(), content.begin(), content.end());
    write("ece_decrypt", "sealed_" + name, in);
  };
  using namespace std::string_view_literals;
  sealed("one_record", 30, "", 0, "hello\x02"sv);
  sealed("padded", 30, "", 4, "hi\x02\0\0\0"sv);
  sealed("rs18_three_records", 0, "", 0, "a\1b\1c\2"sv);
  sealed("key_id", 10, "kid01", 1, "with a key id\x02"sv);
  sealed("empty", 0, "", 0, ""sv);
  sealed("delimiter_2_early", 0, "", 0, "a\2b\2"sv);
  sealed("last_delimiter_1", 0, "", 0, "a\1b\1"sv);
  sealed("all_zero", 0, "", 0, "\0\0"sv);
  sealed("delimiter_3", 2, "", 0, "xy\x03\0"sv);
}

// --- webpush_decrypt ---------------------------------------------------------------------------------------------

void webpush_seeds() {
  const p256::PublicKey receiver = fuzz::public_of(fuzz::kReceiverPrivate);
  const p256::PublicKey sender = fuzz::public_of(fuzz::kSenderPrivate);
  const ByteView auth{fuzz::kAuthSecret, sizeof fuzz::kAuthSecret};
  auto enc = [&](std::string_view plaintext, std::uint32_t rs, std::size_t padding, ByteView auth_secret) {
    Bytes body;
    expect(webpush::encrypt_with_keys(receiver, auth_secret, {fuzz::kSenderPrivate, 32}, sender, salt_of(5),
                                      as_bytes(plaintext), rs, padding, body),
           "webpush::encrypt_with_keys");
    return body;
  };
  const Bytes hello = enc("hello, receiver", 4096, 0, auth);
  write("webpush_decrypt", "hello", hello);
  write("webpush_decrypt", "empty", enc("", 4096, 0, auth));
  write("webpush_decrypt", "padded", enc("{\"type\":\"offer\",\"sdp\":\"v=0\"}", 4096, 40, auth));
  write("webpush_decrypt", "rs_exact", enc("exact", 22, 0, auth));

  // RFC 8291 permits several records; encrypt() makes one, so build a multi-record message from the same IKM.
  p256::SharedSecret shared;
  expect(p256::ecdh({fuzz::kSenderPrivate, 32}, receiver, shared), "ecdh");
  static constexpr char kLabel[] = "WebPush: info";
  const Bytes info = concat({as_bytes({kLabel, sizeof kLabel}), receiver, sender});
  std::uint8_t ikm[32];
  expect(symmetric::hkdf_sha256(auth, shared.view(), info, ikm), "hkdf");
  Bytes multi;
  expect(ece::encrypt_with_ikm(ikm, salt_of(6), sender, 20, 3, as_bytes("several records"), multi), "encrypt_with_ikm");
  write("webpush_decrypt", "rs20_multi", multi);

  // Near misses.
  static constexpr std::uint8_t kOtherAuth[16] = {1};
  write("webpush_decrypt", "other_auth", enc("hello", 4096, 0, kOtherAuth));
  Bytes tampered = hello;
  tampered[webpush::kWebPushHeaderLength] ^= 0x80;
  write("webpush_decrypt", "tampered", tampered);
  Bytes off_curve = hello;
  off_curve[ece::kHeaderLength + 64] ^= 1;  // last octet of Y
  write("webpush_decrypt", "key_id_off_curve", off_curve);
  Bytes short_id = hello;
  short_id[20] = 64;
  short_id.erase(short_id.begin() + ece::kHeaderLength);
  write("webpush_decrypt", "key_id_64", short_id);
  Bytes compressed_prefix = hello;
  compressed_prefix[ece::kHeaderLength] = 0x02;
  write("webpush_decrypt", "key_id_prefix_02", compressed_prefix);
  write("webpush_decrypt", "header_only", ByteView(hello).first(webpush::kWebPushHeaderLength));
  write("webpush_decrypt", "truncated_header", ByteView(hello).first(40));

  // Sealed for a neighbour to carry (docs/PROTOCOL.md §4.1), with this key pair as the recipient's identity.
  Bytes sealed_for_peer;
  expect(neighbour::seal_with_keys(receiver, as_bytes("an envelope for a neighbour"), {fuzz::kSenderPrivate, 32}, sender,
                                   salt_of(7), sealed_for_peer),
         "neighbour::seal_with_keys");
  write("webpush_decrypt", "neighbour_sealed", sealed_for_peer);
}

// --- jwt ---------------------------------------------------------------------------------------------------------

std::string b64(std::string_view text) { return base64url::encode(as_bytes(text)); }

// Signs arbitrary header and claims JSON (not only the canonical form sign_jwt makes).
std::string signed_jwt(std::string_view header, std::string_view claims) {
  const std::string input = b64(header) + "." + b64(claims);
  p256::Signature sig;
  expect(p256::sign({fuzz::kVapidPrivate, 32}, as_bytes(input), sig), "sign");
  return input + "." + base64url::encode(sig);
}

void jwt_seeds() {
  const p256::PublicKey pub = fuzz::public_of(fuzz::kVapidPrivate);
  const std::string k = base64url::encode(pub);
  const std::int64_t now = 1700000000;
  std::string canonical;
  expect(vapid::sign_jwt({fuzz::kVapidPrivate, 32}, {"https://push.example.net", now + 3600, "mailto:ops@example.com"},
                         now, canonical),
         "sign_jwt");
  write("jwt", "canonical", canonical);
  const std::string loose = signed_jwt(
      R"({ "alg": "ES256" })", R"({"sub":"https://example.com/contact", "exp": 1, "aud":"https://a.example:8443"})");
  write("jwt", "any_order_no_typ", loose);
  write("jwt", "no_sub",
        signed_jwt(R"({"typ":"JWT","alg":"ES256"})", R"({"aud":"https://x.example","exp":9007199254740991})"));
  write("jwt", "authorization", "vapid t=" + canonical + ", k=" + k);
  write("jwt", "authorization_k_first", "VAPID k=" + k + ",t=" + loose);

  // Near misses: JSON the verifier must refuse before ECDSA, a bad signature, malformed structure and headers.
  write("jwt", "exp_2_53", signed_jwt(R"({"alg":"ES256"})", R"({"aud":"a","exp":9007199254740992})"));
  write("jwt", "exp_negative", signed_jwt(R"({"alg":"ES256"})", R"({"aud":"a","exp":-1})"));
  write("jwt", "exp_float", signed_jwt(R"({"alg":"ES256"})", R"({"aud":"a","exp":1.5})"));
  write("jwt", "alg_none", b64(R"({"alg":"none"})") + "." + b64(R"({"aud":"a","exp":1})") + ".");
  write("jwt", "typ_not_jwt", signed_jwt(R"({"typ":"JWS","alg":"ES256"})", R"({"aud":"a","exp":1})"));
  write("jwt", "sub_number", signed_jwt(R"({"alg":"ES256"})", R"({"aud":"a","exp":1,"sub":7})"));
  std::string bad_sig = canonical;
  bad_sig[bad_sig.size() - 3] = bad_sig[bad_sig.size() - 3] == 'A' ? 'B' : 'A';
  write("jwt", "bad_signature", bad_sig);
  Bytes sig;
  expect(base64url::decode(std::string_view(canonical).substr(canonical.rfind('.') + 1), sig), "decode");
  write("jwt", "short_signature",
        canonical.substr(0, canonical.rfind('.') + 1) + base64url::encode(ByteView(sig).first(63)));
  write("jwt", "two_parts", canonical.substr(0, canonical.rfind('.')));
  write("jwt", "authorization_repeated_t", "vapid t=" + canonical + ", t=" + canonical + ", k=" + k);
  write("jwt", "authorization_no_k", "vapid t=" + canonical);
  write("jwt", "authorization_bad_k", "vapid t=" + canonical + ", k=" + k + "=");
  write("jwt", "authorization_unknown_param", "vapid t=" + canonical + ", k=" + k + ", x=1");
}

// --- subscription ------------------------------------------------------------------------------------------------

std::string subscription(std::string_view endpoint, std::string_view p256dh, std::string_view auth,
                         std::string_view extra = "") {
  return std::string(R"({"endpoint":")") + std::string(endpoint) + R"(",)" + std::string(extra) +
         R"("keys":{"p256dh":")" + std::string(p256dh) + R"(","auth":")" + std::string(auth) + R"("}})";
}

void subscription_seeds() {
  const p256::PublicKey pub = fuzz::public_of(fuzz::kReceiverPrivate);
  const std::string p256dh = base64url::encode(pub);
  const std::string auth = base64url::encode({fuzz::kAuthSecret, sizeof fuzz::kAuthSecret});
  write("subscription", "valid", subscription("https://push.example.net/wpush/v2/gAAAAABk", p256dh, auth));
  write("subscription", "padded_keys", subscription("https://fcm.example.com/fcm/send/x:y", p256dh + "=", auth + "=="));
  write("subscription", "expiration_time",
        subscription("https://Updates.Example.ORG:443/wpush/v1/abc?x=1#f", p256dh, auth, R"("expirationTime":null,)"));
  write("subscription", "loopback_http", subscription("http://127.0.0.1:8080/push/1", p256dh, auth));
  write("subscription", "ipv6_loopback", subscription("http://[::1]:9/p", p256dh, auth));

  // Near misses.
  write("subscription", "http_public_host", subscription("http://push.example.net/x", p256dh, auth));
  write("subscription", "userinfo", subscription("https://user@push.example.net/x", p256dh, auth));
  write("subscription", "port_0", subscription("https://push.example.net:0/x", p256dh, auth));
  Bytes off_curve(pub.begin(), pub.end());
  off_curve.back() ^= 1;
  write("subscription", "p256dh_off_curve",
        subscription("https://push.example.net/x", base64url::encode(off_curve), auth));
  write("subscription", "auth_15_bytes", subscription("https://push.example.net/x", p256dh, auth.substr(0, 20)));
  write("subscription", "three_pads", subscription("https://push.example.net/x", p256dh, auth + "==="));
  write("subscription", "no_keys", R"({"endpoint":"https://push.example.net/x"})");
  write("subscription", "not_an_object", R"(["https://push.example.net/x"])");
  // Bare URLs and subjects for audience_for_endpoint and check_subject, which see the whole input too.
  write("subscription", "url_with_port", "https://Push.Example.NET:8443/wpush?q#f");
  write("subscription", "url_ipv6", "https://[2001:db8::1]:443/");
  write("subscription", "subject_mailto", "mailto:ops@example.com");
}

// --- base64url ---------------------------------------------------------------------------------------------------

void base64url_seeds() {
  Bytes all(256);
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<std::uint8_t>(i);
  write("base64url", "all_byte_values", base64url::encode(all));
  write("base64url", "one_byte", base64url::encode(as_bytes("f")));
  write("base64url", "two_bytes", base64url::encode(as_bytes("fo")));
  write("base64url", "three_bytes", base64url::encode(as_bytes("foo")));
  write("base64url", "url_alphabet", "-_-_");
  write("base64url", "empty", "");
  write("base64url", "non_canonical_bits", "Zh");
  write("base64url", "padded", "Zm8=");
  write("base64url", "standard_alphabet", "+/+/");
  write("base64url", "length_1_mod_4", "Zm9vY");
  write("base64url", "space", "Zm9v Zm9v");
  write("base64url", "high_octet", "Zm9\x80");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  g_root = argv[1];
  ece_seeds();
  webpush_seeds();
  jwt_seeds();
  subscription_seeds();
  base64url_seeds();
  return 0;
}
