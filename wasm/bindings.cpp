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
#include "pushpeer/card.hpp"
#include "pushpeer/envelope.hpp"
#include "pushpeer/grant.hpp"
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

// --- grants, cards, envelopes ---

envelope::ReplayGuard& replay_guard() {
  static envelope::ReplayGuard guard;
  return guard;
}

val grants_to_js(const std::vector<grant::Grant>& grants) {
  val list = val::array();  // filled by index: val::call would need thread-local storage (no atomics here)
  for (std::size_t i = 0; i < grants.size(); ++i) {
    val o = val::object();
    o.set("exp", static_cast<double>(grants[i].exp));
    o.set("signature", copy_out(grants[i].signature));
    list.set(static_cast<int>(i), o);
  }
  return list;
}

// Grants arrive flattened: n x (exp u32 big-endian, 64-byte signature).
bool grants_from_bytes(ByteView flat, std::vector<grant::Grant>& grants) {
  if (flat.size() % grant::kWireLength != 0 || flat.size() / grant::kWireLength > grant::kMaxGrants) return false;
  for (std::size_t at = 0; at < flat.size(); at += grant::kWireLength) {
    grant::Grant g;
    g.exp = std::uint32_t{flat[at]} << 24 | std::uint32_t{flat[at + 1]} << 16 | std::uint32_t{flat[at + 2]} << 8 |
            flat[at + 3];
    std::copy(flat.begin() + static_cast<std::ptrdiff_t>(at + 4),
              flat.begin() + static_cast<std::ptrdiff_t>(at + grant::kWireLength), g.signature.begin());
    grants.push_back(g);
  }
  return true;
}

val issue_grants(std::uintptr_t priv, std::size_t priv_len, std::string endpoint, std::string subject, double first_exp,
                 double interval, double count) {
  if (!(first_exp >= 0 && first_exp <= UINT32_MAX && interval >= 0 && interval <= UINT32_MAX && count >= 1 &&
        count <= grant::kMaxGrants)) {
    return fail(Status::bad_argument);
  }
  std::vector<grant::Grant> grants;
  Status s = grant::issue(in(priv, priv_len), endpoint, subject, static_cast<std::uint32_t>(first_exp),
                          static_cast<std::uint32_t>(interval), static_cast<std::size_t>(count), grants);
  return s == Status::ok ? grants_to_js(grants) : fail(s);
}

val create_card(std::uintptr_t priv, std::size_t priv_len, std::string endpoint, std::uintptr_t p256dh,
                std::size_t p256dh_len, std::uintptr_t auth, std::size_t auth_len, std::string subject, std::string name,
                double created, std::uintptr_t grants, std::size_t grants_len) {
  if (p256dh_len != p256::kPublicKeyLength || auth_len != 16) return fail(Status::bad_key);
  if (!(created >= 0 && created <= UINT32_MAX)) return fail(Status::bad_argument);
  card::Card c;
  c.created = static_cast<std::uint32_t>(created);
  c.endpoint = std::move(endpoint);
  std::memcpy(c.p256dh.data(), reinterpret_cast<const void*>(p256dh), p256dh_len);
  std::memcpy(c.auth.data(), reinterpret_cast<const void*>(auth), auth_len);
  if (Status s = p256::public_key_from_private(in(priv, priv_len), c.identity); s != Status::ok) return fail(s);
  c.subject = std::move(subject);
  c.name = std::move(name);
  if (!grants_from_bytes(in(grants, grants_len), c.grants)) return fail(Status::bad_argument);
  Bytes out;
  Status s = card::encode(c, in(priv, priv_len), out);
  wipe(c.auth.data(), c.auth.size());
  return bytes_or_fail(s, out);
}

val card_to_js(const card::Card& c) {
  val o = val::object();
  o.set("created", static_cast<double>(c.created));
  o.set("endpoint", c.endpoint);
  o.set("p256dh", copy_out(c.p256dh));
  o.set("auth", copy_out(c.auth));
  o.set("identity", copy_out(c.identity));
  o.set("keyId", copy_out(card::key_id(c.identity)));
  o.set("subject", c.subject);
  o.set("name", c.name);
  o.set("grants", grants_to_js(c.grants));
  return o;
}

val decode_card(std::uintptr_t p, std::size_t n) {
  card::Card c;
  Status s = card::decode(in(p, n), c);
  return s == Status::ok ? card_to_js(c) : fail(s);
}

