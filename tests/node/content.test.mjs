// Content addressing in the Wasm core (docs/PROTOCOL.md §9): the tree against an independent BLAKE2b
// (@noble/hashes, tests/node/merkle-reference.mjs), the published vectors, proofs, manifests and frames, the JS
// argument checks, and a 1 GiB content hashed streamed in bounded memory.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';

import { assertBytes, expectCode, forEachFlavor, fromB64u, fromHex, toHex } from './helpers.mjs';
import { contentRoot, hashAs, LEAF, leafCount, nodeHash, proofOf, rootOf, vectorContent } from './merkle-reference.mjs';

const doc = JSON.parse(readFileSync(new URL('../../docs/vectors/content.json', import.meta.url), 'utf8'));

function treeOf(core, content, pieces = [content.length]) {
  const h = core.contentHasher();
  let at = 0;
  for (const n of pieces) {
    h.update(content.subarray(at, at + n));
    at += n;
  }
  if (at < content.length) h.update(content.subarray(at));
  return h.finish();
}

const rangeBytes = (content, first, count) => content.subarray(first * LEAF, Math.min(content.length, (first + count) * LEAF));

forEachFlavor((core, flavor) => {
  it('vectors: roots from an independent BLAKE2b, for 0 to 6 leaves', () => {
    for (const t of doc.trees) {
      const tree = treeOf(core, vectorContent(t.size));
      assert.equal(toHex(tree.root), t.root_hex, `size ${t.size}`);
      assert.equal(tree.nodes.length, (2 * t.leaves - 1) * 32);
    }
  });

  it('vectors: range proofs are the reference hashes, and they verify', () => {
    for (const p of doc.proofs) {
      const content = vectorContent(p.size);
      const t = treeOf(core, content);
      const tree = core.contentTree(t);
      const frame = tree.encodeData(1, 0, p.first, p.count, rangeBytes(content, p.first, p.count));
      tree.release();
      // The proof sits in the frame after its varint length (docs/PROTOCOL.md §9.4).
      assert.ok(toHex(frame).includes(p.hashes_hex.join('')), `${p.first}+${p.count}`);
      const opened = core.openContentData({ frame, root: t.root, size: p.size, file: 0, first: p.first, count: p.count });
      assertBytes(opened.data, rangeBytes(content, p.first, p.count));
    }
  });

  it('vectors: the manifest (exact bytes, id) and the frames', () => {
    const v = doc.manifest;
    const keys = core.vapidKeysFromPrivate(fromB64u(v.identity_private_key));
    const files = v.files.map((f) => ({ ...f, root: fromHex(f.root_hex) }));
    const bytes = core.createManifest({ privateKey: keys.privateKey, created: v.created, title: v.title, files });
    assert.equal(core.base64urlEncode(bytes), v.bytes);
    assert.equal(toHex(core.manifestId(bytes)), v.id_hex);
    const m = core.openManifest(bytes, { id: fromHex(v.id_hex) });
    assert.equal(m.title, v.title);
    assert.deepEqual(m.files.map((f) => [f.name, f.size, f.type, toHex(f.root)]), v.files.map((f) => [f.name, f.size, f.type, f.root_hex]));
    assertBytes(m.sharer, keys.publicKey);
    const f = doc.frames;
    const share = fromHex(f.get_manifest.share_hex);
    assert.equal(toHex(core.encodeContentFrame({ type: 'get-manifest', request: 1, share })), f.get_manifest.hex);
    assert.equal(toHex(core.encodeContentFrame({ type: 'get', request: 2, share, file: 0, first: 0, count: 2 })), f.get.hex);
    assert.equal(toHex(core.encodeContentFrame({ type: 'error', request: 3, code: 'busy' })), f.error.hex);
    assert.equal(toHex(core.encodeContentFrame({ type: 'cancel', request: 4 })), f.cancel.hex);
    // have and get-have: the bytes written out by hand from docs/PROTOCOL.md §9.4, and the core's encoding of them.
    const shareHex = f.have.share_hex;
    assert.equal(f.have.hex, `0107${'05'}${shareHex}${'01'}${'00'}${'0a'}${'ff40'}`);
    assert.equal(f.get_have.hex, `0108${'06'}${shareHex}${'02'}`);
    const have = { type: 'have', request: 5, share, file: 1, first: 0, count: 10, bits: fromHex(f.have.bits_hex) };
    assert.equal(toHex(core.encodeContentFrame(have)), f.have.hex);
    assert.deepEqual(core.decodeContentFrame(fromHex(f.have.hex)), have);
    assert.equal(toHex(core.encodeContentFrame({ type: 'get-have', request: 6, share, file: 2 })), f.get_have.hex);
    assert.deepEqual(core.decodeContentFrame(fromHex(f.get_have.hex)), { type: 'get-have', request: 6, share, file: 2 });
    const small = vectorContent(f.data.content_size);
    const opened = core.openContentData({ frame: fromHex(f.data.hex), root: contentRoot(small), size: small.length, file: 0, first: 1, count: 1 });
    assertBytes(opened.data, small.subarray(16384));
    assert.deepEqual(core.decodeContentFrame(fromHex(f.get.hex)), { type: 'get', request: 2, share, file: 0, first: 0, count: 2 });
  });

  it('a kept proof frames a verified range again, byte for byte (a downloader serving what it verified)', () => {
    const content = vectorContent(20 * LEAF + 99);
    const t = treeOf(core, content);
    const loaded = core.contentTree(t);
    const sent = loaded.encodeData(5, 1, 16, 4, rangeBytes(content, 16, 4));
    loaded.release();
    const opened = core.openContentData({ frame: sent, root: t.root, size: content.length, file: 1, first: 16, count: 4 });
    assert.ok(opened.proof.length > 0 && opened.proof.length % 32 === 0);
    const again = core.encodeDataWithProof({ request: 5, file: 1, first: 16, count: 4, proof: opened.proof, bytes: opened.data });
    assertBytes(again, sent);
    expectCode(() => core.encodeDataWithProof({ request: 5, file: 1, first: 16, count: 4, proof: opened.proof.subarray(1),
      bytes: opened.data }), 'BAD_ARGUMENT');
    // A wrong proof goes out as asked: the receiver is the one who checks.
    const wrong = core.encodeDataWithProof({ request: 5, file: 1, first: 16, count: 4, proof: new Uint8Array(opened.proof.length),
      bytes: opened.data });
    expectCode(() => core.openContentData({ frame: wrong, root: t.root, size: content.length, file: 1, first: 16, count: 4 }),
      'CHUNK_MISMATCH');
  });

  it('roots agree with the reference for random sizes and piece boundaries', () => {
    for (let i = 0; i < (flavor === 'debug' ? 4 : 16); i++) {
      const size = Math.floor(Math.random() * 40 * LEAF);
      const content = vectorContent(size);
      const pieces = Array.from({ length: 5 }, () => Math.floor(Math.random() * 3 * LEAF));
      assertBytes(treeOf(core, content, pieces).root, contentRoot(content), `size ${size}`);
    }
  });

  it('every range of a 13-leaf content proves what the reference proves; altered bytes are CHUNK_MISMATCH', () => {
    const content = vectorContent(13 * LEAF - 500);
    const t = treeOf(core, content);
    const tree = core.contentTree(t);
    try {
      for (let first = 0; first < 13; first++) {
        for (let count = 1; first + count <= 13; count += 3) {
          const data = rangeBytes(content, first, count);
          const frame = tree.encodeData(9, 2, first, count, data);
          assert.ok(toHex(frame).includes(proofOf(content, first, count).map(toHex).join('')));
          // The head a sender puts before the bytes it holds makes the same frame.
          const head = tree.encodeDataHead(9, 2, first, count, data.length);
          assert.ok(head.length <= core.limits.content.maxDataHeadLength);
          assertBytes(frame, Uint8Array.from([...head, ...data]));
          const ok = core.openContentData({ frame, root: t.root, size: content.length, file: 2, first, count });
          assert.equal(ok.leaves.length, 32 * count);
          // The verified bytes are the frame's own (a view of it, not a copy), its last data.length bytes.
          assertBytes(ok.data, data);
          assert.equal(ok.data.buffer, frame.buffer);
          assert.equal(ok.data.byteOffset, frame.byteOffset + head.length);
          frame[frame.length - 1] ^= 1;
          expectCode(() => core.openContentData({ frame, root: t.root, size: content.length, file: 2, first, count }), 'CHUNK_MISMATCH');
        }
      }
      const frame = tree.encodeData(9, 2, 3, 2, rangeBytes(content, 3, 2));
      expectCode(() => core.openContentData({ frame, root: t.root, size: content.length, file: 2, first: 4, count: 2 }), 'BAD_FRAME');
      expectCode(() => core.openContentData({ frame: frame.subarray(0, frame.length - 1), root: t.root, size: content.length, file: 2, first: 3, count: 2 }), 'BAD_PROOF');
      expectCode(() => core.openContentData({ frame, root: t.root, size: content.length + 1, file: 2, first: 3, count: 2 }), 'CHUNK_MISMATCH');
    } finally {
      tree.release();
    }
  });

  it('a stored tree is checked when loaded; a receiver rebuilds the tree from verified leaf hashes', () => {
    const content = vectorContent(9 * LEAF + 3);
    const t = treeOf(core, content);
    const nodes = t.nodes.slice();
    nodes[5 * 32] ^= 1;
    expectCode(() => core.contentTree({ ...t, nodes }), 'CHUNK_MISMATCH');
    const other = t.root.slice();
    other[0] ^= 1;
    expectCode(() => core.contentTree({ ...t, root: other }), 'CHUNK_MISMATCH');
    const leaves = new Uint8Array(32 * 10);
    for (let i = 0; i < 10; i++) leaves.set(t.nodes.subarray(64 * i, 64 * i + 32), 32 * i);
    assertBytes(core.contentTreeFromLeaves({ size: t.size, leaves, root: t.root }).nodes, t.nodes);
    expectCode(() => core.contentTreeFromLeaves({ size: t.size, leaves, root: other }), 'CHUNK_MISMATCH');
  });

  it('handles: a released tree or hasher refuses to work; arguments are checked before the heap', () => {
    const h = core.contentHasher();
    h.update(new Uint8Array(10));
    h.release();
    expectCode(() => h.update(new Uint8Array(1)), 'BAD_ARGUMENT');
    const t = treeOf(core, new Uint8Array(5));
    const tree = core.contentTree(t);
    tree.release();
    tree.release();  // twice is harmless
    expectCode(() => tree.encodeData(1, 0, 0, 1, new Uint8Array(5)), 'BAD_ARGUMENT');
    expectCode(() => core.contentTree({ size: 5, nodes: t.nodes, root: t.root.subarray(0, 31) }), 'BAD_ARGUMENT');
    expectCode(() => core.contentTree({ size: 2 ** 53, nodes: t.nodes, root: t.root }), 'BAD_ARGUMENT');
    const small = treeOf(core, new Uint8Array(100));
    const loaded = core.contentTree(small);
    expectCode(() => loaded.encodeData(1, 0, 0, 65, new Uint8Array(100)), 'BAD_ARGUMENT');
    expectCode(() => loaded.encodeData(1, 0, 1, 1, new Uint8Array(0)), 'BAD_ARGUMENT');
    // A head for another length than the range's, or a range outside the tree: refused.
    expectCode(() => loaded.encodeDataHead(1, 0, 0, 1, 99), 'BAD_ARGUMENT');
    expectCode(() => loaded.encodeDataHead(1, 0, 1, 1, 0), 'BAD_ARGUMENT');
    expectCode(() => loaded.encodeDataHead(1, 0, 0, 1, -1), 'BAD_ARGUMENT');
    expectCode(() => loaded.encodeDataHead(1, 0, 0, 1, 2 ** 40), 'BAD_ARGUMENT');
    loaded.release();
    expectCode(() => core.encodeContentFrame({ type: 'data', request: 1 }), 'BAD_ARGUMENT');
    expectCode(() => core.encodeContentFrame({ type: 'error', request: 1, code: 'nope' }), 'BAD_ARGUMENT');
    expectCode(() => core.decodeContentFrame(new Uint8Array([2, 1, 0])), 'UNSUPPORTED_VERSION');
    expectCode(() => core.decodeContentFrame(new Uint8Array([1, 9, 0])), 'BAD_FRAME');
    expectCode(() => core.decodeContentFrame(new Uint8Array(core.limits.content.maxFrameLength + 1)), 'BAD_FRAME');
    // have: the bitfield is exactly ceil(count / 8) bytes, its spare bits clear, within 2^19 pieces.
    const share = new Uint8Array(32);
    const have = (o) => core.encodeContentFrame({ type: 'have', request: 1, share, file: 0, first: 0, ...o });
    assert.equal(core.limits.content.pieceLeaves, 8);
    assert.equal(core.limits.content.maxPieces, 2 ** 19);
    assertBytes(core.decodeContentFrame(have({ count: 9, bits: Uint8Array.of(0, 0x80) })).bits, Uint8Array.of(0, 0x80));
    expectCode(() => have({ count: 9, bits: Uint8Array.of(0xff) }), 'BAD_ARGUMENT');
    expectCode(() => have({ count: 9, bits: Uint8Array.of(0xff, 0x40) }), 'BAD_ARGUMENT');
    expectCode(() => have({ count: 0, bits: new Uint8Array(0) }), 'BAD_ARGUMENT');
    expectCode(() => have({ first: 2 ** 19 - 1, count: 2, bits: Uint8Array.of(0xc0) }), 'BAD_ARGUMENT');
    expectCode(() => have({ count: 1, bits: 'gA' }), 'BAD_ARGUMENT');
    const spare = have({ count: 9, bits: Uint8Array.of(0, 0x80) });
    spare[spare.length - 1] |= 1;
    expectCode(() => core.decodeContentFrame(spare), 'BAD_FRAME');
  });

  it('manifests: names are safe relative paths of displayable text; another id or key is BAD_MANIFEST', () => {
    const keys = core.generateVapidKeys();
    const root = contentRoot(new Uint8Array(0));
    const make = (files, title = '') => core.createManifest({ privateKey: keys.privateKey, title, files });
    const odd = ['naïve café 😀.txt', 'a b/c d (2).txt', '.hidden', 'C:?*<>|"x'];
    const m = core.openManifest(make(odd.map((name) => ({ name, size: 0, type: '', root }))));
    assert.deepEqual(m.files.map((f) => f.name), odd);
    for (const name of ['../up', 'a//b', '/abs', 'back\\slash', 'nl\nx', 'rtl\u202Eexe.txt', 'x\uD800']) {
      expectCode(() => make([{ name, size: 0, type: '', root }]), 'BAD_TEXT', JSON.stringify(name));
    }
    expectCode(() => make([{ name: 'a', size: 0, type: 'text/html\r\nSet-Cookie: x', root }]), 'BAD_ARGUMENT');
    expectCode(() => make([]), 'BAD_ARGUMENT');
    expectCode(() => make([{ name: 'a', size: -1, type: '', root }]), 'BAD_ARGUMENT');
    expectCode(() => make([{ name: 'a', size: 0, type: '', root }], 'x'.repeat(129)), 'BAD_ARGUMENT');
    const bytes = make([{ name: 'a', size: 0, type: '', root }]);
    const id = core.manifestId(bytes);
    const otherId = id.slice();
    otherId[0] ^= 1;
    expectCode(() => core.openManifest(bytes, { id: otherId }), 'BAD_MANIFEST');
    const tampered = bytes.slice();
    tampered[tampered.length - 70] ^= 1;
    expectCode(() => core.openManifest(tampered), 'BAD_MANIFEST');
    const v2 = bytes.slice();
    v2[0] = 0xd2;
    expectCode(() => core.openManifest(v2), 'UNSUPPORTED_VERSION');
  });

  if (flavor === 'release') {
    it('a 1 GiB content hashed streamed, 1 MiB at a time: the reference root, without holding the content', () => {
      // Every 16 KiB leaf the same, 2^16 of them: the reference needs one hash per level (a full tree's two halves
      // are equal), while the core hashes all 1 GiB.
      const leaf = vectorContent(LEAF);
      const piece = new Uint8Array(1 << 20);
      for (let i = 0; i < 64; i++) piece.set(leaf, i * LEAF);
      let level = hashAs('leaf', leaf);
      for (let i = 0; i < 16; i++) level = nodeHash((k) => level, 0, 2);
      const rssBefore = process.memoryUsage().rss;
      const h = core.contentHasher();
      for (let i = 0; i < 1024; i++) h.update(piece);
      const t = h.finish();
      assertBytes(t.root, rootOf(2 ** 30, level));
      assert.equal(t.nodes.length, (2 * leafCount(2 ** 30) - 1) * 32);
      // The core keeps 32 bytes per leaf (2 MiB) and returns the 4 MiB tree; holding the content would be 1 GiB.
      const grown = process.memoryUsage().rss - rssBefore;
      assert.ok(grown < 256 * 2 ** 20, `RSS grew by ${(grown / 2 ** 20).toFixed(0)} MiB`);
    });
  }
});
