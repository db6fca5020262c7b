// Writes the seed corpora of the fuzz targets: small valid inputs produced by the core itself with the fixed keys
// of fuzz_common.hpp, and hand-made near misses (one field wrong). Deterministic: every run writes the same bytes.
// Usage: fuzz_make_seeds DIR   (writes DIR/<target>/<name>; the committed corpus is tests/fuzz/corpus)
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "fuzz_common.hpp"
#include "fuzz_content.hpp"
#include "pushpeer/base64url.hpp"
#include "pushpeer/content/site.hpp"
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

// --- manifest_decode ---------------------------------------------------------------------------------------------

content::Hash root_of(std::size_t size) {  // the root of the first `size` bytes of the fixed content
  content::TreeHasher hasher;
  expect(hasher.update(fuzz::fixed_content().first(size)), "TreeHasher::update");
  content::Tree tree;
  expect(hasher.finish(tree), "TreeHasher::finish");
  return tree.root;
}

content::Hash filled(std::uint8_t v) {
  content::Hash h;
  h.fill(v);
  return h;
}

// Signed by manifest::encode, which must agree with the targets' own writer (fuzz_content.hpp).
Bytes encoded(const manifest::Manifest& m, const std::uint8_t (&key)[32]) {
  Bytes out;
  expect(manifest::encode(m, {key, 32}, out), "manifest::encode");
  if (out != fuzz::manifest_signed(fuzz::manifest_body(m), key)) {
    std::fprintf(stderr, "make_seeds: manifest::encode and fuzz_content.hpp disagree\n");
    std::exit(1);
  }
  return out;
}

manifest::Manifest one_file() {
  manifest::Manifest m;
  m.created = 1800000000;
  m.sharer = fuzz::public_of(fuzz::kSharerPrivate);
  m.title = "Holiday photos";
  m.files.push_back({"beach.jpg", 123456, "image/jpeg", root_of(123456)});
  return m;
}

// s -> n - s: the same signature with a high s, which verify_low_s refuses.
Bytes high_s(Bytes signed_manifest) {
  static constexpr std::uint8_t kOrder[32] = {0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF,
                                              0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17,
                                              0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51};
  std::uint8_t* s = signed_manifest.data() + signed_manifest.size() - 32;
  int borrow = 0;
  for (int i = 31; i >= 0; --i) {
    const int d = kOrder[i] - s[i] - borrow;
    s[i] = static_cast<std::uint8_t>(d & 0xFF);
    borrow = d < 0;
  }
  return signed_manifest;
}

