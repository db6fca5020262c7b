// Shared by the content targets (manifest_decode, content_frame) and the seed generator: the layouts of
// docs/PROTOCOL.md §9.3 and §9.4 written again here, independently of wasm/src/wire.hpp (so a target can check
// that what the core accepts is exactly what it would have written), the fixed content the proof mode proves, and
// the header of that mode's inputs.
#pragma once
#include <cstddef>
#include <cstdint>

#include "fuzz_common.hpp"
#include "pushpeer/content/frame.hpp"
#include "pushpeer/content/manifest.hpp"
#include "pushpeer/content/merkle.hpp"

namespace pushpeer::fuzz {

// Big-endian integers and minimal LEB128 varints (§3.1), as the formats use them.
struct Writer {
  Bytes out;
  void u8(std::uint8_t v) { out.push_back(v); }
  void u32(std::uint32_t v) {
    for (int i = 3; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  void u64(std::uint64_t v) {
    u32(static_cast<std::uint32_t>(v >> 32));
    u32(static_cast<std::uint32_t>(v));
  }
  void varint(std::uint32_t v) {
    for (; v >= 0x80; v >>= 7) out.push_back(static_cast<std::uint8_t>(v | 0x80));
    out.push_back(static_cast<std::uint8_t>(v));
  }
  void bytes(ByteView b) { out.insert(out.end(), b.begin(), b.end()); }
  void blob(ByteView b) {
    varint(static_cast<std::uint32_t>(b.size()));
    bytes(b);
  }
};

// --- manifests (§9.3) ---------------------------------------------------------------------------------------------

inline constexpr std::size_t kManifestSignatureLength = 64;
inline constexpr std::size_t kManifestSharerOffset = 6;  // after magic, flags and created
inline constexpr char kManifestSignatureContext[] = "pushpeer/manifest/v1";

// A manifest without its signature, as §9.3 lays it out (no checks: near misses are made with it too).
inline Bytes manifest_body(const manifest::Manifest& m) {
  p256::CompressedKey sharer{};
  if (p256::compress(m.sharer, sharer) != Status::ok) fail("compress the sharer", __FILE__, __LINE__);
  Writer w;
  w.u8(manifest::kMagic);
  w.u8(0);
  w.u32(m.created);
  w.bytes(sharer);
  w.blob(as_bytes(m.title));
  w.varint(static_cast<std::uint32_t>(m.files.size()));
  for (const manifest::File& f : m.files) {
    w.blob(as_bytes(f.name));
    w.u64(f.size);
    w.blob(as_bytes(f.type));
    w.bytes(f.root);
  }
  return std::move(w.out);
}

// `body` followed by its signature (ES256, low S) by `private_key`: any bytes can be made validly signed.
inline Bytes manifest_signed(ByteView body, const std::uint8_t (&private_key)[32]) {
  Bytes input(kManifestSignatureContext, kManifestSignatureContext + sizeof kManifestSignatureContext - 1);
  input.insert(input.end(), body.begin(), body.end());
  p256::Signature sig;
  if (p256::sign_low_s({private_key, 32}, input, sig) != Status::ok) fail("sign a manifest", __FILE__, __LINE__);
  Bytes out(body.begin(), body.end());
  out.insert(out.end(), sig.begin(), sig.end());
  return out;
}

// --- frames (§9.4) ------------------------------------------------------------------------------------------------

// A data frame with any proof and bytes (frame::encode_data only writes true proofs).
inline Bytes data_frame(std::uint32_t request, std::uint32_t file, std::uint32_t first, std::uint32_t count,
                        ByteView proof, ByteView body) {
  Writer w;
  w.u8(frame::kVersion);
  w.u8(static_cast<std::uint8_t>(frame::Type::data));
  w.varint(request);
  w.varint(file);
  w.varint(first);
  w.varint(count);
  w.blob(proof);
  w.bytes(body);
  return std::move(w.out);
}

// --- the proof mode of content_frame ----------------------------------------------------------------------------

// Its content: the first `size` bytes of a fixed pseudo-random stream, at most 40 leaves (every leaf different,
// so a leaf moved elsewhere is a different range).
inline constexpr std::size_t kContentMaxLeaves = 40;
inline constexpr std::size_t kContentMaxSize = kContentMaxLeaves * content::kLeafSize;

inline ByteView fixed_content() {
  static const Bytes bytes = [] {
    Bytes b(kContentMaxSize);
    std::uint64_t x = 0x9E3779B97F4A7C15u;
    for (std::uint8_t& c : b) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;  // xorshift64
      c = static_cast<std::uint8_t>(x >> 56);
    }
    return b;
  }();
  return bytes;
}

// Its inputs start with a 7-byte header: mode, content size (u24 BE, taken modulo kContentMaxSize + 1), first and
// count of the range asked (any byte, so ranges outside the content come too), and how the content is streamed into
// the TreeHasher (see piece_length). The mode byte is never frame::kVersion: inputs starting with that are frames.
inline constexpr std::size_t kProofHeaderLength = 7;
inline constexpr std::uint8_t kModeForged = 0x00;  // even: the rest is a data frame, checked against the range
inline constexpr std::uint8_t kModeEdited = 0x03;  // odd (but 1): the rest edits the true range's data and proof
inline constexpr std::uint32_t kAskedFile = 2;     // the file the proof mode asks for

struct ProofHeader {
  std::uint8_t mode = 0;
  std::uint32_t size = 0;
  std::uint32_t first = 0;
  std::uint32_t count = 0;
  std::uint8_t piece = 0;
};

inline ProofHeader read_proof_header(const std::uint8_t* in) {
  ProofHeader h;
  h.mode = in[0];
  h.size = (std::uint32_t{in[1]} << 16 | std::uint32_t{in[2]} << 8 | in[3]) % (kContentMaxSize + 1);
  h.first = in[4];
  h.count = in[5];
  h.piece = in[6];
  return h;
}

inline Bytes proof_header(std::uint8_t mode, std::uint32_t size, std::uint8_t first, std::uint8_t count,
                          std::uint8_t piece = 0) {
  return {mode, static_cast<std::uint8_t>(size >> 16), static_cast<std::uint8_t>(size >> 8),
          static_cast<std::uint8_t>(size), first, count, piece};
}

// Bytes per TreeHasher::update call: 0 the whole content at once, 1..128 multiples of 128 up to exactly a leaf,
// 129..255 multiples of 1021 (pieces that straddle leaf boundaries).
inline std::size_t piece_length(std::uint8_t piece, std::size_t size) {
  if (piece == 0) return size > 0 ? size : 1;
  return piece <= 128 ? std::size_t{piece} * 128 : std::size_t{piece - 128u} * 1021;
}

// The edit mode's rest: edits of 5 bytes each (kind, a u24 BE, v), applied in order to the true data and proof.
enum Edit : std::uint8_t {
  kFlipData,        // data[a % size] ^= v (1 when v is 0)
  kFlipProof,       // proof[a % size] ^= v (1 when v is 0)
  kResizeData,      // data.resize(a % (size + 65)), new bytes v
  kResizeProof,     // proof.resize(32 * (a % (hashes + 3))), new bytes v
  kSwapProof,       // swap proof hashes a and v (modulo the hashes)
  kProofFromTree,   // proof hash v = the tree's node a: a true hash from elsewhere in the tree
  kLeafFromElsewhere,  // leaf v of the range = the content's leaf a (as much of it as fits)
  kOddProof,        // 1 + v % 31 more proof bytes: a length that is not a multiple of 32
  kFrameFields,     // the frame states another file (v % 3 == 0), first (1) or count (2): the asked one + 1 + a
  kEditKinds,
};
inline constexpr std::size_t kEditLength = 5;

inline Bytes edit(Edit kind, std::uint32_t a, std::uint8_t v) {
  return {static_cast<std::uint8_t>(kind), static_cast<std::uint8_t>(a >> 16), static_cast<std::uint8_t>(a >> 8),
          static_cast<std::uint8_t>(a), v};
}

}  // namespace pushpeer::fuzz
