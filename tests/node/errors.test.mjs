// Every JS entry point, given wrong types, wrong lengths, garbage text, truncated, random and bit-flipped bodies,
// answers a PushPeerError with a declared .code (the expected one where it is clear) — never a TypeError, never an
// abort of the Wasm instance: at the end the same instance still encrypts and decrypts.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, it } from 'node:test';

import { loadCore, PushPeerError } from '../../js/core.js';
import {
  assertBytes, concat, eceBodyFromRecords, errorCodes, expectCode, forEachFlavor, fromB64u, nodeKeyPair, randomBytes,
  readVectors, toB64u, u8, utf8,
} from './helpers.mjs';

const SUBJECT = 'mailto:errors@pushpeer.test';
const ENDPOINT = 'https://push.example.net/wpush/v2/abc';

// Values of the wrong type for any argument.
const WRONG_TYPES = [
  ['undefined', undefined], ['null', null], ['a number', 42], ['NaN', NaN], ['a boolean', true], ['an object', {}],
  ['an array', []], ['an array of numbers', [4, 1, 2, 3]], ['a symbol', Symbol('s')], ['a bigint', 1n],
  ['a function', () => {}], ['a Uint16Array', new Uint16Array(65)], ['a DataView', new DataView(new ArrayBuffer(65))],
  ['a Date', new Date(0)],
];

// Text that is not strict unpadded base64url.
const GARBAGE_TEXT = ['a+b', 'ab/c', '!!!!', 'a', 'abcde', 'ab cd', ' AAAA', 'AAAA\n', 'a=b', '=AAA', 'AB', 'é', '\0', 'AAA.'];

const ECE_CODES = ['ECE_TRUNCATED_HEADER', 'ECE_BAD_RECORD_SIZE', 'ECE_BAD_KEY_ID', 'ECE_TRUNCATED_RECORD', 'ECE_BAD_PADDING',
  'ECE_BAD_DELIMITER', 'ECE_TRUNCATED_MESSAGE', 'DECRYPT_FAILED'];

/**
 * The code RFC 8188 processing must give for the first `length` bytes of a well-formed body: header checks, then
 * record by record — too short for tag + delimiter, cut inside (tag fails), or a complete non-final record that now
 * ends the body (delimiter 1 on the last record).
 */
function truncationCode(body, length) {
  if (length < 21) return 'ECE_TRUNCATED_HEADER';
  const start = 21 + body[20];
  if (length < start) return 'ECE_TRUNCATED_HEADER';
  if (length === start) return 'ECE_TRUNCATED_MESSAGE';
  const rs = new DataView(body.buffer, body.byteOffset).getUint32(16);
  for (let offset = start; ; offset += rs) {
    const originalEnd = Math.min(offset + rs, body.length);
    const len = Math.min(rs, length - offset);
    if (len < 17) return 'ECE_TRUNCATED_RECORD';
    if (offset + len < originalEnd) return 'DECRYPT_FAILED';
    if (offset + len === length) return originalEnd === body.length ? null : 'ECE_TRUNCATED_MESSAGE';
  }
}

/** RFC 8291 IKM computed with Node's crypto, for forging Web Push bodies. */
function webPushIkm(sender, receiverPublic, auth) {
  const shared = sender.computeSecret(Buffer.from(receiverPublic));
  const info = concat(utf8('WebPush: info\0'), receiverPublic, u8(sender.getPublicKey()));
  return u8(Buffer.from(crypto.hkdfSync('sha256', shared, auth, info, 32)));
}

