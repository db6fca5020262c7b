#include "pushpeer/ece.hpp"
#include "pushpeer/for_size.hpp"

#include <algorithm>
#include <cstring>

#include "pushpeer/symmetric.hpp"

PUSHPEER_FOR_SIZE_BEGIN  // not hot: a few calls per connection (pushpeer/for_size.hpp)

namespace pushpeer::ece {

namespace {

constexpr std::size_t kOverhead = kTagLength + 1;  // tag + delimiter per record

// RFC 8188 §2.2 and §2.3: CEK and base nonce from HKDF(salt, IKM).
struct RecordKeys {
  Secret<kKeyLength> cek;
  Secret<kNonceLength> nonce;
};

Status derive(ByteView ikm, ByteView salt, RecordKeys& keys) {
  static constexpr char kCekInfo[] = "Content-Encoding: aes128gcm";  // sizeof includes the trailing 0x00
  static constexpr char kNonceInfo[] = "Content-Encoding: nonce";
  Status s = symmetric::hkdf_sha256(salt, ikm, as_bytes({kCekInfo, sizeof kCekInfo}), keys.cek.span());
  if (s != Status::ok) return s;
  return symmetric::hkdf_sha256(salt, ikm, as_bytes({kNonceInfo, sizeof kNonceInfo}), keys.nonce.span());
}

// The nonce of record `seq`: the base nonce XOR seq as a 96-bit big-endian integer.
void record_nonce(const RecordKeys& keys, std::uint64_t seq, std::uint8_t out[kNonceLength]) {
  std::memcpy(out, keys.nonce.data(), kNonceLength);
  for (int i = 0; i < 8; ++i) out[kNonceLength - 1 - i] ^= static_cast<std::uint8_t>(seq >> (8 * i));
}

void put_u32(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}

}  // namespace

Status parse_header(ByteView body, Header& header, std::size_t& header_length) {
  if (body.size() < kHeaderLength) return Status::ece_truncated_header;
  std::memcpy(header.salt.data(), body.data(), kSaltLength);
  header.record_size = (std::uint32_t{body[16]} << 24) | (std::uint32_t{body[17]} << 16) |
                       (std::uint32_t{body[18]} << 8) | std::uint32_t{body[19]};
  if (header.record_size < kMinRecordSize) return Status::ece_bad_record_size;
  const std::size_t id_length = body[20];
  if (body.size() < kHeaderLength + id_length) return Status::ece_truncated_header;
  header.key_id = body.subspan(kHeaderLength, id_length);
  header_length = kHeaderLength + id_length;
  return Status::ok;
}

std::size_t encrypted_length(std::size_t plaintext_length, std::size_t padding, std::size_t key_id_length,
                             std::uint32_t record_size) {
  if (record_size < kMinRecordSize || key_id_length > 255) return 0;
  const std::size_t capacity = record_size - kOverhead;  // content octets per record, besides the delimiter
  const std::size_t content = plaintext_length + padding;
  const std::size_t records = content == 0 ? 1 : (content + capacity - 1) / capacity;
  return kHeaderLength + key_id_length + content + records * kOverhead;
}

Status encrypt_with_ikm(ByteView ikm, ByteView salt, ByteView key_id, std::uint32_t record_size,
                        std::size_t padding, ByteView plaintext, Bytes& body) {
  if (salt.size() != kSaltLength || key_id.size() > 255) return Status::bad_argument;
  if (record_size < kMinRecordSize) return Status::ece_bad_record_size;
  RecordKeys keys;
  if (Status s = derive(ikm, salt, keys); s != Status::ok) return s;

  body.assign(encrypted_length(plaintext.size(), padding, key_id.size(), record_size), 0);
  std::memcpy(body.data(), salt.data(), kSaltLength);
  put_u32(body.data() + 16, record_size);
  body[20] = static_cast<std::uint8_t>(key_id.size());
  std::copy(key_id.begin(), key_id.end(), body.begin() + kHeaderLength);

  const std::size_t capacity = record_size - kOverhead;
  // One record's plaintext buffer, no larger than this message needs (rs may be up to 2^32 - 1).
  SecretBytes record(std::min<std::size_t>(capacity + 1, plaintext.size() + padding + 1));
  std::size_t out = kHeaderLength + key_id.size();
  std::size_t pt = 0, pad_left = padding;
  for (std::uint64_t seq = 0;; ++seq) {
    // Padding first, as much as fits; then plaintext. Record = data || delimiter || zeros.
    const std::size_t pad = std::min(pad_left, capacity);
    const std::size_t data = std::min(plaintext.size() - pt, capacity - pad);
    pad_left -= pad;
    const bool last = pt + data == plaintext.size() && pad_left == 0;
    std::copy(plaintext.begin() + static_cast<std::ptrdiff_t>(pt),
              plaintext.begin() + static_cast<std::ptrdiff_t>(pt + data), record.bytes.begin());
    record.bytes[data] = last ? 2 : 1;
    std::fill(record.bytes.begin() + static_cast<std::ptrdiff_t>(data + 1),
              record.bytes.begin() + static_cast<std::ptrdiff_t>(data + 1 + pad), 0);
    const std::size_t len = data + 1 + pad;
    Secret<kNonceLength> nonce;
    record_nonce(keys, seq, nonce.data());
    if (Status s = symmetric::aes128gcm_seal(keys.cek.view(), nonce.view(), {},
                                             {record.bytes.data(), len}, {body.data() + out, len + kTagLength});
        s != Status::ok) {
      body.clear();
      return s;
    }
    out += len + kTagLength;
    pt += data;
    if (last) break;
  }
  return out == body.size() ? Status::ok : Status::internal;
}

Status decrypt_with_ikm(ByteView ikm, ByteView body, Bytes& plaintext) {
  plaintext.clear();
  Header header;
  std::size_t offset = 0;
  if (Status s = parse_header(body, header, offset); s != Status::ok) return s;
  if (offset == body.size()) return Status::ece_truncated_message;  // a header and no record
  RecordKeys keys;
  if (Status s = derive(ikm, header.salt, keys); s != Status::ok) return s;

  SecretBytes out(body.size() - offset);
  std::size_t produced = 0;
  Status result = Status::ok;
  for (std::uint64_t seq = 0; offset < body.size(); ++seq) {
    const std::size_t len = std::min<std::size_t>(header.record_size, body.size() - offset);
    const bool last = offset + len == body.size();
    if (len < kOverhead) {
      result = Status::ece_truncated_record;
      break;
    }
    Secret<kNonceLength> nonce;
    record_nonce(keys, seq, nonce.data());
    std::span<std::uint8_t> dst(out.bytes.data() + produced, len - kTagLength);
    result = symmetric::aes128gcm_open(keys.cek.view(), nonce.view(), {}, body.subspan(offset, len), dst);
    if (result != Status::ok) break;
    // RFC 8188 §2: strip zero padding back to the delimiter, 1 for every record but the last, 2 for the last.
    std::size_t i = dst.size();
    while (i > 0 && dst[i - 1] == 0) --i;
    if (i == 0 || dst[i - 1] > 2) {
      result = Status::ece_bad_padding;
      break;
    }
    const std::uint8_t delimiter = dst[i - 1];
    if (delimiter == 2 && !last) {
      result = Status::ece_bad_delimiter;
      break;
    }
    if (delimiter == 1 && last) {
      result = Status::ece_truncated_message;
      break;
    }
    produced += i - 1;
    offset += len;
  }
  if (result == Status::ok) plaintext.assign(out.bytes.begin(), out.bytes.begin() + static_cast<std::ptrdiff_t>(produced));
  return result;
}

}  // namespace pushpeer::ece

PUSHPEER_FOR_SIZE_END
