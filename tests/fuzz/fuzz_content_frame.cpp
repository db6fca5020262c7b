// Content-channel frames and range proofs from untrusted bytes (docs/PROTOCOL.md §9.2, §9.4). Byte 0 picks a mode:
// - frame::kVersion: the whole input to frame::decode. An accepted frame keeps its limits, views only its input,
//   and is exactly what frame::encode_* (data_frame for data) writes for its fields: one encoding per frame.
// - even: a header (fuzz_content.hpp) picks a content size (at most 40 leaves of fixed bytes, hashed by a
//   TreeHasher in pieces the header also picks) and the range asked; the rest is a data frame, given to
//   frame::open_data, and its proof and bytes to content::verify, against the true root.
// - odd: the same header; the rest edits the range's true bytes and proof (fuzz_content.hpp, Edit), which go to
//   content::verify and, in a data frame, to frame::open_data. Mutating true proofs reaches further than hoping
//   the fuzzer writes one, and -max_len keeps whole 16 KiB leaves out of the even mode.
// In both proof modes the status is predicted here: ok exactly when the bytes and the proof are the true ones (a
// forged proof never verifies), with the true leaf hashes; on any failure, no leaves and no data.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "fuzz_content.hpp"

using namespace pushpeer;
using pushpeer::fuzz::one_of;

namespace {

constexpr std::size_t kL = content::kLeafSize;

bool same(ByteView a, ByteView b) { return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin()); }

// An empty view, or one that lies inside `in`.
bool inside(ByteView v, ByteView in) {
  if (v.empty()) return true;
  const auto p = reinterpret_cast<std::uintptr_t>(v.data()), lo = reinterpret_cast<std::uintptr_t>(in.data());
  return p >= lo && p + v.size() <= lo + in.size();
}

void check_frame(ByteView in) {
  frame::Frame f;
  const Status s = frame::decode(in, f);
  PP_FUZZ_CHECK(one_of(s, {Status::ok, Status::bad_frame, Status::unsupported_version}));
  const bool sized = in.size() >= 3 && in.size() <= frame::kMaxFrameLength;
  PP_FUZZ_CHECK((s == Status::unsupported_version) == (sized && in[0] != frame::kVersion));
  if (s != Status::ok) return;
  PP_FUZZ_CHECK(inside(f.proof, in) && inside(f.body, in));
  const bool count_ok = f.count >= 1 && f.count <= content::kMaxRangeLeaves;
  Bytes again;
  switch (f.type) {
    case frame::Type::get_manifest:
      again = frame::encode_get_manifest(f.request, f.share);
      break;
    case frame::Type::manifest:
      PP_FUZZ_CHECK(!f.body.empty());
      again = frame::encode_manifest(f.request, f.body);
      break;
    case frame::Type::get:
      PP_FUZZ_CHECK(count_ok);
      again = frame::encode_get(f.request, f.share, f.file, f.first, f.count);
      break;
    case frame::Type::data:
      PP_FUZZ_CHECK(count_ok);
      PP_FUZZ_CHECK(f.proof.size() % content::kHashLength == 0);
      PP_FUZZ_CHECK(f.proof.size() <= frame::kMaxProofHashes * content::kHashLength);
      again = fuzz::data_frame(f.request, f.file, f.first, f.count, f.proof, f.body);
      break;
    case frame::Type::error:
      PP_FUZZ_CHECK(f.code >= frame::ErrorCode::not_found && f.code <= frame::ErrorCode::unavailable);
      again = frame::encode_error(f.request, f.code);
      break;
    case frame::Type::cancel:
      again = frame::encode_cancel(f.request);
      break;
    case frame::Type::have: {
      // Pieces within the limit, a bitfield of exactly ceil(count / 8) bytes whose spare bits are clear.
      PP_FUZZ_CHECK(f.count >= 1 && f.count <= frame::kMaxPieces && f.first <= frame::kMaxPieces - f.count);
      PP_FUZZ_CHECK(f.body.size() == (f.count + 7) / 8);
      const unsigned spare = (8 - f.count % 8) % 8;
      PP_FUZZ_CHECK((f.body.back() & ((1u << spare) - 1)) == 0);
      PP_FUZZ_CHECK(frame::encode_have(f.request, f.share, f.file, f.first, f.count, f.body, again) == Status::ok);
      break;
    }
    case frame::Type::get_have:
      again = frame::encode_get_have(f.request, f.share, f.file);
      break;
    default:
      PP_FUZZ_CHECK(!"a type outside the eight");
  }
  if (f.type != frame::Type::data && f.type != frame::Type::manifest && f.type != frame::Type::have) {
    PP_FUZZ_CHECK(f.proof.empty() && f.body.empty());
  }
  PP_FUZZ_CHECK(same(again, in));
}

