// Compact, lossless SDP codec: what browsers emit packs to a few hundred bytes (data channel: about 120), and
// unpacking gives back the exact text. Layout and dictionary versioning: docs/PROTOCOL.md §2.
#pragma once
#include <string>
#include <string_view>

#include "pushpeer/bytes.hpp"
#include "pushpeer/status.hpp"

namespace pushpeer::sdp {

inline constexpr std::size_t kMaxSdpLength = 64 * 1024;

// Which encoding pack() chose (the low nibble of the first byte).
enum class Mode : std::uint8_t {
  tokens = 0,        // high-entropy tokens as binary fields, the rest deflated with the preset dictionary
  dictionary = 1,    // the whole text deflated with the preset dictionary
  deflate = 2,       // the whole text deflated, no dictionary
};

// Packs SDP text (any bytes are accepted; browsers' SDP takes the token path). Picks the smallest encoding.
// Writes the newest version (2).
Status pack(std::string_view sdp, Bytes& packed);
// Test-only: pack() as version 1 or 2 of the format wrote it (unsupported_version otherwise), so that tests can
// show every version still decodes.
Status pack_version(std::string_view sdp, std::uint8_t version, Bytes& packed);
// Exact inverse of pack, for every version (1 and 2). Rejects malformed input with bad_packed_sdp, unknown versions
// with unsupported_version.
Status unpack(ByteView packed, std::string& sdp);
// The encoding a packed SDP uses (for statistics and tests).
Status packed_mode(ByteView packed, Mode& mode);

}  // namespace pushpeer::sdp
