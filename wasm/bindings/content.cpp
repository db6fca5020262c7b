// Embind: content addressing (docs/PROTOCOL.md §9): streamed merkle hashing, trees held for serving, manifests and
// content-channel frames. Hashers and trees live in this instance behind integer handles, so a tree is not copied
// in for every range it proves; js/core.js releases them and knows that a reloaded instance has none.

#include <memory>
#include "pushpeer/for_size.hpp"

#include "common.hpp"
#include "pushpeer/card.hpp"
#include "pushpeer/content/frame.hpp"
#include "pushpeer/content/manifest.hpp"
#include "pushpeer/content/merkle.hpp"
#include "pushpeer/content/site.hpp"

using namespace pushpeer;
using namespace pushpeer::js;
PUSHPEER_FOR_SIZE_BEGIN  // glue: compiled for size, the core it calls keeps its own (pushpeer/for_size.hpp)

// Glue that runs once per call on data the core then works through: optimised for size (the module's gzip size is
// budgeted, bench/RESULTS.md), and not inlined into each other.
#if defined(__clang__)
#define PP_SIZE [[clang::minsize, gnu::noinline]]
#else
#define PP_SIZE
#endif

namespace {

constexpr std::size_t kMaxHandles = 4096;  // per kind; js/core.js releases what it opens

// Slots in a vector (no std::map: its tree code is kilobytes of the module); a handle is its slot + 1.
template <typename T>
struct Handles {
  std::vector<std::unique_ptr<T>> items;
  int add(std::unique_ptr<T> item) {
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (!items[i]) {
        items[i] = std::move(item);
        return static_cast<int>(i + 1);
      }
    }
    if (items.size() >= kMaxHandles) return 0;
    items.push_back(std::move(item));
    return static_cast<int>(items.size());
  }
  T* get(double id) {
    if (!(id >= 1 && id <= static_cast<double>(items.size())) || id != static_cast<double>(static_cast<std::size_t>(id))) {
      return nullptr;
    }
    return items[static_cast<std::size_t>(id) - 1].get();
  }
  void release(double id) {
    if (get(id) != nullptr) items[static_cast<std::size_t>(id) - 1].reset();
  }
};

Handles<content::TreeHasher>& hashers() {
  static Handles<content::TreeHasher> h;
  return h;
}
Handles<content::Tree>& trees() {
  static Handles<content::Tree> t;
  return t;
}

PP_SIZE bool size_ok(double size) { return size >= 0 && size <= static_cast<double>(content::kMaxSize) && size == static_cast<double>(static_cast<std::uint64_t>(size)); }
bool u32_ok(double v) { return v >= 0 && v <= UINT32_MAX && v == static_cast<double>(static_cast<std::uint32_t>(v)); }

PP_SIZE val hasher_new() {
  const int id = hashers().add(std::make_unique<content::TreeHasher>());
  return id == 0 ? fail(Status::bad_argument) : val(id);
}

PP_SIZE val hasher_update(double handle, std::uintptr_t p, std::size_t n) {
  content::TreeHasher* h = hashers().get(handle);
  if (h == nullptr) return fail(Status::bad_argument);
  const Status s = h->update(in(p, n));
  return s == Status::ok ? val(static_cast<double>(h->size())) : fail(s);
}

PP_SIZE val tree_to_js(const content::Tree& t) {
  val o = val::object();
  put(o, "root", copy_out(t.root));
  put(o, "size", static_cast<double>(t.size));
  put(o, "nodes", copy_out(content::tree_nodes_bytes(t)));
  return o;
}

// Finishing releases the hasher: { root, size, nodes }.
PP_SIZE val hasher_finish(double handle) {
  content::TreeHasher* h = hashers().get(handle);
  if (h == nullptr) return fail(Status::bad_argument);
  content::Tree t;
  const Status s = h->finish(t);
  hashers().release(handle);
  return s == Status::ok ? tree_to_js(t) : fail(s);
}

PP_SIZE void hasher_release(double handle) { hashers().release(handle); }

// A stored tree, checked (every parent recomputed) against its root, held for proving: its handle.
PP_SIZE val tree_load(double size, std::uintptr_t nodes, std::size_t nodes_len, std::uintptr_t root, std::size_t root_len) {
  if (!size_ok(size) || root_len != content::kHashLength) return fail(Status::bad_argument);
  auto t = std::make_unique<content::Tree>();
  if (Status s = content::tree_from_nodes(static_cast<std::uint64_t>(size), in(nodes, nodes_len), in(root, root_len), *t);
      s != Status::ok) {
    return fail(s);
  }
  const int id = trees().add(std::move(t));
  return id == 0 ? fail(Status::bad_argument) : val(id);
}

