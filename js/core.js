// pushpeer core: the Wasm module (C++: RFC 8188/8291 encryption, RFC 8292 VAPID, push requests) behind a small
// JS API. Works in Node, a page and a (service) worker. Types: core.d.ts.
import releaseFactory from './wasm/pushpeer-core.mjs';
import { PushPeerError } from './errors.js';

export { PushPeerError };

const MAX_PAYLOAD = 3993; // one aes128gcm record in a 4096-byte push body
const MAX_BODY = 16 * 1024 * 1024; // decrypt refuses larger inputs outright
const DEFAULT_TTL = 28 * 24 * 60 * 60;
const encoder = new TextEncoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true });
const MAX_SDP = 64 * 1024;
const HOUR = 3600;
const MAX_ENVELOPE_TEXT = 4096;
const ENVELOPE_TYPES = { offer: 1, answer: 2, bye: 3, grants: 4, card: 5, introduction: 6 };
const ENVELOPE_TYPE_NAMES = Object.fromEntries(Object.entries(ENVELOPE_TYPES).map(([k, v]) => [v, k]));

const isNode = typeof process === 'object' && typeof process.versions?.node === 'string' &&
  typeof window === 'undefined';

function fail(code, message) {
  return new PushPeerError(code, message);
}

// base64url (RFC 4648 §5) in JS, so that key material given as text never passes through the Wasm heap.
const B64U = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const B64U_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) B64U_VALUE[B64U.charCodeAt(i)] = i;

function encodeBase64url(bytes) {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += B64U[v >> 18] + B64U[(v >> 12) & 63] + B64U[(v >> 6) & 63] + B64U[v & 63];
  }
  if (i + 1 === bytes.length) {
    const v = bytes[i] << 16;
    out += B64U[v >> 18] + B64U[(v >> 12) & 63];
  } else if (i + 2 === bytes.length) {
    const v = (bytes[i] << 16) | (bytes[i + 1] << 8);
    out += B64U[v >> 18] + B64U[(v >> 12) & 63] + B64U[(v >> 6) & 63];
  }
  return out;
}

/** Strict: unpadded, alphabet only, zero trailing bits. */
function decodeBase64url(text, what = 'text') {
  const bad = (why) => fail('BAD_BASE64', `${what} is not valid unpadded base64url (${why})`);
  if (text.length % 4 === 1) throw bad('impossible length');
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? B64U_VALUE[c] : -1;
    if (v < 0) throw bad(`character ${JSON.stringify(text[i])} at ${i}`);
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  if ((acc & ((1 << bits) - 1)) !== 0) throw bad('non-zero trailing bits');
  return out;
}

/** Key text from a PushSubscription: valid '=' padding (1 or 2, to a multiple of 4) is tolerated. */
function decodeKeyText(text, what) {
  const pad = /=*$/.exec(text)[0].length;
  if (pad > 0 && (pad > 2 || text.length % 4 !== 0)) throw fail('BAD_BASE64', `${what} has invalid '=' padding`);
  return decodeBase64url(text.slice(0, text.length - pad), what);
}

/** Seconds since the epoch (VAPID exp/now). */
// The sender's card inside an envelope the core has verified (docs/PROTOCOL.md §4: magic, type, flags, varint
// length, card), so that a receiver can keep it and push back.
function attachedCard(envelope) {
  let length = 0;
  let at = 3;
  for (let shift = 0; shift < 35; shift += 7) {
    const b = envelope[at++];
    length |= (b & 0x7f) << shift;
    if (!(b & 0x80)) break;
  }
  return envelope.slice(at, at + length);
}

function nowSeconds() {
  return Math.floor(Date.now() / 1000);
}

// crypto.getRandomValues in 256-byte batches: libsodium's Emscripten build asks for one value per output byte.
function makeRandomSource() {
  const c = globalThis.crypto;
  if (!c || typeof c.getRandomValues !== 'function') {
    throw fail('CORE_LOAD_FAILED', 'no crypto.getRandomValues in this environment');
  }
  const pool = new Uint32Array(64);
  let next = pool.length;
  return () => {
    if (next === pool.length) {
      c.getRandomValues(pool);
      next = 0;
    }
    const v = pool[next];
    pool[next++] = 0;
    return v;
  };
}

