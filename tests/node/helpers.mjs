// Shared helpers for the Node tests of the Wasm build: vector files (read in place from tests/vectors, and the
// Wycheproof files cmake/fetch-wycheproof.sh fetched into build/wycheproof), byte codecs that do not go through the
// core (Node's Buffer), and forEachFlavor(), which runs the same describe blocks against every Wasm flavour (the
// release and the debug build: one JS suite for both).
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';

import { loadCore, PushPeerError } from '../../js/core.js';

export { PushPeerError };

/** A loopback port nothing listens on (bound, then released): for "cannot connect" cases. */
export async function closedPort() {
  const server = http.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

// --- vectors ---

/** tests/vectors/: the RFC vectors, transcribed (each names its RFC section). */
export const vectorsDir = new URL('../vectors/', import.meta.url);

/** tests/corpus/sdp/: the SDP corpus captured from the browsers (tests/corpus/capture-sdp.mjs). */
export const corpusDir = new URL('../corpus/sdp/', import.meta.url);

/** Parsed JSON of a vector file, e.g. readVectors('rfc/rfc8291-appendix-a.json'). */
export function readVectors(relative) {
  return JSON.parse(readFileSync(new URL(relative, vectorsDir), 'utf8'));
}

/** Where cmake/fetch-wycheproof.sh put the verified Wycheproof files (build/wycheproof/). */
export const wycheproofDir = new URL('../../build/wycheproof/', import.meta.url);

/**
 * null when the Wycheproof files were fetched and verified; otherwise why not, for t.skip(reason): the fetch
 * script's own reason, or that it has not run.
 */
export function wycheproofUnavailable() {
  if (existsSync(new URL('VERIFIED', wycheproofDir))) return null;
  const why = new URL('UNAVAILABLE', wycheproofDir);
  if (existsSync(why)) return readFileSync(why, 'utf8').trim();
  return `Wycheproof vectors not fetched: no ${new URL('VERIFIED', wycheproofDir).pathname} ` +
    '(tests/run.sh runs cmake/fetch-wycheproof.sh)';
}

/** Parsed JSON of a verified Wycheproof file, e.g. readWycheproof('aes_gcm_test.json'). */
export function readWycheproof(name) {
  return JSON.parse(readFileSync(new URL(name, wycheproofDir), 'utf8'));
}

// --- bytes (independent of the core's own base64url) ---

/** Plain Uint8Array (not a Buffer, so that deepStrictEqual compares like with like). */
export function u8(bytes) {
  return Uint8Array.from(bytes);
}

export function fromHex(text) {
  assert.match(text, /^([0-9a-fA-F]{2})*$/, `not hex: ${text}`);
  return u8(Buffer.from(text, 'hex'));
}

export function toHex(bytes) {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

export function fromB64u(text) {
  assert.match(text, /^[A-Za-z0-9_-]*$/, `not unpadded base64url: ${text}`);
  return u8(Buffer.from(text, 'base64url'));
}

export function toB64u(bytes) {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

export const utf8 = (text) => u8(Buffer.from(text, 'utf8'));

export function concat(...parts) {
  return u8(Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength))));
}

/** Compares as hex, so a failure shows where the bytes differ. */
export function assertBytes(actual, expected, message) {
  assert.ok(actual instanceof Uint8Array, `${message ?? 'value'}: expected a Uint8Array, got ${actual?.constructor?.name ?? typeof actual}`);
  assert.equal(toHex(actual), toHex(expected), message);
}

/** Byte offsets where needle occurs in haystack. */
export function findAll(haystack, needle) {
  const h = Buffer.from(haystack.buffer, haystack.byteOffset, haystack.byteLength);
  const out = [];
  for (let i = h.indexOf(needle); i !== -1; i = h.indexOf(needle, i + 1)) out.push(i);
  return out;
}

