// pushpeer core: the Wasm module (C++: RFC 8188/8291 encryption, RFC 8292 VAPID, push requests) behind a small
// JS API. Works in Node, a page and a (service) worker. Types: core.d.ts.
import releaseFactory from './wasm/pushpeer-core.mjs';
import { PushPeerError } from './errors.js';

export { PushPeerError };

const MAX_DECRYPT_BODY = 16 * 1024 * 1024; // decrypt refuses larger inputs outright (many records; not a push)
const MAX_DEFAULT_STRING = 4096; // strings with no protocol limit of their own (subjects checked by the core)
const DEFAULT_TTL = 28 * 24 * 60 * 60;
const encoder = new TextEncoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true });
const HOUR = 3600;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

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

const FLAVORS = { release: 'pushpeer-core', testing: 'pushpeer-core-testing', debug: 'pushpeer-core-debug' };

/**
 * Loads and instantiates the Wasm core. Flavours: 'release' (default, what the package ships), 'testing' (the same
 * optimised build plus test-only entry points) and 'debug' (-sASSERTIONS=2 -sSAFE_HEAP=1, plus test entry points);
 * the last two exist in a build tree, not in the package.
 */
export async function loadCore(options = {}) {
  const flavor = options.flavor ?? 'release';
  if (!Object.hasOwn(FLAVORS, flavor)) throw fail('BAD_ARGUMENT', `unknown flavor ${flavor}`);
  const base = FLAVORS[flavor];
  // The release URL is a literal so that bundlers find the asset (Vite's dev-server dep optimizer cannot follow a
  // template); the other flavours are not shipped in the package.
  const defaultUrl = flavor === 'release' ? new URL('./wasm/pushpeer-core.wasm', import.meta.url)
    : new URL(/* @vite-ignore */ `./wasm/${base}.wasm`, import.meta.url);
  const wasmUrl = options.wasmUrl ? new URL(options.wasmUrl, import.meta.url) : defaultUrl;
  let instantiate;
  let module;
  try {
    // The release loader is a static import: service workers forbid import(). The others are for tests.
    const factory = flavor === 'release' ? releaseFactory : (await import(/* @vite-ignore */ `./wasm/${base}.mjs`)).default;
    // We fetch the bytes ourselves: Emscripten 3.1.6's loader cannot fetch file: URLs in Node and does not
    // recognise module (service) workers. The same bytes instantiate a fresh module after a trap (Core).
    const wasmBinary = options.wasmBinary ?? await readWasm(wasmUrl);
    instantiate = () => factory({
      getRandomValue: makeRandomSource(),
      locateFile: () => wasmUrl.href,
      print: () => {},
      printErr: () => {},
      wasmBinary,
    });
    module = await instantiate();
  } catch (err) {
    if (err instanceof PushPeerError) throw err;
    throw new PushPeerError('CORE_LOAD_FAILED', `could not load the pushpeer Wasm core: ${err?.message ?? err}`, { cause: err });
  }
  return new Core(module, instantiate);
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

// Content frame types and error codes by their number in the core (wasm/include/pushpeer/content/frame.hpp).
const FRAME_TYPES = Object.freeze([undefined, 'get-manifest', 'manifest', 'get', 'data', 'error', 'cancel', 'have',
  'get-have']);
const FRAME_ERRORS = Object.freeze([undefined, 'not-found', 'busy', 'bad-request', 'unavailable']);

// A hasher or tree held in the Wasm instance. After the instance was replaced (a trap) the handle means nothing:
// calls fail with INTERNAL, and the owner loads the tree again.
class ContentHandle {
  #core;
  #handle;
  #generation;
  #release;
  constructor(core, handle, release) {
    this.#core = core;
    this.#handle = handle;
    this.#generation = core.generation;
    this.#release = release;
  }

  #live(what) {
    if (this.#handle === 0) throw fail('BAD_ARGUMENT', `${what}: already released`);
    if (this.#core.generation !== this.#generation) throw fail('INTERNAL', `${what}: the core was reloaded since`);
    return this.#handle;
  }

  /** Hasher: adds bytes; returns the total hashed so far. */
  update(bytes) {
    const h = this.#live('update');
    const b = readingArguments('update', () => this.#core._bytes(bytes, 'bytes', { base64: false, max: 16 << 20, code: 'BAD_ARGUMENT' }));
    return this.#core._call((m, a) => m.contentHasherUpdate(h, ...a.put(b)));
  }

  /** Hasher: { root, size, nodes }; the hasher is released. */
  finish() {
    const h = this.#live('finish');
    this.#handle = 0;
    return this.#core._call((m) => m.contentHasherFinish(h));
  }

  /** Tree: the data frame answering `request` with leaves [first, first + count) of `file`, `bytes` their content. */
  encodeData(request, file, first, count, bytes) {
    const h = this.#live('encodeData');
    const c = this.#core;
    const args = readingArguments('encodeData', () => [c._integer(request, 'request'), c._integer(file, 'file'),
      c._integer(first, 'first'), c._integer(count, 'count', { min: 1, max: c.limits.content.maxRangeLeaves }),
      c._bytes(bytes, 'bytes', { base64: false, max: c.limits.content.maxRangeLeaves * c.limits.content.leafSize, code: 'BAD_ARGUMENT' })]);
    const data = args.pop();
    return c._call((m, a) => m.contentEncodeData(h, ...args, ...a.put(data)));
  }

  /**
   * Tree: the bytes of that data frame before its data, for `length` bytes of content (at most
   * limits.content.maxDataHeadLength): the frame is they followed by the content.
   */
  encodeDataHead(request, file, first, count, length) {
    const h = this.#live('encodeDataHead');
    const c = this.#core;
    const args = readingArguments('encodeDataHead', () => [c._integer(request, 'request'), c._integer(file, 'file'),
      c._integer(first, 'first'), c._integer(count, 'count', { min: 1, max: c.limits.content.maxRangeLeaves }),
      c._integer(length, 'length', { max: c.limits.content.maxRangeLeaves * c.limits.content.leafSize })]);
    return c._call((m) => m.contentEncodeDataHead(h, ...args));
  }

  release() {
    if (this.#handle === 0) return;
    const h = this.#handle;
    this.#handle = 0;
    if (this.#core.generation === this.#generation) this.#core._call((m) => m[this.#release](h));
  }
}

function describe(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? (v.constructor?.name ?? 'an object') : typeof v;
}

/**
 * Runs fn, which reads the caller's arguments: anything it throws that is not already a PushPeerError (a getter
 * of the caller's object that throws, a Proxy trap, a toJSON that fails) becomes BAD_ARGUMENT with the cause.
 */
function readingArguments(what, fn) {
  try {
    return fn();
  } catch (err) {
    if (err instanceof PushPeerError) throw err;
    throw new PushPeerError('BAD_ARGUMENT', `${what}: reading the arguments failed: ${err?.message ?? err}`, { cause: err });
  }
}

class Core {
  #m;
  #instantiate;
  #broken = null;
  #reloading = null;
  #generation = 0;

  constructor(module, instantiate) {
    this.#m = module;
    this.#instantiate = instantiate;
    const c = module.constants();
    /** The protocol's limits, from the core (docs/PROTOCOL.md). */
    const { statusNames, leafSize, maxContentSize, maxRangeLeaves, maxFrameLength, maxDataHeadLength, maxManifestLength,
      maxFiles, maxTitleLength, maxFileNameLength, maxTypeLength, pieceLeaves, maxPieces, maxSiteManifestLength, ...limits } = c;
    this.limits = Object.freeze({ ...limits, envelopeTypes: Object.freeze({ ...c.envelopeTypes }),
      content: Object.freeze({ leafSize, maxSize: maxContentSize, maxRangeLeaves, maxFrameLength, maxDataHeadLength,
        maxManifestLength, maxFiles, maxTitleLength, maxFileNameLength, maxTypeLength, pieceLeaves, maxPieces,
        maxSiteManifestLength }) });
    /** Every status name the core can return (PushPeerError.code values from the core). */
    this.statusNames = Object.freeze([...statusNames]);
    this.maxPayloadLength = c.maxPayload;
    this._typeNames = Object.fromEntries(Object.entries(c.envelopeTypes).map(([k, v]) => [v, k]));
    if (typeof module.hasTestingEntryPoints === 'function') {
      this.testing = new CoreTesting(this, {
        raw: (name, byteArgs, extra = []) => this._call((m, a) => m[name](...byteArgs.flatMap((b) => a.put(b)), ...extra)),
        heap: () => Uint8Array.from(this.#m.HEAPU8),
        trap: () => this._call((m) => m.trap()),
      });
    }
    Object.freeze(this);
  }

  /** How many times the Wasm instance was replaced after a trap (state kept in it, e.g. the replay guard, is new). */
  get generation() {
    return this.#generation;
  }

  /** Bytes of the Wasm instance's memory (it grows and never shrinks): what the core holds at most so far. */
  get heapBytes() {
    return this.#m.HEAPU8.length;
  }

  /** Resolves once the core is usable (it reloads itself after a trap). */
  ready() {
    return this.#reloading ?? Promise.resolve(this);
  }

  // Runs fn(module, arena); maps status numbers to PushPeerError. A trap (an abort, out of memory) leaves the
  // instance in an unknown state: it is dropped, a fresh one is instantiated from the same bytes, and calls fail
  // with INTERNAL until that is done (ready()).
  _call(fn) {
    if (this.#broken) throw fail('INTERNAL', `the Wasm core is reloading after a failure: ${this.#broken}`);
    const m = this.#m;
    const arena = new Arena(m);
    let result;
    try {
      result = fn(m, arena);
    } catch (err) {
      if (err instanceof PushPeerError) throw err;
      this.#broken = String(err?.message ?? err);
      this.#reload();
      throw new PushPeerError('INTERNAL', `Wasm core failure (reloading): ${this.#broken}`, { cause: err });
    } finally {
      if (!this.#broken) arena.release(); // a trapped instance is discarded whole, heap and all
    }
    if (typeof result === 'number' && result < 0) {
      throw fail(m.statusName(result), m.statusMessage(result));
    }
    return result;
  }

  #reload() {
    this.#reloading = this.#instantiate().then((module) => {
      this.#m = module;
      this.#broken = null;
      this.#generation++;
      this.#reloading = null;
      return this;
    }, (error) => {
      this.#broken = `reloading failed too: ${error?.message ?? error}`;
      this.#reloading = null;
      throw new PushPeerError('INTERNAL', this.#broken, { cause: error });
    });
    this.#reloading.catch(() => {});
  }

  // --- argument coercion ---

  /** Uint8Array or ArrayBuffer, or (unless base64 is false) base64url text as in a PushSubscription. */
  _bytes(value, what, { length, max, base64 = true, code = 'BAD_KEY' } = {}) {
    let bytes;
    if (value instanceof Uint8Array) bytes = value;
    else if (base64 && typeof value === 'string') bytes = decodeKeyText(this._string(value, what, { max: 4 * Math.ceil((length ?? max ?? MAX_DEFAULT_STRING) / 3) + 2, code }), what);
    else if (value instanceof ArrayBuffer) bytes = new Uint8Array(value);
    else throw fail('BAD_ARGUMENT', `${what} must be a Uint8Array${base64 ? ' or base64url string' : ''}, got ${describe(value)}`);
    if (length !== undefined && bytes.length !== length) {
      throw fail(code, `${what} must be ${length} bytes, got ${bytes.length}`);
    }
    if (max !== undefined && bytes.length > max) throw fail(code, `${what} must be at most ${max} bytes, got ${bytes.length}`);
    return bytes;
  }

  /** PushSubscription, its toJSON() object or JSON text -> { endpoint, p256dh, auth } (bytes). */
  _subscription(value) {
    const bad = (why) => fail('BAD_SUBSCRIPTION', `subscription ${why}`);
    let s = value;
    try {
      if (typeof s === 'string') s = JSON.parse(this._string(s, 'subscription', { code: 'BAD_SUBSCRIPTION' }));
      else if (s !== null && typeof s === 'object' && typeof s.toJSON === 'function') s = s.toJSON();
    } catch (err) {
      if (err instanceof PushPeerError) throw err;
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
      endpoint: this._string(s.endpoint, 'endpoint', { max: this.limits.maxEndpoint, code: 'BAD_ENDPOINT' }),
      p256dh: this._bytes(keys.p256dh, 'keys.p256dh', { length: 65 }),
      auth: this._bytes(keys.auth, 'keys.auth', { length: 16 }),
    };
  }

  /** Payload: Uint8Array or a string (UTF-8), at most `max` bytes (PAYLOAD_TOO_LARGE beyond). */
  _payload(value, what, max) {
    let bytes;
    if (typeof value === 'string') {
      // UTF-8 is at most 3 bytes per UTF-16 unit: refuse a huge string before encoding it.
      if (max !== undefined && value.length > max) throw fail('PAYLOAD_TOO_LARGE', `${what} exceeds ${max} bytes`);
      bytes = encoder.encode(value);
    } else if (value instanceof Uint8Array) bytes = value;
    else if (value instanceof ArrayBuffer) bytes = new Uint8Array(value);
    else throw fail('BAD_ARGUMENT', `${what} must be a Uint8Array or string, got ${describe(value)}`);
    if (max !== undefined && bytes.length > max) {
      throw fail('PAYLOAD_TOO_LARGE', `${what} of ${bytes.length} bytes exceeds ${max} (one push message)`);
    }
    return bytes;
  }

  /**
   * A string of at most `max` UTF-16 units (the core checks exact byte limits; this bounds the copy). A lone
   * surrogate is BAD_TEXT: converted to UTF-8 it would silently become U+FFFD, and the core check it differently.
   */
  _string(value, what, { max = MAX_DEFAULT_STRING, code = 'BAD_ARGUMENT' } = {}) {
    if (typeof value !== 'string') throw fail('BAD_ARGUMENT', `${what} must be a string, got ${describe(value)}`);
    if (value.length > max) throw fail(code, `${what} is longer than ${max} characters`);
    if (LONE_SURROGATE.test(value)) throw fail('BAD_TEXT', `${what} is not well-formed Unicode (a lone surrogate)`);
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

  /** An 8-byte key id: bytes, or its base64url text (as peers are listed). */
  _keyId(value, what) {
    return this._bytes(value, what, { length: this.limits.keyIdLength, code: 'BAD_ARGUMENT' });
  }

  // --- API ---

  generateVapidKeys() {
    return this._call((m) => m.generateKeyPair());
  }

  vapidKeysFromPrivate(privateKey) {
    const priv = readingArguments('vapidKeysFromPrivate', () => this._bytes(privateKey, 'privateKey', { length: 32 }));
    const publicKey = this._call((m, a) => m.publicKeyFromPrivate(...a.put(priv)));
    return { publicKey, privateKey: Uint8Array.from(priv) };
  }

  vapidAuthorization(options) {
    const [endpoint, subject, pub, priv, exp, now] = readingArguments('vapidAuthorization', () => {
      const o = this._options(options, 'vapidAuthorization');
      const t = nowSeconds();
      const e = o.expiration === undefined ? t + 12 * 3600 : o.expiration;
      if (typeof e !== 'number' || !Number.isInteger(e)) throw fail('BAD_EXPIRATION', 'expiration must be an integer (seconds since the epoch)');
      return [this._string(o.endpoint, 'endpoint', { max: this.limits.maxEndpoint, code: 'BAD_ENDPOINT' }),
        this._string(o.subject, 'subject', { code: 'BAD_SUBJECT' }), this._bytes(o.publicKey, 'publicKey', { length: 65 }),
        this._bytes(o.privateKey, 'privateKey', { length: 32 }), e, t];
    });
    return this._call((m, a) => m.vapidAuthorization(endpoint, subject, ...a.put(priv), ...a.put(pub), exp, now));
  }

  verifyVapidJwt(jwt, publicKey) {
    const [text, pub] = readingArguments('verifyVapidJwt', () => [
      this._string(jwt, 'jwt', { max: this.limits.maxJwt, code: 'BAD_JWT' }), this._bytes(publicKey, 'publicKey', { length: 65 })]);
    return this._call((m, a) => m.verifyJwt(text, ...a.put(pub)));
  }

  encrypt(options) {
    const [p256dh, auth, plaintext, recordSize, padding] = readingArguments('encrypt', () => {
      const o = this._options(options, 'encrypt');
      const pt = this._payload(o.plaintext, 'plaintext', this.limits.maxPayload);
      const rs = this._integer(o.recordSize, 'recordSize', { fallback: 4096, code: 'ECE_BAD_RECORD_SIZE' });
      const pad = this._integer(o.padding, 'padding', { fallback: 0 });
      if (pt.length + pad > this.limits.maxPayload) {
        throw fail('PAYLOAD_TOO_LARGE', `plaintext (${pt.length}) + padding (${pad}) exceeds ${this.limits.maxPayload} bytes (one push message)`);
      }
      return [this._bytes(o.p256dh, 'p256dh', { length: 65 }), this._bytes(o.auth, 'auth', { length: 16 }), pt, rs, pad];
    });
    return this._call((m, a) => m.encrypt(...a.put(p256dh), ...a.put(auth), ...a.put(plaintext), recordSize, padding));
  }

  decrypt(options) {
    const [priv, pub, auth, body] = readingArguments('decrypt', () => {
      const o = this._options(options, 'decrypt');
      return [this._bytes(o.privateKey, 'privateKey', { length: 32 }), this._bytes(o.publicKey, 'publicKey', { length: 65 }),
        this._bytes(o.auth, 'auth', { length: 16 }),
        this._bytes(o.body, 'body', { base64: false, max: MAX_DECRYPT_BODY, code: 'BAD_ARGUMENT' })];
    });
    return this._call((m, a) => m.decrypt(...a.put(priv), ...a.put(pub), ...a.put(auth), ...a.put(body)));
  }

  buildPushRequest(options) {
    const args = readingArguments('buildPushRequest', () => {
      const o = this._options(options, 'buildPushRequest');
      const sub = this._subscription(o.subscription);
      const payload = this._payload(o.payload, 'payload', this.limits.maxPayload);
      const keys = this._options(o.vapidKeys, 'vapidKeys');
      const pub = this._bytes(keys.publicKey, 'vapidKeys.publicKey', { length: 65 });
      const priv = this._bytes(keys.privateKey, 'vapidKeys.privateKey', { length: 32 });
      const subject = this._string(o.subject, 'subject', { code: 'BAD_SUBJECT' });
      const ttl = this._integer(o.ttl, 'ttl', { fallback: DEFAULT_TTL, max: this.limits.maxTtl, code: 'BAD_TTL' });
      const urgency = o.urgency === undefined ? '' : this._string(o.urgency, 'urgency', { max: 16, code: 'BAD_URGENCY' });
      if (o.urgency !== undefined && urgency.length === 0) throw fail('BAD_URGENCY', 'urgency must not be empty');
      const topic = o.topic === undefined ? '' : this._string(o.topic, 'topic', { max: 32, code: 'BAD_TOPIC' });
      if (o.topic !== undefined && topic.length === 0) throw fail('BAD_TOPIC', 'topic must not be empty');
      return { sub, payload, pub, priv, subject, ttl, urgency, topic };
    });
    const { sub, payload, pub, priv, subject, ttl, urgency, topic } = args;
    const now = nowSeconds();
    const r = this._call((m, a) => m.buildPushRequest(sub.endpoint, ...a.put(sub.p256dh), ...a.put(sub.auth),
      ...a.put(payload), ...a.put(priv), ...a.put(pub), subject, now, ttl, urgency, topic));
    return { endpoint: r.endpoint, method: 'POST', headers: r.headers, body: r.body };
  }

  /** SHA-256 of bytes (or UTF-8 text): content hashes for files and chunks. */
  sha256(data) {
    const bytes = readingArguments('sha256', () => (ArrayBuffer.isView(data) && !(data instanceof Uint8Array)
      ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : this._payload(data, 'data')));
    return this._call((m, a) => m.sha256(...a.put(bytes)));
  }

  base64urlEncode(bytes) {
    return encodeBase64url(readingArguments('base64urlEncode', () => this._bytes(bytes, 'bytes', { base64: false })));
  }

  base64urlDecode(text) {
    return decodeBase64url(readingArguments('base64urlDecode', () => this._string(text, 'text', { max: Infinity })));
  }

  /** SDP text -> compact bytes (lossless; docs/PROTOCOL.md §2). */
  packSdp(sdp) {
    const bytes = readingArguments('packSdp', () => {
      const text = this._string(sdp, 'sdp', { max: this.limits.maxSdp, code: 'BAD_SDP' });
      const b = encoder.encode(text);
      if (b.length === 0 || b.length > this.limits.maxSdp) throw fail('BAD_SDP', `sdp must be 1 to ${this.limits.maxSdp} bytes, got ${b.length}`);
      return b;
    });
    return this._call((m, a) => m.packSdp(...a.put(bytes)));
  }

  /** Inverse of packSdp: the exact SDP text. */
  unpackSdp(packed) {
    const bytes = readingArguments('unpackSdp', () => this._bytes(packed, 'packed', { base64: false, max: this.limits.maxSdp, code: 'BAD_PACKED_SDP' }));
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
    const [priv, endpoint, subject, first, interval, count] = readingArguments('issueGrants', () => {
      const o = this._options(options, 'issueGrants');
      const iv = this._integer(o.interval, 'interval', { min: 1, fallback: 20 * HOUR });
      return [this._bytes(o.privateKey, 'privateKey', { length: 32 }),
        this._string(o.endpoint, 'endpoint', { max: this.limits.maxEndpoint, code: 'BAD_ENDPOINT' }),
        this._string(o.subject, 'subject', { max: this.limits.maxSubject, code: 'BAD_SUBJECT' }),
        this._integer(o.firstExpiration, 'firstExpiration', { fallback: nowSeconds() + iv }), iv,
        this._integer(o.count, 'count', { min: 1, max: 16, fallback: 4 })];
    });
    return this._call((m, a) => m.issueGrants(...a.put(priv), endpoint, subject, first, interval, count));
  }

  /** Signed contact card: { bytes, text } (text = base64url, for #card= links and QR codes). */
  createCard(options) {
    const { priv, sub, subject, name, created, flat } = readingArguments('createCard', () => {
      const o = this._options(options, 'createCard');
      const identity = this._options(o.identity, 'identity');
      const p = this._bytes(identity.privateKey, 'identity.privateKey', { length: 32 });
      const s = this._subscription(o.subscription);
      const subj = this._string(o.subject, 'subject', { max: this.limits.maxSubject, code: 'BAD_SUBJECT' });
      // The name's byte limit and its text rules (no controls, no bidi overrides) are the core's (BAD_TEXT).
      const n = o.name === undefined ? '' : this._string(o.name, 'name', { max: this.limits.maxName });
      const c = this._integer(o.created, 'created', { fallback: nowSeconds() });
      const grants = o.grants ?? this.issueGrants({ privateKey: p, endpoint: s.endpoint, subject: subj });
      if (!Array.isArray(grants) || grants.length > 16) throw fail('BAD_ARGUMENT', 'grants must be an array of at most 16 { exp, signature }');
      const f = new Uint8Array(grants.length * 68);
      grants.forEach((g, i) => {
        const exp = this._integer(g?.exp, `grants[${i}].exp`);
        const sig = this._bytes(g?.signature, `grants[${i}].signature`, { length: 64, base64: false, code: 'BAD_ARGUMENT' });
        new DataView(f.buffer).setUint32(i * 68, exp);
        f.set(sig, i * 68 + 4);
      });
      return { priv: p, sub: s, subject: subj, name: n, created: c, flat: f };
    });
    const bytes = this._call((m, a) => m.createCard(...a.put(priv), sub.endpoint, ...a.put(sub.p256dh), ...a.put(sub.auth),
      subject, name, created, ...a.put(flat)));
    return { bytes, text: encodeBase64url(bytes) };
  }

  /** Card bytes, its base64url text, or a link with #card=<text>: verified and decoded. */
  decodeCard(card) {
    const bytes = readingArguments('decodeCard', () => this._cardBytes(card));
    return this._call((m, a) => m.decodeCard(...a.put(bytes)));
  }

  /** Authorization header for a push to the card's owner, from its grant usable now. */
  grantAuthorization(card, options = {}) {
    const [bytes, now] = readingArguments('grantAuthorization', () => [this._cardBytes(card),
      this._integer(this._options(options, 'grantAuthorization').now, 'now', { fallback: nowSeconds() })]);
    return this._call((m, a) => m.grantAuthorization(...a.put(bytes), now));
  }

  /**
   * Signs an envelope for `recipient` (its key id); refuses one that would not fit a push (PAYLOAD_TOO_LARGE).
   * Answers and byes carry `ref`, the envelopeReference() of the offer they answer.
   */
  sealEnvelope(options) {
    const args = readingArguments('sealEnvelope', () => {
      const o = this._options(options, 'sealEnvelope');
      const type = typeof o.type === 'string' ? this.limits.envelopeTypes[o.type] : o.type;
      if (!Number.isInteger(type) || !Object.values(this.limits.envelopeTypes).includes(type)) {
        throw fail('BAD_ARGUMENT', `unknown envelope type ${String(o.type)}`);
      }
      return {
        type,
        priv: this._bytes(o.privateKey, 'privateKey', { length: 32 }),
        recipient: this._keyId(o.recipient, 'recipient'),
        body: this._payload(o.body ?? new Uint8Array(0), 'body', this.limits.maxEnvelopeBody),
        session: o.sessionId === undefined ? crypto.getRandomValues(new Uint8Array(this.limits.sessionIdLength))
          : this._bytes(o.sessionId, 'sessionId', { length: this.limits.sessionIdLength, code: 'BAD_ARGUMENT' }),
        sequence: this._integer(o.sequence, 'sequence', { fallback: 0 }),
        timestamp: this._integer(o.timestamp, 'timestamp', { fallback: nowSeconds() }),
        ref: o.ref === undefined || o.ref === null ? new Uint8Array(0)
          : this._bytes(o.ref, 'ref', { length: this.limits.refLength, base64: false, code: 'BAD_ARGUMENT' }),
        card: o.card === undefined ? new Uint8Array(0) : this._cardBytes(o.card),
        text: Boolean(o.text),
      };
    });
    const { type, priv, recipient, body, session, sequence, timestamp, ref, card } = args;
    const sealed = this._call((m, a) => m.sealEnvelope(...a.put(priv), type, ...a.put(recipient), ...a.put(session),
      sequence, timestamp, ...a.put(ref), ...a.put(body), ...a.put(card)));
    if (!args.text) return sealed;
    // Text mode, for channels that carry text: base64url, at most maxEnvelopeText characters.
    const text = encodeBase64url(sealed);
    if (text.length > this.limits.maxEnvelopeText) {
      throw fail('PAYLOAD_TOO_LARGE', `envelope text of ${text.length} characters exceeds ${this.limits.maxEnvelopeText}`);
    }
    return text;
  }

  /** An envelope's bytes: given as bytes, or in text mode (base64url); over the protocol's limits: BAD_ENVELOPE. */
  _envelopeBytes(envelope) {
    return typeof envelope === 'string'
      ? decodeBase64url(this._string(envelope, 'envelope', { max: this.limits.maxEnvelopeText, code: 'BAD_ENVELOPE' }), 'envelope')
      : this._bytes(envelope, 'envelope', { base64: false, max: this.limits.maxPayload, code: 'BAD_ENVELOPE' });
  }

  /**
   * Verifies and opens an envelope addressed to `self` (our key id, or our 65-byte public key): signature (by the
   * embedded card's key, else by the key `peers` returns for the sender's key id), recipient, time window and,
   * unless replay is false, replays.
   */
  openEnvelope(envelope, options = {}) {
    const { bytes, now, maxAge, maxSkew, self, peers, replay } = readingArguments('openEnvelope', () => {
      const o = this._options(options, 'openEnvelope');
      const b = this._envelopeBytes(envelope);
      if (o.self === undefined) throw fail('BAD_ARGUMENT', 'openEnvelope needs { self }: our key id, to refuse envelopes for others');
      const selfBytes = o.self instanceof Uint8Array && o.self.length === 65 ? null : this._keyId(o.self, 'self');
      return {
        bytes: b,
        now: this._integer(o.now, 'now', { fallback: nowSeconds() }),
        maxAge: this._integer(o.maxAge, 'maxAge', { fallback: this.limits.envelopeMaxAge }),
        maxSkew: this._integer(o.maxSkew, 'maxSkew', { fallback: this.limits.envelopeMaxSkew }),
        self: selfBytes ?? this.keyIdOf(o.self),
        peers: o.peers,
        replay: o.replay !== false,
      };
    });
    const who = this._call((m, a) => m.envelopeSender(...a.put(bytes)));
    let known = new Uint8Array(0);
    if (!who.hasCard) {
      const id = encodeBase64url(who.keyId);
      const found = readingArguments('openEnvelope peers', () => (typeof peers === 'function' ? peers(id)
        : peers instanceof Map ? peers.get(id) : peers?.[id]));
      if (found === undefined || found === null) throw fail('UNKNOWN_SENDER', `no known peer with key id ${id}`);
      known = this._bytes(found, 'peer public key', { length: 65 });
    }
    const r = this._call((m, a) => m.openEnvelope(...a.put(bytes), now, ...a.put(self), ...a.put(known), replay, maxAge, maxSkew));
    return { ...r, typeName: this._typeNames[r.type] };
  }

  /**
   * Who an envelope says it is from, WITHOUT verifying anything: { keyId (base64url), hasCard }. For looking up
   * a known sender's key before openEnvelope(), which verifies.
   */
  envelopeSender(envelope) {
    const bytes = readingArguments('envelopeSender', () => this._envelopeBytes(envelope));
    const who = this._call((m, a) => m.envelopeSender(...a.put(bytes)));
    return { keyId: encodeBase64url(who.keyId), hasCard: who.hasCard };
  }

  /** The 16 bytes an answer or a bye carries as `ref` to name the offer envelope it answers. */
  envelopeReference(envelope) {
    const bytes = readingArguments('envelopeReference', () => this._bytes(envelope, 'envelope', { base64: false, max: this.limits.maxPayload }));
    return this._call((m, a) => m.envelopeReference(...a.put(bytes)));
  }

  /** The push Topic for an envelope of `type` to `recipient` in session `sessionId` (docs/PROTOCOL.md §4). */
  pushTopic(type, recipient, sessionId) {
    const [t, r, s] = readingArguments('pushTopic', () => {
      const n = typeof type === 'string' ? this.limits.envelopeTypes[type] : type;
      if (!Number.isInteger(n)) throw fail('BAD_ARGUMENT', `unknown envelope type ${String(type)}`);
      return [n, this._keyId(recipient, 'recipient'),
        this._bytes(sessionId, 'sessionId', { length: this.limits.sessionIdLength, code: 'BAD_ARGUMENT' })];
    });
    return this._call((m, a) => m.envelopeTopic(t, ...a.put(r), ...a.put(s)));
  }

  /** The 8-byte key id of a 65-byte identity public key (docs/PROTOCOL.md §4), as envelopes name peers. */
  keyIdOf(identity) {
    const key = readingArguments('keyIdOf', () => this._bytes(identity, 'identity', { length: 65 }));
    return this._call((m, a) => m.keyIdOf(...a.put(key)));
  }

  /**
   * Seals an envelope for a neighbour to carry to the owner of `recipientIdentity` (their card's 65-byte identity
   * key): an RFC 8291 body that only that key opens (docs/PROTOCOL.md §4.1). The carrier can neither read nor alter
   * it; who sealed it is not proven by the seal but by the envelope's signature (openEnvelope).
   */
  sealForPeer(options) {
    const [envelope, identity] = readingArguments('sealForPeer', () => {
      const o = this._options(options, 'sealForPeer');
      return [this._bytes(o.envelope, 'envelope', { base64: false, max: this.limits.maxPayload, code: 'PAYLOAD_TOO_LARGE' }),
        this._bytes(o.recipientIdentity, 'recipientIdentity', { length: 65 })];
    });
    return this._call((m, a) => m.sealForPeer(...a.put(envelope), ...a.put(identity)));
  }

  /** Opens what sealForPeer sealed to our identity key pair: the envelope bytes (still to be checked: openEnvelope). */
  openFromPeer(options) {
    const [body, priv, pub] = readingArguments('openFromPeer', () => {
      const o = this._options(options, 'openFromPeer');
      return [this._bytes(o.body, 'body', { base64: false, max: this.limits.maxPushBody, code: 'PAYLOAD_TOO_LARGE' }),
        this._bytes(o.privateKey, 'privateKey', { length: 32 }), this._bytes(o.publicKey, 'publicKey', { length: 65 })];
    });
    return this._call((m, a) => m.openFromPeer(...a.put(body), ...a.put(priv), ...a.put(pub)));
  }

  /**
   * A group's public id (docs/PROTOCOL.md §7.8): HMAC-SHA256(secret, "pushpeer/group/v1/id")[0..16]. `secret` is the
   * group's 16 to 64 bytes, or their base64url text as an invite link carries them; the id reveals nothing of it.
   */
  groupId(secret) {
    const s = readingArguments('groupId', () => this._groupSecret(secret));
    return this._call((m, a) => m.groupId(...a.put(s)));
  }

  /**
   * Proves membership for one identity key: HMAC-SHA256(secret, "pushpeer/group/v1/member" || keyId)[0..16]
   * (docs/PROTOCOL.md §7.8), keyId the key's 8-byte id. Bound to that key id: it proves nothing for another.
   */
  groupProof(options) {
    const [s, id] = readingArguments('groupProof', () => {
      const o = this._options(options, 'groupProof');
      return [this._groupSecret(o.secret), this._keyId(o.keyId, 'keyId')];
    });
    return this._call((m, a) => m.groupProof(...a.put(s), ...a.put(id)));
  }

  /**
   * Whether `proof` is keyId's proof for the group of `secret`, compared in constant time. A proof of any other
   * length (bytes or base64url text) is false, not an error; a bad secret or key id is BAD_ARGUMENT.
   */
  checkGroupProof(options) {
    const [s, id, proof] = readingArguments('checkGroupProof', () => {
      const o = this._options(options, 'checkGroupProof');
      const n = this.limits.groupProofLength;
      const secret = this._groupSecret(o.secret);
      const keyId = this._keyId(o.keyId, 'keyId');
      // Text longer than a proof's base64url cannot be one: it is neither decoded nor copied.
      const tooLong = typeof o.proof === 'string' && o.proof.length > 4 * Math.ceil(n / 3) + 2;
      const p = tooLong ? null : this._bytes(o.proof, 'proof', { code: 'BAD_ARGUMENT' });
      // The core says false for any other length; such a proof is not copied into the heap, an empty one is.
      return [secret, keyId, p?.length === n ? p : new Uint8Array(0)];
    });
    return this._call((m, a) => m.checkGroupProof(...a.put(s), ...a.put(id), ...a.put(proof)));
  }

  /** The replay guard's state (to persist across service-worker restarts) and its restore. */
  saveReplayState() {
    return this._call((m) => m.saveReplayState());
  }

  restoreReplayState(state) {
    const bytes = readingArguments('restoreReplayState', () => this._bytes(state, 'state', { base64: false, max: 1 << 20, code: 'BAD_ARGUMENT' }));
    this._call((m, a) => m.restoreReplayState(...a.put(bytes)));
  }

  // --- content (docs/PROTOCOL.md §9): merkle trees, manifests, content-channel frames ---

  /**
   * A streaming BLAKE2b merkle hasher (16 KiB leaves): update(bytes) as often as needed, then finish() →
   * { root, size, nodes } (nodes: the whole tree, 64 bytes per leaf, to store and load with contentTree()).
   * Holds one partial leaf and 32 bytes per leaf in the Wasm heap; release() it if it is not finished.
   */
  contentHasher() {
    return new ContentHandle(this, this._call((m) => m.contentHasherNew()), 'contentHasherRelease');
  }

  /**
   * Loads a stored tree (what finish() or contentTreeFromLeaves() gave) to serve ranges of it: every parent is
   * recomputed and the root compared (CHUNK_MISMATCH for a tree that was altered in storage). The handle's
   * encodeData(request, file, first, count, bytes) frames leaves [first, first + count) with their proof.
   */
  contentTree({ size, nodes, root } = {}) {
    const [n, bytes, r] = readingArguments('contentTree', () => [this._contentSize(size),
      this._bytes(nodes, 'nodes', { base64: false, max: 64 * this.limits.content.maxSize / this.limits.content.leafSize, code: 'BAD_ARGUMENT' }),
      this._hash(root, 'root')]);
    return new ContentHandle(this, this._call((m, a) => m.contentTreeLoad(n, ...a.put(bytes), ...a.put(r))), 'contentTreeRelease');
  }

  /** The tree over verified leaf hashes (32 bytes each, in order), which must lead to `root`: { root, size, nodes }. */
  contentTreeFromLeaves({ size, leaves, root } = {}) {
    const [n, bytes, r] = readingArguments('contentTreeFromLeaves', () => [this._contentSize(size),
      this._bytes(leaves, 'leaves', { base64: false, max: 32 * this.limits.content.maxSize / this.limits.content.leafSize, code: 'BAD_ARGUMENT' }),
      this._hash(root, 'root')]);
    return this._call((m, a) => m.contentTreeFromLeaves(n, ...a.put(bytes), ...a.put(r)));
  }

  /**
   * Reads a content frame (docs/PROTOCOL.md §9.4): { type, request, ... } with type one of 'get-manifest',
   * 'manifest', 'get', 'data', 'error', 'cancel', 'have' ({ share, file, first, count, bits }: pieces
   * [first, first + count), piece first + i held when bit i is set, the high bit of bits[0] first), 'get-have'
   * ({ share, file }). A data frame's bytes are not checked here: openContentData does.
   */
  decodeContentFrame(frame) {
    const bytes = readingArguments('decodeContentFrame', () => this._bytes(frame, 'frame', { base64: false, max: this.limits.content.maxFrameLength, code: 'BAD_FRAME' }));
    const f = this._call((m, a) => m.contentDecodeFrame(...a.put(bytes)));
    f.type = FRAME_TYPES[f.type];
    if (f.code !== undefined) f.code = FRAME_ERRORS[f.code];
    return f;
  }

  /**
   * A content frame other than data and manifest: { type, request, share, file, first, count, code, bits }.
   * A have frame's bits must be ⌈count / 8⌉ bytes with the last byte's spare bits clear (BAD_ARGUMENT).
   */
  encodeContentFrame(options) {
    if (options?.type === 'have') return this._encodeHave(options);
    const args = readingArguments('encodeContentFrame', () => {
      const o = this._options(options, 'encodeContentFrame');
      const type = FRAME_TYPES.indexOf(o.type);
      if (type < 1 || o.type === 'data' || o.type === 'manifest') throw fail('BAD_ARGUMENT', `no such frame type to encode: ${String(o.type)}`);
      const code = o.type === 'error' ? FRAME_ERRORS.indexOf(o.code) : 0;
      if (code < 0 || (o.type === 'error' && code === 0)) throw fail('BAD_ARGUMENT', `no such content error code: ${String(o.code)}`);
      const needsShare = o.type === 'get' || o.type === 'get-manifest' || o.type === 'get-have';
      return [type, this._integer(o.request, 'request'), needsShare ? this._hash(o.share, 'share') : new Uint8Array(0),
        o.type === 'get' || o.type === 'get-have' ? this._integer(o.file, 'file') : 0,
        o.type === 'get' ? this._integer(o.first, 'first') : 0,
        o.type === 'get' ? this._integer(o.count, 'count', { min: 1, max: this.limits.content.maxRangeLeaves }) : 0, code];
    });
    const [type, request, share, ...rest] = args;
    return this._call((m, a) => m.contentEncodeFrame(type, request, ...a.put(share), ...rest));
  }

  _encodeHave(options) {
    const [request, share, file, first, count, bits] = readingArguments('encodeContentFrame', () => {
      const o = this._options(options, 'encodeContentFrame');
      const { maxPieces } = this.limits.content;
      return [this._integer(o.request, 'request'), this._hash(o.share, 'share'), this._integer(o.file, 'file'),
        this._integer(o.first, 'first', { max: maxPieces - 1 }), this._integer(o.count, 'count', { min: 1, max: maxPieces }),
        this._bytes(o.bits, 'bits', { base64: false, max: maxPieces / 8, code: 'BAD_ARGUMENT' })];
    });
    return this._call((m, a) => m.contentEncodeHave(request, ...a.put(share), file, first, count, ...a.put(bits)));
  }

  /** The frame that answers `request` with a manifest's bytes. */
  encodeManifestFrame(request, manifest) {
    const [r, bytes] = readingArguments('encodeManifestFrame', () => [this._integer(request, 'request'),
      this._bytes(manifest, 'manifest', { base64: false, max: this.limits.content.maxManifestLength, code: 'BAD_MANIFEST' })]);
    return this._call((m, a) => m.contentEncodeManifest(r, ...a.put(bytes)));
  }

  /**
   * Checks a data frame that must answer leaves [first, first + count) of `file` of a content with `root` and
   * `size`: { data, leaves, proof } (the verified bytes: a view of `frame`, which must then stay as it is; their
   * 32-byte leaf hashes and the proof's hashes: copies), or BAD_FRAME
   * (not that range), BAD_PROOF (a proof or data of the wrong length), CHUNK_MISMATCH (they do not lead to the root).
   */
  openContentData(options) {
    const [bytes, root, size, file, first, count] = readingArguments('openContentData', () => {
      const o = this._options(options, 'openContentData');
      return [this._bytes(o.frame, 'frame', { base64: false, max: this.limits.content.maxFrameLength, code: 'BAD_FRAME' }),
        this._hash(o.root, 'root'), this._contentSize(o.size), this._integer(o.file, 'file'), this._integer(o.first, 'first'),
        this._integer(o.count, 'count', { min: 1, max: this.limits.content.maxRangeLeaves })];
    });
    const { dataOffset, dataLength, ...opened } = this._call((m, a) => m.contentOpenData(...a.put(bytes), ...a.put(root),
      size, file, first, count));
    // The verified bytes are where the core found them in the frame: a view of the caller's frame, not a copy.
    return { data: bytes.subarray(dataOffset, dataOffset + dataLength), ...opened };
  }

  /**
   * A data frame answering `request` with leaves [first, first + count) of `file` from a proof kept from an
   * earlier one (openContentData's): how a downloader serves a piece before it holds its file's whole tree. The
   * receiver checks it as any other. BAD_ARGUMENT for a proof that is not whole hashes (at most 64).
   */
  encodeDataWithProof(options) {
    const args = readingArguments('encodeDataWithProof', () => {
      const o = this._options(options, 'encodeDataWithProof');
      return [this._integer(o.request, 'request'), this._integer(o.file, 'file'), this._integer(o.first, 'first'),
        this._integer(o.count, 'count', { min: 1, max: this.limits.content.maxRangeLeaves }),
        this._bytes(o.proof, 'proof', { base64: false, max: 64 * 32, code: 'BAD_ARGUMENT' }),
        this._bytes(o.bytes, 'bytes', { base64: false, max: this.limits.content.maxFrameLength, code: 'BAD_ARGUMENT' })];
    });
    const [request, file, first, count, proof, bytes] = args;
    return this._call((m, a) => m.contentEncodeDataWithProof(request, file, first, count, ...a.put(proof), ...a.put(bytes)));
  }

  /**
   * Signs a share manifest (docs/PROTOCOL.md §9.3) with our identity key: { privateKey, created (seconds), title,
   * files: [{ name, size, type, root }] }. BAD_TEXT for a title or name the core refuses (names are relative
   * paths of displayable text), BAD_ARGUMENT for limits or a MIME type that is not one.
   */
  createManifest(options) {
    return this._createManifest(options, 0);
  }

  /** A share manifest (version 0) or a site manifest of that version around it (the core's one entry point). */
  _createManifest(options, version) {
    const what = version ? 'createSiteManifest' : 'createManifest';
    const [priv, created, title, files, roots] = readingArguments(what, () => {
      const o = this._options(options, what);
      const c = this.limits.content;
      if (!Array.isArray(o.files) || o.files.length < 1 || o.files.length > c.maxFiles) {
        throw fail('BAD_ARGUMENT', `files must be an array of 1 to ${c.maxFiles} entries`);
      }
      const list = o.files.map((f, i) => {
        this._options(f, `files[${i}]`);
        return { name: this._text(f.name, `files[${i}].name`, c.maxFileNameLength), size: this._contentSize(f.size),
          type: this._string(f.type ?? '', `files[${i}].type`, { max: c.maxTypeLength }) };
      });
      const roots = new Uint8Array(32 * list.length);
      o.files.forEach((f, i) => roots.set(this._hash(f.root, `files[${i}].root`), 32 * i));
      return [this._bytes(o.privateKey, 'privateKey', { length: 32 }),
        this._integer(o.created ?? nowSeconds(), 'created'), this._text(o.title ?? '', 'title', c.maxTitleLength), list, roots];
    });
    return this._call((m, a) => m.createManifest(...a.put(priv), created, title, files, ...a.put(roots), version));
  }

  /**
   * Decodes a manifest and verifies its signature: { id, created, sharer, sharerKeyId, title, files: [{ name, size,
   * type, root }] }. With `id`, a manifest whose id is another is BAD_MANIFEST (a link pins its manifest).
   */
  openManifest(bytes, { id } = {}) {
    const [b, expected] = readingArguments('openManifest', () => [
      this._bytes(bytes, 'manifest', { base64: false, max: this.limits.content.maxManifestLength, code: 'BAD_MANIFEST' }),
      id === undefined ? new Uint8Array(0) : this._hash(id, 'id')]);
    return this._call((m, a) => m.openManifest(...a.put(b), ...a.put(expected), false));
  }

  /** A manifest's id (BLAKE2b-256 of it without its signature): what a share link names. */
  manifestId(bytes) {
    const b = readingArguments('manifestId', () => this._bytes(bytes, 'manifest', { base64: false, max: this.limits.content.maxManifestLength, code: 'BAD_MANIFEST' }));
    return this._call((m, a) => m.manifestId(...a.put(b)));
  }

  /**
   * Signs a site manifest (docs/PROTOCOL.md §10) with the publisher's key: { privateKey, version (≥ 1), created
   * (seconds), title, files: [{ name, size, type, root }] }. The files make a share manifest (§9.3) signed by the
   * same key; the site record before it names that manifest and the version. Errors as createManifest's, and
   * BAD_ARGUMENT for a version of 0.
   */
  createSiteManifest(options) {
    const version = readingArguments('createSiteManifest', () => this._integer(this._options(options, 'createSiteManifest')
      .version, 'version', { min: 1, max: 0xffffffff }));
    return this._createManifest(options, version);
  }

  /**
   * Decodes a site manifest and verifies both signatures (the record's, then its share manifest's, both by the
   * publisher): { version, created, publisher (65 bytes), publisherKeyId, manifest (as openManifest's),
   * manifestBytes }. BAD_MANIFEST for anything malformed or badly signed. Which publisher to trust, and which
   * version is new, is the caller's to check.
   */
  openSiteManifest(bytes) {
    const b = readingArguments('openSiteManifest', () => this._bytes(bytes, 'site manifest', { base64: false,
      max: this.limits.content.maxSiteManifestLength, code: 'BAD_MANIFEST' }));
    const { site, ...manifest } = this._call((m, a) => m.openManifest(...a.put(b), ...a.put(new Uint8Array(0)), true));
    const { at, ...fields } = site;
    return { ...fields, manifest, manifestBytes: b.slice(at) };
  }

  _contentSize(value) {
    return this._integer(value, 'size', { max: this.limits.content.maxSize });
  }

  _hash(value, what) {
    return this._bytes(value, what, { length: 32, code: 'BAD_ARGUMENT' });
  }

  /** Text for the core's displayable-text rules: a lone surrogate is BAD_TEXT, its UTF-8 length bounded. */
  _text(value, what, maxBytes) {
    const text = this._string(value, what, { max: maxBytes });
    if (LONE_SURROGATE.test(text)) throw fail('BAD_TEXT', `${what} is not well-formed Unicode (a lone surrogate)`);
    if (encoder.encode(text).length > maxBytes) throw fail('BAD_ARGUMENT', `${what} is longer than ${maxBytes} bytes`);
    return text;
  }

  /** A group secret: 16 to 64 bytes, or their base64url text (docs/PROTOCOL.md §7.8). */
  _groupSecret(value) {
    const { minGroupSecret: min, maxGroupSecret: max } = this.limits;
    const bytes = this._bytes(value, 'secret', { max, code: 'BAD_ARGUMENT' });
    if (bytes.length < min) throw fail('BAD_ARGUMENT', `secret must be ${min} to ${max} bytes, got ${bytes.length}`);
    return bytes;
  }

  _cardBytes(card) {
    if (typeof card === 'string') {
      const text = /[#&]card=([A-Za-z0-9_-]+)/.exec(this._string(card, 'card', { max: 8192, code: 'BAD_CARD' }))?.[1] ?? card;
      return decodeBase64url(text, 'card');
    }
    return this._bytes(card, 'card', { base64: false, max: this.limits.maxCard, code: 'BAD_CARD' });
  }
}

// Deterministic and primitive entry points for test vectors (RFC, Wycheproof). Only on the testing and debug
// flavours (the release module has none of them).
class CoreTesting {
  #core;
  #raw;
  #heap;
  #trap;
  constructor(core, { raw, heap, trap }) {
    this.#core = core;
    this.#raw = raw;
    this.#heap = heap;
    this.#trap = trap;
  }

  #b(v, what, opts) {
    return this.#core._bytes(v, what, { max: 1 << 24, ...opts });
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
    return this.#raw('encryptWithKeys', args, [rs, pad]);
  }

  /** sealForPeer with the ephemeral key pair and salt given (docs/PROTOCOL.md §4.1 vector). */
  sealForPeerWithKeys(options) {
    const o = this.#core._options(options, 'sealForPeerWithKeys');
    return this.#raw('sealForPeerWithKeys', [this.#b(o.envelope, 'envelope', { base64: false }),
      this.#b(o.recipientIdentity, 'recipientIdentity'), this.#b(o.ephemeralPrivateKey, 'ephemeralPrivateKey'),
      this.#b(o.ephemeralPublicKey, 'ephemeralPublicKey'), this.#b(o.salt, 'salt')]);
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
    return this.#raw('eceDecrypt', [this.#b(o.ikm, 'ikm', { base64: false }), this.#b(o.body, 'body', { base64: false })]);
  }

  ecdh(privateKey, publicKey) {
    return this.#raw('ecdh', [this.#b(privateKey, 'privateKey'), this.#b(publicKey, 'publicKey')]);
  }

  publicKeyFromSpki(der) {
    return this.#raw('publicKeyFromSpki', [this.#b(der, 'der', { base64: false })]);
  }

  ecdsaSign(privateKey, message) {
    return this.#raw('ecdsaSign', [this.#b(privateKey, 'privateKey'), this.#b(message, 'message', { base64: false })]);
  }

  ecdsaVerify(publicKey, message, signature) {
    return this.#core._call((m, a) => {
      const s = m.ecdsaVerify(...a.put(this.#b(publicKey, 'publicKey')), ...a.put(this.#b(message, 'message', { base64: false })),
        ...a.put(this.#b(signature, 'signature', { base64: false })));
      // A bad signature is an answer (false), a bad key an error.
      return s === 0 ? true : (m.statusName(s) === 'BAD_SIGNATURE' ? false : s);
    });
  }

  aesGcmSeal(key, iv, aad, plaintext) {
    return this.#raw('aesGcmSeal', [key, iv, aad, plaintext].map((v, i) => this.#b(v, `arg${i}`, { base64: false })));
  }

  aesGcmOpen(key, iv, aad, ciphertextAndTag) {
    return this.#raw('aesGcmOpen', [key, iv, aad, ciphertextAndTag].map((v, i) => this.#b(v, `arg${i}`, { base64: false })));
  }

  hkdfSha256(salt, ikm, info, length) {
    const n = this.#core._integer(length, 'length', { max: 255 * 32 });
    return this.#raw('hkdfSha256', [salt, ikm, info].map((v, i) => this.#b(v, `arg${i}`, { base64: false })), [n]);
  }

  hmacSha256(key, message) {
    return this.#raw('hmacSha256', [key, message].map((v, i) => this.#b(v, `arg${i}`, { base64: false })));
  }

  /** A copy of the whole Wasm memory, to prove secrets are wiped. */
  heapSnapshot() {
    return this.#heap();
  }

  /** Makes the Wasm instance trap (as an abort would): the core must reload itself. */
  trap() {
    return this.#trap();
  }
}
