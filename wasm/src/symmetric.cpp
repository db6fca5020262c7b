#include "pushpeer/symmetric.hpp"

#include <bearssl.h>

#include "random.hpp"

namespace pushpeer::symmetric {

void sha256(ByteView message, std::uint8_t out[kSha256Length]) {
  br_sha256_context ctx;
  br_sha256_init(&ctx);
  br_sha256_update(&ctx, message.data(), message.size());
  br_sha256_out(&ctx, out);
}

void hmac_sha256(ByteView key, ByteView message, std::uint8_t out[kSha256Length]) {
  br_hmac_key_context kc;
  br_hmac_context ctx;
  static constexpr std::uint8_t kNoKey = 0;  // BearSSL memcpy()s the key: never a null pointer
  br_hmac_key_init(&kc, &br_sha256_vtable, key.empty() ? &kNoKey : key.data(), key.size());
  br_hmac_init(&ctx, &kc, 0);
  br_hmac_update(&ctx, message.data(), message.size());
  br_hmac_out(&ctx, out);
  wipe(&kc, sizeof kc);
  wipe(&ctx, sizeof ctx);
  detail::burn_stack();  // see hkdf_sha256
}

Status hkdf_sha256(ByteView salt, ByteView ikm, ByteView info, std::span<std::uint8_t> out) {
  if (out.size() > 255 * kSha256Length) return Status::bad_argument;  // RFC 5869 §2.3
  br_hkdf_context hc;
  static constexpr std::uint8_t kNoSalt = 0;  // an empty salt is a zero-length HMAC key, never a null pointer
  br_hkdf_init(&hc, &br_sha256_vtable, salt.empty() ? &kNoSalt : salt.data(), salt.size());
  br_hkdf_inject(&hc, ikm.data(), ikm.size());
  br_hkdf_flip(&hc);
  br_hkdf_produce(&hc, info.data(), info.size(), out.data(), out.size());
  wipe(&hc, sizeof hc);
  // BearSSL's HMAC leaves copies it does not clear in its own stack frames: the key blocks K ^ ipad / K ^ opad and
  // the hash states after them (mac/hmac.c process_key), the MAC (br_hmac_out), here also the PRK (br_hkdf_flip)
  // and each T(i) (br_hkdf_produce's HMAC context). Under Wasm that stack is heap memory a snapshot can read.
  detail::burn_stack();
  return Status::ok;
}

namespace {
// Key schedule + GCM state, wiped on scope exit.
struct Gcm {
  br_aes_ct64_ctr_keys aes;
  br_gcm_context gcm;
  Gcm(ByteView key, ByteView iv, ByteView aad) {
    br_aes_ct64_ctr_init(&aes, key.data(), key.size());
    br_gcm_init(&gcm, &aes.vtable, br_ghash_ctmul64);
    br_gcm_reset(&gcm, iv.data(), iv.size());
    if (!aad.empty()) br_gcm_aad_inject(&gcm, aad.data(), aad.size());  // BearSSL memcpy()s: no null pointer
    br_gcm_flip(&gcm);
  }
  ~Gcm() {
    wipe(&aes, sizeof aes);
    wipe(&gcm, sizeof gcm);
    detail::burn_stack();  // aes_ct64 keeps bitsliced key material in stack temporaries
  }
};
}  // namespace

Status aes128gcm_seal(ByteView key, ByteView iv, ByteView aad, ByteView plaintext, std::span<std::uint8_t> out) {
  if (key.size() != kGcmKeyLength || iv.empty() || out.size() != plaintext.size() + kGcmTagLength) {
    return Status::bad_argument;
  }
  Gcm g(key, iv, aad);
  std::copy(plaintext.begin(), plaintext.end(), out.begin());
  br_gcm_run(&g.gcm, 1, out.data(), plaintext.size());
  br_gcm_get_tag(&g.gcm, out.data() + plaintext.size());
  return Status::ok;
}

Status aes128gcm_open(ByteView key, ByteView iv, ByteView aad, ByteView in, std::span<std::uint8_t> out) {
  if (key.size() != kGcmKeyLength || iv.empty() || in.size() < kGcmTagLength ||
      out.size() != in.size() - kGcmTagLength) {
    return Status::bad_argument;
  }
  const std::size_t n = out.size();
  Gcm g(key, iv, aad);
  std::copy(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(n), out.begin());
  br_gcm_run(&g.gcm, 0, out.data(), n);
  if (!br_gcm_check_tag(&g.gcm, in.data() + n)) {  // constant-time tag comparison
    wipe(out.data(), n);
    return Status::decrypt_failed;
  }
  return Status::ok;
}

}  // namespace pushpeer::symmetric
