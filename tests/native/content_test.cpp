// Content addressing (docs/PROTOCOL.md §9): the merkle tree, range proofs, manifests and content frames.
// The tree is checked against a naive recursive definition written here from the document (libsodium's BLAKE2b
// called directly); tests/node/content.test.mjs checks the same against an independent BLAKE2b (@noble/hashes).
#include <sodium.h>

#include <algorithm>
#include <cmath>
#include <string>

#include <gtest/gtest.h>

#include "pushpeer/content/frame.hpp"
#include "pushpeer/content/manifest.hpp"
#include "pushpeer/content/merkle.hpp"
#include "pushpeer/p256.hpp"
#include "vectors.hpp"

namespace pushpeer::content {
namespace {

using test::pattern;
using test::to_hex;

Hash b2(const char* personal, ByteView in) {
  Hash out;
  crypto_generichash_blake2b_salt_personal(out.data(), out.size(), in.data(), in.size(), nullptr, 0, nullptr,
                                           reinterpret_cast<const unsigned char*>(personal));
  return out;
}

// The definition, as naive as possible: split at the largest power of two below the count.
Hash naive_node(ByteView content, std::uint64_t lo, std::uint64_t hi) {
  if (hi - lo == 1) {
    const std::size_t start = static_cast<std::size_t>(lo * kLeafSize);
    const std::size_t end = std::min(content.size(), start + kLeafSize);
    return b2("pushpeer-leaf-v1", content.subspan(start, end - start));
  }
  std::uint64_t k = 1;
  while (k * 2 < hi - lo) k *= 2;
  const Hash l = naive_node(content, lo, lo + k), r = naive_node(content, lo + k, hi);
  Bytes both(l.begin(), l.end());
  both.insert(both.end(), r.begin(), r.end());
  return b2("pushpeer-node-v1", both);
}

Hash naive_root(ByteView content) {
  const std::uint64_t n = content.empty() ? 1 : (content.size() + kLeafSize - 1) / kLeafSize;
  const Hash top = naive_node(content, 0, n);
  Bytes input(8);
  for (int i = 0; i < 8; ++i) input[i] = static_cast<std::uint8_t>(std::uint64_t{content.size()} >> (56 - 8 * i));
  input.insert(input.end(), top.begin(), top.end());
  return b2("pushpeer-root-v1", input);
}

Tree tree_of(ByteView content) {
  TreeHasher h;
  EXPECT_EQ(h.update(content), Status::ok);
  Tree t;
  EXPECT_EQ(h.finish(t), Status::ok);
  return t;
}

ByteView range_bytes(ByteView content, std::uint64_t first, std::uint32_t count) {
  const std::size_t start = static_cast<std::size_t>(first * kLeafSize);
  const std::size_t end = std::min<std::size_t>(content.size(), static_cast<std::size_t>((first + count) * kLeafSize));
  return content.subspan(start, end - start);
}

TEST(Merkle, LeafCountAndLengths) {
  EXPECT_EQ(leaf_count(0), 1u);
  EXPECT_EQ(leaf_count(1), 1u);
  EXPECT_EQ(leaf_count(kLeafSize), 1u);
  EXPECT_EQ(leaf_count(kLeafSize + 1), 2u);
  EXPECT_EQ(leaf_length(0, 0), 0u);
  EXPECT_EQ(leaf_length(kLeafSize + 5, 0), kLeafSize);
  EXPECT_EQ(leaf_length(kLeafSize + 5, 1), 5u);
  EXPECT_EQ(leaf_count(kMaxSize), kMaxLeaves);
}

TEST(Merkle, RootMatchesTheNaiveDefinition) {
  for (std::size_t size : {std::size_t{0}, std::size_t{1}, kLeafSize - 1, kLeafSize, kLeafSize + 1, 2 * kLeafSize,
                           3 * kLeafSize, 5 * kLeafSize + 7, 8 * kLeafSize, 13 * kLeafSize + 1, 100 * kLeafSize - 3}) {
    const Bytes content = pattern(size, static_cast<std::uint32_t>(size) + 1);
    const Tree t = tree_of(content);
    EXPECT_EQ(to_hex(t.root), to_hex(naive_root(content))) << size;
    EXPECT_EQ(t.nodes.size(), 2 * leaf_count(size) - 1) << size;
  }
}

TEST(Merkle, TheRootBindsTheSize) {
  // Same leaves, different size: 16 KiB of content vs the same 16 KiB followed by nothing else is the same
  // content, but a content that is a prefix of another has another root, and so does a zero-padded one.
  const Bytes a = pattern(100, 7);
  Bytes b = a;
  b.push_back(0);
  EXPECT_NE(to_hex(tree_of(a).root), to_hex(tree_of(b).root));
  EXPECT_NE(to_hex(tree_of({}).root), to_hex(tree_of(Bytes{0}).root));
}

TEST(Merkle, StreamedInAnyPiecesGivesTheSameTree) {
  const Bytes content = pattern(7 * kLeafSize + 1234, 3);
  const Tree whole = tree_of(content);
  for (std::size_t piece : {std::size_t{1}, std::size_t{1000}, kLeafSize - 1, kLeafSize, kLeafSize + 1, 3 * kLeafSize}) {
    TreeHasher h;
    for (std::size_t at = 0; at < content.size(); at += piece) {
      ASSERT_EQ(h.update(ByteView(content).subspan(at, std::min(piece, content.size() - at))), Status::ok);
    }
    EXPECT_EQ(h.size(), content.size());
    Tree t;
    ASSERT_EQ(h.finish(t), Status::ok);
    EXPECT_EQ(to_hex(t.root), to_hex(whole.root)) << piece;
    EXPECT_EQ(tree_nodes_bytes(t), tree_nodes_bytes(whole)) << piece;
    EXPECT_EQ(h.size(), 0u);  // empty again: a second finish is the empty content
  }
}

TEST(Merkle, EveryRangeProvesAndVerifies) {
  for (std::size_t n : {1, 2, 3, 5, 8, 13, 20}) {
    const Bytes content = pattern(n * kLeafSize - (n > 1 ? 77 : 0), static_cast<std::uint32_t>(n));
    const Tree t = tree_of(content);
    for (std::uint64_t first = 0; first < n; ++first) {
      for (std::uint32_t count = 1; first + count <= n; ++count) {
        Bytes proof;
        ASSERT_EQ(prove(t, first, count, proof), Status::ok);
        std::size_t hashes = 0;
        ASSERT_EQ(proof_hash_count(content.size(), first, count, hashes), Status::ok);
        EXPECT_EQ(proof.size(), hashes * kHashLength);
        EXPECT_LE(hashes, 2 * static_cast<std::size_t>(std::ceil(std::log2(static_cast<double>(n)))) + 0u);
        std::vector<Hash> leaves;
        ASSERT_EQ(verify(t.root, content.size(), first, count, range_bytes(content, first, count), proof, &leaves),
                  Status::ok)
            << n << " " << first << "+" << count;
        ASSERT_EQ(leaves.size(), count);
        for (std::uint32_t i = 0; i < count; ++i) EXPECT_EQ(leaves[i], t.nodes[2 * (first + i)]);
      }
    }
  }
}

TEST(Merkle, AnyAlteredByteIsAMismatch) {
  const Bytes content = pattern(6 * kLeafSize + 500, 11);
  const Tree t = tree_of(content);
  Bytes proof;
  ASSERT_EQ(prove(t, 2, 3, proof), Status::ok);
  Bytes data(range_bytes(content, 2, 3).begin(), range_bytes(content, 2, 3).end());
  for (std::size_t at : {std::size_t{0}, kLeafSize, data.size() - 1}) {
    data[at] ^= 1;
    std::vector<Hash> leaves;
    EXPECT_EQ(verify(t.root, content.size(), 2, 3, data, proof, &leaves), Status::chunk_mismatch);
    EXPECT_TRUE(leaves.empty());  // nothing of a refused range comes out
    data[at] ^= 1;
  }
  for (std::size_t at = 0; at < proof.size(); at += 13) {
    proof[at] ^= 0x80;
    EXPECT_EQ(verify(t.root, content.size(), 2, 3, data, proof, nullptr), Status::chunk_mismatch);
    proof[at] ^= 0x80;
  }
  EXPECT_EQ(verify(t.root, content.size(), 2, 3, data, proof, nullptr), Status::ok);
  // Another range's claim, another size, another root.
  EXPECT_EQ(verify(t.root, content.size(), 3, 3, data, proof, nullptr), Status::chunk_mismatch);
  EXPECT_NE(verify(t.root, content.size() + 1, 2, 3, data, proof, nullptr), Status::ok);
  Hash other = t.root;
  other[0] ^= 1;
  EXPECT_EQ(verify(other, content.size(), 2, 3, data, proof, nullptr), Status::chunk_mismatch);
}

TEST(Merkle, WrongLengthsAreBadProofs) {
  const Bytes content = pattern(4 * kLeafSize, 5);
  const Tree t = tree_of(content);
  Bytes proof;
  ASSERT_EQ(prove(t, 1, 1, proof), Status::ok);
  const ByteView data = range_bytes(content, 1, 1);
  EXPECT_EQ(verify(t.root, content.size(), 1, 1, data, ByteView(proof).first(proof.size() - 32), nullptr),
            Status::bad_proof);
  Bytes longer = proof;
  longer.resize(proof.size() + 32);
  EXPECT_EQ(verify(t.root, content.size(), 1, 1, data, longer, nullptr), Status::bad_proof);
  EXPECT_EQ(verify(t.root, content.size(), 1, 1, data.first(data.size() - 1), proof, nullptr), Status::bad_proof);
  // Ranges outside the content, or above the per-call bound, are the caller's mistake.
  EXPECT_EQ(verify(t.root, content.size(), 4, 1, {}, {}, nullptr), Status::bad_argument);
  EXPECT_EQ(verify(t.root, content.size(), 0, 0, {}, {}, nullptr), Status::bad_argument);
  EXPECT_EQ(verify(t.root, content.size(), 3, 2, data, proof, nullptr), Status::bad_argument);
  EXPECT_EQ(verify(ByteView(t.root).first(31), content.size(), 1, 1, data, proof, nullptr), Status::bad_argument);
  EXPECT_EQ(prove(t, 0, kMaxRangeLeaves + 1, proof), Status::bad_argument);
}

TEST(Merkle, EmptyAndOneLeafContents) {
  for (std::size_t size : {std::size_t{0}, std::size_t{1}, kLeafSize}) {
    const Bytes content = pattern(size, 9);
    const Tree t = tree_of(content);
    Bytes proof;
    ASSERT_EQ(prove(t, 0, 1, proof), Status::ok);
    EXPECT_TRUE(proof.empty());
    EXPECT_EQ(verify(t.root, size, 0, 1, content, proof, nullptr), Status::ok) << size;
  }
}

TEST(Merkle, ProofOverheadOfEightLeafRangesStaysUnderHalfAPercent) {
  // What the content channel sends by default (docs/PROTOCOL.md §9.2): 8 leaves (128 KiB) a frame, aligned.
  for (std::uint64_t leaves : {std::uint64_t{8}, std::uint64_t{1} << 10, std::uint64_t{1} << 16, kMaxLeaves}) {
    const std::uint64_t size = leaves * kLeafSize;
    for (std::uint64_t first : {std::uint64_t{0}, leaves / 2 / 8 * 8, leaves - 8}) {
      std::size_t hashes = 0;
      ASSERT_EQ(proof_hash_count(size, first, 8, hashes), Status::ok);
      EXPECT_LE(static_cast<double>(hashes * kHashLength) / (8.0 * kLeafSize), 0.005) << leaves << " " << first;
    }
  }
}

TEST(Merkle, StoredTreesAreCheckedWhenLoaded) {
  const Bytes content = pattern(9 * kLeafSize + 3, 2);
  const Tree t = tree_of(content);
  Bytes nodes = tree_nodes_bytes(t);
  Tree loaded;
  ASSERT_EQ(tree_from_nodes(t.size, nodes, t.root, loaded), Status::ok);
  EXPECT_EQ(loaded.root, t.root);
  nodes[5 * kHashLength] ^= 1;  // a parent
  EXPECT_EQ(tree_from_nodes(t.size, nodes, {}, loaded), Status::chunk_mismatch);
  nodes[5 * kHashLength] ^= 1;
  nodes[4 * kHashLength] ^= 1;  // a leaf: the tree is consistent again only with another root
  EXPECT_EQ(tree_from_nodes(t.size, nodes, t.root, loaded), Status::chunk_mismatch);
  EXPECT_EQ(tree_from_nodes(t.size + kLeafSize, tree_nodes_bytes(t), {}, loaded), Status::bad_argument);
  // From leaf hashes alone (what a receiver keeps of verified ranges).
  Bytes leaves;
  for (std::size_t i = 0; i < t.nodes.size(); i += 2) leaves.insert(leaves.end(), t.nodes[i].begin(), t.nodes[i].end());
  Tree rebuilt;
  ASSERT_EQ(tree_from_leaves(t.size, leaves, rebuilt), Status::ok);
  EXPECT_EQ(rebuilt.root, t.root);
}

TEST(ContentVectors, RootsProofsManifestAndFramesOfTheDocument) {
  const test::json doc = test::load_json_file(PUSHPEER_CONTENT_VECTORS);
  ASSERT_TRUE(doc.is_object());
  auto content_of = [](std::size_t size) {
    Bytes c(size);
    for (std::size_t i = 0; i < size; ++i) c[i] = static_cast<std::uint8_t>(i % 251);
    return c;
  };
  int checked = 0;
  for (const test::json& t : doc["trees"]) {
    const std::size_t size = static_cast<std::size_t>(test::integer(t, "size"));
    EXPECT_EQ(to_hex(tree_of(content_of(size)).root), test::str(t, "root_hex")) << size;
    ++checked;
  }
  EXPECT_EQ(checked, 6);
  for (const test::json& p : doc["proofs"]) {
    const Bytes content = content_of(static_cast<std::size_t>(test::integer(p, "size")));
    const auto first = static_cast<std::uint64_t>(test::integer(p, "first"));
    const auto count = static_cast<std::uint32_t>(test::integer(p, "count"));
    Bytes proof;
    ASSERT_EQ(prove(tree_of(content), first, count, proof), Status::ok);
    std::string expected;
    for (const test::json& h : p["hashes_hex"]) expected += h.get<std::string>();
    EXPECT_EQ(to_hex(proof), expected) << first << "+" << count;
  }
  const test::json& m = doc["manifest"];
  manifest::Manifest made;
  const Bytes priv = test::b64u(test::str(m, "identity_private_key"));
  ASSERT_EQ(p256::public_key_from_private(priv, made.sharer), Status::ok);
  made.created = static_cast<std::uint32_t>(test::integer(m, "created"));
  made.title = test::str(m, "title");
  for (const test::json& f : m["files"]) {
    manifest::File file{test::str(f, "name"), static_cast<std::uint64_t>(test::integer(f, "size")), test::str(f, "type"), {}};
    const Bytes root = test::hex(test::str(f, "root_hex"));
    std::copy(root.begin(), root.end(), file.root.begin());
    made.files.push_back(file);
  }
  Bytes bytes;
  ASSERT_EQ(manifest::encode(made, priv, bytes), Status::ok);
  EXPECT_EQ(bytes, test::b64u(test::str(m, "bytes")));
  Hash id;
  ASSERT_EQ(manifest::id(bytes, id), Status::ok);
  EXPECT_EQ(to_hex(id), test::str(m, "id_hex"));
  const test::json& fr = doc["frames"];
  EXPECT_EQ(to_hex(frame::encode_get_manifest(1, id)), test::str(fr["get_manifest"], "hex"));
  EXPECT_EQ(to_hex(frame::encode_get(2, id, 0, 0, 2)), test::str(fr["get"], "hex"));
  EXPECT_EQ(to_hex(frame::encode_error(3, frame::ErrorCode::busy)), test::str(fr["error"], "hex"));
  EXPECT_EQ(to_hex(frame::encode_cancel(4)), test::str(fr["cancel"], "hex"));
  Bytes have;
  ASSERT_EQ(frame::encode_have(5, id, 1, 0, 10, test::hex(test::str(fr["have"], "bits_hex")), have), Status::ok);
  EXPECT_EQ(to_hex(have), test::str(fr["have"], "hex"));
  EXPECT_EQ(to_hex(frame::encode_get_have(6, id, 2)), test::str(fr["get_have"], "hex"));
  const Bytes small = content_of(16385);
  Bytes data;
  ASSERT_EQ(frame::encode_data(7, 0, tree_of(small), 1, 1, ByteView(small).subspan(16384), data), Status::ok);
  EXPECT_EQ(to_hex(data), test::str(fr["data"], "hex"));
}

// --- manifests ------------------------------------------------------------------------------------------------

struct Sharer {
  p256::PrivateKey priv;
  p256::PublicKey pub{};
  Sharer() { EXPECT_EQ(p256::generate_key_pair(priv, pub), Status::ok); }
};

manifest::Manifest sample(const Sharer& s) {
  manifest::Manifest m;
  m.created = 1796000000;
  m.sharer = s.pub;
  m.title = "Holiday 🏖";
  m.files.push_back({"clip.webm", 3 * kLeafSize + 5, "video/webm", tree_of(pattern(3 * kLeafSize + 5)).root});
  m.files.push_back({"notes/read me (1).txt", 0, "text/plain; charset=utf-8", tree_of({}).root});
  return m;
}

TEST(Manifest, RoundTripAndId) {
  Sharer s;
  const manifest::Manifest m = sample(s);
  Bytes bytes;
  ASSERT_EQ(manifest::encode(m, s.priv.view(), bytes), Status::ok);
  EXPECT_EQ(bytes[0], 0xD1);
  manifest::Manifest back;
  ASSERT_EQ(manifest::decode(bytes, back), Status::ok);
  EXPECT_EQ(back.created, m.created);
  EXPECT_EQ(back.sharer, m.sharer);
  EXPECT_EQ(back.title, m.title);
  ASSERT_EQ(back.files.size(), 2u);
  EXPECT_EQ(back.files[1].name, "notes/read me (1).txt");
  EXPECT_EQ(back.files[0].size, m.files[0].size);
  EXPECT_EQ(back.files[0].root, m.files[0].root);
  EXPECT_EQ(back.files[1].type, m.files[1].type);
  Hash id;
  ASSERT_EQ(manifest::id(bytes, id), Status::ok);
  EXPECT_EQ(to_hex(id), to_hex(b2("pushpeer-mfst-v1", ByteView(bytes).first(bytes.size() - 64))));
  EXPECT_EQ(manifest::decode_expecting(bytes, id, back), Status::ok);
  Hash other = id;
  other[31] ^= 1;
  EXPECT_EQ(manifest::decode_expecting(bytes, other, back), Status::bad_manifest);
}

TEST(Manifest, EveryAlteredByteIsRefused) {
  Sharer s;
  Bytes bytes;
  ASSERT_EQ(manifest::encode(sample(s), s.priv.view(), bytes), Status::ok);
  for (std::size_t at = 0; at < bytes.size(); ++at) {
    Bytes altered = bytes;
    altered[at] ^= 0x01;
    manifest::Manifest m;
    const Status got = manifest::decode(altered, m);
    EXPECT_TRUE(got == Status::bad_manifest || got == Status::unsupported_version) << at;
  }
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    manifest::Manifest m;
    EXPECT_NE(manifest::decode(ByteView(bytes).first(n), m), Status::ok) << n;
  }
  Bytes v2 = bytes;
  v2[0] = 0xD2;
  manifest::Manifest m;
  EXPECT_EQ(manifest::decode(v2, m), Status::unsupported_version);
}

TEST(Manifest, ASignatureByAnotherKeyIsRefused) {
  Sharer s, mallory;
  manifest::Manifest m = sample(s);
  Bytes bytes;
  EXPECT_EQ(manifest::encode(m, mallory.priv.view(), bytes), Status::bad_key);  // we never sign for another key
  m.sharer = mallory.pub;
  ASSERT_EQ(manifest::encode(m, mallory.priv.view(), bytes), Status::ok);
  // Put Alice's key in place of Mallory's: the signature no longer holds.
  p256::CompressedKey alice{};
  ASSERT_EQ(p256::compress(s.pub, alice), Status::ok);
  std::copy(alice.begin(), alice.end(), bytes.begin() + 6);
  manifest::Manifest out;
  EXPECT_EQ(manifest::decode(bytes, out), Status::bad_manifest);
}

TEST(Manifest, NamesAreSafeRelativePathsOfDisplayableText) {
  for (std::string ok : std::initializer_list<std::string>{"a", "clip.webm", "dir/sub/file.txt", "naïve café 😀.txt", "a b", "...", "x..y", ".hidden",
                         "C:drive?*<>|.txt"}) {
    EXPECT_TRUE(manifest::valid_name(ok)) << ok;
  }
  for (std::string bad : std::initializer_list<std::string>{"", "/abs", "trail/", "a//b", "../up", "a/../b", ".", "a/./b", "back\\slash", "tab\tx",
                          "nl\nx", "rtl\u202Eexe.txt", std::string(256, 'x'), std::string("nul\0x", 5),
                          std::string("\xC0\xAF")}) {
    EXPECT_FALSE(manifest::valid_name(bad)) << bad;
  }
  EXPECT_TRUE(manifest::valid_type(""));
  EXPECT_TRUE(manifest::valid_type("video/mp4; codecs=\"avc1.42E01E\""));
  for (std::string bad : std::initializer_list<std::string>{"video", "/mp4", "video/", "vi deo/mp4", "text/plain\r\nX-Evil: 1", "text/plain;\x7F",
                          std::string(128, 'a')}) {
    EXPECT_FALSE(manifest::valid_type(bad)) << bad;
  }
  Sharer s;
  manifest::Manifest m = sample(s);
  Bytes bytes;
  m.files[0].name = "../../etc/passwd";
  EXPECT_EQ(manifest::encode(m, s.priv.view(), bytes), Status::bad_text);
  m.files[0].name = "ok";
  m.files[0].type = "text/html\nSet-Cookie: x";
  EXPECT_EQ(manifest::encode(m, s.priv.view(), bytes), Status::bad_argument);
}

TEST(Manifest, PathsDoNotClash) {
  Sharer s;
  manifest::Manifest m = sample(s);
  Bytes bytes;
  for (auto [a, b] : std::initializer_list<std::pair<const char*, const char*>>{{"a", "a"}, {"a", "a/b"}, {"d/x", "d/x/y"}}) {
    m.files[0].name = a;
    m.files[1].name = b;
    EXPECT_EQ(manifest::encode(m, s.priv.view(), bytes), Status::bad_text) << a << " " << b;
  }
  for (auto [a, b] : std::initializer_list<std::pair<const char*, const char*>>{{"a", "ab"}, {"a/b", "ab"}, {"A", "a"}, {"d/x", "d/y"}}) {
    m.files[0].name = a;
    m.files[1].name = b;
    EXPECT_EQ(manifest::encode(m, s.priv.view(), bytes), Status::ok) << a << " " << b;
  }
  // A sharer whose own code does not check: "a" and "b" altered to "a" and "a", signed again, is refused on decode.
  m.files[0].name = "a";
  m.files[1].name = "b";
  ASSERT_EQ(manifest::encode(m, s.priv.view(), bytes), Status::ok);
  Bytes body(bytes.begin(), bytes.end() - 64);
  // The second file's name: length 1, "b", then its size (0, as u64 BE).
  const std::uint8_t second[] = {1, 'b', 0, 0, 0, 0, 0, 0, 0, 0};
  const auto b = std::search(body.begin(), body.end(), std::begin(second), std::end(second));
  ASSERT_NE(b, body.end());
  b[1] = 'a';
  std::string_view context = "pushpeer/manifest/v1";
  Bytes input(context.begin(), context.end());
  input.insert(input.end(), body.begin(), body.end());
  p256::Signature sig{};
  ASSERT_EQ(p256::sign_low_s(s.priv.view(), input, sig), Status::ok);
  body.insert(body.end(), sig.begin(), sig.end());
  manifest::Manifest out;
  EXPECT_EQ(manifest::decode(body, out), Status::bad_manifest);
  std::copy(bytes.end() - 64, bytes.end(), body.end() - 64);  // the original signature: refused all the same
  EXPECT_EQ(manifest::decode(body, out), Status::bad_manifest);
}

TEST(Manifest, Limits) {
  Sharer s;
  manifest::Manifest m = sample(s);
  Bytes bytes;
  m.files.clear();
  EXPECT_EQ(manifest::encode(m, s.priv.view(), bytes), Status::bad_argument);
  m.files.assign(manifest::kMaxFiles + 1, {"f", 1, "", {}});
  EXPECT_EQ(manifest::encode(m, s.priv.view(), bytes), Status::bad_argument);
  m.files.assign(manifest::kMaxFiles, {"f", kMaxSize, "", {}});
  for (std::size_t i = 0; i < m.files.size(); ++i) m.files[i].name = "f" + std::to_string(i);
  ASSERT_EQ(manifest::encode(m, s.priv.view(), bytes), Status::ok);
  manifest::Manifest back;
  EXPECT_EQ(manifest::decode(bytes, back), Status::ok);
  m.files.assign(1, {"f", kMaxSize + 1, "", {}});
  EXPECT_EQ(manifest::encode(m, s.priv.view(), bytes), Status::bad_argument);
  m.files.assign(manifest::kMaxFiles, {std::string(250, 'n'), 1, std::string(120, 'a') + "/b", {}});
  for (std::size_t i = 0; i < m.files.size(); ++i) m.files[i].name.replace(0, 4, std::to_string(1000 + i));
  EXPECT_EQ(manifest::encode(m, s.priv.view(), bytes), Status::bad_argument);  // beyond 64 KiB in all
}

// --- content frames -------------------------------------------------------------------------------------------

TEST(Frame, RoundTrips) {
  Hash share;
  for (std::size_t i = 0; i < share.size(); ++i) share[i] = static_cast<std::uint8_t>(i);
  frame::Frame f;
  ASSERT_EQ(frame::decode(frame::encode_get_manifest(7, share), f), Status::ok);
  EXPECT_EQ(f.type, frame::Type::get_manifest);
  EXPECT_EQ(f.request, 7u);
  EXPECT_EQ(f.share, share);
  ASSERT_EQ(frame::decode(frame::encode_get(300, share, 2, 1000, 8), f), Status::ok);
  EXPECT_EQ(f.type, frame::Type::get);
  EXPECT_EQ(f.request, 300u);
  EXPECT_EQ(f.file, 2u);
  EXPECT_EQ(f.first, 1000u);
  EXPECT_EQ(f.count, 8u);
  const Bytes m = pattern(100);
  const Bytes framed = frame::encode_manifest(1, m);  // the frame views into these bytes
  ASSERT_EQ(frame::decode(framed, f), Status::ok);
  EXPECT_EQ(Bytes(f.body.begin(), f.body.end()), m);
  ASSERT_EQ(frame::decode(frame::encode_error(9, frame::ErrorCode::busy), f), Status::ok);
  EXPECT_EQ(f.code, frame::ErrorCode::busy);
  ASSERT_EQ(frame::decode(frame::encode_cancel(9), f), Status::ok);
  EXPECT_EQ(f.type, frame::Type::cancel);
  ASSERT_EQ(frame::decode(frame::encode_get_have(11, share, 70000), f), Status::ok);
  EXPECT_EQ(f.type, frame::Type::get_have);
  EXPECT_EQ(f.file, 70000u);
  EXPECT_EQ(f.request, 11u);
  EXPECT_EQ(f.share, share);
  // A whole file's bitfield at the limit (2^19 pieces, 64 KiB), and one piece at the last place.
  const Bytes all(frame::kMaxPieces / 8, 0xFF);
  Bytes have;
  ASSERT_EQ(frame::encode_have(12, share, 3, 0, frame::kMaxPieces, all, have), Status::ok);
  ASSERT_EQ(frame::decode(have, f), Status::ok);
  EXPECT_EQ(f.type, frame::Type::have);
  EXPECT_EQ(f.file, 3u);
  EXPECT_EQ(f.count, frame::kMaxPieces);
  EXPECT_EQ(Bytes(f.body.begin(), f.body.end()), all);
  ASSERT_EQ(frame::encode_have(13, share, 0, frame::kMaxPieces - 1, 1, Bytes{0x80}, have), Status::ok);
  ASSERT_EQ(frame::decode(have, f), Status::ok);
  EXPECT_EQ(f.first, frame::kMaxPieces - 1);
  EXPECT_EQ(f.count, 1u);
}

TEST(Frame, HaveFramesAreCanonical) {
  Hash share{};
  Bytes out;
  // The encoder refuses what the decoder would: a count of 0, pieces past the limit, a bitfield of another length
  // or with a spare bit set.
  EXPECT_EQ(frame::encode_have(1, share, 0, 0, 0, {}, out), Status::bad_argument);
  EXPECT_EQ(frame::encode_have(1, share, 0, frame::kMaxPieces, 1, Bytes{0x80}, out), Status::bad_argument);
  EXPECT_EQ(frame::encode_have(1, share, 0, 1, frame::kMaxPieces, Bytes(frame::kMaxPieces / 8), out),
            Status::bad_argument);
  EXPECT_EQ(frame::encode_have(1, share, 0, 0, 9, Bytes{0xFF}, out), Status::bad_argument);
  EXPECT_EQ(frame::encode_have(1, share, 0, 0, 9, Bytes{0xFF, 0x80, 0}, out), Status::bad_argument);
  EXPECT_EQ(frame::encode_have(1, share, 0, 0, 9, Bytes{0xFF, 0x40}, out), Status::bad_argument);
  EXPECT_TRUE(out.empty());
  ASSERT_EQ(frame::encode_have(1, share, 0, 0, 9, Bytes{0xFF, 0x80}, out), Status::ok);
  frame::Frame f;
  ASSERT_EQ(frame::decode(out, f), Status::ok);
  // The same bytes with a spare bit set, a byte more or less, or a larger count, are refused by the decoder.
  Bytes spare = out;
  spare.back() |= 0x01;
  EXPECT_EQ(frame::decode(spare, f), Status::bad_frame);
  Bytes longer = out;
  longer.push_back(0);
  EXPECT_EQ(frame::decode(longer, f), Status::bad_frame);
  EXPECT_EQ(frame::decode(ByteView(out).first(out.size() - 1), f), Status::bad_frame);
  Bytes count = out;
  count[count.size() - 3] = 17;  // the count varint sits before the two bits bytes
  EXPECT_EQ(frame::decode(count, f), Status::bad_frame);
  for (std::size_t n = 0; n < out.size(); ++n) EXPECT_EQ(frame::decode(ByteView(out).first(n), f), Status::bad_frame) << n;
  const Bytes get_have = frame::encode_get_have(1, share, 0);
  for (std::size_t n = 0; n < get_have.size(); ++n) {
    EXPECT_EQ(frame::decode(ByteView(get_have).first(n), f), Status::bad_frame) << n;
  }
  Bytes get_have_longer = get_have;
  get_have_longer.push_back(0);
  EXPECT_EQ(frame::decode(get_have_longer, f), Status::bad_frame);
}

TEST(Frame, DataIsCheckedAgainstWhatWasAsked) {
  const Bytes content = pattern(20 * kLeafSize + 99, 4);
  const Tree t = tree_of(content);
  Bytes out;
  ASSERT_EQ(frame::encode_data(5, 1, t, 8, 8, range_bytes(content, 8, 8), out), Status::ok);
  ByteView data;
  std::vector<Hash> leaves;
  ASSERT_EQ(frame::open_data(out, t.root, t.size, 1, 8, 8, data, leaves), Status::ok);
  EXPECT_EQ(Bytes(data.begin(), data.end()), Bytes(range_bytes(content, 8, 8).begin(), range_bytes(content, 8, 8).end()));
  EXPECT_EQ(leaves.size(), 8u);
  EXPECT_EQ(frame::open_data(out, t.root, t.size, 0, 8, 8, data, leaves), Status::bad_frame);  // another file
  EXPECT_EQ(frame::open_data(out, t.root, t.size, 1, 0, 8, data, leaves), Status::bad_frame);  // another range
  EXPECT_TRUE(data.empty());
  Bytes bad = out;
  bad.back() ^= 1;
  EXPECT_EQ(frame::open_data(bad, t.root, t.size, 1, 8, 8, data, leaves), Status::chunk_mismatch);
  EXPECT_TRUE(data.empty());
  EXPECT_TRUE(leaves.empty());
  EXPECT_EQ(frame::open_data(ByteView(out).first(out.size() - 1), t.root, t.size, 1, 8, 8, data, leaves),
            Status::bad_proof);
  // The sharer refuses to frame bytes that are not the range.
  EXPECT_EQ(frame::encode_data(5, 1, t, 8, 8, range_bytes(content, 8, 7), out), Status::bad_argument);
}

TEST(Frame, AKeptProofFramesTheSameBytesAgain) {
  // A downloader serves a piece it verified with the proof that came with it: the same frame as the sharer's.
  const Bytes content = pattern(20 * kLeafSize + 99, 5);
  const Tree t = tree_of(content);
  Bytes sent;
  ASSERT_EQ(frame::encode_data(5, 1, t, 16, 5, range_bytes(content, 16, 5), sent), Status::ok);
  ByteView data, proof;
  std::vector<Hash> leaves;
  ASSERT_EQ(frame::open_data(sent, t.root, t.size, 1, 16, 5, data, leaves, &proof), Status::ok);
  EXPECT_FALSE(proof.empty());
  Bytes again;
  ASSERT_EQ(frame::encode_data_with_proof(5, 1, 16, 5, proof, data, again), Status::ok);
  EXPECT_EQ(again, sent);
  // Not whole hashes, too many, or a count outside 1..64: refused; a failed open gives no proof.
  EXPECT_EQ(frame::encode_data_with_proof(5, 1, 16, 5, ByteView(proof).first(31), data, again), Status::bad_argument);
  EXPECT_EQ(frame::encode_data_with_proof(5, 1, 16, 5, Bytes(65 * kHashLength), data, again), Status::bad_argument);
  EXPECT_EQ(frame::encode_data_with_proof(5, 1, 16, 0, proof, data, again), Status::bad_argument);
  EXPECT_TRUE(again.empty());
  Bytes bad = sent;
  bad.back() ^= 1;
  EXPECT_EQ(frame::open_data(bad, t.root, t.size, 1, 16, 5, data, leaves, &proof), Status::chunk_mismatch);
  EXPECT_TRUE(proof.empty());
}

TEST(Frame, MalformedFramesAreRefused) {
  Hash share{};
  const Bytes get = frame::encode_get(1, share, 0, 0, 1);
  frame::Frame f;
  for (std::size_t n = 0; n < get.size(); ++n) EXPECT_EQ(frame::decode(ByteView(get).first(n), f), Status::bad_frame) << n;
  Bytes longer = get;
  longer.push_back(0);
  EXPECT_EQ(frame::decode(longer, f), Status::bad_frame);
  EXPECT_EQ(frame::decode(frame::encode_get(1, share, 0, 0, 0), f), Status::bad_frame);
  EXPECT_EQ(frame::decode(frame::encode_get(1, share, 0, 0, 65), f), Status::bad_frame);
  Bytes unknown = frame::encode_cancel(1);
  unknown[1] = 9;  // the first type after get-have
  EXPECT_EQ(frame::decode(unknown, f), Status::bad_frame);
  Bytes v2 = frame::encode_cancel(1);
  v2[0] = 2;
  EXPECT_EQ(frame::decode(v2, f), Status::unsupported_version);
  Bytes code = frame::encode_error(1, frame::ErrorCode::not_found);
  code.back() = 0;
  EXPECT_EQ(frame::decode(code, f), Status::bad_frame);
  EXPECT_EQ(frame::decode(Bytes(frame::kMaxFrameLength + 1, 1), f), Status::bad_frame);
}

}  // namespace
}  // namespace pushpeer::content
