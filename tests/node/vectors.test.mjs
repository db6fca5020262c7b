// The RFC examples, byte for byte: RFC 8291 Appendix A (Web Push encryption), RFC 8188 §3.1 and §3.2
// (aes128gcm), RFC 8292 §2.4 (VAPID JWT).
import assert from 'node:assert/strict';
import { it } from 'node:test';

import {
  assertBytes, concat, expectCode, forEachFlavor, fromB64u, randomBytes, readVectors, toB64u, utf8,
} from './helpers.mjs';

const rfc8291 = readVectors('rfc/rfc8291-appendix-a.json');
const rfc8188 = readVectors('rfc/rfc8188-examples.json');
const rfc8292 = readVectors('rfc/rfc8292-vapid-example.json');

const b = (name) => fromB64u(rfc8291[name]);

forEachFlavor((core) => {
  const t = core.testing;

  // --- RFC 8291 Appendix A ---

  it('RFC 8291 A: testing.encryptWithKeys reproduces the body exactly', () => {
    const body = t.encryptWithKeys({
      p256dh: b('ua_public'), auth: b('auth_secret'), plaintext: b('plaintext'),
      senderPrivateKey: b('as_private'), senderPublicKey: b('as_public'), salt: b('salt'),
      recordSize: rfc8291.record_size,
    });
    assertBytes(body, b('body'));
    assert.equal(body.length, 144); // the RFC prints Content-Length 145; the body is 144 octets
    assertBytes(body.subarray(0, 86), b('header'), 'header');
    assertBytes(body.subarray(86), b('ciphertext'), 'ciphertext');
  });

  it('RFC 8291 A: the same with base64url text arguments (as a PushSubscription carries them)', () => {
    const body = t.encryptWithKeys({
      p256dh: rfc8291.ua_public, auth: rfc8291.auth_secret, plaintext: b('plaintext'),
      senderPrivateKey: rfc8291.as_private, senderPublicKey: rfc8291.as_public, salt: rfc8291.salt,
    });
    assertBytes(body, b('body'));
  });

  it('RFC 8291 A: core.decrypt gives the plaintext', () => {
    const plaintext = core.decrypt({
      privateKey: b('ua_private'), publicKey: b('ua_public'), auth: b('auth_secret'), body: b('body'),
    });
    assertBytes(plaintext, b('plaintext'));
    assert.equal(Buffer.from(plaintext).toString('utf8'), 'When I grow up, I want to be a watermelon');
  });

  it('RFC 8291 A: every intermediate value (ECDH, HKDF, HMAC, AES-GCM primitives)', () => {
    assertBytes(t.ecdh(b('as_private'), b('ua_public')), b('ecdh_secret'), 'ecdh_secret (sender side)');
    assertBytes(t.ecdh(b('ua_private'), b('as_public')), b('ecdh_secret'), 'ecdh_secret (receiver side)');
    assertBytes(core.vapidKeysFromPrivate(b('as_private')).publicKey, b('as_public'), 'as_public from as_private');
    assertBytes(core.vapidKeysFromPrivate(b('ua_private')).publicKey, b('ua_public'), 'ua_public from ua_private');
    assertBytes(t.hmacSha256(b('auth_secret'), b('ecdh_secret')), b('prk_key'), 'PRK_key = HMAC(auth, ecdh)');
    assertBytes(concat(utf8('WebPush: info\0'), b('ua_public'), b('as_public')), b('key_info'), 'key_info');
    assertBytes(t.hkdfSha256(b('auth_secret'), b('ecdh_secret'), b('key_info'), 32), b('ikm'), 'IKM');
    assertBytes(t.hmacSha256(b('salt'), b('ikm')), b('prk'), 'PRK = HMAC(salt, IKM)');
    assertBytes(t.hkdfSha256(b('salt'), b('ikm'), b('cek_info'), 16), b('cek'), 'CEK');
    assertBytes(t.hkdfSha256(b('salt'), b('ikm'), b('nonce_info'), 12), b('nonce'), 'NONCE');
    assertBytes(t.aesGcmSeal(b('cek'), b('nonce'), new Uint8Array(0), b('padded_plaintext')), b('ciphertext'), 'seal');
    assertBytes(t.aesGcmOpen(b('cek'), b('nonce'), new Uint8Array(0), b('ciphertext')), b('padded_plaintext'), 'open');
  });

  // --- RFC 8188 §3 ---

  const [ex31, ex32] = rfc8188.examples;

  it('RFC 8188 3.1: testing.eceDecrypt gives the plaintext', () => {
    const pt = t.eceDecrypt({ ikm: fromB64u(ex31.ikm), body: fromB64u(ex31.body) });
    assertBytes(pt, utf8(ex31.plaintext_utf8));
  });

  it('RFC 8188 3.1: testing.eceEncrypt (salt = first 16 bytes of the body) reproduces the body exactly', () => {
    const body = fromB64u(ex31.body);
    assert.equal(body.length, 53); // the RFC prints 54 octets; the body is 53
    assertBytes(body.subarray(0, 16), fromB64u(ex31.salt), 'salt');
    const out = t.eceEncrypt({
      ikm: fromB64u(ex31.ikm), salt: body.subarray(0, 16), keyId: utf8(ex31.keyid_utf8), recordSize: ex31.record_size,
      plaintext: utf8(ex31.plaintext_utf8),
    });
    assertBytes(out, body);
  });

  it('RFC 8188 3.1: PRK, CEK and nonce', () => {
    const ikm = fromB64u(ex31.ikm);
    const salt = fromB64u(ex31.salt);
    assertBytes(t.hmacSha256(salt, ikm), fromB64u(ex31.prk), 'PRK');
    assertBytes(t.hkdfSha256(salt, ikm, utf8('Content-Encoding: aes128gcm\0'), 16), fromB64u(ex31.cek), 'CEK');
    assertBytes(t.hkdfSha256(salt, ikm, utf8('Content-Encoding: nonce\0'), 12), fromB64u(ex31.nonce), 'nonce');
    assertBytes(t.aesGcmOpen(fromB64u(ex31.cek), fromB64u(ex31.nonce), new Uint8Array(0), fromB64u(ex31.body).subarray(21)),
      fromB64u(ex31.unencrypted_data), 'record plaintext');
  });

  it('RFC 8188 3.2: testing.eceDecrypt gives the plaintext (two records)', () => {
    const pt = t.eceDecrypt({ ikm: fromB64u(ex32.ikm), body: fromB64u(ex32.body) });
    assertBytes(pt, utf8(ex32.plaintext_utf8));
  });

  it('RFC 8188 3.2: testing.eceEncrypt with keyId "a1", rs 25, padding 1 reproduces the body exactly', () => {
    const body = fromB64u(ex32.body);
    const out = t.eceEncrypt({
      ikm: fromB64u(ex32.ikm), salt: body.subarray(0, 16), keyId: utf8(ex32.keyid_utf8), recordSize: ex32.record_size,
      padding: 1, plaintext: utf8(ex32.plaintext_utf8),
    });
    assertBytes(out, body);
  });

  it('RFC 8188: eceEncrypt/eceDecrypt round trip over record sizes, padding and lengths', () => {
    for (const recordSize of [18, 19, 25, 100, 4096]) {
      for (const length of [0, 1, 2, 17, 100, 1000]) {
        for (const padding of [0, 1, 30]) {
          const ikm = randomBytes(16);
          const plaintext = randomBytes(length);
          const body = t.eceEncrypt({ ikm, salt: randomBytes(16), recordSize, padding, plaintext });
          assertBytes(t.eceDecrypt({ ikm, body }), plaintext, `rs ${recordSize} length ${length} padding ${padding}`);
        }
      }
    }
  });

  // --- RFC 8292 §2.4 ---

  it('RFC 8292 2.4: core.verifyVapidJwt(t, k) gives the claims', () => {
    assert.deepEqual(core.verifyVapidJwt(rfc8292.t, fromB64u(rfc8292.k)), rfc8292.claims);
    assert.deepEqual(core.verifyVapidJwt(rfc8292.t, rfc8292.k), rfc8292.claims, 'k as base64url text');
  });

  it('RFC 8292 2.4: a changed claim, signature or key does not verify', () => {
    const [h, c, s] = rfc8292.t.split('.');
    const claims = toB64u(utf8(JSON.stringify({ ...rfc8292.claims, aud: 'https://push.example.org' })));
    expectCode(() => core.verifyVapidJwt(`${h}.${claims}.${s}`, rfc8292.k), 'BAD_SIGNATURE', 'changed aud');
    const sig = fromB64u(s);
    sig[10] ^= 1;
    expectCode(() => core.verifyVapidJwt(`${h}.${c}.${toB64u(sig)}`, rfc8292.k), 'BAD_SIGNATURE', 'flipped signature bit');
    expectCode(() => core.verifyVapidJwt(rfc8292.t, core.generateVapidKeys().publicKey), 'BAD_SIGNATURE', 'other key');
  });

  // --- base64url agrees with Node's ---

  it('base64urlEncode/Decode agree with Node for lengths 0..100', () => {
    for (let n = 0; n <= 100; n++) {
      const bytes = randomBytes(n);
      const text = core.base64urlEncode(bytes);
      assert.equal(text, toB64u(bytes), `encode ${n}`);
      assertBytes(core.base64urlDecode(text), bytes, `decode ${n}`);
    }
  });
}, { testing: true });