// What the proof mode checks against: the content's tree and the range's true bytes, proof and leaf hashes.
struct Truth {
  std::uint32_t size = 0, first = 0, count = 0;
  bool range_ok = false;  // the range lies in the content and 1 <= count <= 64 (§9.2)
  const content::Tree* tree = nullptr;
  ByteView data;
  Bytes proof;
  std::vector<content::Hash> leaves;
};

// The tree of the first `size` fixed bytes, streamed in the header's pieces, checked against the tree of its
// leaves hashed one by one. The last one is kept: mutations of one input mostly keep its header.
const content::Tree& tree_of(std::uint32_t size, std::uint8_t piece) {
  static struct {
    bool valid = false;
    std::uint32_t size = 0;
    std::uint8_t piece = 0;
    content::Tree tree;
  } last;
  if (last.valid && last.size == size && last.piece == piece) return last.tree;
  const ByteView all = fuzz::fixed_content().first(size);
  content::TreeHasher hasher;
  PP_FUZZ_CHECK(hasher.update({}) == Status::ok);
  const std::size_t step = fuzz::piece_length(piece, size);
  for (std::size_t at = 0; at < size; at += step) {
    PP_FUZZ_CHECK(hasher.update(all.subspan(at, std::min(step, size - at))) == Status::ok);
  }
  PP_FUZZ_CHECK(hasher.size() == size);
  content::Tree tree;
  PP_FUZZ_CHECK(hasher.finish(tree) == Status::ok && hasher.size() == 0);

  const std::size_t n = size == 0 ? 1 : (size + kL - 1) / kL;
  Bytes leaves(n * content::kHashLength);
  for (std::size_t i = 0; i < n; ++i) {
    content::Hash h;
    content::leaf_hash(all.subspan(i * kL, std::min(kL, size - std::min<std::size_t>(size, i * kL))), h);
    std::memcpy(leaves.data() + i * content::kHashLength, h.data(), h.size());
  }
  content::Tree reference;
  PP_FUZZ_CHECK(content::tree_from_leaves(size, leaves, reference) == Status::ok);
  PP_FUZZ_CHECK(tree.size == size && tree.nodes.size() == 2 * n - 1);
  PP_FUZZ_CHECK(tree.nodes == reference.nodes && tree.root == reference.root);
  last.tree = std::move(tree);
  last.size = size;
  last.piece = piece;
  last.valid = true;
  return last.tree;
}

Truth truth_of(const fuzz::ProofHeader& h) {
  Truth t;
  t.size = h.size, t.first = h.first, t.count = h.count;
  t.tree = &tree_of(h.size, h.piece);
  const std::size_t n = h.size == 0 ? 1 : (h.size + kL - 1) / kL;
  t.range_ok = h.count >= 1 && h.count <= content::kMaxRangeLeaves && h.first < n && h.count <= n - h.first;
  Bytes proof;
  const Status p = content::prove(*t.tree, h.first, h.count, proof);
  PP_FUZZ_CHECK(p == (t.range_ok ? Status::ok : Status::bad_argument));
  if (!t.range_ok) return t;
  const std::size_t start = h.first * kL, end = std::min<std::size_t>(h.size, (h.first + h.count) * kL);
  t.data = fuzz::fixed_content().subspan(start, end - start);
  t.proof = std::move(proof);
  std::size_t hashes = 0;
  PP_FUZZ_CHECK(content::proof_hash_count(h.size, h.first, h.count, hashes) == Status::ok);
  PP_FUZZ_CHECK(t.proof.size() == hashes * content::kHashLength);
  for (std::uint32_t i = h.first; i < h.first + h.count; ++i) t.leaves.push_back(t.tree->nodes[2 * i]);
  return t;
}

Status predicted(const Truth& t, ByteView data, ByteView proof) {
  if (!t.range_ok) return Status::bad_argument;
  if (proof.size() != t.proof.size() || data.size() != t.data.size()) return Status::bad_proof;
  return same(proof, t.proof) && same(data, t.data) ? Status::ok : Status::chunk_mismatch;
}

constexpr content::Hash kSentinel = {0x5e, 0x47};

void check_verify(const Truth& t, ByteView data, ByteView proof) {
  const Status want = predicted(t, data, proof);
  std::vector<content::Hash> leaves{kSentinel};  // verify appends, and on failure leaves what was there
  const Status s = content::verify(t.tree->root, t.size, t.first, t.count, data, proof, &leaves);
  PP_FUZZ_CHECK(s == want);
  PP_FUZZ_CHECK(leaves.front() == kSentinel);
  if (s == Status::ok) {
    PP_FUZZ_CHECK(std::equal(leaves.begin() + 1, leaves.end(), t.leaves.begin(), t.leaves.end()));
  } else {
    PP_FUZZ_CHECK(leaves.size() == 1);
  }
  PP_FUZZ_CHECK(content::verify(t.tree->root, t.size, t.first, t.count, data, proof, nullptr) == want);
  // A root that is not 32 bytes, or a size beyond the limit, is refused before anything else.
  const ByteView short_root = ByteView(t.tree->root).first(content::kHashLength - 1);
  PP_FUZZ_CHECK(content::verify(short_root, t.size, t.first, t.count, data, proof, nullptr) == Status::bad_argument);
  PP_FUZZ_CHECK(content::verify(t.tree->root, content::kMaxSize + 1, t.first, t.count, data, proof, nullptr) ==
                Status::bad_argument);
}