async function readWasm(url) {
  if (isNode && url.protocol === 'file:') {
    const fs = await import(/* @vite-ignore */ 'node:fs/promises');
    return fs.readFile(url);
  }
  const response = await fetch(url, { credentials: 'same-origin' });
  if (!response.ok) throw new Error(`HTTP ${response.status} for ${url}`);
  return new Uint8Array(await response.arrayBuffer());
}

/** Loads and instantiates the Wasm core. */
export async function loadCore(options = {}) {
  const flavor = options.flavor ?? 'release';
  if (flavor !== 'release' && flavor !== 'debug') throw fail('BAD_ARGUMENT', `unknown flavor ${flavor}`);
  const base = flavor === 'debug' ? 'pushpeer-core-debug' : 'pushpeer-core';
  // The release URL is a literal so that bundlers find the asset (Vite's dev-server dep optimizer cannot follow a
  // template); the debug flavour is not shipped in the package.
  const defaultUrl = flavor === 'release' ? new URL('./wasm/pushpeer-core.wasm', import.meta.url)
    : new URL(/* @vite-ignore */ `./wasm/${base}.wasm`, import.meta.url);
  const wasmUrl = options.wasmUrl ? new URL(options.wasmUrl, import.meta.url) : defaultUrl;
  let factory;
  let module;
  try {
    // The release loader is a static import: service workers forbid import(). The debug one is for tests.
    factory = flavor === 'debug' ? (await import(/* @vite-ignore */ `./wasm/${base}.mjs`)).default : releaseFactory;
    const args = {
      getRandomValue: makeRandomSource(),
      locateFile: () => wasmUrl.href,
      print: () => {},
      printErr: () => {},
    };
    // We fetch the bytes ourselves: Emscripten 3.1.6's loader cannot fetch file: URLs in Node and does not
    // recognise module (service) workers.
    args.wasmBinary = options.wasmBinary ?? await readWasm(wasmUrl);
    module = await factory(args);
  } catch (err) {
    if (err instanceof PushPeerError) throw err;
    throw new PushPeerError('CORE_LOAD_FAILED', `could not load the pushpeer Wasm core: ${err?.message ?? err}`, { cause: err });
  }
  return new Core(module);
}

// Byte arguments are copied into buffers on the Wasm heap for one call, then wiped and freed.
class Arena {
  constructor(m) {
    this.m = m;
    this.blocks = [];
  }
  put(bytes) {
    const n = bytes.length;
    const ptr = this.m._malloc(n || 1);
    if (!ptr) throw fail('INTERNAL', 'out of memory');
    this.blocks.push([ptr, n || 1]);
    this.m.HEAPU8.set(bytes, ptr);
    return [ptr, n];
  }
  release() {
    for (const [ptr, n] of this.blocks) {
      this.m.HEAPU8.fill(0, ptr, ptr + n);
      this.m._free(ptr);
    }
    this.blocks.length = 0;
  }
}

function describe(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? (v.constructor?.name ?? 'an object') : typeof v;
}

class Core {
  #m;
  #broken = null;

  constructor(module) {
    this.#m = module;
    this.maxPayloadLength = MAX_PAYLOAD;
    this.testing = new CoreTesting(this);
    Object.freeze(this);
  }