PP_SIZE void tree_release(double handle) { trees().release(handle); }

// The nodes of the tree over verified leaf hashes (what a receiver kept), which must lead to `root`.
PP_SIZE val tree_from_leaves(double size, std::uintptr_t leaves, std::size_t leaves_len, std::uintptr_t root,
                     std::size_t root_len) {
  if (!size_ok(size) || root_len != content::kHashLength) return fail(Status::bad_argument);
  content::Tree t;
  if (Status s = content::tree_from_leaves(static_cast<std::uint64_t>(size), in(leaves, leaves_len), t); s != Status::ok) {
    return fail(s);
  }
  if (!equal_ct(t.root, in(root, root_len))) return fail(Status::chunk_mismatch);
  return tree_to_js(t);
}

PP_SIZE val encode_data(double handle, double request, double file, double first, double count, std::uintptr_t p,
                std::size_t n) {
  content::Tree* t = trees().get(handle);
  if (t == nullptr || !u32_ok(request) || !u32_ok(file) || !u32_ok(first) || !u32_ok(count)) {
    return fail(Status::bad_argument);
  }
  Bytes out;
  const Status s = frame::encode_data(static_cast<std::uint32_t>(request), static_cast<std::uint32_t>(file), *t,
                                      static_cast<std::uint32_t>(first), static_cast<std::uint32_t>(count), in(p, n), out);
  return bytes_or_fail(s, out);
}

// The bytes of that frame before its data (frame::encode_data_head): the frame is they followed by the content.
PP_SIZE val encode_data_head(double handle, double request, double file, double first, double count, double length) {
  content::Tree* t = trees().get(handle);
  if (t == nullptr || !u32_ok(request) || !u32_ok(file) || !u32_ok(first) || !u32_ok(count) || !size_ok(length)) {
    return fail(Status::bad_argument);
  }
  Bytes out;
  const Status s = frame::encode_data_head(static_cast<std::uint32_t>(request), static_cast<std::uint32_t>(file), *t,
                                           static_cast<std::uint32_t>(first), static_cast<std::uint32_t>(count),
                                           static_cast<std::uint64_t>(length), out);
  return bytes_or_fail(s, out);
}

// A data frame from a kept proof (frame::encode_data_with_proof).
PP_SIZE val encode_data_with_proof(double request, double file, double first, double count, std::uintptr_t proof,
                                   std::size_t proof_len, std::uintptr_t p, std::size_t n) {
  if (!u32_ok(request) || !u32_ok(file) || !u32_ok(first) || !u32_ok(count)) return fail(Status::bad_argument);
  Bytes out;
  const Status s = frame::encode_data_with_proof(static_cast<std::uint32_t>(request), static_cast<std::uint32_t>(file),
                                                 static_cast<std::uint32_t>(first), static_cast<std::uint32_t>(count),
                                                 in(proof, proof_len), in(p, n), out);
  return bytes_or_fail(s, out);
}

// { dataOffset, dataLength, leaves, proof }: where the verified bytes are in the frame (the caller has the frame: no
// copy of them), their leaf hashes (count x 32) and the proof's hashes (copies).
PP_SIZE val open_data(std::uintptr_t p, std::size_t n, std::uintptr_t root, std::size_t root_len, double size, double file,
              double first, double count) {
  if (!size_ok(size) || !u32_ok(file) || !u32_ok(first) || !u32_ok(count)) return fail(Status::bad_argument);
  ByteView data;
  ByteView proof;
  std::vector<content::Hash> leaves;
  const Status s = frame::open_data(in(p, n), in(root, root_len), static_cast<std::uint64_t>(size),
                                    static_cast<std::uint32_t>(file), static_cast<std::uint32_t>(first),
                                    static_cast<std::uint32_t>(count), data, leaves, &proof);
  if (s != Status::ok) return fail(s);
  Bytes flat;
  flat.reserve(leaves.size() * content::kHashLength);
  for (const content::Hash& h : leaves) flat.insert(flat.end(), h.begin(), h.end());
  val o = val::object();
  put(o, "dataOffset", static_cast<double>(data.data() - reinterpret_cast<const std::uint8_t*>(p)));
  put(o, "dataLength", static_cast<double>(data.size()));
  put(o, "leaves", copy_out(flat));
  put(o, "proof", copy_out(proof));
  return o;
}