// SHA-256's compression function (FIPS 180-4 §6.2.2), for what Node's crypto does not expose: the hash state after
// one block, as an HMAC key schedule holds it.
const SHA256_K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2]);
export const SHA256_IV = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
export function sha256Compress(state, block) {
  const w = new Uint32Array(64);
  const v = new DataView(block.buffer, block.byteOffset, 64);
  for (let i = 0; i < 16; i++) w[i] = v.getUint32(4 * i);
  const rotr = (x, n) => (x >>> n) | (x << (32 - n));
  for (let i = 16; i < 64; i++) {
    const s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >>> 3);
    const s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >>> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  let [a, b, c, d, e, f, g, h] = state;
  for (let i = 0; i < 64; i++) {
    const t1 = (h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + SHA256_K[i] + w[i]) >>> 0;
    const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) >>> 0;
    [h, g, f, e, d, c, b, a] = [g, f, e, (d + t1) >>> 0, c, b, a, (t1 + t2) >>> 0];
  }
  return state.map((x, i) => (x + [a, b, c, d, e, f, g, h][i]) >>> 0);
}

/**
 * An HMAC-SHA-256 key's schedule (RFC 2104), named for a heap search, for a key of at most 64 bytes: K ^ ipad and
 * K ^ opad (as bytes, and as the big-endian words a compression function loads into its native-order message
 * schedule), and SHA-256's state after each block, big-endian as a key context keeps it and as 32-bit
 * little-endian words as a hash context holds it in Wasm memory. Each of these keys the HMAC as well as K does.
 */
export function hmacKeySchedule(key, name = 'key') {
  assert.ok(key.length <= 64, 'a key longer than the block is hashed first: not covered');
  const out = {};
  for (const [pad, byte] of [['ipad', 0x36], ['opad', 0x5c]]) {
    const block = new Uint8Array(64).fill(byte);
    key.forEach((x, i) => { block[i] = x ^ byte; });
    const words = u8(Buffer.from(block).swap32()).subarray(0, key.length & ~3);
    const state = sha256Compress(SHA256_IV, block);
    const be = new Uint8Array(32);
    const le = new Uint8Array(32);
    state.forEach((x, i) => {
      new DataView(be.buffer).setUint32(4 * i, x);
      new DataView(le.buffer).setUint32(4 * i, x, true);
    });
    Object.assign(out, {
      [`${name} ^ ${pad}`]: block.subarray(0, key.length), [`${name} ^ ${pad} (words)`]: words,
      [`${name} ${pad} state`]: be, [`${name} ${pad} state (words)`]: le,
    });
  }
  return out;
}

/** docs/PROTOCOL.md §4: key id = SHA-256(compressed identity)[0..8], as base64url; computed without the core. */
export function keyIdOf(publicKey) {
  const compressed = Buffer.concat([Buffer.from([0x02 | (publicKey[64] & 1)]), Buffer.from(publicKey.subarray(1, 33))]);
  return toB64u(crypto.createHash('sha256').update(compressed).digest().subarray(0, 8));
}

/** Asserts that `promise` rejects with a PushPeerError of `code`. */
export async function rejectsWith(promise, code) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof PushPeerError, `expected a PushPeerError, got ${e?.constructor?.name}: ${e?.message}`);
    assert.equal(e.code, code, `code (${e.message})`);
    return true;
  });
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);

export function randomBytes(n) {
  return u8(crypto.randomBytes(n));
}

/** A big-endian integer as exactly n bytes (Node's ECDH.getPrivateKey() drops leading zero bytes). */
export function leftPad(bytes, n) {
  assert.ok(bytes.length <= n, `${bytes.length} bytes do not fit in ${n}`);
  const out = new Uint8Array(n);
  out.set(bytes, n - bytes.length);
  return out;
}

/** A P-256 key pair from Node's crypto, as raw bytes (receiver side of an independent oracle). */
export function nodeKeyPair() {
  const ecdh = crypto.createECDH('prime256v1');
  ecdh.generateKeys();
  return { ecdh, publicKey: u8(ecdh.getPublicKey()), privateKey: leftPad(u8(ecdh.getPrivateKey()), 32) };
}

