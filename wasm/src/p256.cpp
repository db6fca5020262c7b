#include "pushpeer/p256.hpp"

#include <bearssl.h>

#include <algorithm>
#include <cstring>

#include "p256_window.h"
#include "pushpeer/symmetric.hpp"
#include "random.hpp"

namespace pushpeer::p256 {

namespace {

// BearSSL's m31 arithmetic with wider windows and a fixed-base comb (p256_window.c).
const br_ec_impl& impl() { return pushpeer_p256_window; }

// Group order n of P-256, big-endian.
constexpr std::uint8_t kOrder[32] = {
    0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17, 0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51};

// 1 if 0 < x < n, in constant time (the scalar is secret).
std::uint32_t scalar_in_range(const std::uint8_t x[32]) {
  std::uint32_t borrow = 0;
  std::uint32_t any = 0;
  for (int i = 31; i >= 0; --i) {
    const std::uint32_t d = static_cast<std::uint32_t>(x[i]) - kOrder[i] - borrow;
    borrow = (d >> 31) & 1;
    any |= x[i];
  }
  // x < n exactly when the subtraction x - n borrows out of the top byte.
  return borrow & static_cast<std::uint32_t>((any | (0u - any)) >> 31);
}

// (n - 1) / 2, big-endian: the largest low s.
constexpr std::uint8_t kHalfOrder[32] = {
    0x7F, 0xFF, 0xFF, 0xFF, 0x80, 0x00, 0x00, 0x00, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xDE, 0x73, 0x7D, 0x56, 0xD3, 0x8B, 0xCF, 0x42, 0x79, 0xDC, 0xE5, 0x61, 0x7E, 0x31, 0x92, 0xA8};

// s of a signature is public: plain comparisons are fine here.
bool high_s(const std::uint8_t* s) {
  return std::lexicographical_compare(std::begin(kHalfOrder), std::end(kHalfOrder), s, s + 32);
}

bool well_formed_public(ByteView pub) { return pub.size() == kPublicKeyLength && pub[0] == 0x04; }

}  // namespace

Status generate_key_pair(PrivateKey& private_key, PublicKey& public_key) {
  // Rejection sampling: a uniform 256-bit value is out of range with probability ~2^-32.
  for (int attempt = 0; attempt < 64; ++attempt) {
    detail::random_bytes(private_key.data(), kPrivateKeyLength);
    if (scalar_in_range(private_key.data())) {
      impl().mulgen(public_key.data(), private_key.data(), kPrivateKeyLength, BR_EC_secp256r1);
      detail::burn_stack();
      return Status::ok;
    }
  }
  return Status::internal;
}

Status public_key_from_private(ByteView private_key, PublicKey& public_key) {
  if (private_key.size() != kPrivateKeyLength || !scalar_in_range(private_key.data())) return Status::bad_key;
  impl().mulgen(public_key.data(), private_key.data(), kPrivateKeyLength, BR_EC_secp256r1);
  detail::burn_stack();
  return Status::ok;
}

Status validate_public_key(ByteView public_key) {
  if (!well_formed_public(public_key)) return Status::bad_key;
  return pushpeer_p256_point_is_valid(public_key.data(), public_key.size()) ? Status::ok : Status::bad_key;
}

Status ecdh(ByteView private_key, ByteView peer_public_key, SharedSecret& shared) {
  if (private_key.size() != kPrivateKeyLength || !scalar_in_range(private_key.data())) return Status::bad_key;
  if (!well_formed_public(peer_public_key)) return Status::bad_key;
  Secret<kPublicKeyLength> point;
  std::memcpy(point.data(), peer_public_key.data(), kPublicKeyLength);
  // mul() rejects points off the curve and the point at infinity.
  const std::uint32_t ok =
      impl().mul(point.data(), kPublicKeyLength, private_key.data(), kPrivateKeyLength, BR_EC_secp256r1);
  detail::burn_stack();
  if (!ok) return Status::bad_key;
  std::memcpy(shared.data(), point.data() + 1, kSharedSecretLength);  // X coordinate
  return Status::ok;
}

Status sign(ByteView private_key, ByteView message, Signature& signature) {
  if (private_key.size() != kPrivateKeyLength || !scalar_in_range(private_key.data())) return Status::bad_key;
  std::uint8_t hash[symmetric::kSha256Length];
  symmetric::sha256(message, hash);
  br_ec_private_key sk{BR_EC_secp256r1, const_cast<unsigned char*>(private_key.data()), kPrivateKeyLength};
  // br_ecdsa_i31_sign_raw derives the nonce deterministically (RFC 6979) and writes r || s.
  const std::size_t n = br_ecdsa_i31_sign_raw(&impl(), &br_sha256_vtable, hash, &sk, signature.data());
  detail::burn_stack();
  return n == kSignatureLength ? Status::ok : Status::internal;
}

Status verify(ByteView public_key, ByteView message, ByteView signature) {
  if (Status s = validate_public_key(public_key); s != Status::ok) return s;
  if (signature.size() != kSignatureLength) return Status::bad_signature;
  std::uint8_t hash[symmetric::kSha256Length];
  symmetric::sha256(message, hash);
  br_ec_public_key pk{BR_EC_secp256r1, const_cast<unsigned char*>(public_key.data()), kPublicKeyLength};
  return br_ecdsa_i31_vrfy_raw(&impl(), hash, sizeof hash, &pk, signature.data(), signature.size())
             ? Status::ok
             : Status::bad_signature;
}

Status sign_low_s(ByteView private_key, ByteView message, Signature& signature) {
  if (Status s = sign(private_key, message, signature); s != Status::ok) return s;
  std::uint8_t* s = signature.data() + 32;
  if (high_s(s)) {
    // s := n - s, big-endian.
    int borrow = 0;
    for (int i = 31; i >= 0; --i) {
      const int d = kOrder[i] - s[i] - borrow;
      s[i] = static_cast<std::uint8_t>(d & 0xFF);
      borrow = d < 0;
    }
  }
  return Status::ok;
}

bool is_low_s(ByteView signature) { return signature.size() == kSignatureLength && !high_s(signature.data() + 32); }

Status verify_low_s(ByteView public_key, ByteView message, ByteView signature) {
  if (signature.size() == kSignatureLength && high_s(signature.data() + 32)) return Status::bad_signature;
  return verify(public_key, message, signature);
}

Status compress(ByteView public_key, CompressedKey& compressed) {
  if (Status s = validate_public_key(public_key); s != Status::ok) return s;
  compressed[0] = static_cast<std::uint8_t>(0x02 | (public_key[64] & 1));
  std::memcpy(compressed.data() + 1, public_key.data() + 1, 32);
  return Status::ok;
}

Status decompress(ByteView compressed, PublicKey& public_key) {
  if (compressed.size() != kCompressedLength) return Status::bad_key;
  return pushpeer_p256_decompress(public_key.data(), compressed.data()) ? Status::ok : Status::bad_key;
}

Status public_key_from_spki(ByteView der, PublicKey& public_key) {
  // DER is canonical, so the only valid encoding of an uncompressed P-256 SubjectPublicKeyInfo is this exact
  // prefix: SEQUENCE(89) { SEQUENCE(19) { OID id-ecPublicKey, OID prime256v1 }, BIT STRING(66) 00 04 ... }.
  static constexpr std::uint8_t kPrefix[] = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d,
                                             0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01,
                                             0x07, 0x03, 0x42, 0x00};
  if (der.size() != sizeof kPrefix + kPublicKeyLength ||
      !std::equal(std::begin(kPrefix), std::end(kPrefix), der.begin())) {
    return Status::bad_key;
  }
  std::memcpy(public_key.data(), der.data() + sizeof kPrefix, kPublicKeyLength);
  return validate_public_key(public_key);
}

}  // namespace pushpeer::p256
