// Signed site versions (docs/PROTOCOL.md §10): a publisher signs which of its site's files peers may serve (a share
// manifest, §9.3, of those files, signed by the publisher) together with a version number. The site manifest is a
// site record followed by that share manifest; the record names the manifest by its id and is signed with a context
// of its own, so that no share manifest or other signed object of ours can pass for one.
#pragma once
#include <cstdint>

#include "pushpeer/content/manifest.hpp"
#include "pushpeer/p256.hpp"
#include "pushpeer/status.hpp"

namespace pushpeer::site {

inline constexpr std::uint8_t kMagic = 0xE1;  // site record, version 1 (0xE_ with another low nibble: unsupported)
inline constexpr std::size_t kBodyLength = 1 + 1 + 4 + 4 + 33 + 32;
inline constexpr std::size_t kRecordLength = kBodyLength + 64;  // the body, then its signature
inline constexpr std::size_t kMaxLength = kRecordLength + manifest::kMaxLength;

struct Record {
  std::uint32_t version = 0;  // at least 1; a visitor never goes back to a lower one
  std::uint32_t created = 0;  // seconds since the epoch
  p256::PublicKey publisher{};
  content::Hash share{};  // the id of the share manifest that follows (manifest::id)
};

// Signs a record for `manifest_bytes` (a share manifest signed by the same key) with the publisher's private key:
// out = record || manifest. bad_argument for version 0, a manifest that is not well formed or whose sharer is not
// the publisher.
Status encode(std::uint32_t version, std::uint32_t created, ByteView publisher_private, ByteView manifest_bytes,
              Bytes& out);
// Decodes and verifies a site manifest: the record's signature, its manifest's id, and that manifest (its own
// signature, by the publisher). bad_manifest for anything malformed or badly signed; unsupported_version for another
// 0xE_ magic. `manifest_at` is where the share manifest starts in `bytes`.
Status decode(ByteView bytes, Record& record, manifest::Manifest& files, std::size_t& manifest_at);

}  // namespace pushpeer::site
