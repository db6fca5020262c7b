#include "pushpeer/content/merkle.hpp"

#include <sodium/crypto_generichash_blake2b.h>

#include <cstring>
#include <string_view>

// The tree's bookkeeping runs once per node, not per byte: optimised for size (the module's gzip size is budgeted,
// bench/RESULTS.md). Hashing the bytes (leaf_hash, TreeHasher::update) stays as fast as it compiles.
#if defined(__clang__)
#define PP_SIZE [[clang::minsize, gnu::noinline]]
#else
#define PP_SIZE
#endif

namespace pushpeer::content {

namespace {

// BLAKE2b personalisation strings: exactly crypto_generichash_blake2b_PERSONALBYTES (16) bytes each.
constexpr char kLeafPersonal[] = "pushpeer-leaf-v1";
constexpr char kNodePersonal[] = "pushpeer-node-v1";
constexpr char kRootPersonal[] = "pushpeer-root-v1";
static_assert(sizeof kLeafPersonal - 1 == crypto_generichash_blake2b_PERSONALBYTES);
static_assert(sizeof kNodePersonal - 1 == crypto_generichash_blake2b_PERSONALBYTES);
static_assert(sizeof kRootPersonal - 1 == crypto_generichash_blake2b_PERSONALBYTES);

void blake2b(const char* personal, const std::uint8_t* in, std::size_t n, Hash& out) {
  crypto_generichash_blake2b_salt_personal(out.data(), out.size(), in, n, nullptr, 0, nullptr,
                                           reinterpret_cast<const unsigned char*>(personal));
}

// The largest power of two strictly below n (n ≥ 2): where a node over n leaves splits.
std::uint64_t split_of(std::uint64_t n) {
  std::uint64_t k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

std::size_t node_index(std::uint64_t lo, std::uint64_t hi) {
  return hi - lo == 1 ? static_cast<std::size_t>(2 * lo) : static_cast<std::size_t>(2 * (lo + split_of(hi - lo)) - 1);
}

bool range_ok(std::uint64_t size, std::uint64_t first, std::uint32_t count) {
  return size <= kMaxSize && count >= 1 && count <= kMaxRangeLeaves && first < leaf_count(size) &&
         count <= leaf_count(size) - first;
}

// Fills nodes[lo..hi) of an in-order tree whose leaves are already at the even indexes; returns the node's hash.
PP_SIZE const Hash& build(std::vector<Hash>& nodes, std::uint64_t lo, std::uint64_t hi) {
  if (hi - lo == 1) return nodes[node_index(lo, hi)];
  const std::uint64_t k = lo + split_of(hi - lo);
  const Hash& left = build(nodes, lo, k);
  const Hash& right = build(nodes, k, hi);
  Hash& self = nodes[node_index(lo, hi)];
  parent_hash(left, right, self);
  return self;
}

PP_SIZE void collect(const Tree& tree, std::uint64_t lo, std::uint64_t hi, std::uint64_t a, std::uint64_t b, Bytes& proof) {
  if (hi <= a || lo >= b) {
    const Hash& h = tree.nodes[node_index(lo, hi)];
    proof.insert(proof.end(), h.begin(), h.end());
    return;
  }
  if (a <= lo && hi <= b) return;
  const std::uint64_t k = lo + split_of(hi - lo);
  collect(tree, lo, k, a, b, proof);
  collect(tree, k, hi, a, b, proof);
}

std::size_t count_beside(std::uint64_t lo, std::uint64_t hi, std::uint64_t a, std::uint64_t b) {
  if (hi <= a || lo >= b) return 1;
  if (a <= lo && hi <= b) return 0;
  const std::uint64_t k = lo + split_of(hi - lo);
  return count_beside(lo, k, a, b) + count_beside(k, hi, a, b);
}

// Recomputes the hash of node [lo, hi) from the range's data and the proof's hashes, taken in order.
struct Checker {
  std::uint64_t size, a, b;
  ByteView data, proof;
  std::size_t next_hash = 0;
  std::vector<Hash>* leaves;

  void node(std::uint64_t lo, std::uint64_t hi, Hash& out) {
    if (hi <= a || lo >= b) {
      std::memcpy(out.data(), proof.data() + next_hash * kHashLength, kHashLength);
      ++next_hash;
      return;
    }
    if (hi - lo == 1) {
      const std::size_t offset = static_cast<std::size_t>((lo - a) * kLeafSize);
      leaf_hash(data.subspan(offset, leaf_length(size, lo)), out);
      if (leaves != nullptr) leaves->push_back(out);
      return;
    }
    const std::uint64_t k = lo + split_of(hi - lo);
    Hash left, right;
    node(lo, k, left);
    node(k, hi, right);
    parent_hash(left, right, out);
  }
};

}  // namespace

std::uint64_t leaf_count(std::uint64_t size) { return size == 0 ? 1 : (size + kLeafSize - 1) / kLeafSize; }

std::size_t leaf_length(std::uint64_t size, std::uint64_t index) {
  const std::uint64_t start = index * kLeafSize;
  if (start >= size) return 0;
  return static_cast<std::size_t>(size - start < kLeafSize ? size - start : kLeafSize);
}

void leaf_hash(ByteView leaf, Hash& out) { blake2b(kLeafPersonal, leaf.data(), leaf.size(), out); }

void parent_hash(const Hash& left, const Hash& right, Hash& out) {
  std::uint8_t both[2 * kHashLength];
  std::memcpy(both, left.data(), kHashLength);
  std::memcpy(both + kHashLength, right.data(), kHashLength);
  blake2b(kNodePersonal, both, sizeof both, out);
}

void root_hash(std::uint64_t size, const Hash& top, Hash& out) {
  std::uint8_t input[8 + kHashLength];
  for (int i = 0; i < 8; ++i) input[i] = static_cast<std::uint8_t>(size >> (56 - 8 * i));
  std::memcpy(input + 8, top.data(), kHashLength);
  blake2b(kRootPersonal, input, sizeof input, out);
}

TreeHasher::TreeHasher() { partial_.reserve(kLeafSize); }
TreeHasher::~TreeHasher() { wipe(partial_.data(), partial_.size()); }

void TreeHasher::flush_leaf() {
  Hash h;
  leaf_hash(partial_, h);
  leaves_.push_back(h);
  partial_.clear();
}

Status TreeHasher::update(ByteView bytes) {
  if (bytes.size() > kMaxSize - size_) return Status::bad_argument;
  size_ += bytes.size();
  std::size_t at = 0;
  // Whole leaves straight from the input; a leaf is hashed only once a byte beyond it arrives or at finish().
  while (at < bytes.size()) {
    if (partial_.size() == kLeafSize) flush_leaf();
    if (partial_.empty() && bytes.size() - at > kLeafSize) {
      Hash h;
      leaf_hash(bytes.subspan(at, kLeafSize), h);
      leaves_.push_back(h);
      at += kLeafSize;
      continue;
    }
    const std::size_t take = std::min(kLeafSize - partial_.size(), bytes.size() - at);
    partial_.insert(partial_.end(), bytes.begin() + static_cast<std::ptrdiff_t>(at),
                    bytes.begin() + static_cast<std::ptrdiff_t>(at + take));
    at += take;
  }
  return Status::ok;
}

PP_SIZE Status TreeHasher::finish(Tree& tree) {
  if (!partial_.empty() || leaves_.empty()) flush_leaf();
  Bytes flat(leaves_.size() * kHashLength);
  for (std::size_t i = 0; i < leaves_.size(); ++i) std::memcpy(flat.data() + i * kHashLength, leaves_[i].data(), kHashLength);
  const std::uint64_t size = size_;
  leaves_.clear();
  size_ = 0;
  return tree_from_leaves(size, flat, tree);
}

PP_SIZE Status tree_from_leaves(std::uint64_t size, ByteView leaves, Tree& tree) {
  if (size > kMaxSize) return Status::bad_argument;
  const std::uint64_t n = leaf_count(size);
  if (leaves.size() != n * kHashLength) return Status::bad_argument;
  tree.size = size;
  tree.nodes.assign(static_cast<std::size_t>(2 * n - 1), Hash{});
  for (std::uint64_t i = 0; i < n; ++i) {
    std::memcpy(tree.nodes[static_cast<std::size_t>(2 * i)].data(), leaves.data() + i * kHashLength, kHashLength);
  }
  root_hash(size, build(tree.nodes, 0, n), tree.root);
  return Status::ok;
}

PP_SIZE Bytes tree_nodes_bytes(const Tree& tree) {
  Bytes out(tree.nodes.size() * kHashLength);
  for (std::size_t i = 0; i < tree.nodes.size(); ++i) std::memcpy(out.data() + i * kHashLength, tree.nodes[i].data(), kHashLength);
  return out;
}

PP_SIZE Status tree_from_nodes(std::uint64_t size, ByteView nodes, ByteView expected_root, Tree& tree) {
  if (size > kMaxSize) return Status::bad_argument;
  const std::uint64_t n = leaf_count(size);
  if (nodes.size() != (2 * n - 1) * kHashLength) return Status::bad_argument;
  if (!expected_root.empty() && expected_root.size() != kHashLength) return Status::bad_argument;
  Bytes leaves(n * kHashLength);
  for (std::uint64_t i = 0; i < n; ++i) std::memcpy(leaves.data() + i * kHashLength, nodes.data() + 2 * i * kHashLength, kHashLength);
  Tree rebuilt;
  if (Status s = tree_from_leaves(size, leaves, rebuilt); s != Status::ok) return s;
  if (!equal_ct(nodes, tree_nodes_bytes(rebuilt))) return Status::chunk_mismatch;
  if (!expected_root.empty() && !equal_ct(expected_root, rebuilt.root)) return Status::chunk_mismatch;
  tree = std::move(rebuilt);
  return Status::ok;
}

PP_SIZE Status proof_hash_count(std::uint64_t size, std::uint64_t first, std::uint32_t count, std::size_t& hashes) {
  if (!range_ok(size, first, count)) return Status::bad_argument;
  hashes = count_beside(0, leaf_count(size), first, first + count);
  return Status::ok;
}

PP_SIZE Status prove(const Tree& tree, std::uint64_t first, std::uint32_t count, Bytes& proof) {
  if (!range_ok(tree.size, first, count) || tree.nodes.size() != 2 * leaf_count(tree.size) - 1) return Status::bad_argument;
  proof.clear();
  collect(tree, 0, leaf_count(tree.size), first, first + count, proof);
  return Status::ok;
}

PP_SIZE Status verify(ByteView root, std::uint64_t size, std::uint64_t first, std::uint32_t count, ByteView data,
              ByteView proof, std::vector<Hash>* leaves) {
  if (root.size() != kHashLength || !range_ok(size, first, count)) return Status::bad_argument;
  std::size_t hashes = 0;
  proof_hash_count(size, first, count, hashes);
  std::uint64_t bytes = 0;
  for (std::uint64_t i = first; i < first + count; ++i) bytes += leaf_length(size, i);
  if (proof.size() != hashes * kHashLength || data.size() != bytes) return Status::bad_proof;
  const std::size_t before = leaves != nullptr ? leaves->size() : 0;
  Checker checker{size, first, first + count, data, proof, 0, leaves};
  Hash top, computed;
  checker.node(0, leaf_count(size), top);
  root_hash(size, top, computed);
  if (!equal_ct(root, computed)) {
    if (leaves != nullptr) leaves->resize(before);
    return Status::chunk_mismatch;
  }
  return Status::ok;
}

}  // namespace pushpeer::content
