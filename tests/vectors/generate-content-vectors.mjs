// Writes docs/vectors/content.json (docs/PROTOCOL.md §9, §10): tree roots and proofs computed by an independent
// BLAKE2b (@noble/hashes, tests/node/merkle-reference.mjs), and a manifest and frames made by our core from a fixed
// key (RFC 6979 signatures with low S, so the bytes are exact). tests/node/content.test.mjs and
// tests/native/doc_vectors_test.cpp check that the core reproduces every value.
// Usage: node tests/vectors/generate-content-vectors.mjs   (after cmake/build.sh wasm); then review the diff.
import { writeFileSync } from 'node:fs';

import { loadCore } from '../../js/core.js';
import { contentRoot, hashAs, leafCount, proofOf, vectorContent } from '../node/merkle-reference.mjs';

const core = await loadCore({ flavor: 'testing' });
const hex = (bytes) => Buffer.from(bytes).toString('hex');
const b64 = (bytes) => core.base64urlEncode(bytes);

const trees = [0, 1, 16384, 16385, 3 * 16384 + 100, 5 * 16384 + 100].map((size) => ({
  size, leaves: leafCount(size), root_hex: hex(contentRoot(vectorContent(size))),
}));
const proofContent = vectorContent(5 * 16384 + 100);
const proofs = [[2, 2], [5, 1], [0, 6], [1, 4]].map(([first, count]) => ({
  size: proofContent.length, first, count, hashes_hex: proofOf(proofContent, first, count).map(hex),
}));

// Alice: the RFC 8291 appendix A application-server key (as the card vector in core.json).
const alicePrivate = 'yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw';
const alice = core.vapidKeysFromPrivate(core.base64urlDecode(alicePrivate));
const clip = vectorContent(3 * 16384 + 100);
const files = [
  { name: 'clip.webm', size: clip.length, type: 'video/webm', root: contentRoot(clip) },
  { name: 'notes/read me (1).txt', size: 0, type: 'text/plain; charset=utf-8', root: contentRoot(new Uint8Array(0)) },
];
const created = 1800000000;
const title = 'Holiday 🏖';
const manifest = core.createManifest({ privateKey: alice.privateKey, created, title, files });
const id = hashAs('manifest', manifest.subarray(0, manifest.length - 64));
if (hex(core.manifestId(manifest)) !== hex(id)) throw new Error('the core and the reference disagree on the manifest id');

// A site manifest (§10): the record for that manifest, version 3, by the same key; then the manifest itself.
const site = core.createSiteManifest({ privateKey: alice.privateKey, version: 3, created, title, files });
if (hex(site.subarray(139)) !== hex(manifest)) throw new Error('the site manifest does not end with the share manifest');

// A data frame small enough to print: leaf 1 (1 byte) of the 16385-byte content, which file 0 of no manifest has;
// the frame does not name the share (its request id does).
const small = vectorContent(16385);
const hasher = core.contentHasher();
hasher.update(small);
const tree = core.contentTree(hasher.finish());
const data = tree.encodeData(7, 0, 1, 1, small.subarray(16384));
tree.release();

const doc = {
  description: 'pushpeer content vectors (docs/PROTOCOL.md §9). Content of n bytes: byte i = i mod 251. Roots and ' +
    'proofs from an independent BLAKE2b (@noble/hashes); the manifest and frames from the core, exact bytes.',
  trees,
  proofs,
  manifest: {
    source: 'identity = RFC 8291 appendix A application-server key; file 0 is the 3 x 16384 + 100 byte content',
    identity_private_key: alicePrivate,
    created,
    title,
    files: files.map((f) => ({ name: f.name, size: f.size, type: f.type, root_hex: hex(f.root) })),
    bytes: b64(manifest),
    id_hex: hex(id),
  },
  site: {
    source: 'the manifest above (its id is the record\'s share id), version 3, by the same key',
    version: 3,
    created,
    bytes: b64(site),
  },
  // §10.4: the control frames (JSON text, channel 0) a page sends about that version: its number, then with the manifest.
  site_frames: {
    version: JSON.stringify({ t: 'site', v: 3 }),
    manifest: JSON.stringify({ t: 'site', v: 3, m: b64(site) }),
  },
  frames: {
    get_manifest: { request: 1, share_hex: hex(id), hex: hex(core.encodeContentFrame({ type: 'get-manifest', request: 1, share: id })) },
    get: { request: 2, share_hex: hex(id), file: 0, first: 0, count: 2,
      hex: hex(core.encodeContentFrame({ type: 'get', request: 2, share: id, file: 0, first: 0, count: 2 })) },
    data: { request: 7, content_size: 16385, file: 0, first: 1, count: 1, hex: hex(data) },
    error: { request: 3, code: 'busy', hex: hex(core.encodeContentFrame({ type: 'error', request: 3, code: 'busy' })) },
    cancel: { request: 4, hex: hex(core.encodeContentFrame({ type: 'cancel', request: 4 })) },
    // Pieces 0-9 of file 1 but piece 8: bits 1111 1111, 0100 0000 (the spare bits clear).
    have: { request: 5, share_hex: hex(id), file: 1, first: 0, count: 10, bits_hex: 'ff40',
      hex: hex(core.encodeContentFrame({ type: 'have', request: 5, share: id, file: 1, first: 0, count: 10,
        bits: Uint8Array.of(0xff, 0x40) })) },
    get_have: { request: 6, share_hex: hex(id), file: 2,
      hex: hex(core.encodeContentFrame({ type: 'get-have', request: 6, share: id, file: 2 })) },
  },
};
const file = new URL('../../docs/vectors/content.json', import.meta.url);
writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
console.log(`wrote ${file.pathname}: manifest ${manifest.length} B, data frame ${data.length} B`);