void manifest_seeds() {
  const auto& key = fuzz::kSharerPrivate;
  const manifest::Manifest one = one_file();
  const Bytes one_bytes = encoded(one, key);
  write("manifest_decode", "one_file", one_bytes);

  manifest::Manifest empty = one;
  empty.title = "";
  empty.files = {{"empty", 0, "", root_of(0)}};
  write("manifest_decode", "empty_file", encoded(empty, key));

  // 80 files in nested folders, every kind of type, within -max_len (8192 bytes).
  manifest::Manifest many = one;
  many.title = "Project archive";
  static constexpr const char* kTypes[] = {"text/plain; charset=utf-8", "application/octet-stream", "",
                                           "image/svg+xml", "application/vnd.example+json;v=2"};
  for (int i = 0; i < 80; ++i) {
    many.files.push_back({"d" + std::to_string(i % 7) + "/f" + std::to_string(i) + ".txt",
                          static_cast<std::uint64_t>(i) * 9973, kTypes[i % 5], filled(static_cast<std::uint8_t>(i))});
  }
  write("manifest_decode", "many_files", encoded(many, key));

  manifest::Manifest unicode = one;
  unicode.title = "Fotos de la playa \u2013 \u00e9t\u00e9 2026 \U0001F30A";
  unicode.files = {{"\u00e9t\u00e9/na\u00efve caf\u00e9.txt", 10, "text/plain", root_of(10)},
                   {"\u65e5\u672c\u8a9e/\u30d5\u30a1\u30a4\u30eb.txt", 20000, "", root_of(20000)},
                   {"emoji \U0001F389 party.png", 3, "image/png", root_of(3)},
                   {"\u0395\u03bb\u03bb\u03b7\u03bd\u03b9\u03ba\u03ac/\u03b1\u03c1\u03c7\u03b5\u03af\u03bf", 0, "",
                    root_of(0)},
                   {"\u05e2\u05d1\u05e8\u05d9\u05ea.txt", 1, "text/plain", root_of(1)}};
  write("manifest_decode", "unicode_names", encoded(unicode, key));

  manifest::Manifest largest = one;
  largest.files = {{".hidden/huge.bin", content::kMaxSize, "application/octet-stream", filled(0xAB)},
                   {"a/b/c/d/e/f/g", content::kMaxSize - 1, "x/y;", filled(0xCD)}};
  write("manifest_decode", "max_size", encoded(largest, key));

  // Every length at its limit: title 128 bytes (2-byte characters), name 255, type 127.
  manifest::Manifest longest = one;
  longest.title.clear();
  for (int i = 0; i < 64; ++i) longest.title += "\u00e9";
  const std::string name_255 = std::string(127, 'n') + "/" + std::string(127, 'm');
  const std::string type_127 = "application/x-" + std::string(113, 't');
  longest.files = {{name_255, 1, type_127, filled(0x11)}};
  write("manifest_decode", "max_lengths", encoded(longest, key));

  manifest::Manifest other = one;
  other.sharer = fuzz::public_of(fuzz::kVapidPrivate);
  write("manifest_decode", "other_sharer", encoded(other, fuzz::kVapidPrivate));

  // Near misses, validly signed by the sharer unless the signature is the point: one thing wrong each.
  auto resigned = [&](const std::string& name, const Bytes& body) {
    write("manifest_decode", name, fuzz::manifest_signed(body, key));
  };
  const Bytes body = fuzz::manifest_body(one);
  auto with_file = [&](manifest::File f) {
    manifest::Manifest m = one;
    m.files = {std::move(f)};
    return fuzz::manifest_body(m);
  };
  Bytes b = body;
  b[1] = 1;
  resigned("flags_1", b);
  b = body;
  b[0] = 0xD2;
  resigned("version_d2", b);
  manifest::Manifest none = one;
  none.files.clear();
  resigned("count_0", fuzz::manifest_body(none));
  b = body;
  b[fuzz::kManifestSharerOffset + 33 + 1 + one.title.size()] = 2;  // two files said, one there
  resigned("count_2_one_file", b);
  resigned("name_dotdot", with_file({"a/../b", 1, "", filled(1)}));
  resigned("name_backslash", with_file({"a\\b", 1, "", filled(1)}));
  resigned("name_empty_segment", with_file({"a//b", 1, "", filled(1)}));
  resigned("name_rtl_override", with_file({"evil\u202Egnp.exe", 1, "", filled(1)}));
  resigned("type_no_subtype", with_file({"a", 1, "image", filled(1)}));
  resigned("type_not_ascii", with_file({"a", 1, "text/plain; x=\u00e9", filled(1)}));
  resigned("size_over_max", with_file({"a", content::kMaxSize + 1, "", filled(1)}));
  manifest::Manifest over = longest;
  over.title += "x";
  resigned("title_129", fuzz::manifest_body(over));
  resigned("name_256", with_file({name_255 + "x", 1, "", filled(1)}));
  resigned("type_128", with_file({"a", 1, type_127 + "x", filled(1)}));
  manifest::Manifest newline = one;
  newline.title = "a\nb";
  resigned("title_newline", fuzz::manifest_body(newline));
  b = body;
  b.push_back(0);
  resigned("trailing_byte", b);
  b = body;
  b[fuzz::kManifestSharerOffset + 33] |= 0x80;  // the title's length in two bytes
  b.insert(b.begin() + fuzz::kManifestSharerOffset + 34, 0x00);
  resigned("non_minimal_length", b);
  b = body;
  b[fuzz::kManifestSharerOffset] = 0x04;
  resigned("sharer_prefix_04", b);
  Bytes bad = one_bytes;
  bad[bad.size() - 40] ^= 1;
  write("manifest_decode", "bad_signature", bad);
  write("manifest_decode", "high_s", high_s(one_bytes));
  write("manifest_decode", "truncated", ByteView(one_bytes).first(one_bytes.size() - 20));
}

// --- site_decode --------------------------------------------------------------------------------------------------

void site_seeds() {
  const auto& key = fuzz::kSharerPrivate;
  const Bytes files = encoded(one_file(), key);
  Bytes good;
  expect(site::encode(3, 1800000000, {key, 32}, files, good), "site::encode");
  write("site_decode", "one_file", good);
  Bytes many;
  manifest::Manifest m = one_file();
  for (int i = 0; i < 20; ++i) m.files.push_back({"assets/f" + std::to_string(i) + ".js", static_cast<std::uint64_t>(i) * 1000, "text/javascript", filled(static_cast<std::uint8_t>(i))});
  expect(site::encode(0xFFFFFFFF, 1, {key, 32}, encoded(m, key), many), "site::encode");
  write("site_decode", "many_files", many);
  Bytes version0 = good;
  std::fill(version0.begin() + 2, version0.begin() + 6, 0);
  write("site_decode", "version_0", version0);
  Bytes flags = good;
  flags[1] = 1;
  write("site_decode", "flags", flags);
  Bytes other;
  manifest::Manifest theirs = one_file();
  theirs.sharer = fuzz::public_of(fuzz::kVapidPrivate);
  expect(site::encode(2, 5, {fuzz::kVapidPrivate, 32}, encoded(theirs, fuzz::kVapidPrivate), other), "site::encode");
  write("site_decode", "other_publisher", other);
  Bytes swapped(good.begin(), good.begin() + site::kRecordLength);
  swapped.insert(swapped.end(), many.begin() + site::kRecordLength, many.end());
  write("site_decode", "another_manifest", swapped);
  write("site_decode", "share_manifest_alone", files);
  write("site_decode", "truncated", ByteView(good).first(site::kRecordLength + 10));
}