/** JWK of a raw 65-byte P-256 public key, for crypto.createPublicKey. */
export function publicJwk(raw) {
  assert.equal(raw.length, 65);
  return { kty: 'EC', crv: 'P-256', x: toB64u(raw.subarray(1, 33)), y: toB64u(raw.subarray(33)) };
}

/** Splits `vapid t=<jwt>, k=<key>`. */
export function parseVapidAuthorization(value) {
  const m = /^vapid t=([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+), k=([A-Za-z0-9_-]+)$/.exec(value);
  assert.ok(m, `not a "vapid t=…, k=…" value: ${value}`);
  const [header, claims, signature] = m[1].split('.');
  return {
    jwt: m[1],
    k: m[2],
    header: JSON.parse(Buffer.from(header, 'base64url').toString('utf8')),
    claims: JSON.parse(Buffer.from(claims, 'base64url').toString('utf8')),
    signingInput: `${header}.${claims}`,
    signature: fromB64u(signature),
  };
}

/** ES256 verification with Node's crypto (an oracle independent of the core). */
export function nodeVerifyJwt(jwt, publicKeyRaw) {
  const [h, c, s] = jwt.split('.');
  const key = crypto.createPublicKey({ key: publicJwk(publicKeyRaw), format: 'jwk' });
  return crypto.verify('sha256', Buffer.from(`${h}.${c}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'));
}

// --- RFC 8188 built with Node's crypto, to forge malformed bodies the core would never produce ---

function hkdf(salt, ikm, info, length) {
  return u8(Buffer.from(crypto.hkdfSync('sha256', ikm, salt, info, length)));
}

/**
 * An aes128gcm body whose records carry exactly the given (already delimited and padded) plaintexts:
 * header (salt | rs | idlen | keyid) || AES-128-GCM(record_i) for each i.
 */
export function eceBodyFromRecords({ ikm, salt, recordSize, keyId = new Uint8Array(0), records }) {
  const cek = hkdf(salt, ikm, Buffer.from('Content-Encoding: aes128gcm\0'), 16);
  const baseNonce = hkdf(salt, ikm, Buffer.from('Content-Encoding: nonce\0'), 12);
  const header = new Uint8Array(21 + keyId.length);
  header.set(salt, 0);
  new DataView(header.buffer).setUint32(16, recordSize);
  header[20] = keyId.length;
  header.set(keyId, 21);
  const parts = [header];
  records.forEach((record, seq) => {
    const nonce = Uint8Array.from(baseNonce);
    new DataView(nonce.buffer).setUint32(8, new DataView(nonce.buffer).getUint32(8) ^ seq);
    const cipher = crypto.createCipheriv('aes-128-gcm', cek, nonce);
    parts.push(u8(Buffer.concat([cipher.update(record), cipher.final(), cipher.getAuthTag()])));
  });
  return concat(...parts);
}

// --- errors ---

/** Every code core.d.ts declares (read from its PushPeerErrorCode union, so the list cannot fall behind). */
export const errorCodes = (() => {
  const dts = readFileSync(new URL('../../js/core.d.ts', import.meta.url), 'utf8');
  const union = /export type PushPeerErrorCode =([^;]*);/.exec(dts)?.[1] ?? '';
  const codes = new Set([...union.matchAll(/'([A-Z0-9_]+)'/g)].map((m) => m[1]));
  if (codes.size < 20) throw new Error('could not read PushPeerErrorCode from js/core.d.ts');
  return codes;
})();

/**
 * Runs fn, which must throw a PushPeerError with a declared, non-INTERNAL code; with `expected` (a code or a list
 * of codes) the code must be one of them. Returns the code.
 */
export function expectCode(fn, expected, label = '') {
  let result;
  try {
    result = fn();
  } catch (err) {
    const where = label ? `${label}: ` : '';
    assert.ok(err instanceof PushPeerError,
      `${where}expected a PushPeerError, got ${err?.constructor?.name ?? typeof err}: ${err?.message ?? err}`);
    assert.equal(typeof err.code, 'string', `${where}.code must be a string`);
    assert.ok(errorCodes.has(err.code), `${where}undeclared code ${err.code}`);
    assert.notEqual(err.code, 'INTERNAL', `${where}INTERNAL (the Wasm core failed): ${err.message}`);
    if (expected !== undefined) {
      const allowed = Array.isArray(expected) ? expected : [expected];
      assert.ok(allowed.includes(err.code), `${where}expected ${allowed.join(' or ')}, got ${err.code} (${err.message})`);
    }
    return err.code;
  }
  assert.fail(`${label ? `${label}: ` : ''}expected a PushPeerError${expected ? ` ${[expected].flat().join('/')}` : ''}, but it returned ${describeValue(result)}`);
}

function describeValue(v) {
  if (v instanceof Uint8Array) return `${v.length} bytes`;
  try {
    return JSON.stringify(v, (k, x) => (x instanceof Uint8Array ? `<${x.length} bytes>` : x));
  } catch {
    return String(v);
  }
}

// --- flavours ---

const allFlavors = ['release', 'testing', 'debug'];

/** Wasm flavours under test: all, or those listed in $PUSHPEER_FLAVORS (comma-separated). */
export const flavors = process.env.PUSHPEER_FLAVORS
  ? process.env.PUSHPEER_FLAVORS.split(',').map((s) => s.trim()).filter(Boolean)
  : allFlavors;
for (const f of flavors) {
  if (!allFlavors.includes(f)) throw new Error(`PUSHPEER_FLAVORS: unknown flavour ${f}`);
}

// One core per flavour per test file (node --test runs each file in its own process).
const cores = new Map();
for (const flavor of flavors) {
  try {
    cores.set(flavor, { core: await loadCore({ flavor }) });
  } catch (error) {
    cores.set(flavor, { error });
  }
}

/**
 * Registers fn(core, flavor) inside describe('<flavor> build') for every flavour. A flavour that does not load
 * gets a single failing test naming the load error instead of its tests. With { testing: true } only the
 * flavours that have the test-only entry points (core.testing: the testing and debug builds) run fn; the release
 * build must not have them, which is checked instead.
 */
export function forEachFlavor(fn, { testing = false } = {}) {
  for (const flavor of flavors) {
    const { core, error } = cores.get(flavor);
    describe(`${flavor} build`, () => {
      if (error) {
        it(`loadCore({ flavor: '${flavor}' }) loads in Node`, () => {
          throw error;
        });
        return;
      }
      if (testing && flavor === 'release') {
        it('has no test-only entry points (core.testing is undefined)', () => {
          assert.equal(core.testing, undefined);
        });
        return;
      }
      fn(core, flavor);
    });
  }
}

/**
 * A Connection as the mesh modules see one (js/mesh/: onControl, sendControl, remote, closed, the 'close' event),
 * without WebRTC: receive(frame) plays a control frame in, `sent` keeps what went out.
 */
export class FakeConnection extends EventTarget {
  constructor(keyId, name = keyId) {
    super();
    this.remote = { keyId, name };
    this.closed = false;
    this.control = { readyState: 'open' };
    this.sent = [];
    this.handlers = new Map();
  }

  onControl(t, handler) {
    this.handlers.set(t, handler);
  }

  sendControl(frame) {
    if (this.closed) return false;
    this.sent.push(frame);
    return true;
  }

  receive(frame) {
    return this.handlers.get(frame.t)?.(frame);
  }

  close() {
    this.closed = true;
    this.dispatchEvent(new Event('close'));
  }
}

/** A small seeded PRNG (mulberry32): the same choices on every run. */
export function seeded(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
