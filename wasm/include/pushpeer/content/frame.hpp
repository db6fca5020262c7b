// Frames of the content channel (data channel id 2, binary; docs/PROTOCOL.md §9.4). A receiver asks for a manifest
// by share id and for ranges of leaves by (share, file, first, count); the sharer answers each request id with the
// manifest, the range's bytes with their merkle proof, or an error.
#pragma once
#include <cstdint>

#include "pushpeer/content/merkle.hpp"
#include "pushpeer/status.hpp"

namespace pushpeer::frame {

inline constexpr std::uint8_t kVersion = 1;
// The largest frame: a 1 MiB range (64 leaves) with its proof and header. Chromium delivers at most 256 KiB a
// message, so senders ask for fewer leaves there; the decoder's bound is the protocol's.
inline constexpr std::size_t kMaxFrameLength = content::kMaxRangeLeaves * content::kLeafSize + 4096;
inline constexpr std::size_t kMaxProofHashes = 64;
// What have frames count in: a piece is 8 leaves (128 KiB, what a downloader asks for at a time), so a file has at
// most 2^19 pieces and its whole bitfield (64 KiB) fits one frame (docs/PROTOCOL.md §9.4, §9.5).
inline constexpr std::uint32_t kPieceLeaves = 8;
inline constexpr std::uint32_t kMaxPieces = static_cast<std::uint32_t>(content::kMaxLeaves / kPieceLeaves);

enum class Type : std::uint8_t {
  get_manifest = 1,  // request, share id
  manifest = 2,      // request, manifest bytes
  get = 3,           // request, share id, file, first, count
  data = 4,          // request, file, first, count, proof, bytes
  error = 5,         // request, code
  cancel = 6,        // request
  have = 7,          // request (of the get-have it answers), share id, file, first piece, count, bits
  get_have = 8,      // request, share id, file
};

enum class ErrorCode : std::uint8_t {
  not_found = 1,     // no such share, file or range here
  busy = 2,          // too many requests: ask again later or elsewhere
  bad_request = 3,   // a request the sharer could not read
  unavailable = 4,   // the content is known but cannot be read now (storage)
};

struct Frame {
  Type type = Type::error;
  std::uint32_t request = 0;
  content::Hash share{};   // get_manifest, get, have, get_have
  std::uint32_t file = 0;  // get, data, have, get_have
  std::uint32_t first = 0;  // get, data: the first leaf; have: the first piece
  std::uint32_t count = 0;  // get, data: leaves; have: pieces
  ByteView proof;  // data: views into the decoded bytes
  ByteView body;   // manifest: its bytes; data: the range's bytes; have: the bitfield
  ErrorCode code = ErrorCode::not_found;
};

// Decodes the layout only (a data frame's proof and bytes are checked by open_data). bad_frame for anything
// malformed, an unknown type or error code, a count outside 1..64 (get, data), a have frame whose pieces pass
// kMaxPieces or whose bitfield is not exactly ceil(count / 8) bytes with the spare bits clear; unsupported_version
// for another version byte.
Status decode(ByteView bytes, Frame& frame);

Bytes encode_get_manifest(std::uint32_t request, const content::Hash& share);
Bytes encode_manifest(std::uint32_t request, ByteView manifest);
Bytes encode_get(std::uint32_t request, const content::Hash& share, std::uint32_t file, std::uint32_t first,
                 std::uint32_t count);
Bytes encode_error(std::uint32_t request, ErrorCode code);
Bytes encode_cancel(std::uint32_t request);
Bytes encode_get_have(std::uint32_t request, const content::Hash& share, std::uint32_t file);
// A have frame: pieces [first, first + count) of `file`, piece first + i held when bit i of `bits` is set (the high
// bit of bits[0] first). bad_argument for a count of 0, pieces past kMaxPieces, or bits not exactly
// ceil(count / 8) bytes with the spare bits clear (the decoder refuses such frames).
Status encode_have(std::uint32_t request, const content::Hash& share, std::uint32_t file, std::uint32_t first,
                   std::uint32_t count, ByteView bits, Bytes& out);
// A data frame for leaves [first, first + count) of `tree`, `bytes` being exactly their content (bad_argument
// otherwise, or for a range outside the tree).
Status encode_data(std::uint32_t request, std::uint32_t file, const content::Tree& tree, std::uint32_t first,
                   std::uint32_t count, ByteView bytes, Bytes& out);
// The same frame's bytes before its data (type, request, range, proof), for `data_length` bytes of content
// (bad_argument unless that is exactly their length): the frame is this head followed by the content, so a sender
// holding the content in a buffer with room before it sends both without copying the content (docs/PROTOCOL.md §9.4).
Status encode_data_head(std::uint32_t request, std::uint32_t file, const content::Tree& tree, std::uint32_t first,
                        std::uint32_t count, std::uint64_t data_length, Bytes& out);
// The most bytes encode_data_head can make: a sender's room before the content.
inline constexpr std::size_t kMaxDataHeadLength = 4096;

// A data frame from a proof kept from an earlier one (a downloader serves a piece it verified before it holds the
// whole tree, which encode_data needs). bad_argument for a count outside 1..64 or a proof that is not whole hashes
// (at most 64). Nothing is checked against a root: whoever receives it does that (open_data).
Status encode_data_with_proof(std::uint32_t request, std::uint32_t file, std::uint32_t first, std::uint32_t count,
                              ByteView proof, ByteView bytes, Bytes& out);

// Reads a data frame that must answer (file, first, count) of the content with `root` and `size`, and checks its
// bytes against the root. bad_frame: not a data frame, or another range than asked; bad_proof / chunk_mismatch as
// content::verify. On ok, `data` views the verified bytes inside `bytes`, `leaves` holds their leaf hashes, and
// `proof` (when given) views the proof's hashes inside `bytes`.
Status open_data(ByteView bytes, ByteView root, std::uint64_t size, std::uint32_t file, std::uint32_t first,
                 std::uint32_t count, ByteView& data, std::vector<content::Hash>& leaves, ByteView* proof = nullptr);

}  // namespace pushpeer::frame
