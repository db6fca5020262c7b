// Content addressing (docs/PROTOCOL.md §9.1): a BLAKE2b-256 merkle tree over 16 KiB leaves, so that any run of
// leaves can be checked on its own, from any peer and in any order, against a 32-byte root.
//
// - leaf   = BLAKE2b-256(personal "pushpeer-leaf-v1", leaf bytes)        (the last leaf may be short; 0 bytes: one
//                                                                        empty leaf)
// - parent = BLAKE2b-256(personal "pushpeer-node-v1", left || right)
// - root   = BLAKE2b-256(personal "pushpeer-root-v1", size (u64 BE) || top)
// The tree is left-balanced: a node over leaves [lo, hi) splits at lo + the largest power of two below hi - lo
// (as RFC 9162's), so its shape follows from the size alone. Its 2n - 1 nodes are kept in order: leaf i at 2i, the
// parent that splits at k at 2k - 1.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "pushpeer/bytes.hpp"
#include "pushpeer/status.hpp"

namespace pushpeer::content {

inline constexpr std::size_t kLeafSize = 16 * 1024;
inline constexpr std::size_t kHashLength = 32;
// At most 2^22 leaves (64 GiB) per file: its tree (64 bytes per leaf, 256 MiB) must still fit in a Wasm heap.
inline constexpr std::uint64_t kMaxLeaves = std::uint64_t{1} << 22;
inline constexpr std::uint64_t kMaxSize = kMaxLeaves * kLeafSize;
// A range proved or checked in one call: at most 64 leaves (1 MiB), which bounds what a call copies.
inline constexpr std::uint32_t kMaxRangeLeaves = 64;

using Hash = std::array<std::uint8_t, kHashLength>;

// Leaves of a content of `size` bytes: ceil(size / 16 KiB), and 1 for 0 bytes.
std::uint64_t leaf_count(std::uint64_t size);
// Bytes of leaf `index` (all 16 KiB but the last).
std::size_t leaf_length(std::uint64_t size, std::uint64_t index);

void leaf_hash(ByteView leaf, Hash& out);
void parent_hash(const Hash& left, const Hash& right, Hash& out);
void root_hash(std::uint64_t size, const Hash& top, Hash& out);

struct Tree {
  std::uint64_t size = 0;
  std::vector<Hash> nodes;  // 2n - 1, in order
  Hash root{};
};

// Hashes content streamed in pieces of any size, keeping one partial leaf and the leaf hashes (32 bytes per 16 KiB).
class TreeHasher {
 public:
  TreeHasher();
  ~TreeHasher();
  TreeHasher(const TreeHasher&) = delete;
  TreeHasher& operator=(const TreeHasher&) = delete;
  // bad_argument once the total would pass kMaxSize.
  Status update(ByteView bytes);
  Status finish(Tree& tree);  // the hasher is empty again afterwards
  std::uint64_t size() const { return size_; }

 private:
  void flush_leaf();
  std::vector<Hash> leaves_;
  Bytes partial_;
  std::uint64_t size_ = 0;
};

// The tree over the given leaf hashes (n * 32 bytes, n = leaf_count(size)). bad_argument on a wrong count.
Status tree_from_leaves(std::uint64_t size, ByteView leaves, Tree& tree);
// A tree's nodes as bytes (2n - 1 hashes) and back; tree_from_nodes recomputes every parent and the root, so a
// stored tree that was altered is refused (chunk_mismatch), and checks it against `expected_root` when not empty.
Bytes tree_nodes_bytes(const Tree& tree);
Status tree_from_nodes(std::uint64_t size, ByteView nodes, ByteView expected_root, Tree& tree);

// The hashes that prove leaves [first, first + count) (1 ≤ count ≤ 64): the roots of the subtrees beside the
// range, in order (left before right, depth first). bad_argument for a range outside the content.
Status prove(const Tree& tree, std::uint64_t first, std::uint32_t count, Bytes& proof);
// How many hashes such a proof has (0 when the range is the whole content).
Status proof_hash_count(std::uint64_t size, std::uint64_t first, std::uint32_t count, std::size_t& hashes);

// Checks `data` (exactly the bytes of leaves [first, first + count)) with `proof` against `root`.
// bad_argument: a range outside the content or a size above kMaxSize; bad_proof: a proof of the wrong length or
// data of the wrong length for the range; chunk_mismatch: they do not lead to the root. On ok, `leaves` (when not
// null) holds the range's leaf hashes.
Status verify(ByteView root, std::uint64_t size, std::uint64_t first, std::uint32_t count, ByteView data,
              ByteView proof, std::vector<Hash>* leaves);

}  // namespace pushpeer::content