// The frame's type (frame::Type's number) and fields; a manifest frame's bytes are copied out, a data frame's are
// not (open_data checks and copies them).
PP_SIZE val decode_frame(std::uintptr_t p, std::size_t n) {
  frame::Frame f;
  if (Status s = frame::decode(in(p, n), f); s != Status::ok) return fail(s);
  val o = val::object();
  put(o, "type", static_cast<int>(f.type));
  put(o, "request", static_cast<double>(f.request));
  if (f.type == frame::Type::get_manifest || f.type == frame::Type::get || f.type == frame::Type::have ||
      f.type == frame::Type::get_have) {
    put(o, "share", copy_out(f.share));
  }
  if (f.type == frame::Type::get_have) put(o, "file", static_cast<double>(f.file));
  if (f.type == frame::Type::get || f.type == frame::Type::data || f.type == frame::Type::have) {
    put(o, "file", static_cast<double>(f.file));
    put(o, "first", static_cast<double>(f.first));
    put(o, "count", static_cast<double>(f.count));
  }
  if (f.type == frame::Type::manifest) put(o, "manifest", copy_out(f.body));
  if (f.type == frame::Type::have) put(o, "bits", copy_out(f.body));
  if (f.type == frame::Type::error) put(o, "code", static_cast<int>(f.code));
  return o;
}

// Every frame but data (encode_data), manifest (encode_manifest_frame) and have (encode_have_frame), by type
// number: get-manifest, get and get-have use `share` (32 bytes), get uses file/first/count, get-have file, error
// uses `code`.
PP_SIZE val encode_frame(double type, double request, std::uintptr_t share, std::size_t share_len, double file, double first,
                 double count, double code) {
  if (!u32_ok(request)) return fail(Status::bad_argument);
  const auto r = static_cast<std::uint32_t>(request);
  content::Hash h{};
  const bool has_share = copy_exact(in(share, share_len), h);
  if (type == static_cast<int>(frame::Type::get_manifest) && has_share) return copy_out(frame::encode_get_manifest(r, h));
  if (type == static_cast<int>(frame::Type::get) && has_share && u32_ok(file) && u32_ok(first) && count >= 1 &&
      count <= content::kMaxRangeLeaves) {
    return copy_out(frame::encode_get(r, h, static_cast<std::uint32_t>(file), static_cast<std::uint32_t>(first),
                                      static_cast<std::uint32_t>(count)));
  }
  if (type == static_cast<int>(frame::Type::error) && code >= 1 && code <= 4 && code == static_cast<int>(code)) {
    return copy_out(frame::encode_error(r, static_cast<frame::ErrorCode>(static_cast<int>(code))));
  }
  if (type == static_cast<int>(frame::Type::cancel)) return copy_out(frame::encode_cancel(r));
  if (type == static_cast<int>(frame::Type::get_have) && has_share && u32_ok(file)) {
    return copy_out(frame::encode_get_have(r, h, static_cast<std::uint32_t>(file)));
  }
  return fail(Status::bad_argument);
}

PP_SIZE val encode_have_frame(double request, std::uintptr_t share, std::size_t share_len, double file, double first,
                              double count, std::uintptr_t bits, std::size_t bits_len) {
  content::Hash h{};
  if (!u32_ok(request) || !copy_exact(in(share, share_len), h) || !u32_ok(file) || !u32_ok(first) || !u32_ok(count)) {
    return fail(Status::bad_argument);
  }
  Bytes out;
  const Status s = frame::encode_have(static_cast<std::uint32_t>(request), h, static_cast<std::uint32_t>(file),
                                      static_cast<std::uint32_t>(first), static_cast<std::uint32_t>(count),
                                      in(bits, bits_len), out);
  if (s != Status::ok) return fail(s);
  return copy_out(out);
}

PP_SIZE val encode_manifest_frame(double request, std::uintptr_t p, std::size_t n) {
  if (!u32_ok(request) || n == 0 || n > manifest::kMaxLength) return fail(Status::bad_argument);
  return copy_out(frame::encode_manifest(static_cast<std::uint32_t>(request), in(p, n)));
}