val grant_authorization(std::uintptr_t card_bytes, std::size_t card_len, double now) {
  card::Card c;
  if (Status s = card::decode(in(card_bytes, card_len), c); s != Status::ok) return fail(s);
  std::size_t index = 0;
  if (Status s = grant::pick(c.grants, seconds(now), index); s != Status::ok) return fail(s);
  std::string header;
  Status s = grant::authorization(c.grants[index], c.endpoint, c.subject, c.identity, header);
  if (s != Status::ok) return fail(s);
  val o = val::object();
  o.set("authorization", header);
  o.set("exp", static_cast<double>(c.grants[index].exp));
  // The rest of a push to the card's owner, from the same verified card: senders decode it once.
  o.set("endpoint", c.endpoint);
  o.set("p256dh", copy_out(c.p256dh));
  o.set("auth", copy_out(c.auth));
  return o;
}

val seal_envelope(std::uintptr_t priv, std::size_t priv_len, double type, std::uintptr_t session, std::size_t session_len,
                  double sequence, double timestamp, std::uintptr_t body, std::size_t body_len, std::uintptr_t card_bytes,
                  std::size_t card_len) {
  if (!(type >= 1 && type <= 255 && sequence >= 0 && sequence <= UINT32_MAX && timestamp >= 0 &&
        timestamp <= UINT32_MAX) || session_len != 8) {
    return fail(Status::bad_argument);
  }
  if (body_len > envelope::kMaxBodyLength) return fail(Status::payload_too_large);
  envelope::Sealed e;
  e.type = static_cast<envelope::Type>(static_cast<std::uint8_t>(type));
  std::memcpy(e.session.data(), reinterpret_cast<const void*>(session), 8);
  e.sequence = static_cast<std::uint32_t>(sequence);
  e.timestamp = static_cast<std::uint32_t>(timestamp);
  e.body = in(body, body_len);
  e.sender_card = in(card_bytes, card_len);
  Bytes out;
  Status s = envelope::seal(e, in(priv, priv_len), out);
  if (s == Status::ok && out.size() > webpush::kMaxPlaintextLength) return fail(Status::payload_too_large);
  return bytes_or_fail(s, out);
}

val envelope_sender(std::uintptr_t p, std::size_t n) {
  card::KeyId id;
  bool has_card = false;
  if (Status s = envelope::peek_sender(in(p, n), id, has_card); s != Status::ok) return fail(s);
  val o = val::object();
  o.set("keyId", copy_out(id));
  o.set("hasCard", has_card);
  return o;
}

val open_envelope(std::uintptr_t p, std::size_t n, double now, std::uintptr_t known, std::size_t known_len,
                  bool use_guard, double max_age, double max_skew) {
  if (!(max_age >= 0 && max_skew >= 0)) return fail(Status::bad_argument);
  p256::PublicKey key;
  const p256::PublicKey* known_key = nullptr;
  if (known_len != 0) {
    if (known_len != p256::kPublicKeyLength) return fail(Status::bad_key);
    std::memcpy(key.data(), reinterpret_cast<const void*>(known), known_len);
    if (Status s = p256::validate_public_key(key); s != Status::ok) return fail(s);
    known_key = &key;
  }
  envelope::Opened o;
  Status s = envelope::open(in(p, n), seconds(now), known_key, use_guard ? &replay_guard() : nullptr, o,
                            static_cast<std::int64_t>(max_age), static_cast<std::int64_t>(max_skew));
  if (s != Status::ok) return fail(s);
  val out = val::object();
  out.set("type", static_cast<int>(o.type));
  out.set("sender", copy_out(o.sender));
  out.set("senderKey", copy_out(o.sender_key));
  out.set("card", o.has_card ? card_to_js(o.card) : val::null());
  out.set("sessionId", copy_out(o.session));
  out.set("sequence", static_cast<double>(o.sequence));
  out.set("timestamp", static_cast<double>(o.timestamp));
  out.set("body", copy_out(o.body));
  return out;
}

val save_replay_state() { return copy_out(replay_guard().save()); }

int restore_replay_state(std::uintptr_t p, std::size_t n) {
  return static_cast<int>(replay_guard().restore(in(p, n)));
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

// Content hashing (files over the data channel, docs/PROTOCOL.md §8): a public entry point, not a testing one.
val sha256(std::uintptr_t msg, std::size_t msg_len) {
  std::uint8_t out[symmetric::kSha256Length];
  symmetric::sha256(in(msg, msg_len), out);
  return copy_out({out, sizeof out});
}

}  // namespace

EMSCRIPTEN_BINDINGS(pushpeer_core) {
  function("sha256", &sha256);
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
  function("issueGrants", &issue_grants);
  function("createCard", &create_card);
  function("decodeCard", &decode_card);
  function("grantAuthorization", &grant_authorization);
  function("sealEnvelope", &seal_envelope);
  function("envelopeSender", &envelope_sender);
  function("openEnvelope", &open_envelope);
  function("saveReplayState", &save_replay_state);
  function("restoreReplayState", &restore_replay_state);
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
