#include "pushpeer/content/frame.hpp"

#include "../wire.hpp"

// Runs once per manifest or frame: optimised for size (the module's gzip size is budgeted, bench/RESULTS.md).
#if defined(__clang__)
#define PP_SIZE [[clang::minsize, gnu::noinline]]
#else
#define PP_SIZE
#endif

namespace pushpeer::frame {

namespace {

wire::Writer start(Type type, std::uint32_t request) {
  wire::Writer w;
  w.u8(kVersion);
  w.u8(static_cast<std::uint8_t>(type));
  w.varint(request);
  return w;
}

PP_SIZE bool count_ok(std::uint32_t count) { return count >= 1 && count <= content::kMaxRangeLeaves; }

// A have frame's pieces and bitfield: canonical, so that one set of pieces has one encoding.
PP_SIZE bool have_ok(std::uint32_t first, std::uint32_t count, ByteView bits) {
  if (count < 1 || count > kMaxPieces || first > kMaxPieces - count) return false;
  if (bits.size() != (std::size_t{count} + 7) / 8) return false;
  const unsigned spare = (8 - count % 8) % 8;
  return (bits[bits.size() - 1] & ((1u << spare) - 1)) == 0;
}

Status read_share(wire::Reader& r, Frame& f) {
  const ByteView share = r.bytes(content::kHashLength);
  if (!r.ok) return Status::bad_frame;
  std::copy(share.begin(), share.end(), f.share.begin());
  return Status::ok;
}

}  // namespace

PP_SIZE Status decode(ByteView bytes, Frame& f) {
  f = Frame{};
  if (bytes.size() < 3 || bytes.size() > kMaxFrameLength) return Status::bad_frame;
  if (bytes[0] != kVersion) return Status::unsupported_version;
  wire::Reader r{bytes};
  r.u8();
  const std::uint8_t type = r.u8();
  f.request = r.varint();
  switch (static_cast<Type>(type)) {
    case Type::get_manifest: {
      const ByteView share = r.bytes(content::kHashLength);
      if (!r.done()) return Status::bad_frame;
      std::copy(share.begin(), share.end(), f.share.begin());
      break;
    }
    case Type::manifest:
      if (!r.ok || r.left() == 0) return Status::bad_frame;
      f.body = r.bytes(r.left());
      break;
    case Type::get: {
      const ByteView share = r.bytes(content::kHashLength);
      f.file = r.varint();
      f.first = r.varint();
      f.count = r.varint();
      if (!r.done() || !count_ok(f.count)) return Status::bad_frame;
      std::copy(share.begin(), share.end(), f.share.begin());
      break;
    }
    case Type::data:
      f.file = r.varint();
      f.first = r.varint();
      f.count = r.varint();
      f.proof = r.blob(kMaxProofHashes * content::kHashLength);
      if (!r.ok || !count_ok(f.count) || f.proof.size() % content::kHashLength != 0) return Status::bad_frame;
      f.body = r.bytes(r.left());
      break;
    case Type::error: {
      const std::uint8_t code = r.u8();
      if (!r.done() || code < 1 || code > 4) return Status::bad_frame;
      f.code = static_cast<ErrorCode>(code);
      break;
    }
    case Type::cancel:
      if (!r.done()) return Status::bad_frame;
      break;
    case Type::have:
      if (read_share(r, f) != Status::ok) return Status::bad_frame;
      f.file = r.varint();
      f.first = r.varint();
      f.count = r.varint();
      if (!r.ok) return Status::bad_frame;
      f.body = r.bytes(r.left());
      if (!have_ok(f.first, f.count, f.body)) return Status::bad_frame;
      break;
    case Type::get_have:
      if (read_share(r, f) != Status::ok) return Status::bad_frame;
      f.file = r.varint();
      if (!r.done()) return Status::bad_frame;
      break;
    default:
      return Status::bad_frame;
  }
  f.type = static_cast<Type>(type);
  return Status::ok;
}

PP_SIZE Bytes encode_get_manifest(std::uint32_t request, const content::Hash& share) {
  wire::Writer w = start(Type::get_manifest, request);
  w.bytes(share);
  return std::move(w.out);
}

PP_SIZE Bytes encode_manifest(std::uint32_t request, ByteView manifest) {
  wire::Writer w = start(Type::manifest, request);
  w.bytes(manifest);
  return std::move(w.out);
}

PP_SIZE Bytes encode_get(std::uint32_t request, const content::Hash& share, std::uint32_t file, std::uint32_t first,
                 std::uint32_t count) {
  wire::Writer w = start(Type::get, request);
  w.bytes(share);
  w.varint(file);
  w.varint(first);
  w.varint(count);
  return std::move(w.out);
}

PP_SIZE Bytes encode_error(std::uint32_t request, ErrorCode code) {
  wire::Writer w = start(Type::error, request);
  w.u8(static_cast<std::uint8_t>(code));
  return std::move(w.out);
}

PP_SIZE Bytes encode_cancel(std::uint32_t request) { return std::move(start(Type::cancel, request).out); }

PP_SIZE Bytes encode_get_have(std::uint32_t request, const content::Hash& share, std::uint32_t file) {
  wire::Writer w = start(Type::get_have, request);
  w.bytes(share);
  w.varint(file);
  return std::move(w.out);
}

PP_SIZE Status encode_have(std::uint32_t request, const content::Hash& share, std::uint32_t file, std::uint32_t first,
                           std::uint32_t count, ByteView bits, Bytes& out) {
  out.clear();
  if (!have_ok(first, count, bits)) return Status::bad_argument;
  wire::Writer w = start(Type::have, request);
  w.bytes(share);
  w.varint(file);
  w.varint(first);
  w.varint(count);
  w.bytes(bits);
  out = std::move(w.out);
  return Status::ok;
}

// Version and type (a byte each), request, file, first and count (varints of u32: 5 bytes at most), the proof's
// length (a varint) and the proof.
static_assert(2 + 4 * 5 + 5 + kMaxProofHashes * content::kHashLength <= kMaxDataHeadLength);

namespace {

// A data frame's bytes before its data (PROTOCOL §9.4), whichever way its proof was had.
PP_SIZE Bytes data_head(std::uint32_t request, std::uint32_t file, std::uint32_t first, std::uint32_t count,
                        ByteView proof) {
  wire::Writer w = start(Type::data, request);
  w.varint(file);
  w.varint(first);
  w.varint(count);
  w.blob(proof);
  return std::move(w.out);
}

}  // namespace

PP_SIZE Status encode_data_head(std::uint32_t request, std::uint32_t file, const content::Tree& tree,
                                std::uint32_t first, std::uint32_t count, std::uint64_t data_length, Bytes& out) {
  out.clear();
  Bytes proof;
  if (Status s = content::prove(tree, first, count, proof); s != Status::ok) return s;
  std::uint64_t expected = 0;
  for (std::uint64_t i = first; i < std::uint64_t{first} + count; ++i) expected += content::leaf_length(tree.size, i);
  if (data_length != expected) return Status::bad_argument;
  out = data_head(request, file, first, count, proof);
  return Status::ok;
}

PP_SIZE Status encode_data(std::uint32_t request, std::uint32_t file, const content::Tree& tree, std::uint32_t first,
                   std::uint32_t count, ByteView bytes, Bytes& out) {
  if (Status s = encode_data_head(request, file, tree, first, count, bytes.size(), out); s != Status::ok) return s;
  out.insert(out.end(), bytes.begin(), bytes.end());
  return Status::ok;
}

PP_SIZE Status encode_data_with_proof(std::uint32_t request, std::uint32_t file, std::uint32_t first,
                                     std::uint32_t count, ByteView proof, ByteView bytes, Bytes& out) {
  out.clear();
  if (!count_ok(count) || proof.size() % content::kHashLength != 0 ||
      proof.size() > kMaxProofHashes * content::kHashLength) {
    return Status::bad_argument;
  }
  out = data_head(request, file, first, count, proof);
  if (out.size() + bytes.size() > kMaxFrameLength) {
    out.clear();
    return Status::bad_argument;
  }
  out.insert(out.end(), bytes.begin(), bytes.end());
  return Status::ok;
}

PP_SIZE Status open_data(ByteView bytes, ByteView root, std::uint64_t size, std::uint32_t file, std::uint32_t first,
                 std::uint32_t count, ByteView& data, std::vector<content::Hash>& leaves, ByteView* proof) {
  data = {};
  leaves.clear();
  if (proof != nullptr) *proof = {};
  Frame f;
  if (Status s = decode(bytes, f); s != Status::ok) return s;
  if (f.type != Type::data || f.file != file || f.first != first || f.count != count) return Status::bad_frame;
  if (Status s = content::verify(root, size, first, count, f.body, f.proof, &leaves); s != Status::ok) return s;
  data = f.body;
  if (proof != nullptr) *proof = f.proof;
  return Status::ok;
}

}  // namespace pushpeer::frame