// files: [{ name, size, type }], roots: files.length x 32 bytes. `version` 0: a share manifest (§9.3); else a site
// manifest (§10.1) of that version around it. (One entry point for both: each Embind function costs module size.)
PP_SIZE val create_manifest(std::uintptr_t priv, std::size_t priv_len, double created, std::string title, val files,
                    std::uintptr_t roots, std::size_t roots_len, double version) {
  if (!u32_ok(created) || !u32_ok(version)) return fail(Status::bad_argument);
  manifest::Manifest m;
  m.created = static_cast<std::uint32_t>(created);
  m.title = std::move(title);
  if (Status s = p256::public_key_from_private(in(priv, priv_len), m.sharer); s != Status::ok) return fail(s);
  const std::size_t count = files["length"].as<std::size_t>();
  if (count == 0 || count > manifest::kMaxFiles || roots_len != count * content::kHashLength) return fail(Status::bad_argument);
  for (std::size_t i = 0; i < count; ++i) {
    val f = files[i];
    const double size = f["size"].as<double>();
    if (!size_ok(size)) return fail(Status::bad_argument);
    manifest::File file;
    file.name = f["name"].as<std::string>();
    file.type = f["type"].as<std::string>();
    file.size = static_cast<std::uint64_t>(size);
    std::copy_n(reinterpret_cast<const std::uint8_t*>(roots) + i * content::kHashLength, content::kHashLength, file.root.begin());
    m.files.push_back(std::move(file));
  }
  Bytes out;
  Status s = manifest::encode(m, in(priv, priv_len), out);
  if (s == Status::ok && version != 0) {
    Bytes files_bytes = std::move(out);
    s = site::encode(static_cast<std::uint32_t>(version), m.created, in(priv, priv_len), files_bytes, out);
  }
  return bytes_or_fail(s, out);
}

// { id, created, sharer, sharerKeyId, title, files: [{ name, size, type, root }] } of a manifest decoded.
PP_SIZE val manifest_object(const manifest::Manifest& m, const content::Hash& id) {
  val o = val::object();
  put(o, "id", copy_out(id));
  put(o, "created", static_cast<double>(m.created));
  put(o, "sharer", copy_out(m.sharer));
  put(o, "sharerKeyId", copy_out(card::key_id(m.sharer)));
  put(o, "title", m.title);
  val list = val::array();
  for (std::size_t i = 0; i < m.files.size(); ++i) {
    val f = val::object();
    put(f, "name", m.files[i].name);
    put(f, "size", static_cast<double>(m.files[i].size));
    put(f, "type", m.files[i].type);
    put(f, "root", copy_out(m.files[i].root));
    list.set(static_cast<int>(i), f);
  }
  put(o, "files", list);
  return o;
}

// manifest_object(); `expected` (32 bytes) or empty. `site`: the bytes are a site manifest (§10.1), and the object
// also has `site`: { version, created, publisher, publisherKeyId, at (where its share manifest starts) }.
PP_SIZE val open_manifest(std::uintptr_t p, std::size_t n, std::uintptr_t expected, std::size_t expected_len, bool site) {
  manifest::Manifest m;
  content::Hash id;
  if (site) {
    site::Record record;
    std::size_t at = 0;
    if (Status s = site::decode(in(p, n), record, m, at); s != Status::ok) return fail(s);
    val o = manifest_object(m, record.share);
    val v = val::object();
    put(v, "version", static_cast<double>(record.version));
    put(v, "created", static_cast<double>(record.created));
    put(v, "publisher", copy_out(record.publisher));
    put(v, "publisherKeyId", copy_out(card::key_id(record.publisher)));
    put(v, "at", static_cast<double>(at));
    put(o, "site", v);
    return o;
  }
  const Status s = expected_len == 0 ? manifest::decode(in(p, n), m)
                                     : manifest::decode_expecting(in(p, n), in(expected, expected_len), m);
  if (s != Status::ok) return fail(s);
  manifest::id(in(p, n), id);
  return manifest_object(m, id);
}

PP_SIZE val manifest_id(std::uintptr_t p, std::size_t n) {
  content::Hash id;
  const Status s = manifest::id(in(p, n), id);
  return bytes_or_fail(s, id);
}

}  // namespace

EMSCRIPTEN_BINDINGS(pushpeer_content) {
  using emscripten::function;
  function("contentHasherNew", &hasher_new);
  function("contentHasherUpdate", &hasher_update);
  function("contentHasherFinish", &hasher_finish);
  function("contentHasherRelease", &hasher_release);
  function("contentTreeLoad", &tree_load);
  function("contentTreeRelease", &tree_release);
  function("contentTreeFromLeaves", &tree_from_leaves);
  function("contentEncodeData", &encode_data);
  function("contentEncodeDataHead", &encode_data_head);
  function("contentOpenData", &open_data);
  function("contentEncodeDataWithProof", &encode_data_with_proof);
  function("contentDecodeFrame", &decode_frame);
  function("contentEncodeFrame", &encode_frame);
  function("contentEncodeManifest", &encode_manifest_frame);
  function("contentEncodeHave", &encode_have_frame);
  function("createManifest", &create_manifest);
  function("openManifest", &open_manifest);
  function("manifestId", &manifest_id);
}

PUSHPEER_FOR_SIZE_END
