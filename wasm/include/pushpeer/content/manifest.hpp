// Share manifests (docs/PROTOCOL.md §9.3): what a share holds (file names, sizes, MIME types, merkle roots), signed
// by the sharer's identity key. A share is named by its manifest's id, BLAKE2b-256 of the manifest without its
// signature, which a link carries: whoever serves the manifest, the receiver checks both the id and the signature.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "pushpeer/content/merkle.hpp"
#include "pushpeer/p256.hpp"
#include "pushpeer/status.hpp"

namespace pushpeer::manifest {

inline constexpr std::uint8_t kMagic = 0xD1;  // manifest, version 1 (0xD_ with another low nibble: unsupported)
inline constexpr std::size_t kMaxLength = 64 * 1024;
inline constexpr std::size_t kMaxFiles = 1024;
inline constexpr std::size_t kMaxTitleLength = 128;
inline constexpr std::size_t kMaxNameLength = 255;
inline constexpr std::size_t kMaxTypeLength = 127;

struct File {
  std::string name;  // a relative path: displayable text, '/'-separated, no empty, "." or ".." segment, no '\'
  std::uint64_t size = 0;
  std::string type;  // a MIME type (type/subtype[;params], printable ASCII) or empty
  content::Hash root{};
};

struct Manifest {
  std::uint32_t created = 0;  // seconds since the epoch
  p256::PublicKey sharer{};
  std::string title;  // displayable text, may be empty
  std::vector<File> files;
};

// Encodes and signs with the sharer's identity key (which must match manifest.sharer). bad_argument for limits,
// bad_text for a title or name that is not displayable text (or a name that is not a safe relative path).
Status encode(const Manifest& manifest, ByteView identity_private, Bytes& out);
// Decodes and verifies the signature. bad_manifest for anything malformed or badly signed; unsupported_version for
// another 0xD_ magic.
Status decode(ByteView bytes, Manifest& manifest);
// The id of well-formed manifest bytes (the signature is not part of it); bad_manifest when too short.
Status id(ByteView bytes, content::Hash& out);
// decode() that also requires the id to be `expected` (32 bytes): a manifest for another share is bad_manifest.
Status decode_expecting(ByteView bytes, ByteView expected, Manifest& manifest);

bool valid_name(std::string_view name);
bool valid_type(std::string_view type);

}  // namespace pushpeer::manifest