  // Runs fn(arena) with the Wasm module; maps status numbers to PushPeerError and keeps an aborted instance
  // from being used again.
  _call(fn) {
    if (this.#broken) throw fail('INTERNAL', `the Wasm core is unusable after an earlier failure: ${this.#broken}`);
    const arena = new Arena(this.#m);
    let result;
    try {
      result = fn(this.#m, arena);
    } catch (err) {
      if (err instanceof PushPeerError) throw err;
      this.#broken = String(err?.message ?? err);
      throw new PushPeerError('INTERNAL', `Wasm core failure: ${this.#broken}`, { cause: err });
    } finally {
      try {
        arena.release();
      } catch {
        // the instance is already broken; nothing more to wipe
      }
    }
    if (typeof result === 'number' && result < 0) {
      throw fail(this.#m.statusName(result), this.#m.statusMessage(result));
    }
    return result;
  }

  // --- argument coercion ---

  /** Uint8Array or ArrayBuffer, or (unless base64 is false) base64url text as in a PushSubscription. */
  _bytes(value, what, { length, base64 = true, code = 'BAD_KEY' } = {}) {
    let bytes;
    if (value instanceof Uint8Array) bytes = value;
    else if (base64 && typeof value === 'string') bytes = decodeKeyText(value, what);
    else if (value instanceof ArrayBuffer) bytes = new Uint8Array(value);
    else throw fail('BAD_ARGUMENT', `${what} must be a Uint8Array${base64 ? ' or base64url string' : ''}, got ${describe(value)}`);
    if (length !== undefined && bytes.length !== length) {
      throw fail(code, `${what} must be ${length} bytes, got ${bytes.length}`);
    }
    return bytes;
  }

  /** PushSubscription, its toJSON() object or JSON text -> { endpoint, p256dh, auth } (bytes). */
  _subscription(value) {
    const bad = (why) => fail('BAD_SUBSCRIPTION', `subscription ${why}`);
    let s = value;
    try {
      if (typeof s === 'string') s = JSON.parse(s);
      else if (s !== null && typeof s === 'object' && typeof s.toJSON === 'function') s = s.toJSON();
    } catch (err) {
      throw new PushPeerError('BAD_SUBSCRIPTION', `subscription is not valid JSON: ${err?.message ?? err}`, { cause: err });
    }
    if (s === null || typeof s !== 'object' || Array.isArray(s)) throw bad(`must be an object, got ${describe(s)}`);
    if (typeof s.endpoint !== 'string') throw bad('has no endpoint string');
    const exp = s.expirationTime;
    if (exp !== undefined && exp !== null && !(typeof exp === 'number' && Number.isFinite(exp))) {
      throw bad(`expirationTime must be null or a number, got ${describe(exp)}`);
    }
    const keys = s.keys;
    if (keys === null || typeof keys !== 'object' || typeof keys.p256dh !== 'string' || typeof keys.auth !== 'string') {
      throw bad('has no keys.p256dh and keys.auth strings');
    }
    return {
      endpoint: s.endpoint,
      p256dh: this._bytes(keys.p256dh, 'keys.p256dh', { length: 65 }),
      auth: this._bytes(keys.auth, 'keys.auth', { length: 16 }),
    };
  }

  /** Payload: Uint8Array or a string (UTF-8). */
  _payload(value, what) {
    if (typeof value === 'string') return encoder.encode(value);
    if (value instanceof Uint8Array) return value;
    if (value instanceof ArrayBuffer) return new Uint8Array(value);
    throw fail('BAD_ARGUMENT', `${what} must be a Uint8Array or string, got ${describe(value)}`);
  }

  _string(value, what) {
    if (typeof value !== 'string') throw fail('BAD_ARGUMENT', `${what} must be a string, got ${describe(value)}`);
    return value;
  }

  _integer(value, what, { min = 0, max = 0xffffffff, fallback, code = 'BAD_ARGUMENT' } = {}) {
    if (value === undefined && fallback !== undefined) return fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw fail(code, `${what} must be an integer in [${min}, ${max}], got ${typeof value === 'number' ? value : describe(value)}`);
    }
    return value;
  }

  _options(options, what) {
    if (options === null || typeof options !== 'object') throw fail('BAD_ARGUMENT', `${what} expects an options object`);
    return options;
  }

  // --- API ---

  generateVapidKeys() {
    return this._call((m) => m.generateKeyPair());
  }

  vapidKeysFromPrivate(privateKey) {
    const priv = this._bytes(privateKey, 'privateKey', { length: 32 });
    const publicKey = this._call((m, a) => m.publicKeyFromPrivate(...a.put(priv)));
    return { publicKey, privateKey: Uint8Array.from(priv) };
  }

  vapidAuthorization(options) {
    const o = this._options(options, 'vapidAuthorization');
    const endpoint = this._string(o.endpoint, 'endpoint');
    const subject = this._string(o.subject, 'subject');
    const pub = this._bytes(o.publicKey, 'publicKey', { length: 65 });
    const priv = this._bytes(o.privateKey, 'privateKey', { length: 32 });
    const now = nowSeconds();
    const exp = o.expiration === undefined ? now + 12 * 3600 : o.expiration;
    if (typeof exp !== 'number' || !Number.isInteger(exp)) throw fail('BAD_EXPIRATION', 'expiration must be an integer (seconds since the epoch)');
    return this._call((m, a) => m.vapidAuthorization(endpoint, subject, ...a.put(priv), ...a.put(pub), exp, now));
  }

  verifyVapidJwt(jwt, publicKey) {
    const text = this._string(jwt, 'jwt');
    const pub = this._bytes(publicKey, 'publicKey', { length: 65 });
    return this._call((m, a) => m.verifyJwt(text, ...a.put(pub)));
  }

  encrypt(options) {
    const o = this._options(options, 'encrypt');
    const p256dh = this._bytes(o.p256dh, 'p256dh', { length: 65 });
    const auth = this._bytes(o.auth, 'auth', { length: 16 });
    const plaintext = this._payload(o.plaintext, 'plaintext');
    const recordSize = this._integer(o.recordSize, 'recordSize', { fallback: 4096, code: 'ECE_BAD_RECORD_SIZE' });
    const padding = this._integer(o.padding, 'padding', { fallback: 0 });
    if (plaintext.length + padding > MAX_PAYLOAD) {
      throw fail('PAYLOAD_TOO_LARGE', `plaintext (${plaintext.length}) + padding (${padding}) exceeds ${MAX_PAYLOAD} bytes (one push message)`);
    }
    return this._call((m, a) => m.encrypt(...a.put(p256dh), ...a.put(auth), ...a.put(plaintext), recordSize, padding));
  }

  decrypt(options) {
    const o = this._options(options, 'decrypt');
    const priv = this._bytes(o.privateKey, 'privateKey', { length: 32 });
    const pub = this._bytes(o.publicKey, 'publicKey', { length: 65 });
    const auth = this._bytes(o.auth, 'auth', { length: 16 });
    const body = this._bytes(o.body, 'body', { base64: false });
    if (body.length > MAX_BODY) throw fail('BAD_ARGUMENT', `body of ${body.length} bytes exceeds ${MAX_BODY}`);
    return this._call((m, a) => m.decrypt(...a.put(priv), ...a.put(pub), ...a.put(auth), ...a.put(body)));
  }

  buildPushRequest(options) {
    const o = this._options(options, 'buildPushRequest');
    const sub = this._subscription(o.subscription);
    const payload = this._payload(o.payload, 'payload');
    if (payload.length > MAX_PAYLOAD) {
      throw fail('PAYLOAD_TOO_LARGE', `payload of ${payload.length} bytes exceeds ${MAX_PAYLOAD} (one push message)`);
    }
    const keys = this._options(o.vapidKeys, 'vapidKeys');
    const pub = this._bytes(keys.publicKey, 'vapidKeys.publicKey', { length: 65 });
    const priv = this._bytes(keys.privateKey, 'vapidKeys.privateKey', { length: 32 });
    const subject = this._string(o.subject, 'subject');
    const ttl = this._integer(o.ttl, 'ttl', { fallback: DEFAULT_TTL, max: DEFAULT_TTL, code: 'BAD_TTL' });
    const urgency = o.urgency === undefined ? '' : this._string(o.urgency, 'urgency');
    if (o.urgency !== undefined && urgency.length === 0) throw fail('BAD_URGENCY', 'urgency must not be empty');
    const topic = o.topic === undefined ? '' : this._string(o.topic, 'topic');
    if (o.topic !== undefined && topic.length === 0) throw fail('BAD_TOPIC', 'topic must not be empty');
    const now = nowSeconds();
    const r = this._call((m, a) => m.buildPushRequest(sub.endpoint, ...a.put(sub.p256dh), ...a.put(sub.auth),
      ...a.put(payload), ...a.put(priv), ...a.put(pub), subject, now, ttl, urgency, topic));
    return { endpoint: r.endpoint, method: 'POST', headers: r.headers, body: r.body };
  }

  /** SHA-256 of bytes (or UTF-8 text): content hashes for files and chunks. */
  sha256(data) {
    const bytes = ArrayBuffer.isView(data) && !(data instanceof Uint8Array)
      ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : this._payload(data, 'data');
    return this._call((m, a) => m.sha256(...a.put(bytes)));
  }

  base64urlEncode(bytes) {
    return encodeBase64url(this._bytes(bytes, 'bytes', { base64: false }));
  }

  base64urlDecode(text) {
    return decodeBase64url(this._string(text, 'text'));
  }

  /** SDP text -> compact bytes (lossless; docs/PROTOCOL.md §2). */
  packSdp(sdp) {
    const text = this._string(sdp, 'sdp');
    const bytes = encoder.encode(text);
    if (bytes.length === 0 || bytes.length > MAX_SDP) throw fail('BAD_SDP', `sdp must be 1 to ${MAX_SDP} bytes, got ${bytes.length}`);
    return this._call((m, a) => m.packSdp(...a.put(bytes)));
  }

  /** Inverse of packSdp: the exact SDP text. */
  unpackSdp(packed) {
    const bytes = this._bytes(packed, 'packed', { base64: false });
    const out = this._call((m, a) => m.unpackSdp(...a.put(bytes)));
    try {
      return strictDecoder.decode(out);
    } catch {
      throw fail('BAD_PACKED_SDP', 'packed SDP does not decode to UTF-8 text');
    }
  }

  // --- grants, cards, envelopes (docs/PROTOCOL.md §3-4) ---

  /** Grants for our own subscription: pre-signed VAPID signatures others use to push to us. */
  issueGrants(options) {
    const o = this._options(options, 'issueGrants');
    const priv = this._bytes(o.privateKey, 'privateKey', { length: 32 });
    const endpoint = this._string(o.endpoint, 'endpoint');
    const subject = this._string(o.subject, 'subject');
    const count = this._integer(o.count, 'count', { min: 1, max: 16, fallback: 4 });
    const interval = this._integer(o.interval, 'interval', { min: 1, fallback: 20 * HOUR });
    const first = this._integer(o.firstExpiration, 'firstExpiration', { fallback: nowSeconds() + interval });
    return this._call((m, a) => m.issueGrants(...a.put(priv), endpoint, subject, first, interval, count));
  }

  /** Signed contact card: { bytes, text } (text = base64url, for #card= links and QR codes). */
  createCard(options) {
    const o = this._options(options, 'createCard');
    const identity = this._options(o.identity, 'identity');
    const priv = this._bytes(identity.privateKey, 'identity.privateKey', { length: 32 });
    const sub = this._subscription(o.subscription);
    const subject = this._string(o.subject, 'subject');
    const name = o.name === undefined ? '' : this._string(o.name, 'name');
    const created = this._integer(o.created, 'created', { fallback: nowSeconds() });
    const grants = o.grants ?? this.issueGrants({ privateKey: priv, endpoint: sub.endpoint, subject });
    if (!Array.isArray(grants)) throw fail('BAD_ARGUMENT', 'grants must be an array of { exp, signature }');
    const flat = new Uint8Array(grants.length * 68);
    grants.forEach((g, i) => {
      const exp = this._integer(g?.exp, `grants[${i}].exp`);
      const sig = this._bytes(g?.signature, `grants[${i}].signature`, { length: 64, base64: false, code: 'BAD_ARGUMENT' });
      new DataView(flat.buffer).setUint32(i * 68, exp);
      flat.set(sig, i * 68 + 4);
    });
    const bytes = this._call((m, a) => m.createCard(...a.put(priv), sub.endpoint, ...a.put(sub.p256dh), ...a.put(sub.auth),
      subject, name, created, ...a.put(flat)));
    return { bytes, text: encodeBase64url(bytes) };
  }

  /** Card bytes, its base64url text, or a link with #card=<text>: verified and decoded. */
  decodeCard(card) {
    const bytes = this._cardBytes(card);
    return this._call((m, a) => m.decodeCard(...a.put(bytes)));
  }

  /** Authorization header for a push to the card's owner, from its grant usable now. */
  grantAuthorization(card, options = {}) {
    const bytes = this._cardBytes(card);
    const now = this._integer(this._options(options, 'grantAuthorization').now, 'now', { fallback: nowSeconds() });
    return this._call((m, a) => m.grantAuthorization(...a.put(bytes), now));
  }

  /** Signs an envelope; refuses one that would not fit a push (PAYLOAD_TOO_LARGE). */
  sealEnvelope(options) {
    const o = this._options(options, 'sealEnvelope');
    const type = typeof o.type === 'string' ? ENVELOPE_TYPES[o.type] : o.type;
    if (!Number.isInteger(type) || type < 1 || type > 255) throw fail('BAD_ARGUMENT', `unknown envelope type ${String(o.type)}`);
    const priv = this._bytes(o.privateKey, 'privateKey', { length: 32 });
    const body = this._payload(o.body ?? new Uint8Array(0), 'body');
    if (body.length > MAX_PAYLOAD) throw fail('PAYLOAD_TOO_LARGE', `body of ${body.length} bytes exceeds ${MAX_PAYLOAD}`);
    const session = o.sessionId === undefined ? crypto.getRandomValues(new Uint8Array(8))
      : this._bytes(o.sessionId, 'sessionId', { length: 8, code: 'BAD_ARGUMENT' });
    const sequence = this._integer(o.sequence, 'sequence', { fallback: 0 });
    const timestamp = this._integer(o.timestamp, 'timestamp', { fallback: nowSeconds() });
    const card = o.card === undefined ? new Uint8Array(0) : this._cardBytes(o.card);
    const sealed = this._call((m, a) => m.sealEnvelope(...a.put(priv), type, ...a.put(session), sequence, timestamp,
      ...a.put(body), ...a.put(card)));
    if (!o.text) return sealed;
    // Text mode, for channels that carry text: base64url, at most 4096 characters.
    const text = encodeBase64url(sealed);
    if (text.length > MAX_ENVELOPE_TEXT) {
      throw fail('PAYLOAD_TOO_LARGE', `envelope text of ${text.length} characters exceeds ${MAX_ENVELOPE_TEXT}`);
    }
    return text;
  }

  /**
   * Verifies and opens an envelope: signature (by the embedded card's key, else by the key `peers` returns for
   * the sender's key id), time window and, unless replay is false, replays.
   */
  openEnvelope(envelope, options = {}) {
    const o = this._options(options, 'openEnvelope');
    if (typeof envelope === 'string' && envelope.length > MAX_ENVELOPE_TEXT) {
      throw fail('BAD_ENVELOPE', `envelope text longer than ${MAX_ENVELOPE_TEXT} characters`);
    }
    const bytes = typeof envelope === 'string' ? decodeBase64url(envelope, 'envelope')
      : this._bytes(envelope, 'envelope', { base64: false });
    const now = this._integer(o.now, 'now', { fallback: nowSeconds() });
    const maxAge = this._integer(o.maxAge, 'maxAge', { fallback: 600 });
    const maxSkew = this._integer(o.maxSkew, 'maxSkew', { fallback: 120 });
    const who = this._call((m, a) => m.envelopeSender(...a.put(bytes)));
    let known = new Uint8Array(0);
    if (!who.hasCard) {
      const id = encodeBase64url(who.keyId);
      const peers = o.peers;
      const found = typeof peers === 'function' ? peers(id) : peers instanceof Map ? peers.get(id) : peers?.[id];
      if (found === undefined || found === null) throw fail('UNKNOWN_SENDER', `no known peer with key id ${id}`);
      known = this._bytes(found, 'peer public key', { length: 65 });
    }
    const r = this._call((m, a) => m.openEnvelope(...a.put(bytes), now, ...a.put(known), o.replay !== false, maxAge, maxSkew));
    return { ...r, typeName: ENVELOPE_TYPE_NAMES[r.type] ?? 'unknown', cardBytes: r.card ? attachedCard(bytes) : null };
  }

  /** The replay guard's state (to persist across service-worker restarts) and its restore. */
  saveReplayState() {
    return this._call((m) => m.saveReplayState());
  }

  restoreReplayState(state) {
    const bytes = this._bytes(state, 'state', { base64: false });
    this._call((m, a) => m.restoreReplayState(...a.put(bytes)));
  }

  _cardBytes(card) {
    if (typeof card === 'string') {
      const text = /[#&]card=([A-Za-z0-9_-]+)/.exec(card)?.[1] ?? card;
      return decodeBase64url(text, 'card');
    }
    return this._bytes(card, 'card', { base64: false });
  }

  /** @internal Used by CoreTesting. */
  _raw(name, byteArgs, extra = []) {
    return this._call((m, a) => m[name](...byteArgs.flatMap((b) => a.put(b)), ...extra));
  }

  /** @internal Test hook: a copy of the whole Wasm memory. */
  _heapSnapshot() {
    return Uint8Array.from(this.#m.HEAPU8);
  }
}

// Deterministic and primitive entry points for test vectors (RFC, Wycheproof). Not for production use.
class CoreTesting {
  #core;
  constructor(core) {
    this.#core = core;
  }

  #b(v, what, opts) {
    return this.#core._bytes(v, what, opts);
  }

  encryptWithKeys(options) {
    const c = this.#core;
    const o = c._options(options, 'encryptWithKeys');
    const args = [
      this.#b(o.p256dh, 'p256dh'), this.#b(o.auth, 'auth'), this.#b(o.senderPrivateKey, 'senderPrivateKey'),
      this.#b(o.senderPublicKey, 'senderPublicKey'), this.#b(o.salt, 'salt'), c._payload(o.plaintext, 'plaintext'),
    ];
    const rs = c._integer(o.recordSize, 'recordSize', { fallback: 4096 });
    const pad = c._integer(o.padding, 'padding', { fallback: 0 });
    return c._raw('encryptWithKeys', args, [rs, pad]);
  }

  eceEncrypt(options) {
    const c = this.#core;
    const o = c._options(options, 'eceEncrypt');
    const rs = c._integer(o.recordSize, 'recordSize');
    const pad = c._integer(o.padding, 'padding', { fallback: 0 });
    const args = [this.#b(o.ikm, 'ikm', { base64: false }), this.#b(o.salt, 'salt', { base64: false }),
      this.#b(o.keyId ?? new Uint8Array(0), 'keyId', { base64: false })];
    const pt = c._payload(o.plaintext, 'plaintext');
    return c._call((m, a) => m.eceEncrypt(...args.flatMap((b) => a.put(b)), rs, pad, ...a.put(pt)));
  }

  eceDecrypt(options) {
    const o = this.#core._options(options, 'eceDecrypt');
    return this.#core._raw('eceDecrypt', [this.#b(o.ikm, 'ikm', { base64: false }), this.#b(o.body, 'body', { base64: false })]);
  }

  ecdh(privateKey, publicKey) {
    return this.#core._raw('ecdh', [this.#b(privateKey, 'privateKey'), this.#b(publicKey, 'publicKey')]);
  }

  publicKeyFromSpki(der) {
    return this.#core._raw('publicKeyFromSpki', [this.#b(der, 'der', { base64: false })]);
  }

  ecdsaSign(privateKey, message) {
    return this.#core._raw('ecdsaSign', [this.#b(privateKey, 'privateKey'), this.#b(message, 'message', { base64: false })]);
  }

  ecdsaVerify(publicKey, message, signature) {
    const r = this.#core._call((m, a) => {
      const s = m.ecdsaVerify(...a.put(this.#b(publicKey, 'publicKey')), ...a.put(this.#b(message, 'message', { base64: false })),
        ...a.put(this.#b(signature, 'signature', { base64: false })));
      // A bad signature is an answer (false), a bad key an error.
      return s === 0 ? true : (m.statusName(s) === 'BAD_SIGNATURE' ? false : s);
    });
    return r;
  }

  aesGcmSeal(key, iv, aad, plaintext) {
    return this.#core._raw('aesGcmSeal', [key, iv, aad, plaintext].map((v, i) => this.#b(v, `arg${i}`, { base64: false })));
  }

  aesGcmOpen(key, iv, aad, ciphertextAndTag) {
    return this.#core._raw('aesGcmOpen', [key, iv, aad, ciphertextAndTag].map((v, i) => this.#b(v, `arg${i}`, { base64: false })));
  }

  hkdfSha256(salt, ikm, info, length) {
    const n = this.#core._integer(length, 'length', { max: 255 * 32 });
    return this.#core._raw('hkdfSha256', [salt, ikm, info].map((v, i) => this.#b(v, `arg${i}`, { base64: false })), [n]);
  }

  hmacSha256(key, message) {
    return this.#core._raw('hmacSha256', [key, message].map((v, i) => this.#b(v, `arg${i}`, { base64: false })));
  }

  heapSnapshot() {
    return this.#core._heapSnapshot();
  }
}