// --- content_frame -----------------------------------------------------------------------------------------------

content::Tree content_tree(std::size_t size) {
  content::TreeHasher hasher;
  expect(hasher.update(fuzz::fixed_content().first(size)), "TreeHasher::update");
  content::Tree tree;
  expect(hasher.finish(tree), "TreeHasher::finish");
  return tree;
}

// The true data frame of leaves [first, first + count) of the first `size` fixed bytes.
Bytes true_data_frame(std::uint32_t file, std::size_t size, std::uint32_t first, std::uint32_t count) {
  const std::size_t start = first * content::kLeafSize;
  const std::size_t end = std::min(size, std::size_t{first + count} * content::kLeafSize);
  const ByteView bytes = fuzz::fixed_content().subspan(start, end - start);
  Bytes out;
  expect(frame::encode_data(7, file, content_tree(size), first, count, bytes, out), "frame::encode_data");
  return out;
}

void frame_seeds() {
  constexpr std::size_t L = content::kLeafSize;
  auto put = [](const std::string& name, ByteView bytes) { write("content_frame", name, bytes); };
  content::Hash share;
  Bytes manifest_bytes;
  expect(manifest::encode(one_file(), {fuzz::kSharerPrivate, 32}, manifest_bytes), "manifest::encode");
  expect(manifest::id(manifest_bytes, share), "manifest::id");

  // Frames, every type (docs/PROTOCOL.md §9.4).
  const Bytes get = frame::encode_get(300, share, 1, 8, 8);
  put("get_manifest", frame::encode_get_manifest(1, share));
  put("manifest", frame::encode_manifest(2, manifest_bytes));
  put("get", get);
  put("data_short_leaf", true_data_frame(0, 5000, 0, 1));
  put("data_last_leaf", true_data_frame(1, 3 * L + 700, 3, 1));
  put("error_not_found", frame::encode_error(4, frame::ErrorCode::not_found));
  put("error_busy", frame::encode_error(5, frame::ErrorCode::busy));
  put("error_bad_request", frame::encode_error(6, frame::ErrorCode::bad_request));
  put("error_unavailable", frame::encode_error(0x4000, frame::ErrorCode::unavailable));
  put("cancel_max_request", frame::encode_cancel(0xFFFFFFFF));
  put("get_count_64", frame::encode_get(8, share, 0xFFFFFFFF, 0xFFFFFFFF, 64));
  put("data_64_hashes", fuzz::data_frame(9, 3, 100, 64, Bytes(64 * content::kHashLength, 0x64), {}));
  put("get_have", frame::encode_get_have(10, share, 3));
  Bytes have;
  expect(frame::encode_have(11, share, 0, 0, 10, Bytes{0xFF, 0x40}, have), "frame::encode_have");
  put("have_10", have);
  expect(frame::encode_have(12, share, 2, 1000, 1, Bytes{0x80}, have), "frame::encode_have");
  put("have_one_piece", have);
  expect(frame::encode_have(13, share, 1, frame::kMaxPieces - 16, 16, Bytes{0x0F, 0xF0}, have), "frame::encode_have");
  put("have_at_the_limit", have);
  // Near misses.
  Bytes b = frame::encode_get_manifest(1, share);
  b[0] = 2;
  put("version_2", b);
  b[0] = 1, b[1] = 9;
  put("type_9", b);
  put("get_manifest_short_share", ByteView(frame::encode_get_manifest(1, share)).first(3 + 31));
  put("get_count_0", frame::encode_get(1, share, 1, 8, 0));
  put("get_count_65", frame::encode_get(1, share, 1, 0, 65));
  put("data_proof_33", fuzz::data_frame(1, 0, 0, 1, Bytes(33, 0xAA), as_bytes("x")));
  put("data_count_0", fuzz::data_frame(1, 0, 0, 0, {}, as_bytes("x")));
  put("error_code_5", frame::encode_error(1, static_cast<frame::ErrorCode>(5)));
  b = frame::encode_cancel(1);
  b.push_back(0);
  put("cancel_trailing_byte", b);
  put("request_non_minimal", Bytes{1, 6, 0x81, 0x00});
  put("manifest_empty", frame::encode_manifest(1, {}));
  put("data_65_hashes", fuzz::data_frame(9, 3, 100, 64, Bytes(65 * content::kHashLength, 0x65), {}));
  put("request_over_32_bits", Bytes{1, 6, 0xFF, 0xFF, 0xFF, 0xFF, 0x10});
  expect(frame::encode_have(1, share, 0, 0, 10, Bytes{0xFF, 0x40}, b), "frame::encode_have");
  b.back() |= 0x01;
  put("have_spare_bit", b);
  b.back() &= 0xFE;
  b.push_back(0);
  put("have_bits_too_long", b);

  // The proof mode, frames from the fuzzer (fuzz_content.hpp): true answers to the asked range, then near misses.
  auto forged = [&](const std::string& name, std::uint32_t size, std::uint8_t first, std::uint8_t count,
                    ByteView frame_bytes) {
    put("proof_" + name, concat({fuzz::proof_header(fuzz::kModeForged, size, first, count), frame_bytes}));
  };
  const Bytes last_of_40 = true_data_frame(fuzz::kAskedFile, 39 * L + 100, 39, 1);
  forged("empty_content", 0, 0, 1, true_data_frame(fuzz::kAskedFile, 0, 0, 1));
  forged("one_short_leaf", 5000, 0, 1, true_data_frame(fuzz::kAskedFile, 5000, 0, 1));
  forged("last_leaf_of_4", 3 * L + 700, 3, 1, true_data_frame(fuzz::kAskedFile, 3 * L + 700, 3, 1));
  forged("last_leaf_of_40", 39 * L + 100, 39, 1, last_of_40);
  b = last_of_40;
  b[10] ^= 0x20;  // a proof hash
  forged("wrong_hash", 39 * L + 100, 39, 1, b);
  b = last_of_40;
  b.back() ^= 1;
  forged("wrong_byte", 39 * L + 100, 39, 1, b);
  forged("other_size", 39 * L + 101, 39, 1, last_of_40);
  forged("other_file", 5000, 0, 1, true_data_frame(0, 5000, 0, 1));
  forged("not_data", 5000, 0, 1, get);

  // The proof mode, edits of the true range (fuzz_content.hpp, Edit).
  auto edited = [&](const std::string& name, std::uint32_t size, std::uint8_t first, std::uint8_t count,
                    std::uint8_t piece, std::initializer_list<ByteView> edits) {
    put("edit_" + name, concat({fuzz::proof_header(fuzz::kModeEdited, size, first, count, piece), concat(edits)}));
  };
  edited("true_8_of_40", 40 * L, 8, 8, 0, {});
  edited("true_whole_40", 40 * L, 0, 40, 128, {});
  edited("true_2_of_17", 16 * L + 1, 15, 2, 1, {});
  edited("true_empty", 0, 0, 1, 0, {});
  edited("true_5_of_33_pieces", 32 * L + 9, 27, 5, 255, {});
  edited("flip_data", 40 * L, 8, 8, 0, {fuzz::edit(fuzz::kFlipData, 70000, 0x40)});
  edited("flip_proof", 40 * L, 8, 8, 0, {fuzz::edit(fuzz::kFlipProof, 5, 0x01)});
  edited("proof_from_tree", 40 * L, 8, 8, 0, {fuzz::edit(fuzz::kProofFromTree, 3, 1)});
  edited("swap_proof", 21 * L + 3, 5, 3, 200, {fuzz::edit(fuzz::kSwapProof, 0, 1)});
  edited("leaf_elsewhere", 40 * L, 8, 8, 0, {fuzz::edit(fuzz::kLeafFromElsewhere, 20, 2)});
  edited("short_data", 40 * L, 8, 8, 0, {fuzz::edit(fuzz::kResizeData, 8 * L - 1, 0)});
  edited("extra_hash", 40 * L, 8, 8, 0, {fuzz::edit(fuzz::kResizeProof, 4, 0)});
  edited("odd_proof", 40 * L, 8, 8, 0, {fuzz::edit(fuzz::kOddProof, 0, 3)});
  edited("frame_first", 40 * L, 8, 8, 0, {fuzz::edit(fuzz::kFrameFields, 0, 1)});
  edited("out_of_range", 40 * L, 40, 1, 0, {});
  edited("count_65", 40 * L, 0, 65, 0, {});
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
  manifest_seeds();
  site_seeds();
  frame_seeds();
  return 0;
}