forEachFlavor((core, flavor) => {
  const t = core.testing;
  // The test-only entry points exist in the testing and debug builds only.
  const itTesting = t ? it : () => {};
  const vapid = core.generateVapidKeys();
  const receiver = nodeKeyPair();
  const auth = randomBytes(16);
  const subscription = { endpoint: ENDPOINT, keys: { p256dh: toB64u(receiver.publicKey), auth: toB64u(auth) } };
  const body = core.encrypt({ p256dh: receiver.publicKey, auth, plaintext: 'hello' });
  const decrypt = (b) => core.decrypt({ privateKey: receiver.privateKey, publicKey: receiver.publicKey, auth, body: b });
  const offCurve = new Uint8Array(65);
  offCurve[0] = 4;
  const order = fromB64u('_____wAAAAD__________7zm-q2nF56E87nKwvxjJVE'); // n: not a valid private key

  /**
   * Bytes arguments: wrong types → BAD_ARGUMENT; wrong lengths → lengthCode; garbage text → BAD_BASE64 (or
   * BAD_ARGUMENT where text is not accepted); base64url of a wrong length → lengthCode.
   */
  function badBytes(call, { length, lengthCode, text = true, label }) {
    for (const [name, value] of WRONG_TYPES) expectCode(() => call(value), 'BAD_ARGUMENT', `${label} = ${name}`);
    if (length !== undefined) {
      for (const n of [0, 1, length - 1, length + 1, 2 * length]) {
        expectCode(() => call(new Uint8Array(n)), lengthCode, `${label} = ${n} bytes`);
        if (text) expectCode(() => call(toB64u(randomBytes(n))), lengthCode, `${label} = base64url of ${n} bytes`);
      }
    }
    for (const g of GARBAGE_TEXT) expectCode(() => call(g), text ? 'BAD_BASE64' : 'BAD_ARGUMENT', `${label} = ${JSON.stringify(g)}`);
  }

  /** Options-object entry points: the object itself of a wrong type → BAD_ARGUMENT. */
  function badOptions(call, label) {
    for (const [name, value] of WRONG_TYPES) {
      if (value !== null && (typeof value === 'object' || typeof value === 'function')) continue; // objects are options
      expectCode(() => call(value), 'BAD_ARGUMENT', `${label}(${name})`);
    }
  }

  describe('wrong arguments', () => {
    it('generateVapidKeys ignores arguments and returns a fresh pair', () => {
      const a = core.generateVapidKeys(undefined, 42);
      const b = core.generateVapidKeys();
      assert.equal(a.publicKey.length, 65);
      assert.equal(a.privateKey.length, 32);
      assert.notDeepEqual(a.privateKey, b.privateKey);
    });

    it('vapidKeysFromPrivate', () => {
      badBytes((v) => core.vapidKeysFromPrivate(v), { length: 32, lengthCode: 'BAD_KEY', label: 'privateKey' });
      expectCode(() => core.vapidKeysFromPrivate(new Uint8Array(32)), 'BAD_KEY', 'zero scalar');
      expectCode(() => core.vapidKeysFromPrivate(order), 'BAD_KEY', 'scalar = n');
      expectCode(() => core.vapidKeysFromPrivate(new Uint8Array(32).fill(0xff)), 'BAD_KEY', 'scalar > n');
      expectCode(() => core.vapidKeysFromPrivate(new Uint8Array(64)), 'BAD_KEY', '64-byte key');
    });

    it('vapidAuthorization', () => {
      const ok = { endpoint: ENDPOINT, subject: SUBJECT, ...vapid };
      const call = (patch) => core.vapidAuthorization({ ...ok, ...patch });
      badOptions((v) => core.vapidAuthorization(v), 'vapidAuthorization');
      for (const [name, value] of WRONG_TYPES) {
        expectCode(() => call({ endpoint: value }), 'BAD_ARGUMENT', `endpoint = ${name}`);
        expectCode(() => call({ subject: value }), 'BAD_ARGUMENT', `subject = ${name}`);
      }
      badBytes((v) => call({ publicKey: v }), { length: 65, lengthCode: 'BAD_KEY', label: 'publicKey' });
      badBytes((v) => call({ privateKey: v }), { length: 32, lengthCode: 'BAD_KEY', label: 'privateKey' });
      expectCode(() => call({ publicKey: core.generateVapidKeys().publicKey }), 'BAD_KEY', 'public key of another pair');
      expectCode(() => call({ publicKey: offCurve }), 'BAD_KEY', 'public key off the curve');
      expectCode(() => call({ privateKey: order }), 'BAD_KEY', 'private key = n');
      for (const endpoint of ['', 'push.example.net', 'ftp://push.example.net/', 'http://push.example.net/x', 'https://',
        'https:///x', 'https://user@push.example.net/', 'https://push.example.net:0/', 'https://push.example.net:65536/',
        'https://push.example.net:12a/', 'https://push example.net/', 'https://push.example.net/\n', 'https://[::1/',
        'http://127.0.0.1.example.com/', 'http://localhost.example.com/', `https://${'a'.repeat(5000)}.net/`]) {
        expectCode(() => call({ endpoint }), 'BAD_ENDPOINT', `endpoint ${JSON.stringify(endpoint.slice(0, 60))}`);
      }
      for (const subject of ['', 'mailto:', 'https://', 'push@example.net', 'http://example.net', 'mailto:a b@c',
        'mailto:a@b\n', `mailto:${'a'.repeat(2000)}@b.c`]) {
        expectCode(() => call({ subject }), 'BAD_SUBJECT', `subject ${JSON.stringify(subject.slice(0, 60))}`);
      }
      const now = Math.floor(Date.now() / 1000);
      for (const expiration of [now + 24 * 3600 + 120, now + 10 * 24 * 3600, now - 10, 0, -1, 1.5, now + 0.5, NaN, Infinity,
        -Infinity, 1e300, -1e300, 2 ** 63, '3600', null, 1n, {}]) {
        expectCode(() => call({ expiration }), 'BAD_EXPIRATION', `expiration ${String(expiration)}`);
      }
    });

    it('verifyVapidJwt', () => {
      const jwt = /t=([^,]+)/.exec(core.vapidAuthorization({ endpoint: ENDPOINT, subject: SUBJECT, ...vapid }))[1];
      const [h, c, s] = jwt.split('.');
      for (const [name, value] of WRONG_TYPES) expectCode(() => core.verifyVapidJwt(value, vapid.publicKey), 'BAD_ARGUMENT', `jwt = ${name}`);
      badBytes((v) => core.verifyVapidJwt(jwt, v), { length: 65, lengthCode: 'BAD_KEY', label: 'publicKey' });
      expectCode(() => core.verifyVapidJwt(jwt, offCurve), ['BAD_KEY', 'BAD_SIGNATURE'], 'key off the curve');
      const b64 = (text) => toB64u(utf8(text));
      const malformed = ['', '.', '..', '...', 'a.b.c', `${h}.${c}`, `${h}.${c}.${s}.`, `${h}.${c}.${s}.${s}`, ` ${jwt}`, `${jwt} `,
        `${h}=.${c}.${s}`, `${b64('not json')}.${c}.${s}`, `${b64('[]')}.${c}.${s}`, `${b64('{"alg":"none"}')}.${c}.${s}`,
        `${b64('{"alg":"HS256","typ":"JWT"}')}.${c}.${s}`, `${b64('{"alg":"ES256","typ":"JWS"}')}.${c}.${s}`,
        `${b64('{"typ":"JWT"}')}.${c}.${s}`, `${h}.${b64('{"exp":1,"sub":"mailto:a@b"}')}.${s}`,
        `${h}.${b64('{"aud":"https://a","exp":"1"}')}.${s}`, `${h}.${b64('{"aud":"https://a","exp":1.5}')}.${s}`,
        `${h}.${b64('{"aud":"https://a","exp":1e3}')}.${s}`, `${h}.${b64('{"aud":1,"exp":1}')}.${s}`,
        `${h}.${b64('{"aud":"https://a","exp":1,"sub":7}')}.${s}`, `${h}.${b64('{"aud":"https://a","exp":1')}.${s}`,
        `${h}.${b64('{"aud":"https://a","exp":99999999999999999999999}')}.${s}`, `${h}.${b64('[' .repeat(100000))}.${s}`,
        `${h}.${c}.${s.slice(0, -1)}+`, 'x'.repeat(1 << 20)];
      for (const text of malformed) expectCode(() => core.verifyVapidJwt(text, vapid.publicKey), 'BAD_JWT', `jwt ${JSON.stringify(text.slice(0, 50))}`);
      const sig = fromB64u(s);
      for (const bad of [sig.subarray(0, 63), concat(sig, new Uint8Array(1)), new Uint8Array(64), new Uint8Array(0)]) {
        expectCode(() => core.verifyVapidJwt(`${h}.${c}.${toB64u(bad)}`, vapid.publicKey), 'BAD_SIGNATURE', `${bad.length}-byte signature`);
      }
      const der = u8(crypto.sign(null, Buffer.from(`${h}.${c}`), crypto.createPrivateKey({
        key: { kty: 'EC', crv: 'P-256', x: toB64u(vapid.publicKey.subarray(1, 33)), y: toB64u(vapid.publicKey.subarray(33)), d: toB64u(vapid.privateKey) },
        format: 'jwk',
      })));
      expectCode(() => core.verifyVapidJwt(`${h}.${c}.${toB64u(der)}`, vapid.publicKey), 'BAD_SIGNATURE', 'DER signature');
    });

    itTesting('verifyVapidJwt does not return an exp other than the one signed (out-of-range integers)', () => {
      const b64 = (text) => toB64u(utf8(text));
      for (const exp of ['18446744073709551615', '9223372036854775808', '9007199254740993']) {
        const input = `${b64('{"typ":"JWT","alg":"ES256"}')}.${b64(`{"aud":"https://push.example.net","exp":${exp},"sub":"${SUBJECT}"}`)}`;
        const jwt = `${input}.${toB64u(t.ecdsaSign(vapid.privateKey, utf8(input)))}`;
        let claims;
        try {
          claims = core.verifyVapidJwt(jwt, vapid.publicKey);
        } catch {
          expectCode(() => core.verifyVapidJwt(jwt, vapid.publicKey), 'BAD_JWT', `exp ${exp}`);
          continue;
        }
        assert.ok(Number.isSafeInteger(claims.exp) && BigInt(claims.exp) === BigInt(exp),
          `exp ${exp} came back as ${claims.exp}: it should be rejected (BAD_JWT) instead`);
      }
    });

    describe('encrypt', () => {
      const ok = { p256dh: receiver.publicKey, auth, plaintext: 'x' };
      const call = (patch) => core.encrypt({ ...ok, ...patch });

      it('options, p256dh and auth', () => {
        badOptions((v) => core.encrypt(v), 'encrypt');
        badBytes((v) => call({ p256dh: v }), { length: 65, lengthCode: 'BAD_KEY', label: 'p256dh' });
        badBytes((v) => call({ auth: v }), { length: 16, lengthCode: ['BAD_ARGUMENT', 'BAD_KEY'], label: 'auth' });
        expectCode(() => call({ p256dh: offCurve }), 'BAD_KEY', 'p256dh off the curve');
        const compressed = u8(crypto.ECDH.convertKey(Buffer.from(receiver.publicKey), 'prime256v1', undefined, undefined, 'compressed'));
        expectCode(() => call({ p256dh: compressed }), 'BAD_KEY', 'compressed p256dh');
      });

      it('plaintext, recordSize and padding', () => {
        for (const [name, value] of WRONG_TYPES) {
          if (value === undefined) continue;
          expectCode(() => call({ plaintext: value }), 'BAD_ARGUMENT', `plaintext = ${name}`);
        }
        expectCode(() => call({ plaintext: 'x'.repeat(1 << 20) }), 'PAYLOAD_TOO_LARGE', '1 MiB');
        for (const recordSize of [-1, 0, 17, 1.5, 2 ** 32, NaN, '4096', null]) {
          expectCode(() => call({ recordSize }), 'ECE_BAD_RECORD_SIZE', `recordSize ${String(recordSize)}`);
        }
        expectCode(() => call({ recordSize: 18, plaintext: 'xy' }), 'ECE_BAD_RECORD_SIZE', 'record too small for the content');
        for (const padding of [-1, 1.5, NaN, '1', null]) {
          expectCode(() => call({ padding }), 'BAD_ARGUMENT', `padding ${String(padding)}`);
        }
        expectCode(() => call({ padding: 4096 }), ['ECE_BAD_RECORD_SIZE', 'PAYLOAD_TOO_LARGE'], 'padding beyond the record');
      });

      it('a 3994-byte plaintext (one more than maxPayloadLength) is PAYLOAD_TOO_LARGE with the default record size', () => {
        assert.equal(call({ plaintext: new Uint8Array(core.maxPayloadLength) }).length, 4096);
        // 3994 bytes make a 4097-byte body, more than push services take (RFC 8291 §4).
        for (const n of [3994, 4000, 4079]) {
          expectCode(() => call({ plaintext: new Uint8Array(n) }), 'PAYLOAD_TOO_LARGE', `${n} bytes`);
        }
        expectCode(() => call({ plaintext: new Uint8Array(3993), padding: 1 }), 'PAYLOAD_TOO_LARGE', '3993 bytes + 1 padding');
      });
    });

    it('decrypt (arguments)', () => {
      const ok = { privateKey: receiver.privateKey, publicKey: receiver.publicKey, auth, body };
      const call = (patch) => core.decrypt({ ...ok, ...patch });
      badOptions((v) => core.decrypt(v), 'decrypt');
      badBytes((v) => call({ privateKey: v }), { length: 32, lengthCode: 'BAD_KEY', label: 'privateKey' });
      badBytes((v) => call({ publicKey: v }), { length: 65, lengthCode: 'BAD_KEY', label: 'publicKey' });
      badBytes((v) => call({ auth: v }), { length: 16, lengthCode: ['BAD_ARGUMENT', 'BAD_KEY'], label: 'auth' });
      badBytes((v) => call({ body: v }), { text: false, label: 'body' });
      expectCode(() => call({ privateKey: new Uint8Array(32) }), 'BAD_KEY', 'zero private key');
      expectCode(() => call({ privateKey: order }), 'BAD_KEY', 'private key = n');
      expectCode(() => call({ privateKey: core.generateVapidKeys().privateKey }), 'DECRYPT_FAILED', 'another private key');
      expectCode(() => call({ auth: randomBytes(16) }), 'DECRYPT_FAILED', 'another auth secret');
      expectCode(() => call({ publicKey: core.generateVapidKeys().publicKey }), 'DECRYPT_FAILED', 'another public key');
      expectCode(() => call({ publicKey: offCurve }), ['BAD_KEY', 'DECRYPT_FAILED'], 'public key off the curve');
      expectCode(() => call({ body: new Uint8Array(16 * 1024 * 1024 + 1) }), 'BAD_ARGUMENT', 'body over 16 MiB');
    });

    describe('buildPushRequest', () => {
      const ok = { subscription, payload: 'x', vapidKeys: vapid, subject: SUBJECT };
      const call = (patch) => core.buildPushRequest({ ...ok, ...patch });
      const withKeys = (keys) => call({ subscription: { endpoint: ENDPOINT, keys: { ...subscription.keys, ...keys } } });

      it('options and subscription', () => {
        badOptions((v) => core.buildPushRequest(v), 'buildPushRequest');
        for (const [name, value] of WRONG_TYPES) {
          if (value !== null && typeof value === 'object') continue; // objects are serialised: see below
          expectCode(() => call({ subscription: value }), 'BAD_SUBSCRIPTION', `subscription = ${name}`);
        }
        for (const sub of [{}, [], { endpoint: ENDPOINT }, { keys: subscription.keys }, { endpoint: 7, keys: subscription.keys },
          { endpoint: ENDPOINT, keys: [] }, { endpoint: ENDPOINT, keys: {} }, { endpoint: ENDPOINT, keys: { auth: subscription.keys.auth } },
          { endpoint: ENDPOINT, keys: { p256dh: subscription.keys.p256dh } }, { endpoint: ENDPOINT, keys: { ...subscription.keys, auth: 16 } },
          { toJSON: () => undefined }, { toJSON: () => 'text' }, '', '{', 'null', '"x"', '[]', '{"endpoint":', '\u0000', '{}'.repeat(1000),
          `{"endpoint":"${ENDPOINT}","keys":${'['.repeat(100000)}`]) {
          expectCode(() => call({ subscription: sub }), 'BAD_SUBSCRIPTION', `subscription ${JSON.stringify(sub)?.slice(0, 60)}`);
        }
      });

      it('subscription keys and endpoint', () => {
        expectCode(() => withKeys({ p256dh: toB64u(randomBytes(64)) }), 'BAD_KEY', 'p256dh of 64 bytes');
        expectCode(() => withKeys({ p256dh: toB64u(offCurve) }), 'BAD_KEY', 'p256dh off the curve');
        expectCode(() => withKeys({ p256dh: 'a+b' }), 'BAD_BASE64', 'p256dh a+b');
        expectCode(() => withKeys({ auth: toB64u(randomBytes(15)) }), ['BAD_KEY', 'BAD_ARGUMENT'], 'auth of 15 bytes');
        expectCode(() => withKeys({ auth: '!!!!' }), 'BAD_BASE64', 'auth !!!!');
        for (const endpoint of ['http://push.example.net/x', 'ftp://push.example.net/', 'https://', 'not a url', '']) {
          expectCode(() => call({ subscription: { ...subscription, endpoint } }), 'BAD_ENDPOINT', `endpoint ${endpoint}`);
        }
      });

      it('payload', () => {
        for (const [name, value] of WRONG_TYPES) expectCode(() => call({ payload: value }), 'BAD_ARGUMENT', `payload = ${name}`);
        expectCode(() => call({ payload: new Uint8Array(3994) }), 'PAYLOAD_TOO_LARGE', '3994-byte payload');
        expectCode(() => call({ payload: 'é'.repeat(1997) }), 'PAYLOAD_TOO_LARGE', '3994 UTF-8 bytes');
        expectCode(() => call({ payload: new Uint8Array(1 << 20) }), 'PAYLOAD_TOO_LARGE', '1 MiB');
      });

      it('vapidKeys and subject', () => {
        badOptions((v) => call({ vapidKeys: v }), 'vapidKeys');
        badBytes((v) => call({ vapidKeys: { ...vapid, publicKey: v } }), { length: 65, lengthCode: 'BAD_KEY', label: 'vapidKeys.publicKey' });
        badBytes((v) => call({ vapidKeys: { ...vapid, privateKey: v } }), { length: 32, lengthCode: 'BAD_KEY', label: 'vapidKeys.privateKey' });
        expectCode(() => call({ vapidKeys: { ...vapid, publicKey: core.generateVapidKeys().publicKey } }), 'BAD_KEY', 'mismatched VAPID pair');
        for (const [name, value] of WRONG_TYPES) expectCode(() => call({ subject: value }), 'BAD_ARGUMENT', `subject = ${name}`);
        for (const subject of ['', 'x', 'mailto:', 'http://example.net']) expectCode(() => call({ subject }), 'BAD_SUBJECT', `subject ${subject}`);
      });

      it('a private key that does not belong to the public key is BAD_KEY, also when a token for that key is cached', () => {
        const mine = core.generateVapidKeys();
        const stranger = core.generateVapidKeys();
        const sub = { ...subscription, endpoint: 'https://cache-check.example.net/x' };
        for (const privateKey of [stranger.privateKey, new Uint8Array(32)]) {
          expectCode(() => call({ subscription: sub, vapidKeys: { publicKey: mine.publicKey, privateKey } }), 'BAD_KEY', 'before any token is cached');
        }
        call({ subscription: sub, vapidKeys: mine }); // caches a token for (origin, subject, mine.publicKey)
        expectCode(() => call({ subscription: sub, vapidKeys: { publicKey: mine.publicKey, privateKey: stranger.privateKey } }), 'BAD_KEY',
          'another pair\'s private key, token cached');
        expectCode(() => call({ subscription: sub, vapidKeys: { publicKey: mine.publicKey, privateKey: new Uint8Array(32) } }), 'BAD_KEY',
          'zero private key, token cached');
      });

      it('ttl', () => {
        for (const ttl of [-1, 1.5, 2419201, 2 ** 32, NaN, Infinity, '60', null, 1n]) {
          expectCode(() => call({ ttl }), 'BAD_TTL', `ttl ${String(ttl)}`);
        }
      });

      it('urgency', () => {
        for (const urgency of ['urgent', 'HIGH', 'very low', 'high ']) expectCode(() => call({ urgency }), 'BAD_URGENCY', `urgency ${urgency}`);
        for (const urgency of [null, 5, {}]) expectCode(() => call({ urgency }), ['BAD_URGENCY', 'BAD_ARGUMENT'], `urgency ${String(urgency)}`);
      });

      it('an empty urgency is BAD_URGENCY, as an empty topic is BAD_TOPIC', () => {
        expectCode(() => call({ topic: '' }), 'BAD_TOPIC', 'topic ""');
        expectCode(() => call({ urgency: '' }), 'BAD_URGENCY', 'urgency ""');
      });

      it('topic', () => {
        for (const topic of ['', 'a+b', 'a b', 'x'.repeat(33), 'topic=', 'é']) expectCode(() => call({ topic }), 'BAD_TOPIC', `topic ${topic}`);
        for (const topic of [null, 5, {}]) expectCode(() => call({ topic }), ['BAD_TOPIC', 'BAD_ARGUMENT'], `topic ${String(topic)}`);
      });
    });

    it('buildPushRequest: a malformed expirationTime is refused; members the core does not read are ignored', () => {
      for (const [label, value] of [['1n', 1n], ['a string', '1'], ['NaN', NaN], ['an object', {}]]) {
        expectCode(() => core.buildPushRequest({ subscription: { ...subscription, expirationTime: value }, payload: 'x', vapidKeys: vapid, subject: SUBJECT }),
          'BAD_SUBSCRIPTION', `expirationTime: ${label}`);
      }
      // A cycle in an unrelated member (JSON.stringify would throw) does not matter: only endpoint and keys are read.
      const cyclic = { ...subscription, expirationTime: null };
      cyclic.self = cyclic;
      const r = core.buildPushRequest({ subscription: cyclic, payload: 'x', vapidKeys: vapid, subject: SUBJECT });
      assert.equal(r.endpoint, subscription.endpoint);
    });

    it('base64urlEncode / base64urlDecode', () => {
      for (const [name, value] of [...WRONG_TYPES, ['a string', 'AAAA']]) {
        expectCode(() => core.base64urlEncode(value), 'BAD_ARGUMENT', `encode(${name})`);
      }
      for (const [name, value] of WRONG_TYPES) expectCode(() => core.base64urlDecode(value), 'BAD_ARGUMENT', `decode(${name})`);
      for (const g of [...GARBAGE_TEXT, 'AA==', 'AAA=', 'AA=', 'A', 'AAAAA', 'AF', '_-_-_']) {
        expectCode(() => core.base64urlDecode(g), 'BAD_BASE64', `decode(${JSON.stringify(g)})`);
      }
      expectCode(() => core.base64urlDecode('A'.repeat((1 << 20) + 1)), 'BAD_BASE64', '1 MiB + 1 characters');
      assertBytes(core.base64urlDecode(''), new Uint8Array(0));
      assert.equal(core.base64urlEncode(new Uint8Array(0)), '');
    });

    itTesting('testing.encryptWithKeys, eceEncrypt, eceDecrypt: options of the wrong type', () => {
      badOptions((v) => t.encryptWithKeys(v), 'testing.encryptWithKeys');
      badOptions((v) => t.eceEncrypt(v), 'testing.eceEncrypt');
      badOptions((v) => t.eceDecrypt(v), 'testing.eceDecrypt');
    });

    itTesting('testing.encryptWithKeys', () => {
      const sender = core.generateVapidKeys();
      const ok = { p256dh: receiver.publicKey, auth, plaintext: utf8('x'), senderPrivateKey: sender.privateKey, senderPublicKey: sender.publicKey, salt: randomBytes(16) };
      const call = (patch) => t.encryptWithKeys({ ...ok, ...patch });
      assert.ok(call({}).length === 86 + 1 + 17);
      badBytes((v) => call({ p256dh: v }), { length: 65, lengthCode: 'BAD_KEY', label: 'p256dh' });
      badBytes((v) => call({ auth: v }), { length: 16, lengthCode: 'BAD_KEY', label: 'auth' });
      badBytes((v) => call({ senderPrivateKey: v }), { length: 32, lengthCode: 'BAD_KEY', label: 'senderPrivateKey' });
      badBytes((v) => call({ senderPublicKey: v }), { length: 65, lengthCode: 'BAD_KEY', label: 'senderPublicKey' });
      badBytes((v) => call({ salt: v }), { length: 16, lengthCode: 'BAD_ARGUMENT', label: 'salt' });
      for (const [name, value] of WRONG_TYPES) {
        if (value === undefined) continue;
        expectCode(() => call({ plaintext: value }), 'BAD_ARGUMENT', `plaintext = ${name}`);
      }
      expectCode(() => call({ recordSize: 17 }), 'ECE_BAD_RECORD_SIZE', 'rs 17');
      for (const v of [-1, 1.5, 2 ** 32, '4096']) expectCode(() => call({ recordSize: v }), 'BAD_ARGUMENT', `recordSize ${v}`);
      for (const v of [-1, 1.5, '1']) expectCode(() => call({ padding: v }), 'BAD_ARGUMENT', `padding ${v}`);
      expectCode(() => call({ plaintext: new Uint8Array(100), recordSize: 50 }), 'ECE_BAD_RECORD_SIZE', 'more than one record');
      expectCode(() => call({ plaintext: new Uint8Array(3994), recordSize: 8192 }), 'PAYLOAD_TOO_LARGE', 'over one push');
    });

    itTesting('testing.eceEncrypt / eceDecrypt', () => {
      const ok = { ikm: randomBytes(16), salt: randomBytes(16), recordSize: 4096, plaintext: utf8('x') };
      const call = (patch) => t.eceEncrypt({ ...ok, ...patch });
      badBytes((v) => call({ ikm: v }), { text: false, label: 'ikm' });
      badBytes((v) => call({ salt: v }), { text: false, label: 'salt' });
      for (const n of [0, 15, 17]) expectCode(() => call({ salt: new Uint8Array(n) }), 'BAD_ARGUMENT', `salt of ${n}`);
      for (const [name, value] of WRONG_TYPES) {
        if (value === undefined || value === null) continue; // absent: no key id
        expectCode(() => call({ keyId: value }), 'BAD_ARGUMENT', `keyId = ${name}`);
      }
      expectCode(() => call({ keyId: new Uint8Array(256) }), 'BAD_ARGUMENT', '256-byte key id');
      for (const rs of [undefined, -1, 1.5, 2 ** 32, '25']) expectCode(() => call({ recordSize: rs }), 'BAD_ARGUMENT', `recordSize ${rs}`);
      for (const rs of [0, 1, 17]) expectCode(() => call({ recordSize: rs }), 'ECE_BAD_RECORD_SIZE', `recordSize ${rs}`);
      for (const p of [-1, 1.5, (1 << 20) + 1]) expectCode(() => call({ padding: p }), 'BAD_ARGUMENT', `padding ${p}`);
      const eceBody = call({});
      badBytes((v) => t.eceDecrypt({ ikm: ok.ikm, body: v }), { text: false, label: 'body' });
      badBytes((v) => t.eceDecrypt({ ikm: v, body: eceBody }), { text: false, label: 'ikm' });
      expectCode(() => t.eceDecrypt({ ikm: randomBytes(16), body: eceBody }), 'DECRYPT_FAILED', 'another ikm');
    });

    itTesting('testing.ecdh / publicKeyFromSpki / ecdsaSign / ecdsaVerify', () => {
      const other = core.generateVapidKeys();
      badBytes((v) => t.ecdh(v, other.publicKey), { length: 32, lengthCode: 'BAD_KEY', label: 'ecdh privateKey' });
      badBytes((v) => t.ecdh(vapid.privateKey, v), { length: 65, lengthCode: 'BAD_KEY', label: 'ecdh publicKey' });
      expectCode(() => t.ecdh(vapid.privateKey, offCurve), 'BAD_KEY', 'ecdh off-curve point');
      expectCode(() => t.ecdh(order, other.publicKey), 'BAD_KEY', 'ecdh scalar n');
      badBytes((v) => t.publicKeyFromSpki(v), { text: false, label: 'spki' });
      const spki = u8(crypto.createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: toB64u(other.publicKey.subarray(1, 33)), y: toB64u(other.publicKey.subarray(33)) }, format: 'jwk' })
        .export({ format: 'der', type: 'spki' }));
      assertBytes(t.publicKeyFromSpki(spki), other.publicKey);
      for (let n = 0; n < spki.length; n++) expectCode(() => t.publicKeyFromSpki(spki.subarray(0, n)), 'BAD_KEY', `SPKI cut to ${n}`);
      expectCode(() => t.publicKeyFromSpki(concat(spki, new Uint8Array(1))), 'BAD_KEY', 'SPKI + 1 byte');
      badBytes((v) => t.ecdsaSign(v, utf8('m')), { length: 32, lengthCode: 'BAD_KEY', label: 'ecdsaSign privateKey' });
      badBytes((v) => t.ecdsaSign(vapid.privateKey, v), { text: false, label: 'ecdsaSign message' });
      const sig = t.ecdsaSign(vapid.privateKey, utf8('m'));
      assert.equal(t.ecdsaVerify(vapid.publicKey, utf8('m'), sig), true);
      badBytes((v) => t.ecdsaVerify(v, utf8('m'), sig), { length: 65, lengthCode: ['BAD_KEY'], label: 'ecdsaVerify publicKey' });
      badBytes((v) => t.ecdsaVerify(vapid.publicKey, v, sig), { text: false, label: 'ecdsaVerify message' });
      badBytes((v) => t.ecdsaVerify(vapid.publicKey, utf8('m'), v), { text: false, label: 'ecdsaVerify signature' });
      for (const n of [0, 63, 65, 72]) assert.equal(t.ecdsaVerify(vapid.publicKey, utf8('m'), new Uint8Array(n)), false, `${n}-byte signature`);
    });

    itTesting('testing.aesGcmSeal / aesGcmOpen / hkdfSha256 / hmacSha256', () => {
      const [key, iv, aad] = [randomBytes(16), randomBytes(12), randomBytes(5)];
      const sealed = t.aesGcmSeal(key, iv, aad, utf8('m'));
      for (const [i, fn] of [(v) => t.aesGcmSeal(v, iv, aad, utf8('m')), (v) => t.aesGcmSeal(key, v, aad, utf8('m')),
        (v) => t.aesGcmSeal(key, iv, v, utf8('m')), (v) => t.aesGcmSeal(key, iv, aad, v)].entries()) {
        badBytes(fn, { text: false, label: `aesGcmSeal arg ${i}` });
      }
      for (const n of [0, 15, 17, 24, 32]) {
        expectCode(() => t.aesGcmSeal(new Uint8Array(n), iv, aad, utf8('m')), 'BAD_ARGUMENT', `seal ${n}-byte key`);
        expectCode(() => t.aesGcmOpen(new Uint8Array(n), iv, aad, sealed), 'BAD_ARGUMENT', `open ${n}-byte key`);
      }
      expectCode(() => t.aesGcmSeal(key, new Uint8Array(0), aad, utf8('m')), 'BAD_ARGUMENT', 'seal empty iv');
      expectCode(() => t.aesGcmOpen(key, new Uint8Array(0), aad, sealed), ['BAD_ARGUMENT', 'DECRYPT_FAILED'], 'open empty iv');
      for (let n = 0; n < sealed.length; n++) expectCode(() => t.aesGcmOpen(key, iv, aad, sealed.subarray(0, n)), 'DECRYPT_FAILED', `open ${n} bytes`);
      for (const [i, fn] of [(v) => t.aesGcmOpen(v, iv, aad, sealed), (v) => t.aesGcmOpen(key, v, aad, sealed),
        (v) => t.aesGcmOpen(key, iv, v, sealed), (v) => t.aesGcmOpen(key, iv, aad, v)].entries()) {
        badBytes(fn, { text: false, label: `aesGcmOpen arg ${i}` });
      }
      for (const [i, fn] of [(v) => t.hkdfSha256(v, key, key, 32), (v) => t.hkdfSha256(key, v, key, 32), (v) => t.hkdfSha256(key, key, v, 32)].entries()) {
        badBytes(fn, { text: false, label: `hkdfSha256 arg ${i}` });
      }
      for (const length of [-1, 1.5, 255 * 32 + 1, 2 ** 32, NaN, '32', null, undefined, 1n]) {
        expectCode(() => t.hkdfSha256(key, key, key, length), 'BAD_ARGUMENT', `hkdf length ${String(length)}`);
      }
      assert.equal(t.hkdfSha256(key, key, key, 0).length, 0);
      assert.equal(t.hkdfSha256(key, key, key, 255 * 32).length, 255 * 32);
      badBytes((v) => t.hmacSha256(v, key), { text: false, label: 'hmac key' });
      badBytes((v) => t.hmacSha256(key, v), { text: false, label: 'hmac message' });
    });
  });

  describe('malformed bodies', () => {
    it(`decrypt: every truncation of a real body (${body.length} bytes) gives the RFC 8188 code`, () => {
      for (let n = 0; n < body.length; n++) {
        expectCode(() => decrypt(body.subarray(0, n)), truncationCode(body, n), `first ${n} bytes`);
      }
      for (let extra = 1; extra <= 40; extra++) {
        expectCode(() => decrypt(concat(body, randomBytes(extra))), 'DECRYPT_FAILED', `${extra} bytes appended`);
      }
      assert.equal(Buffer.from(decrypt(body)).toString(), 'hello');
    });

    itTesting('testing.eceDecrypt: every truncation of the RFC 8188 3.1 and 3.2 bodies', () => {
      for (const ex of readVectors('rfc/rfc8188-examples.json').examples) {
        const full = fromB64u(ex.body);
        const ikm = fromB64u(ex.ikm);
        for (let n = 0; n < full.length; n++) {
          expectCode(() => t.eceDecrypt({ ikm, body: full.subarray(0, n) }), truncationCode(full, n), `${ex.name}: first ${n} bytes`);
        }
      }
    });

    // RFC 8188 authenticates the records, not the header: a changed rs that still covers the whole record, or a
    // changed key id where the key id is not used (eceDecrypt), may decrypt — but then to the same plaintext.
    function flipOutcome(fn, expected, plaintext, label) {
      let out;
      try {
        out = fn();
      } catch {
        return expectCode(fn, expected.codes, label);
      }
      assert.ok(expected.mayDecrypt, `${label}: decrypted although it must not`);
      assertBytes(out, plaintext, `${label}: decrypted to another plaintext`);
      return 'decrypted';
    }

    it('decrypt: every single-bit flip is rejected with the code of the field it lands in', () => {
      const counts = new Map();
      const recordLength = body.length - 86;
      for (let i = 0; i < body.length; i++) {
        for (let bit = 0; bit < 8; bit++) {
          const flipped = Uint8Array.from(body);
          flipped[i] ^= 1 << bit;
          let expected;
          if (i < 16) expected = { codes: 'DECRYPT_FAILED' }; // salt: other keys
          else if (i < 20) {
            const rs = new DataView(flipped.buffer).getUint32(16);
            if (rs < 18) expected = { codes: 'ECE_BAD_RECORD_SIZE' };
            else if (rs >= recordLength) expected = { codes: 'DECRYPT_FAILED', mayDecrypt: true }; // still one record
            else expected = { codes: ['ECE_TRUNCATED_RECORD', 'DECRYPT_FAILED'] };
          } else if (i === 20) expected = { codes: ['ECE_BAD_KEY_ID', 'ECE_TRUNCATED_HEADER'] }; // idlen
          else if (i < 86) expected = { codes: 'ECE_BAD_KEY_ID' }; // the sender key is no longer a point on P-256
          else expected = { codes: 'DECRYPT_FAILED' }; // ciphertext and tag
          const outcome = flipOutcome(() => decrypt(flipped), expected, utf8('hello'), `byte ${i} bit ${bit}`);
          counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
        }
      }
      assert.ok(!counts.has('DECRYPT_FAILED') || counts.get('DECRYPT_FAILED') >= (body.length - 86 + 16) * 8);
    });

    itTesting('testing.eceDecrypt: every single-bit flip of the RFC 8188 3.2 body', () => {
      const ex = readVectors('rfc/rfc8188-examples.json').examples[1];
      const full = fromB64u(ex.body);
      const ikm = fromB64u(ex.ikm);
      for (let i = 0; i < full.length; i++) {
        for (let bit = 0; bit < 8; bit++) {
          const flipped = Uint8Array.from(full);
          flipped[i] ^= 1 << bit;
          let expected;
          if (i < 16 || i >= 23) expected = { codes: 'DECRYPT_FAILED' };
          else if (i < 20) expected = { codes: ['ECE_BAD_RECORD_SIZE', 'ECE_TRUNCATED_RECORD', 'DECRYPT_FAILED'] }; // rs 25 → records misaligned
          else if (i === 20) expected = { codes: ['ECE_TRUNCATED_HEADER', 'ECE_TRUNCATED_RECORD', 'ECE_TRUNCATED_MESSAGE', 'DECRYPT_FAILED'] };
          else expected = { codes: [], mayDecrypt: true }; // the key id "a1" plays no part in eceDecrypt
          flipOutcome(() => t.eceDecrypt({ ikm, body: flipped }), expected, utf8(ex.plaintext_utf8), `byte ${i} bit ${bit}`);
        }
      }
    });

    itTesting('random bytes of many lengths (and random records behind a real header) are rejected', () => {
      const lengths = [...Array(200).keys(), 255, 256, 1000, 4095, 4096, 4097, 10000, 65536];
      for (const n of lengths) {
        expectCode(() => decrypt(randomBytes(n)), ECE_CODES, `decrypt: ${n} random bytes`);
        expectCode(() => t.eceDecrypt({ ikm: auth, body: randomBytes(n) }), ECE_CODES, `eceDecrypt: ${n} random bytes`);
        const behindHeader = concat(body.subarray(0, 86), randomBytes(n));
        expectCode(() => decrypt(behindHeader), ECE_CODES, `decrypt: real header + ${n} random bytes`);
        // A small record size, so that random data spans many records.
        const smallRs = Uint8Array.from(behindHeader);
        new DataView(smallRs.buffer).setUint32(16, 18 + (n % 40));
        expectCode(() => decrypt(smallRs), ECE_CODES, `decrypt: rs ${18 + (n % 40)} + ${n} random bytes`);
      }
    });

    itTesting('header fields: record sizes below 18, key ids of the wrong length or off the curve', () => {
      for (let rs = 0; rs < 18; rs++) {
        const b = Uint8Array.from(body);
        new DataView(b.buffer).setUint32(16, rs);
        expectCode(() => decrypt(b), 'ECE_BAD_RECORD_SIZE', `rs ${rs}`);
        const e = t.eceEncrypt({ ikm: auth, salt: randomBytes(16), recordSize: 4096, plaintext: utf8('x') });
        new DataView(e.buffer).setUint32(16, rs);
        expectCode(() => t.eceDecrypt({ ikm: auth, body: e }), 'ECE_BAD_RECORD_SIZE', `eceDecrypt rs ${rs}`);
      }
      const salt = body.subarray(0, 16);
      const records = body.subarray(86);
      const withKeyId = (keyId) => {
        const h = new Uint8Array(21);
        h.set(salt);
        new DataView(h.buffer).setUint32(16, 4096);
        h[20] = keyId.length;
        return concat(h, keyId, records);
      };
      for (const n of [0, 1, 33, 64, 66, 97, 255]) expectCode(() => decrypt(withKeyId(randomBytes(n))), 'ECE_BAD_KEY_ID', `${n}-byte key id`);
      expectCode(() => decrypt(withKeyId(offCurve)), 'ECE_BAD_KEY_ID', 'key id off the curve');
      const keyId = body.subarray(21, 86);
      const compressed = u8(crypto.ECDH.convertKey(Buffer.from(keyId), 'prime256v1', undefined, undefined, 'compressed'));
      expectCode(() => decrypt(withKeyId(compressed)), 'ECE_BAD_KEY_ID', 'compressed key id');
      assert.equal(Buffer.from(decrypt(withKeyId(keyId))).toString(), 'hello', 'control: the rebuilt body decrypts');
    });

    itTesting('forged records: no delimiter, bad delimiter, delimiter 2 too early, 1 on the last record', () => {
      // Web Push bodies forged with Node's crypto for this subscription (sender key in the key id).
      const sender = crypto.createECDH('prime256v1');
      sender.generateKeys();
      const ikm = webPushIkm(sender, receiver.publicKey, auth);
      const forge = (records, recordSize = 4096) =>
        eceBodyFromRecords({ ikm, salt: randomBytes(16), recordSize, keyId: u8(sender.getPublicKey()), records: records.map(u8) });
      // Controls: well-formed single- and two-record bodies decrypt.
      assert.equal(Buffer.from(decrypt(forge([[...utf8('ok'), 2]]))).toString(), 'ok');
      assert.equal(Buffer.from(decrypt(forge([[...utf8('ok'), 2, 0, 0, 0]]))).toString(), 'ok', 'padded');
      const rs = 30; // 14 plaintext bytes per full record
      assert.equal(Buffer.from(decrypt(forge([[...utf8('abcdefghijklm'), 1], [...utf8('xyz'), 2]], rs))).toString(), 'abcdefghijklmxyz');
      const cases = [
        ['all-zero record', [[0, 0, 0, 0]], 4096, 'ECE_BAD_PADDING'],
        ['single zero byte', [[0]], 4096, 'ECE_BAD_PADDING'],
        ['delimiter 3', [[...utf8('ok'), 3]], 4096, 'ECE_BAD_PADDING'],
        ['delimiter 0xff then zeros', [[...utf8('ok'), 0xff, 0, 0]], 4096, 'ECE_BAD_PADDING'],
        ['empty record (tag only)', [[]], 4096, 'ECE_TRUNCATED_RECORD'],
        ['delimiter 1 on the only record', [[...utf8('ok'), 1]], 4096, 'ECE_TRUNCATED_MESSAGE'],
        ['delimiter 2 on the first of two records', [[...utf8('abcdefghijklm'), 2], [...utf8('xyz'), 2]], rs, 'ECE_BAD_DELIMITER'],
        ['delimiter 1 on the last of two records', [[...utf8('abcdefghijklm'), 1], [...utf8('xyz'), 1]], rs, 'ECE_TRUNCATED_MESSAGE'],
        ['zero padding only in the second record', [[...utf8('abcdefghijklm'), 1], [0, 0]], rs, 'ECE_BAD_PADDING'],
      ];
      for (const [label, records, recordSize, code] of cases) {
        expectCode(() => decrypt(forge(records, recordSize)), code, label);
        const raw = eceBodyFromRecords({ ikm: auth, salt: randomBytes(16), recordSize, records: records.map(u8) });
        expectCode(() => t.eceDecrypt({ ikm: auth, body: raw }), code, `eceDecrypt: ${label}`);
      }
    });
  });

  it('huge record sizes do not abort the core (own instance)', async () => {
    const own = await loadCore({ flavor });
    const keys = own.generateVapidKeys();
    const a = randomBytes(16);
    for (const recordSize of [2 ** 31, 2 ** 32 - 1]) {
      for (const [label, fn] of [
        ['encrypt', () => own.encrypt({ p256dh: keys.publicKey, auth: a, plaintext: 'x', recordSize })],
        ['testing.eceEncrypt', own.testing && (() => own.testing.eceEncrypt({ ikm: a, salt: a, recordSize, plaintext: utf8('x') }))],
      ].filter(([, fn]) => fn)) {
        let out;
        try {
          out = fn();
        } catch (err) {
          expectCode(() => { throw err; }, ['ECE_BAD_RECORD_SIZE', 'BAD_ARGUMENT'], `${label} rs ${recordSize}`);
          continue;
        }
        assert.ok(out.length < 200, `${label} rs ${recordSize}: one small record`);
      }
    }
    const b = own.encrypt({ p256dh: keys.publicKey, auth: a, plaintext: 'still alive' });
    assert.equal(Buffer.from(own.decrypt({ ...keys, auth: a, body: b })).toString(), 'still alive');
  });

  it('after all of the above, the same instance still works (no abort)', () => {
    const keys = core.generateVapidKeys();
    const a = randomBytes(16);
    for (const size of [0, 1, 3993]) {
      const plaintext = randomBytes(size);
      const b = core.encrypt({ p256dh: keys.publicKey, auth: a, plaintext });
      assertBytes(core.decrypt({ ...keys, auth: a, body: b }), plaintext);
    }
    const req = core.buildPushRequest({ subscription, payload: 'still here', vapidKeys: vapid, subject: SUBJECT });
    assert.equal(Buffer.from(decrypt(req.body)).toString(), 'still here');
  });

  it('every status the C++ core can return is a code declared in js/core.d.ts', () => {
    assert.ok(core.statusNames.length >= 34, `${core.statusNames.length} names`);
    assert.equal(core.statusNames[0], 'OK');
    for (const name of core.statusNames.slice(1)) assert.ok(errorCodes.has(name), `${name} is not in core.d.ts`);
  });

  describe('arguments that could break the core', () => {
    it('every string and byte argument is length-checked before it is copied into the Wasm heap', () => {
      const long = 'a'.repeat(70_000);
      const keys = core.generateVapidKeys();
      const sub = { endpoint: `https://updates.push.services.mozilla.com/${long}`, keys: subscription.keys };
      expectCode(() => core.vapidAuthorization({ endpoint: sub.endpoint, subject: SUBJECT, ...keys }), 'BAD_ENDPOINT');
      expectCode(() => core.vapidAuthorization({ endpoint: ENDPOINT, subject: `mailto:${long}`, ...keys }), 'BAD_SUBJECT');
      expectCode(() => core.verifyVapidJwt(long, keys.publicKey), 'BAD_JWT');
      expectCode(() => core.buildPushRequest({ subscription: sub, payload: 'x', vapidKeys: vapid, subject: SUBJECT }), 'BAD_ENDPOINT');
      expectCode(() => core.buildPushRequest({ subscription, payload: long, vapidKeys: vapid, subject: SUBJECT }), 'PAYLOAD_TOO_LARGE');
      expectCode(() => core.packSdp(long), 'BAD_SDP');
      expectCode(() => core.unpackSdp(new Uint8Array(70_000)), 'BAD_PACKED_SDP');
      expectCode(() => core.decodeCard(long), 'BAD_CARD');
      expectCode(() => core.decodeCard(new Uint8Array(70_000)), 'BAD_CARD');
      expectCode(() => core.openEnvelope(new Uint8Array(70_000), { self: new Uint8Array(8) }), 'BAD_ENVELOPE');
      expectCode(() => core.createCard({ identity: keys, subscription, subject: SUBJECT, name: 'n'.repeat(65) }), 'BAD_ARGUMENT');
      expectCode(() => core.issueGrants({ privateKey: keys.privateKey, endpoint: sub.endpoint, subject: SUBJECT }), 'BAD_ENDPOINT');
      expectCode(() => core.decrypt({ ...keys, auth: randomBytes(16), body: new Uint8Array(16 * 1024 * 1024 + 1) }), 'BAD_ARGUMENT');
      // Still fine afterwards.
      assert.equal(core.unpackSdp(core.packSdp('v=0\r\n')), 'v=0\r\n');
    });

    it('a string of 1.5 GB in UTF-8 is refused by its length, and the core keeps working', () => {
      // Copied into the heap, this would exceed the Wasm memory limit and abort the instance.
      const huge = '\u4e00'.repeat(5e8);
      const keys = core.generateVapidKeys();
      expectCode(() => core.vapidAuthorization({ endpoint: `https://fcm.googleapis.com/${huge}`, subject: SUBJECT, ...keys }), 'BAD_ENDPOINT');
      expectCode(() => core.packSdp(huge), 'BAD_SDP');
      expectCode(() => core.createCard({ identity: keys, subscription, subject: SUBJECT, name: huge }), 'BAD_ARGUMENT');
      expectCode(() => core.openEnvelope(huge, { self: new Uint8Array(8) }), 'BAD_ENVELOPE');
      expectCode(() => core.encrypt({ p256dh: keys.publicKey, auth: randomBytes(16), plaintext: huge }), 'PAYLOAD_TOO_LARGE');
      assert.equal(core.unpackSdp(core.packSdp('v=0\r\n')), 'v=0\r\n');
    });

    it("exceptions thrown by the caller's own objects come out as BAD_ARGUMENT with the cause", () => {
      const cause = new Error('getter says no');
      const throwing = { get p256dh() { throw cause; }, auth: randomBytes(16), plaintext: 'x' };
      for (const [label, fn, code = 'BAD_ARGUMENT'] of [
        ['encrypt', () => core.encrypt(throwing)],
        ['buildPushRequest', () => core.buildPushRequest({ subscription: { toJSON() { throw cause; } }, payload: 'x', vapidKeys: vapid, subject: SUBJECT }), 'BAD_SUBSCRIPTION'],
        ['sealEnvelope', () => core.sealEnvelope(new Proxy({}, { get() { throw cause; } }))],
        ['openEnvelope', () => core.openEnvelope(new Uint8Array(3), { get self() { throw cause; } })],
        ['createCard', () => core.createCard({ identity: vapid, subscription, subject: SUBJECT, get grants() { throw cause; } })],
        ['decrypt', () => core.decrypt({ get privateKey() { throw cause; } })],
        ['vapidAuthorization', () => core.vapidAuthorization({ get endpoint() { throw cause; } })],
      ]) {
        try {
          fn();
          assert.fail(`${label}: no error`);
        } catch (err) {
          assert.ok(err instanceof PushPeerError, `${label}: ${err?.constructor?.name}`);
          assert.equal(err.code, code, label);
          assert.equal(err.cause, cause, `${label}: the cause is attached`);
        }
      }
    });

    itTesting('after a trap the core reloads itself instead of staying broken', async () => {
      const own = await loadCore({ flavor });
      const before = own.generation;
      assert.throws(() => own.testing.trap(), (e) => e instanceof PushPeerError && e.code === 'INTERNAL');
      // Until the fresh instance is there, calls fail with INTERNAL (never with a crash or a wrong answer).
      assert.throws(() => own.generateVapidKeys(), (e) => e.code === 'INTERNAL');
      await own.ready();
      assert.equal(own.generation, before + 1);
      const keys = own.generateVapidKeys();
      const a = randomBytes(16);
      const b = own.encrypt({ p256dh: keys.publicKey, auth: a, plaintext: 'alive again' });
      assert.equal(Buffer.from(own.decrypt({ ...keys, auth: a, body: b })).toString(), 'alive again');
    });
  });
});
