// The only file that knows about JavaScript: Embind wrappers around the core.
//
// Conventions (js/core.js relies on them):
// - Byte inputs arrive as (pointer, length) into buffers js/core.js allocated with _malloc; it wipes and frees
//   them after the call, so secrets never linger in freed heap memory.
// - Byte outputs leave as new Uint8Array copies, never views into the heap.
// - Errors are returned as the (negative) status number; js/core.js turns them into PushPeerError.
#include <emscripten/bind.h>
#include <emscripten/val.h>

#include <cmath>
#include <cstdint>
#include <cstring>

#include "pushpeer/ece.hpp"
#include "pushpeer/p256.hpp"
#include "pushpeer/push_request.hpp"
#include "pushpeer/sdp_codec.hpp"
#include "pushpeer/status.hpp"
#include "pushpeer/symmetric.hpp"
#include "pushpeer/vapid.hpp"
#include "pushpeer/webpush.hpp"

using emscripten::val;
using namespace pushpeer;

namespace {

ByteView in(std::uintptr_t ptr, std::size_t len) { return {reinterpret_cast<const std::uint8_t*>(ptr), len}; }

val copy_out(ByteView bytes) {
  // new Uint8Array(typedArray) copies, so no view into the Wasm heap escapes.
  return val::global("Uint8Array").new_(emscripten::typed_memory_view(bytes.size(), bytes.data()));
}

val fail(Status s) { return val(static_cast<int>(s)); }

template <typename T>
val bytes_or_fail(Status s, const T& bytes) {
  return s == Status::ok ? copy_out({bytes.data(), bytes.size()}) : fail(s);
}

std::int64_t seconds(double v) { return std::isfinite(v) ? static_cast<std::int64_t>(v) : INT64_MIN; }

VapidTokenCache& token_cache() {
  static VapidTokenCache cache;
  return cache;
}

// --- public API ---

std::string status_name_of(int s) { return status_name(static_cast<Status>(s)); }
std::string status_message_of(int s) { return status_message(static_cast<Status>(s)); }

val generate_key_pair() {
  p256::PrivateKey priv;
  p256::PublicKey pub;
  if (Status s = p256::generate_key_pair(priv, pub); s != Status::ok) return fail(s);
  val out = val::object();
  out.set("publicKey", copy_out(pub));
  out.set("privateKey", copy_out(priv.view()));
  return out;
}

val public_key_from_private(std::uintptr_t p, std::size_t n) {
  p256::PublicKey pub;
  return bytes_or_fail(p256::public_key_from_private(in(p, n), pub), pub);
}

val vapid_authorization(std::string endpoint, std::string subject, std::uintptr_t priv, std::size_t priv_len,
                        std::uintptr_t pub, std::size_t pub_len, double expiration, double now) {
  std::string header;
  Status s = vapid::authorization(endpoint, subject, in(priv, priv_len), in(pub, pub_len), seconds(expiration),
                                  seconds(now), header);
  return s == Status::ok ? val(header) : fail(s);
}

val verify_jwt(std::string jwt, std::uintptr_t pub, std::size_t pub_len) {
  vapid::Claims claims;
  if (Status s = vapid::verify_jwt(jwt, in(pub, pub_len), claims); s != Status::ok) return fail(s);
  val out = val::object();
  out.set("aud", claims.aud);
  out.set("exp", static_cast<double>(claims.exp));
  out.set("sub", claims.sub);
  return out;
}

val encrypt(std::uintptr_t p256dh, std::size_t p256dh_len, std::uintptr_t auth, std::size_t auth_len,
            std::uintptr_t pt, std::size_t pt_len, double record_size, double padding) {
  if (!(record_size >= 0 && record_size <= UINT32_MAX && padding >= 0 && padding <= UINT32_MAX)) {
    return fail(Status::bad_argument);
  }
  Bytes body;
  Status s = webpush::encrypt(in(p256dh, p256dh_len), in(auth, auth_len), in(pt, pt_len),
                              static_cast<std::uint32_t>(record_size), static_cast<std::size_t>(padding), body);
  return bytes_or_fail(s, body);
}

val decrypt(std::uintptr_t priv, std::size_t priv_len, std::uintptr_t pub, std::size_t pub_len, std::uintptr_t auth,
            std::size_t auth_len, std::uintptr_t body, std::size_t body_len) {
  Bytes plaintext;
  Status s = webpush::decrypt(in(priv, priv_len), in(pub, pub_len), in(auth, auth_len), in(body, body_len), plaintext);
  val out = bytes_or_fail(s, plaintext);
  wipe(plaintext.data(), plaintext.size());
  return out;
}

// The subscription arrives parsed (js/core.js): its auth secret only enters the heap through a wiped buffer.
val push_request_js(std::string endpoint, std::uintptr_t p256dh, std::size_t p256dh_len, std::uintptr_t auth,
                    std::size_t auth_len, std::uintptr_t payload, std::size_t payload_len, std::uintptr_t priv,
                    std::size_t priv_len, std::uintptr_t pub, std::size_t pub_len, std::string subject, double now,
                    double ttl, std::string urgency, std::string topic) {
  if (!(ttl >= 0 && ttl <= kMaxTtlSeconds && std::floor(ttl) == ttl)) return fail(Status::bad_ttl);
  if (p256dh_len != p256::kPublicKeyLength || auth_len != webpush::kAuthSecretLength) return fail(Status::bad_key);
  Subscription subscription;
  subscription.endpoint = std::move(endpoint);
  std::memcpy(subscription.p256dh.data(), reinterpret_cast<const void*>(p256dh), p256dh_len);
  std::memcpy(subscription.auth.data(), reinterpret_cast<const void*>(auth), auth_len);
  PushRequestOptions o;
  o.subscription = &subscription;
  o.payload = in(payload, payload_len);
  o.vapid_private_key = in(priv, priv_len);
  o.vapid_public_key = in(pub, pub_len);
  o.subject = subject;
  o.now = seconds(now);
  o.ttl = static_cast<std::uint32_t>(ttl);
  o.urgency = urgency;
  o.topic = topic;
  o.cache = &token_cache();
  PushRequest request;
  if (Status s = pushpeer::build_push_request(o, request); s != Status::ok) return fail(s);
  val headers = val::object();
  for (const auto& [name, value] : request.headers) headers.set(name, value);
  val out = val::object();
  out.set("endpoint", request.endpoint);
  out.set("headers", headers);
  out.set("body", copy_out(request.body));
  return out;
}

void clear_token_cache() { token_cache().clear(); }

val pack_sdp(std::uintptr_t text, std::size_t len) {
  Bytes packed;
  Status s = sdp::pack({reinterpret_cast<const char*>(text), len}, packed);
  return bytes_or_fail(s, packed);
}

val unpack_sdp(std::uintptr_t packed, std::size_t len) {
  std::string text;
  Status s = sdp::unpack(in(packed, len), text);
  return s == Status::ok ? copy_out(as_bytes(text)) : fail(s);
}

// --- testing entry points (vectors; not for production) ---

val encrypt_with_keys(std::uintptr_t p256dh, std::size_t p256dh_len, std::uintptr_t auth, std::size_t auth_len,
                      std::uintptr_t as_priv, std::size_t as_priv_len, std::uintptr_t as_pub, std::size_t as_pub_len,
                      std::uintptr_t salt, std::size_t salt_len, std::uintptr_t pt, std::size_t pt_len,
                      double record_size, double padding) {
  if (!(record_size >= 0 && record_size <= UINT32_MAX && padding >= 0 && padding <= UINT32_MAX)) {
    return fail(Status::bad_argument);
  }
  Bytes body;
  Status s = webpush::encrypt_with_keys(in(p256dh, p256dh_len), in(auth, auth_len), in(as_priv, as_priv_len),
                                        in(as_pub, as_pub_len), in(salt, salt_len), in(pt, pt_len),
                                        static_cast<std::uint32_t>(record_size), static_cast<std::size_t>(padding),
                                        body);
  return bytes_or_fail(s, body);
}

val ece_encrypt(std::uintptr_t ikm, std::size_t ikm_len, std::uintptr_t salt, std::size_t salt_len,
                std::uintptr_t key_id, std::size_t key_id_len, double record_size, double padding, std::uintptr_t pt,
                std::size_t pt_len) {
  if (!(record_size >= 0 && record_size <= UINT32_MAX && padding >= 0 && padding <= 1 << 20)) {
    return fail(Status::bad_argument);
  }
  Bytes body;
  Status s = ece::encrypt_with_ikm(in(ikm, ikm_len), in(salt, salt_len), in(key_id, key_id_len),
                                   static_cast<std::uint32_t>(record_size), static_cast<std::size_t>(padding),
                                   in(pt, pt_len), body);
  return bytes_or_fail(s, body);
}

val ece_decrypt(std::uintptr_t ikm, std::size_t ikm_len, std::uintptr_t body, std::size_t body_len) {
  Bytes plaintext;
  return bytes_or_fail(ece::decrypt_with_ikm(in(ikm, ikm_len), in(body, body_len), plaintext), plaintext);
}

val ecdh(std::uintptr_t priv, std::size_t priv_len, std::uintptr_t pub, std::size_t pub_len) {
  p256::SharedSecret shared;
  return bytes_or_fail(p256::ecdh(in(priv, priv_len), in(pub, pub_len), shared), shared.bytes);
}

val public_key_from_spki(std::uintptr_t der, std::size_t der_len) {
  p256::PublicKey pub;
  return bytes_or_fail(p256::public_key_from_spki(in(der, der_len), pub), pub);
}

val ecdsa_sign(std::uintptr_t priv, std::size_t priv_len, std::uintptr_t msg, std::size_t msg_len) {
  p256::Signature sig;
  return bytes_or_fail(p256::sign(in(priv, priv_len), in(msg, msg_len), sig), sig);
}

int ecdsa_verify(std::uintptr_t pub, std::size_t pub_len, std::uintptr_t msg, std::size_t msg_len, std::uintptr_t sig,
                 std::size_t sig_len) {
  return static_cast<int>(p256::verify(in(pub, pub_len), in(msg, msg_len), in(sig, sig_len)));
}

val aes_gcm_seal(std::uintptr_t key, std::size_t key_len, std::uintptr_t iv, std::size_t iv_len, std::uintptr_t aad,
                 std::size_t aad_len, std::uintptr_t pt, std::size_t pt_len) {
  Bytes out(pt_len + symmetric::kGcmTagLength);
  return bytes_or_fail(symmetric::aes128gcm_seal(in(key, key_len), in(iv, iv_len), in(aad, aad_len), in(pt, pt_len), out),
                       out);
}

val aes_gcm_open(std::uintptr_t key, std::size_t key_len, std::uintptr_t iv, std::size_t iv_len, std::uintptr_t aad,
                 std::size_t aad_len, std::uintptr_t ct, std::size_t ct_len) {
  if (ct_len < symmetric::kGcmTagLength) return fail(Status::decrypt_failed);
  Bytes out(ct_len - symmetric::kGcmTagLength);
  return bytes_or_fail(symmetric::aes128gcm_open(in(key, key_len), in(iv, iv_len), in(aad, aad_len), in(ct, ct_len), out),
                       out);
}

val hkdf_sha256(std::uintptr_t salt, std::size_t salt_len, std::uintptr_t ikm, std::size_t ikm_len, std::uintptr_t info,
                std::size_t info_len, double length) {
  if (!(length >= 0 && length <= 255 * 32)) return fail(Status::bad_argument);
  Bytes out(static_cast<std::size_t>(length));
  return bytes_or_fail(symmetric::hkdf_sha256(in(salt, salt_len), in(ikm, ikm_len), in(info, info_len), out), out);
}

val hmac_sha256(std::uintptr_t key, std::size_t key_len, std::uintptr_t msg, std::size_t msg_len) {
  std::uint8_t out[symmetric::kSha256Length];
  symmetric::hmac_sha256(in(key, key_len), in(msg, msg_len), out);
  return copy_out({out, sizeof out});
}

}  // namespace

EMSCRIPTEN_BINDINGS(pushpeer_core) {
  using emscripten::function;
  function("statusName", &status_name_of);
  function("statusMessage", &status_message_of);
  function("generateKeyPair", &generate_key_pair);
  function("publicKeyFromPrivate", &public_key_from_private);
  function("vapidAuthorization", &vapid_authorization);
  function("verifyJwt", &verify_jwt);
  function("encrypt", &encrypt);
  function("decrypt", &decrypt);
  function("buildPushRequest", &push_request_js);
  function("clearTokenCache", &clear_token_cache);
  function("packSdp", &pack_sdp);
  function("unpackSdp", &unpack_sdp);
  function("encryptWithKeys", &encrypt_with_keys);
  function("eceEncrypt", &ece_encrypt);
  function("eceDecrypt", &ece_decrypt);
  function("ecdh", &ecdh);
  function("publicKeyFromSpki", &public_key_from_spki);
  function("ecdsaSign", &ecdsa_sign);
  function("ecdsaVerify", &ecdsa_verify);
  function("aesGcmSeal", &aes_gcm_seal);
  function("aesGcmOpen", &aes_gcm_open);
  function("hkdfSha256", &hkdf_sha256);
  function("hmacSha256", &hmac_sha256);
}