void check_open(const Truth& t, ByteView bytes) {
  frame::Frame f;
  Status want = frame::decode(bytes, f);  // the decoder itself is checked by the frame mode
  if (want == Status::ok) {
    if (f.type != frame::Type::data || f.file != fuzz::kAskedFile || f.first != t.first || f.count != t.count) {
      want = Status::bad_frame;
    } else {
      want = predicted(t, f.body, f.proof);
    }
  }
  ByteView data = bytes;
  std::vector<content::Hash> leaves{kSentinel};  // open_data replaces both
  const Status s = frame::open_data(bytes, t.tree->root, t.size, fuzz::kAskedFile, t.first, t.count, data, leaves);
  PP_FUZZ_CHECK(s == want);
  if (s != Status::ok) {
    PP_FUZZ_CHECK(data.empty() && leaves.empty());
    return;
  }
  PP_FUZZ_CHECK(data.data() == f.body.data() && same(data, t.data) && inside(data, bytes));
  PP_FUZZ_CHECK(leaves == t.leaves);
}

// The edit mode: edits of the true bytes and proof, then both checks.
void check_edited(const Truth& t, ByteView edits) {
  Bytes data(t.data.begin(), t.data.end());
  Bytes proof = t.proof;
  std::uint32_t file = fuzz::kAskedFile, first = t.first, count = t.count;
  const std::size_t kH = content::kHashLength;
  const ByteView all = fuzz::fixed_content();
  for (std::size_t at = 0; at + fuzz::kEditLength <= edits.size(); at += fuzz::kEditLength) {
    const std::uint8_t* e = edits.data() + at;
    const std::uint32_t a = std::uint32_t{e[1]} << 16 | std::uint32_t{e[2]} << 8 | e[3];
    const std::uint8_t v = e[4];
    const std::size_t hashes = proof.size() / kH;
    switch (static_cast<fuzz::Edit>(e[0] % fuzz::kEditKinds)) {
      case fuzz::kFlipData:
        if (!data.empty()) data[a % data.size()] ^= v != 0 ? v : 1;
        break;
      case fuzz::kFlipProof:
        if (!proof.empty()) proof[a % proof.size()] ^= v != 0 ? v : 1;
        break;
      case fuzz::kResizeData:
        data.resize(a % (data.size() + 65), v);
        break;
      case fuzz::kResizeProof:
        proof.resize(kH * (a % (hashes + 3)), v);
        break;
      case fuzz::kSwapProof:
        if (hashes > 0) {
          std::swap_ranges(proof.begin() + (a % hashes) * kH, proof.begin() + (a % hashes + 1) * kH,
                           proof.begin() + (v % hashes) * kH);
        }
        break;
      case fuzz::kProofFromTree:
        if (hashes > 0) {
          const content::Hash& node = t.tree->nodes[a % t.tree->nodes.size()];
          std::copy(node.begin(), node.end(), proof.begin() + (v % hashes) * kH);
        }
        break;
      case fuzz::kLeafFromElsewhere:
        if (!data.empty()) {
          const std::size_t to = (v % ((data.size() + kL - 1) / kL)) * kL;
          const std::size_t from = (a % fuzz::kContentMaxLeaves) * kL;
          std::copy_n(all.begin() + from, std::min(kL, data.size() - to), data.begin() + to);
        }
        break;
      case fuzz::kOddProof:
        proof.insert(proof.end(), 1 + v % 31, v);
        break;
      case fuzz::kFrameFields:
        (v % 3 == 0 ? file : v % 3 == 1 ? first : count) += 1 + a;
        break;
      case fuzz::kEditKinds:
        break;
    }
  }
  check_verify(t, data, proof);
  check_open(t, fuzz::data_frame(9, file, first, count, proof, data));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteView in{data, size};
  check_frame(in);
  if (size < fuzz::kProofHeaderLength || data[0] == frame::kVersion) return 0;
  const fuzz::ProofHeader h = fuzz::read_proof_header(data);
  const Truth t = truth_of(h);
  const ByteView rest = in.subspan(fuzz::kProofHeaderLength);
  if (h.mode % 2 == 1) {
    check_edited(t, rest);
    return 0;
  }
  // A frame from the fuzzer: as the answer to the range, and its proof and bytes as the range's whatever it states.
  check_frame(rest);
  check_open(t, rest);
  frame::Frame f;
  if (frame::decode(rest, f) == Status::ok && f.type == frame::Type::data) check_verify(t, f.body, f.proof);
  return 0;
}
