// SHA-256, HMAC-SHA256, HKDF-SHA256 and AES-128-GCM: known answers from the defining documents and the argument
// checks symmetric.hpp promises. The bulk of the vectors is in wycheproof_test.cpp.
#include <algorithm>

#include <gtest/gtest.h>

#include "pushpeer/symmetric.hpp"
#include "vectors.hpp"

namespace pushpeer::symmetric {
namespace {

using test::hex;
using test::to_hex;

std::string sha256_hex(std::string_view message) {
  std::uint8_t digest[kSha256Length];
  sha256(as_bytes(message), digest);
  return to_hex(ByteView(digest, kSha256Length));
}

TEST(Sha256, Fips180Examples) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(HmacSha256, Rfc4231Examples) {
  struct Case {
    Bytes key;
    Bytes message;
    const char* mac;
  };
  const Case cases[] = {
      // test case 1
      {Bytes(20, 0x0b), test::to_bytes("Hi There"),
       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
      // test case 2: key shorter than the block
      {test::to_bytes("Jefe"), test::to_bytes("what do ya want for nothing?"),
       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
      // test case 6: key longer than the block (hashed first)
      {Bytes(131, 0xaa), test::to_bytes("Test Using Larger Than Block-Size Key - Hash Key First"),
       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
  };
  for (const auto& c : cases) {
    std::uint8_t mac[kSha256Length];
    hmac_sha256(c.key, c.message, mac);
    EXPECT_EQ(to_hex(ByteView(mac, kSha256Length)), c.mac);
  }
}

TEST(HmacSha256, EmptyKeyAndMessage) {
  std::uint8_t mac[kSha256Length];
  hmac_sha256(ByteView{}, ByteView{}, mac);
  EXPECT_EQ(to_hex(ByteView(mac, kSha256Length)), "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST(HkdfSha256, Rfc5869Case1) {
  const Bytes ikm(22, 0x0b);
  const Bytes salt = hex("000102030405060708090a0b0c");
  const Bytes info = hex("f0f1f2f3f4f5f6f7f8f9");
  Bytes okm(42);
  ASSERT_EQ(hkdf_sha256(salt, ikm, info, okm), Status::ok);
  EXPECT_EQ(to_hex(okm),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

TEST(HkdfSha256, OutputLengthLimit) {
  const Bytes ikm(32, 1), salt(16, 2), info(4, 3);
  Bytes max(255 * 32);
  EXPECT_EQ(hkdf_sha256(salt, ikm, info, max), Status::ok);
  Bytes prefix(100);
  ASSERT_EQ(hkdf_sha256(salt, ikm, info, prefix), Status::ok);
  // Output is a prefix of any longer output for the same inputs.
  EXPECT_TRUE(std::equal(prefix.begin(), prefix.end(), max.begin()));
  Bytes too_long(255 * 32 + 1);
  EXPECT_EQ(hkdf_sha256(salt, ikm, info, too_long), Status::bad_argument);
}

// NIST GCM spec test case 3 (AES-128, 96-bit IV, no AAD) and 4 (with AAD, 60-byte plaintext).
struct GcmCase {
  const char* key;
  const char* iv;
  const char* aad;
  const char* plaintext;
  const char* ciphertext_and_tag;
};
constexpr GcmCase kGcm[] = {
    {"feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888", "",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de6"
     "57ba637b391aafd255",
     "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac"
     "973d58e091473f5985"
     "4d5c2af327cd64a62cf35abd2ba6fab4"},
    {"feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888", "feedfacedeadbeeffeedfacedeadbeefabaddad2",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de6"
     "57ba637b39",
     "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac"
     "973d58e091"
     "5bc94fbc3221a5db94fae95ae7121a47"},
};

TEST(Aes128Gcm, NistExamples) {
  for (const auto& c : kGcm) {
    const Bytes key = hex(c.key), iv = hex(c.iv), aad = hex(c.aad), pt = hex(c.plaintext);
    const Bytes expected = hex(c.ciphertext_and_tag);
    Bytes sealed(pt.size() + kGcmTagLength);
    ASSERT_EQ(aes128gcm_seal(key, iv, aad, pt, sealed), Status::ok);
    EXPECT_EQ(to_hex(sealed), to_hex(expected));
    Bytes opened(pt.size());
    ASSERT_EQ(aes128gcm_open(key, iv, aad, expected, opened), Status::ok);
    EXPECT_EQ(to_hex(opened), to_hex(pt));
  }
}

TEST(Aes128Gcm, BadTagReleasesNothing) {
  const auto& c = kGcm[1];
  const Bytes key = hex(c.key), iv = hex(c.iv), aad = hex(c.aad);
  Bytes sealed = hex(c.ciphertext_and_tag);
  for (const std::size_t position : {std::size_t{0}, sealed.size() / 2, sealed.size() - 16, sealed.size() - 1}) {
    Bytes tampered = sealed;
    tampered[position] ^= 0x01;
    Bytes out(sealed.size() - kGcmTagLength, 0xee);
    EXPECT_EQ(aes128gcm_open(key, iv, aad, tampered, out), Status::decrypt_failed) << "byte " << position;
    EXPECT_TRUE(std::all_of(out.begin(), out.end(), [](std::uint8_t b) { return b == 0; }))
        << "plaintext released after a bad tag (byte " << position << ")";
  }
  // Wrong AAD is a tag failure too.
  Bytes out(sealed.size() - kGcmTagLength);
  EXPECT_EQ(aes128gcm_open(key, iv, ByteView{}, sealed, out), Status::decrypt_failed);
}

TEST(Aes128Gcm, EmptyPlaintext) {
  // NIST test case 1: K = 0, IV = 0, empty P: the tag alone.
  const Bytes key(16, 0), iv(12, 0);
  Bytes sealed(kGcmTagLength);
  ASSERT_EQ(aes128gcm_seal(key, iv, ByteView{}, ByteView{}, sealed), Status::ok);
  EXPECT_EQ(to_hex(sealed), "58e2fccefa7e3061367f1d57a4e7455a");
  Bytes none;
  EXPECT_EQ(aes128gcm_open(key, iv, ByteView{}, sealed, none), Status::ok);
}

TEST(Aes128Gcm, ArgumentChecks) {
  const Bytes key(16, 7), iv(12, 9), pt(10, 1);
  Bytes sealed(pt.size() + kGcmTagLength);
  ASSERT_EQ(aes128gcm_seal(key, iv, ByteView{}, pt, sealed), Status::ok);

  Bytes wrong_out(pt.size() + kGcmTagLength - 1);
  EXPECT_EQ(aes128gcm_seal(key, iv, ByteView{}, pt, wrong_out), Status::bad_argument) << "short seal output";
  Bytes long_out(pt.size() + kGcmTagLength + 1);
  EXPECT_EQ(aes128gcm_seal(key, iv, ByteView{}, pt, long_out), Status::bad_argument) << "long seal output";
  const Bytes key24(24, 7), key15(15, 7);
  EXPECT_EQ(aes128gcm_seal(key24, iv, ByteView{}, pt, sealed), Status::bad_argument) << "24-byte key";
  EXPECT_EQ(aes128gcm_seal(key15, iv, ByteView{}, pt, sealed), Status::bad_argument) << "15-byte key";

  Bytes opened(pt.size());
  EXPECT_EQ(aes128gcm_open(key24, iv, ByteView{}, sealed, opened), Status::bad_argument) << "24-byte key";
  Bytes wrong_open(pt.size() + 1);
  EXPECT_EQ(aes128gcm_open(key, iv, ByteView{}, sealed, wrong_open), Status::bad_argument) << "long open output";
  const Bytes short_in(15, 0);
  Bytes empty;
  EXPECT_NE(aes128gcm_open(key, iv, ByteView{}, short_in, empty), Status::ok) << "input shorter than a tag";
}

}  // namespace
}  // namespace pushpeer::symmetric
