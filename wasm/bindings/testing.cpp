// Embind: deterministic and primitive entry points for test vectors (RFC, Wycheproof) and fault tests. Linked
// into the testing and debug flavours only (cmake/Wasm.cmake), never into the release module a page loads.
#include "common.hpp"
#include "pushpeer/ece.hpp"
#include "pushpeer/neighbour.hpp"
#include "pushpeer/p256.hpp"
#include "pushpeer/symmetric.hpp"
#include "pushpeer/webpush.hpp"

using namespace pushpeer;
using namespace pushpeer::js;

namespace {

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

val seal_for_peer_with_keys(std::uintptr_t envelope, std::size_t envelope_len, std::uintptr_t identity,
                            std::size_t identity_len, std::uintptr_t eph_priv, std::size_t eph_priv_len,
                            std::uintptr_t eph_pub, std::size_t eph_pub_len, std::uintptr_t salt, std::size_t salt_len) {
  Bytes body;
  Status s = neighbour::seal_with_keys(in(identity, identity_len), in(envelope, envelope_len), in(eph_priv, eph_priv_len),
                                       in(eph_pub, eph_pub_len), in(salt, salt_len), body);
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

// A Wasm trap, as an out-of-memory abort or a bug would cause: for the core-reload test (js/core.js).
void trap() { __builtin_trap(); }

}  // namespace

EMSCRIPTEN_BINDINGS(pushpeer_testing) {
  using emscripten::function;
  function("hasTestingEntryPoints", +[] { return true; });
  function("encryptWithKeys", &encrypt_with_keys);
  function("sealForPeerWithKeys", &seal_for_peer_with_keys);
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
  function("trap", &trap);
}
