// Signed site versions (docs/PROTOCOL.md §10): the site record around a share manifest, its vector, and what a
// forger could try (another key's manifest, a record for another manifest, altered bytes, a share manifest alone).
#include <string>

#include <gtest/gtest.h>

#include "pushpeer/content/manifest.hpp"
#include "pushpeer/content/site.hpp"
#include "pushpeer/p256.hpp"
#include "vectors.hpp"

namespace pushpeer {
namespace {

using test::to_hex;

struct Publisher {
  p256::PrivateKey priv;
  p256::PublicKey pub{};
  Publisher() { EXPECT_EQ(p256::generate_key_pair(priv, pub), Status::ok); }
};

Bytes files_of(const Publisher& p, std::string name = "app.js") {
  manifest::Manifest m;
  m.created = 1800000000;
  m.sharer = p.pub;
  m.title = "site";
  content::Hash root{};
  root.fill(7);
  m.files.push_back({std::move(name), 1234, "text/javascript", root});
  m.files.push_back({"media/clip.webm", 99999, "video/webm", root});
  Bytes bytes;
  EXPECT_EQ(manifest::encode(m, p.priv.view(), bytes), Status::ok);
  return bytes;
}

TEST(Site, RoundTrip) {
  Publisher p;
  const Bytes files = files_of(p);
  Bytes bytes;
  ASSERT_EQ(site::encode(7, 1800000001, p.priv.view(), files, bytes), Status::ok);
  ASSERT_EQ(bytes.size(), site::kRecordLength + files.size());
  EXPECT_EQ(bytes[0], 0xE1);
  EXPECT_EQ(Bytes(bytes.begin() + site::kRecordLength, bytes.end()), files);
  site::Record record;
  manifest::Manifest m;
  std::size_t at = 0;
  ASSERT_EQ(site::decode(bytes, record, m, at), Status::ok);
  EXPECT_EQ(at, site::kRecordLength);
  EXPECT_EQ(record.version, 7u);
  EXPECT_EQ(record.created, 1800000001u);
  EXPECT_EQ(record.publisher, p.pub);
  content::Hash id;
  ASSERT_EQ(manifest::id(files, id), Status::ok);
  EXPECT_EQ(record.share, id);
  ASSERT_EQ(m.files.size(), 2u);
  EXPECT_EQ(m.files[1].name, "media/clip.webm");
}

TEST(Site, WhatEncodeRefuses) {
  Publisher p, other;
  Bytes bytes;
  EXPECT_EQ(site::encode(0, 1, p.priv.view(), files_of(p), bytes), Status::bad_argument);  // version 0
  EXPECT_EQ(site::encode(1, 1, p.priv.view(), files_of(other), bytes), Status::bad_argument);  // another's files
  Bytes broken = files_of(p);
  broken[5] ^= 1;
  EXPECT_EQ(site::encode(1, 1, p.priv.view(), broken, bytes), Status::bad_argument);
  EXPECT_TRUE(bytes.empty());
}

TEST(Site, EveryAlteredOrMissingByteIsRefused) {
  Publisher p;
  Bytes bytes;
  ASSERT_EQ(site::encode(3, 1800000000, p.priv.view(), files_of(p), bytes), Status::ok);
  site::Record r;
  manifest::Manifest m;
  std::size_t at = 0;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    Bytes altered = bytes;
    altered[i] ^= 0x01;
    const Status got = site::decode(altered, r, m, at);
    EXPECT_TRUE(got == Status::bad_manifest || got == Status::unsupported_version) << i;
  }
  for (std::size_t n = 0; n < bytes.size(); ++n) EXPECT_NE(site::decode(ByteView(bytes).first(n), r, m, at), Status::ok) << n;
  Bytes v2 = bytes;
  v2[0] = 0xE2;
  EXPECT_EQ(site::decode(v2, r, m, at), Status::unsupported_version);
  // A share manifest alone is not a site manifest, and a site manifest is not a share manifest.
  EXPECT_EQ(site::decode(files_of(p), r, m, at), Status::bad_manifest);
  EXPECT_EQ(manifest::decode(bytes, m), Status::bad_manifest);
}

TEST(Site, ARecordForAnotherManifestOrByAnotherKeyIsRefused) {
  Publisher alice, mallory;
  Bytes site_a;
  ASSERT_EQ(site::encode(5, 1800000000, alice.priv.view(), files_of(alice), site_a), Status::ok);
  site::Record r;
  manifest::Manifest m;
  std::size_t at = 0;
  // Alice's record, another manifest of hers after it (its id is not the one the record names).
  Bytes swapped(site_a.begin(), site_a.begin() + site::kRecordLength);
  const Bytes other = files_of(alice, "other.js");
  swapped.insert(swapped.end(), other.begin(), other.end());
  EXPECT_EQ(site::decode(swapped, r, m, at), Status::bad_manifest);
  // Mallory signs a record naming a manifest Alice signed: the manifest's sharer is not the record's publisher
  // (encode would not make it; the bytes are laid out by hand).
  const Bytes alices = files_of(alice);
  content::Hash id;
  ASSERT_EQ(manifest::id(alices, id), Status::ok);
  p256::CompressedKey key{};
  ASSERT_EQ(p256::compress(mallory.pub, key), Status::ok);
  Bytes body = {0xE1, 0, 0, 0, 0, 9, 0x6B, 0x49, 0xD2, 0x00};
  body.insert(body.end(), key.begin(), key.end());
  body.insert(body.end(), id.begin(), id.end());
  ASSERT_EQ(body.size(), site::kBodyLength);
  const std::string context = "pushpeer/site/v1";
  Bytes input(context.begin(), context.end());
  input.insert(input.end(), body.begin(), body.end());
  p256::Signature sig;
  ASSERT_EQ(p256::sign_low_s(mallory.priv.view(), input, sig), Status::ok);
  Bytes forged = body;
  forged.insert(forged.end(), sig.begin(), sig.end());
  forged.insert(forged.end(), alices.begin(), alices.end());
  EXPECT_EQ(site::decode(forged, r, m, at), Status::bad_manifest);
  // The same layout with Mallory's own manifest opens: the refusal above is the sharer check, not the layout.
  const Bytes hers = files_of(mallory);
  ASSERT_EQ(manifest::id(hers, id), Status::ok);
  std::copy(id.begin(), id.end(), body.begin() + 43);
  input.assign(context.begin(), context.end());
  input.insert(input.end(), body.begin(), body.end());
  ASSERT_EQ(p256::sign_low_s(mallory.priv.view(), input, sig), Status::ok);
  Bytes fine = body;
  fine.insert(fine.end(), sig.begin(), sig.end());
  fine.insert(fine.end(), hers.begin(), hers.end());
  EXPECT_EQ(site::decode(fine, r, m, at), Status::ok);
  EXPECT_EQ(r.version, 9u);
}

TEST(Site, TheDocumentsVector) {
  const test::json doc = test::load_json_file(PUSHPEER_CONTENT_VECTORS);
  const test::json& s = doc["site"];
  ASSERT_TRUE(s.is_object());
  const Bytes bytes = test::b64u(test::str(s, "bytes"));
  site::Record r;
  manifest::Manifest m;
  std::size_t at = 0;
  ASSERT_EQ(site::decode(bytes, r, m, at), Status::ok);
  EXPECT_EQ(r.version, static_cast<std::uint32_t>(test::integer(s, "version")));
  EXPECT_EQ(r.created, static_cast<std::uint32_t>(test::integer(s, "created")));
  EXPECT_EQ(to_hex(r.share), test::str(doc["manifest"], "id_hex"));
  EXPECT_EQ(Bytes(bytes.begin() + static_cast<std::ptrdiff_t>(at), bytes.end()), test::b64u(test::str(doc["manifest"], "bytes")));
  // The core makes exactly these bytes (RFC 6979: no randomness).
  Bytes made;
  ASSERT_EQ(site::encode(r.version, r.created, test::b64u(test::str(doc["manifest"], "identity_private_key")),
                         test::b64u(test::str(doc["manifest"], "bytes")), made), Status::ok);
  EXPECT_EQ(made, bytes);
}

}  // namespace
}  // namespace pushpeer
