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

enum class Type : std::uint8_t {
  get_manifest = 1,  // request, share id
  manifest = 2,      // request, manifest bytes
  get = 3,           // request, share id, file, first, count
  data = 4,          // request, file, first, count, proof, bytes
  error = 5,         // request, code
  cancel = 6,        // request
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
  content::Hash share{};   // get_manifest, get
  std::uint32_t file = 0;  // get, data
  std::uint32_t first = 0;
  std::uint32_t count = 0;
  ByteView proof;  // data: views into the decoded bytes
  ByteView body;   // manifest: its bytes; data: the range's bytes
  ErrorCode code = ErrorCode::not_found;
};

// Decodes the layout only (a data frame's proof and bytes are checked by open_data). bad_frame for anything
// malformed, an unknown type or error code, a count outside 1..64; unsupported_version for another version byte.
Status decode(ByteView bytes, Frame& frame);

Bytes encode_get_manifest(std::uint32_t request, const content::Hash& share);
Bytes encode_manifest(std::uint32_t request, ByteView manifest);
Bytes encode_get(std::uint32_t request, const content::Hash& share, std::uint32_t file, std::uint32_t first,
                 std::uint32_t count);
Bytes encode_error(std::uint32_t request, ErrorCode code);
Bytes encode_cancel(std::uint32_t request);
// A data frame for leaves [first, first + count) of `tree`, `bytes` being exactly their content (bad_argument
// otherwise, or for a range outside the tree).
Status encode_data(std::uint32_t request, std::uint32_t file, const content::Tree& tree, std::uint32_t first,
                   std::uint32_t count, ByteView bytes, Bytes& out);

// Reads a data frame that must answer (file, first, count) of the content with `root` and `size`, and checks its
// bytes against the root. bad_frame: not a data frame, or another range than asked; bad_proof / chunk_mismatch as
// content::verify. On ok, `data` views the verified bytes inside `bytes`, and `leaves` holds their leaf hashes.
Status open_data(ByteView bytes, ByteView root, std::uint64_t size, std::uint32_t file, std::uint32_t first,
                 std::uint32_t count, ByteView& data, std::vector<content::Hash>& leaves);

}  // namespace pushpeer::frame
