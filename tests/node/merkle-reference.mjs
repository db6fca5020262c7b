// An independent implementation of pushpeer's content tree (docs/PROTOCOL.md §9.1), written from the document on
// @noble/hashes' BLAKE2b (not libsodium's): the oracle of tests/node/content.test.mjs and the writer of the tree
// vectors (tests/vectors/generate-content-vectors.mjs).
import { blake2b } from '@noble/hashes/blake2.js';

export const LEAF = 16384;
const enc = new TextEncoder();
const PERSONAL = {
  leaf: enc.encode('pushpeer-leaf-v1'),
  node: enc.encode('pushpeer-node-v1'),
  root: enc.encode('pushpeer-root-v1'),
  manifest: enc.encode('pushpeer-mfst-v1'),
};

export const hashAs = (kind, bytes) => blake2b(bytes, { dkLen: 32, personalization: PERSONAL[kind] });

export const leafCount = (size) => (size === 0 ? 1 : Math.ceil(size / LEAF));
const split = (n) => { let k = 1; while (k * 2 < n) k *= 2; return k; };

function cat(a, b) {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** The hash of the node over leaves [lo, hi), leafHash(i) giving leaf i's hash. */
export function nodeHash(leafHash, lo, hi) {
  if (hi - lo === 1) return leafHash(lo);
  const k = lo + split(hi - lo);
  return hashAs('node', cat(nodeHash(leafHash, lo, k), nodeHash(leafHash, k, hi)));
}

export function rootOf(size, top) {
  const prefix = new Uint8Array(8);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(size));
  return hashAs('root', cat(prefix, top));
}

/** The root of `content` (a Uint8Array). */
export function contentRoot(content) {
  const leaf = (i) => hashAs('leaf', content.subarray(i * LEAF, Math.min(content.length, (i + 1) * LEAF)));
  return rootOf(content.length, nodeHash(leaf, 0, leafCount(content.length)));
}

/** The proof of leaves [first, first + count): the hashes of the subtrees beside the range, in order. */
export function proofOf(content, first, count) {
  const leaf = (i) => hashAs('leaf', content.subarray(i * LEAF, Math.min(content.length, (i + 1) * LEAF)));
  const out = [];
  const walk = (lo, hi) => {
    if (hi <= first || lo >= first + count) { out.push(nodeHash(leaf, lo, hi)); return; }
    if (first <= lo && hi <= first + count) return;
    const k = lo + split(hi - lo);
    walk(lo, k);
    walk(k, hi);
  };
  walk(0, leafCount(content.length));
  return out;
}

/** The content the vectors use: byte i is i mod 251. */
export function vectorContent(size) {
  return Uint8Array.from({ length: size }, (_, i) => i % 251);
}
