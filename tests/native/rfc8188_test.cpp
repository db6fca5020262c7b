// RFC 8188 "aes128gcm" Encrypted Content-Encoding: the §3 examples both ways, the record layout of what we
// produce, and one status per kind of malformed body (status.hpp), using bodies cut from the examples or built by
// hand from §2.2/§2.3 with the (Wycheproof-checked) primitives.
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "pushpeer/ece.hpp"
#include "pushpeer/symmetric.hpp"
#include "vectors.hpp"

namespace pushpeer::ece {
namespace {

using test::b64u;
using test::to_hex;

struct Example {
  std::string name;
  Bytes plaintext, ikm, salt, key_id, body;
  std::uint32_t record_size = 0;
};

// 3.1 carries its salt; 3.2 does not, its salt is the first 16 octets of the body.
std::vector<Example> load_examples() {
  std::vector<Example> out;
  const test::json doc = test::load_vectors("rfc/rfc8188-examples.json");
  const test::json& examples = test::member(doc, "examples", "rfc8188");
  if (!examples.is_array()) {
    ADD_FAILURE() << "rfc8188-examples.json: no examples array";
    return out;
  }
  for (const auto& e : examples) {
    Example x;
    x.name = test::str(e, "name");
    x.plaintext = test::to_bytes(test::str(e, "plaintext_utf8", x.name));
    x.ikm = test::b64u_member(e, "ikm", x.name);
    x.key_id = test::to_bytes(test::str(e, "keyid_utf8", x.name));
    x.body = test::b64u_member(e, "body", x.name);
    x.record_size = static_cast<std::uint32_t>(test::integer(e, "record_size", x.name));
    if (e.contains("salt")) {
      x.salt = test::b64u_member(e, "salt", x.name);
    } else if (x.body.size() >= kSaltLength) {
      x.salt.assign(x.body.begin(), x.body.begin() + kSaltLength);
    }
    out.push_back(std::move(x));
  }
  return out;
}

const std::vector<Example>& examples() {
  static const std::vector<Example> all = load_examples();
  return all;
}
const Example& example_31() { return examples().at(0); }
const Example& example_32() { return examples().at(1); }

// Padding the 3.2 example uses: one 0x00 octet in its first record.
constexpr std::size_t kPadding32 = 1;

Bytes header(ByteView salt, std::uint32_t rs, ByteView key_id) {
  Bytes out(salt.begin(), salt.end());
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(rs >> shift));
  out.push_back(static_cast<std::uint8_t>(key_id.size()));
  out.insert(out.end(), key_id.begin(), key_id.end());
  return out;
}

// RFC 8188 §2.2, §2.3 by hand: CEK = HKDF(salt, IKM, "Content-Encoding: aes128gcm\0", 16),
// NONCE = HKDF(salt, IKM, "Content-Encoding: nonce\0", 12) XOR SEQ. Each entry of `records` is the full record
// plaintext (data || delimiter || padding), sealed as given.
Bytes craft_body(ByteView ikm, ByteView salt, std::uint32_t rs, ByteView key_id, const std::vector<Bytes>& records) {
  static constexpr char kCekInfo[] = "Content-Encoding: aes128gcm";  // sizeof includes the final NUL
  static constexpr char kNonceInfo[] = "Content-Encoding: nonce";
  std::uint8_t cek[16], nonce[12];
  EXPECT_EQ(symmetric::hkdf_sha256(salt, ikm, ByteView(reinterpret_cast<const std::uint8_t*>(kCekInfo), sizeof kCekInfo),
                                   cek),
            Status::ok);
  EXPECT_EQ(symmetric::hkdf_sha256(salt, ikm,
                                   ByteView(reinterpret_cast<const std::uint8_t*>(kNonceInfo), sizeof kNonceInfo), nonce),
            Status::ok);
  Bytes body = header(salt, rs, key_id);
  for (std::size_t seq = 0; seq < records.size(); ++seq) {
    std::uint8_t iv[12];
    std::memcpy(iv, nonce, 12);
    for (int i = 0; i < 8; ++i) iv[11 - i] ^= static_cast<std::uint8_t>(static_cast<std::uint64_t>(seq) >> (8 * i));
    Bytes sealed(records[seq].size() + 16);
    EXPECT_EQ(symmetric::aes128gcm_seal(ByteView(cek, 16), ByteView(iv, 12), ByteView{}, records[seq], sealed),
              Status::ok);
    body.insert(body.end(), sealed.begin(), sealed.end());
  }
  return body;
}

// Opens every record of a body we produced, by hand, and returns each record's (data, padding) split.
struct OpenedRecord {
  Bytes data;
  std::size_t padding = 0;
  std::uint8_t delimiter = 0;
  std::size_t sealed_length = 0;
};
std::vector<OpenedRecord> open_by_hand(ByteView ikm, ByteView body) {
  std::vector<OpenedRecord> out;
  Header h;
  std::size_t header_length = 0;
  if (parse_header(body, h, header_length) != Status::ok) {
    ADD_FAILURE() << "parse_header failed on our own body";
    return out;
  }
  static constexpr char kCekInfo[] = "Content-Encoding: aes128gcm";
  static constexpr char kNonceInfo[] = "Content-Encoding: nonce";
  std::uint8_t cek[16], nonce[12];
  symmetric::hkdf_sha256(h.salt, ikm, ByteView(reinterpret_cast<const std::uint8_t*>(kCekInfo), sizeof kCekInfo), cek);
  symmetric::hkdf_sha256(h.salt, ikm, ByteView(reinterpret_cast<const std::uint8_t*>(kNonceInfo), sizeof kNonceInfo),
                         nonce);
  ByteView rest = body.subspan(header_length);
  for (std::uint64_t seq = 0; !rest.empty(); ++seq) {
    const std::size_t n = std::min<std::size_t>(rest.size(), h.record_size);
    std::uint8_t iv[12];
    std::memcpy(iv, nonce, 12);
    for (int i = 0; i < 8; ++i) iv[11 - i] ^= static_cast<std::uint8_t>(seq >> (8 * i));
    Bytes plain(n - 16);
    if (n < 17 || symmetric::aes128gcm_open(ByteView(cek, 16), ByteView(iv, 12), ByteView{}, rest.first(n), plain) !=
                      Status::ok) {
      ADD_FAILURE() << "record " << seq << " does not open";
      return out;
    }
    OpenedRecord r;
    r.sealed_length = n;
    std::size_t end = plain.size();
    while (end > 0 && plain[end - 1] == 0) --end;
    if (end == 0) {
      ADD_FAILURE() << "record " << seq << " has no delimiter";
      return out;
    }
    r.delimiter = plain[end - 1];
    r.padding = plain.size() - end;
    r.data.assign(plain.begin(), plain.begin() + static_cast<std::ptrdiff_t>(end - 1));
    out.push_back(std::move(r));
    rest = rest.subspan(n);
  }
  return out;
}

Status decrypt(ByteView ikm, ByteView body) {
  Bytes plaintext;
  return decrypt_with_ikm(ikm, body, plaintext);
}

Bytes with_record_size(Bytes body, std::uint32_t rs) {
  for (int i = 0; i < 4; ++i) body[16 + i] = static_cast<std::uint8_t>(rs >> (24 - 8 * i));
  return body;
}

// ---- the RFC examples -------------------------------------------------------------------------------------------

TEST(Rfc8188, ExamplesLoaded) {
  ASSERT_EQ(examples().size(), 2u);
  EXPECT_EQ(example_31().body.size(), 53u);  // the RFC prints 54 octets; the body is 53 (see the vector file)
  EXPECT_EQ(example_32().body.size(), 73u);
}

TEST(Rfc8188, Section31ParseHeader) {
  const Example& x = example_31();
  Header h;
  std::size_t length = 0;
  ASSERT_EQ(parse_header(x.body, h, length), Status::ok);
  EXPECT_EQ(to_hex(h.salt), to_hex(x.salt));
  EXPECT_EQ(h.record_size, 4096u);
  EXPECT_TRUE(h.key_id.empty());
  EXPECT_EQ(length, kHeaderLength);
}

TEST(Rfc8188, Section31Decrypt) {
  const Example& x = example_31();
  Bytes plaintext;
  ASSERT_EQ(decrypt_with_ikm(x.ikm, x.body, plaintext), Status::ok);
  EXPECT_EQ(test::to_text(plaintext), "I am the walrus");
}

TEST(Rfc8188, Section31Encrypt) {
  const Example& x = example_31();
  EXPECT_EQ(encrypted_length(x.plaintext.size(), 0, 0, 4096), x.body.size());
  Bytes body;
  ASSERT_EQ(encrypt_with_ikm(x.ikm, x.salt, ByteView{}, 4096, 0, x.plaintext, body), Status::ok);
  EXPECT_EQ(to_hex(body), to_hex(x.body));
}

TEST(Rfc8188, Section32ParseHeader) {
  const Example& x = example_32();
  Header h;
  std::size_t length = 0;
  ASSERT_EQ(parse_header(x.body, h, length), Status::ok);
  EXPECT_EQ(to_hex(h.salt), to_hex(x.salt));
  EXPECT_EQ(h.record_size, 25u);
  EXPECT_EQ(test::to_text(h.key_id), "a1");
  EXPECT_EQ(length, kHeaderLength + 2);
  // key_id is a view into the body.
  EXPECT_EQ(h.key_id.data(), x.body.data() + kHeaderLength);
}

TEST(Rfc8188, Section32Decrypt) {
  const Example& x = example_32();
  Bytes plaintext;
  ASSERT_EQ(decrypt_with_ikm(x.ikm, x.body, plaintext), Status::ok);
  EXPECT_EQ(test::to_text(plaintext), "I am the walrus");
}

TEST(Rfc8188, Section32Encrypt) {
  // Padding as early as possible reproduces the example byte for byte.
  const Example& x = example_32();
  EXPECT_EQ(encrypted_length(x.plaintext.size(), kPadding32, x.key_id.size(), 25), x.body.size());
  Bytes body;
  ASSERT_EQ(encrypt_with_ikm(x.ikm, x.salt, x.key_id, 25, kPadding32, x.plaintext, body), Status::ok);
  EXPECT_EQ(to_hex(body), to_hex(x.body));
}

TEST(Rfc8188, HandCraftedRecordsReproduceSection32) {
  // Checks the hand-crafting helper the malformed-body tests below rely on.
  const Example& x = example_32();
  const Bytes r1 = {'I', ' ', 'a', 'm', ' ', 't', 'h', 0x01, 0x00};
  const Bytes r2 = {'e', ' ', 'w', 'a', 'l', 'r', 'u', 's', 0x02};
  EXPECT_EQ(to_hex(craft_body(x.ikm, x.salt, 25, x.key_id, {r1, r2})), to_hex(x.body));
}

// ---- what we produce ------------------------------------------------------------------------------------------

TEST(Rfc8188, RoundTripsAndRecordLayout) {
  const Bytes ikm = test::pattern(16, 11), salt = test::pattern(16, 12), key_id = test::to_bytes("key");
  for (const std::uint32_t rs : {18u, 19u, 25u, 64u, 4096u}) {
    for (const std::size_t length : {0u, 1u, 15u, 47u, 48u, 300u}) {
      for (const std::size_t padding : {0u, 1u, 2u, 40u}) {
        SCOPED_TRACE(testing::Message() << "rs " << rs << " length " << length << " padding " << padding);
        const Bytes plaintext = test::pattern(length, static_cast<std::uint32_t>(length + 100));
        Bytes body;
        ASSERT_EQ(encrypt_with_ikm(ikm, salt, key_id, rs, padding, plaintext, body), Status::ok);
        EXPECT_EQ(body.size(), encrypted_length(length, padding, key_id.size(), rs));
        Bytes decrypted;
        ASSERT_EQ(decrypt_with_ikm(ikm, body, decrypted), Status::ok);
        EXPECT_EQ(to_hex(decrypted), to_hex(plaintext));

        // Layout: every record but the last is rs long with delimiter 1, the last has 2; each record takes as
        // much of the remaining padding as fits (rs - 17 octets besides the delimiter), then plaintext.
        const auto records = open_by_hand(ikm, body);
        ASSERT_FALSE(records.empty());
        std::size_t data_left = length, padding_left = padding;
        Bytes joined;
        for (std::size_t i = 0; i < records.size(); ++i) {
          const bool last = i + 1 == records.size();
          const std::size_t room = rs - 17;
          const std::size_t want_padding = std::min(padding_left, room);
          const std::size_t want_data = std::min(data_left, room - want_padding);
          EXPECT_EQ(records[i].delimiter, last ? 2 : 1) << "record " << i;
          if (!last) {
            EXPECT_EQ(records[i].sealed_length, rs) << "record " << i;
          }
          EXPECT_EQ(records[i].padding, want_padding) << "record " << i;
          EXPECT_EQ(records[i].data.size(), want_data) << "record " << i;
          padding_left -= std::min(padding_left, records[i].padding);
          data_left -= std::min(data_left, records[i].data.size());
          joined.insert(joined.end(), records[i].data.begin(), records[i].data.end());
        }
        EXPECT_EQ(data_left, 0u);
        EXPECT_EQ(padding_left, 0u);
        EXPECT_EQ(to_hex(joined), to_hex(plaintext));
      }
    }
  }
}

TEST(Rfc8188, EncryptArgumentChecks) {
  const Example& x = example_31();
  Bytes body;
  EXPECT_EQ(encrypted_length(15, 0, 0, 17), 0u);
  EXPECT_EQ(encrypted_length(15, 0, 0, 0), 0u);
  EXPECT_EQ(encrypt_with_ikm(x.ikm, x.salt, ByteView{}, 17, 0, x.plaintext, body), Status::ece_bad_record_size);
  EXPECT_EQ(encrypt_with_ikm(x.ikm, x.salt, ByteView{}, 0, 0, x.plaintext, body), Status::ece_bad_record_size);
  EXPECT_EQ(encrypt_with_ikm(x.ikm, ByteView(x.salt).first(15), ByteView{}, 4096, 0, x.plaintext, body),
            Status::bad_argument)
      << "15-byte salt";
  const Bytes long_id(256, 'k');
  EXPECT_EQ(encrypt_with_ikm(x.ikm, x.salt, long_id, 4096, 0, x.plaintext, body), Status::bad_argument)
      << "key id longer than 255";
  const Bytes max_id(255, 'k');
  EXPECT_EQ(encrypt_with_ikm(x.ikm, x.salt, max_id, 4096, 0, x.plaintext, body), Status::ok) << "255-byte key id";
}

// ---- malformed bodies, one status each ---------------------------------------------------------------------------

TEST(Rfc8188, TruncatedHeader) {
  const Example& x = example_31();
  for (const std::size_t n : {0u, 1u, 16u, 20u}) {
    const ByteView cut = ByteView(x.body).first(n);
    Header h;
    std::size_t length = 0;
    EXPECT_EQ(parse_header(cut, h, length), Status::ece_truncated_header) << n << " octets";
    EXPECT_EQ(decrypt(x.ikm, cut), Status::ece_truncated_header) << n << " octets";
  }
  // 3.2 has a 2-octet key id: cut inside it.
  const Example& y = example_32();
  for (const std::size_t n : {21u, 22u}) {
    EXPECT_EQ(decrypt(y.ikm, ByteView(y.body).first(n)), Status::ece_truncated_header) << n << " octets of 3.2";
  }
  // An idlen pointing past the end of the body.
  Bytes long_id = x.body;
  long_id[20] = static_cast<std::uint8_t>(x.body.size() - kHeaderLength + 1);
  Header h;
  std::size_t length = 0;
  EXPECT_EQ(parse_header(long_id, h, length), Status::ece_truncated_header);
  EXPECT_EQ(decrypt(x.ikm, long_id), Status::ece_truncated_header);
  long_id[20] = 255;
  EXPECT_EQ(decrypt(x.ikm, long_id), Status::ece_truncated_header);
}

TEST(Rfc8188, RecordSizeBelowMinimum) {
  const Example& x = example_31();
  for (const std::uint32_t rs : {0u, 1u, 16u, 17u}) {
    const Bytes body = with_record_size(x.body, rs);
    Header h;
    std::size_t length = 0;
    EXPECT_EQ(parse_header(body, h, length), Status::ece_bad_record_size) << "rs " << rs;
    EXPECT_EQ(decrypt(x.ikm, body), Status::ece_bad_record_size) << "rs " << rs;
  }
  // 18 is allowed by the header (the record then fails to open, since it was sealed as one 32-octet record).
  Header h;
  std::size_t length = 0;
  EXPECT_EQ(parse_header(with_record_size(x.body, 18), h, length), Status::ok);
}

TEST(Rfc8188, TruncatedRecord) {
  // A record must hold a 16-octet tag and a delimiter: 16 octets or fewer is truncated.
  const Example& x = example_31();
  for (const std::size_t record : {1u, 8u, 15u, 16u}) {
    EXPECT_EQ(decrypt(x.ikm, ByteView(x.body).first(kHeaderLength + record)), Status::ece_truncated_record)
        << record << "-octet record";
  }
  // The same for the last record of a multi-record body.
  const Example& y = example_32();
  const std::size_t second = kHeaderLength + 2 + 25;
  for (const std::size_t record : {1u, 10u, 16u}) {
    EXPECT_EQ(decrypt(y.ikm, ByteView(y.body).first(second + record)), Status::ece_truncated_record)
        << record << "-octet second record";
  }
}

TEST(Rfc8188, TamperedRecordsFailTheTag) {
  for (const Example* x : {&example_31(), &example_32()}) {
    Header h;
    std::size_t header_length = 0;
    ASSERT_EQ(parse_header(x->body, h, header_length), Status::ok);
    // Every octet after the header, and the salt (it keys the CEK and nonce).
    for (std::size_t i = 0; i < x->body.size(); ++i) {
      if (i >= kSaltLength && i < header_length) continue;  // rs, idlen, keyid: other checks
      Bytes body = x->body;
      body[i] ^= 0x01;
      EXPECT_EQ(decrypt(x->ikm, body), Status::decrypt_failed) << x->name << ", octet " << i;
    }
    Bytes wrong_ikm = x->ikm;
    wrong_ikm[0] ^= 1;
    EXPECT_EQ(decrypt(wrong_ikm, x->body), Status::decrypt_failed) << x->name << ", wrong IKM";
  }
  // Swapping the two records of 3.2 breaks the nonce sequence.
  const Example& y = example_32();
  Bytes swapped(y.body.begin(), y.body.begin() + 23);
  swapped.insert(swapped.end(), y.body.begin() + 48, y.body.end());
  swapped.insert(swapped.end(), y.body.begin() + 23, y.body.begin() + 48);
  EXPECT_EQ(decrypt(y.ikm, swapped), Status::decrypt_failed);
}

TEST(Rfc8188, FailureReleasesNoPlaintext) {
  const Example& y = example_32();
  Bytes body = y.body;
  body.back() ^= 1;  // the first record opens, the second does not
  Bytes plaintext = {0xaa};
  EXPECT_EQ(decrypt_with_ikm(y.ikm, body, plaintext), Status::decrypt_failed);
  EXPECT_TRUE(plaintext.empty() || std::all_of(plaintext.begin(), plaintext.end(), [](std::uint8_t b) { return b == 0; }))
      << "plaintext of the first record released: " << to_hex(plaintext);
}

TEST(Rfc8188, TruncatedMessage) {
  // Dropping the last record of 3.2 leaves a last record with delimiter 1.
  const Example& y = example_32();
  EXPECT_EQ(decrypt(y.ikm, ByteView(y.body).first(kHeaderLength + 2 + 25)), Status::ece_truncated_message);
  // A single record with delimiter 1.
  const Bytes body = craft_body(y.ikm, y.salt, 4096, ByteView{}, {{'a', 'b', 'c', 0x01}});
  EXPECT_EQ(decrypt(y.ikm, body), Status::ece_truncated_message);
  const Bytes padded = craft_body(y.ikm, y.salt, 4096, ByteView{}, {{'a', 'b', 'c', 0x01, 0, 0, 0}});
  EXPECT_EQ(decrypt(y.ikm, padded), Status::ece_truncated_message);
}

TEST(Rfc8188, BadPadding) {
  // A record that is all zero after decryption has no delimiter.
  const Example& y = example_32();
  for (const std::size_t n : {1u, 4u, 9u}) {
    const Bytes body = craft_body(y.ikm, y.salt, 4096, ByteView{}, {Bytes(n, 0)});
    EXPECT_EQ(decrypt(y.ikm, body), Status::ece_bad_padding) << n << " zero octets";
  }
  // The same in the first of two records.
  const Bytes first = craft_body(y.ikm, y.salt, 25, ByteView{}, {Bytes(9, 0), {'x', 0x02}});
  EXPECT_EQ(decrypt(y.ikm, first), Status::ece_bad_padding);
}

TEST(Rfc8188, BadDelimiter) {
  // Delimiter 2 in a record that is not the last.
  const Example& y = example_32();
  const Bytes r1 = {'I', ' ', 'a', 'm', ' ', 't', 'h', 'e', 0x02};
  const Bytes r2 = {' ', 'w', 'a', 'l', 'r', 'u', 's', 0x02};
  EXPECT_EQ(decrypt(y.ikm, craft_body(y.ikm, y.salt, 25, y.key_id, {r1, r2})), Status::ece_bad_delimiter);
  const Bytes r1_padded = {'I', ' ', 'a', 'm', ' ', 't', 0x02, 0x00, 0x00};
  EXPECT_EQ(decrypt(y.ikm, craft_body(y.ikm, y.salt, 25, y.key_id, {r1_padded, r2})), Status::ece_bad_delimiter);
  // Control: the same records with the right delimiters decrypt.
  const Bytes good_r1 = {'I', ' ', 'a', 'm', ' ', 't', 'h', 'e', 0x01};
  Bytes plaintext;
  ASSERT_EQ(decrypt_with_ikm(y.ikm, craft_body(y.ikm, y.salt, 25, y.key_id, {good_r1, r2}), plaintext), Status::ok);
  EXPECT_EQ(test::to_text(plaintext), "I am the walrus");
}

TEST(Rfc8188, DelimiterOtherThanOneOrTwo) {
  // The last non-zero octet is not a valid delimiter: rejected (bad_delimiter or bad_padding, never ok).
  const Example& y = example_32();
  for (const Bytes& record : {Bytes{'a', 'b', 0x03}, Bytes{'a', 0x02, 0x00, 0x05}, Bytes{'a', 'b', 'c'}, Bytes{0xff}}) {
    const Status s = decrypt(y.ikm, craft_body(y.ikm, y.salt, 4096, ByteView{}, {record}));
    EXPECT_TRUE(s == Status::ece_bad_delimiter || s == Status::ece_bad_padding)
        << "record " << to_hex(record) << ": " << testing::PrintToString(s);
  }
}

TEST(Rfc8188, HeaderOnlyBodyIsRejected) {
  // No record at all: at least the empty final record (a delimiter and a tag) must be there.
  const Example& x = example_31();
  EXPECT_NE(decrypt(x.ikm, ByteView(x.body).first(kHeaderLength)), Status::ok);
  EXPECT_NE(decrypt(x.ikm, header(x.salt, 4096, test::to_bytes("id"))), Status::ok);
}

}  // namespace
}  // namespace pushpeer::ece
