// Secrets do not outlive the call that used them (every key is wiped before its memory is freed, and this checks
// it): after key generation, VAPID signing, a push request and a decrypt, the whole Wasm heap holds neither the
// private keys nor the auth secret — not the exact bytes and not any 16-byte window of them. Nor does it hold what
// HKDF derives on the way (RFC 8291's IKM, RFC 8188's PRK, CEK and nonce), nor any HMAC key's schedule (K ^ ipad,
// K ^ opad, the hash state after them): BearSSL leaves those in its own stack frames, which under Wasm are heap.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { it } from 'node:test';

import {
  assertBytes, concat, expectCode, findAll, forEachFlavor, fromB64u, hmacKeySchedule, keyIdOf, nodeKeyPair, randomBytes,
  toB64u, toHex, u8, utf8,
} from './helpers.mjs';

const ENDPOINT = 'https://push.example.net/wpush/v2/secret';
const SUBJECT = 'mailto:secrets@pushpeer.test';
const WINDOW = 16;

/** Every place in heap where secret, or any WINDOW-byte slice of it, occurs: [] when the heap is clean. */
function leaks(heap, secret) {
  const found = [];
  for (const offset of findAll(heap, secret)) found.push({ window: 'all', offset, start: offset });
  if (secret.length > WINDOW) {
    for (let w = 0; w + WINDOW <= secret.length; w++) {
      // Windows of one copy share where the secret would start (offset - w): one finding per copy. (Comparing a
      // window's own offset with that start counted a planted 16 bytes twice when a heap byte beside them happened
      // to match the secret's next byte: the self-test failed 1 run in ~128.)
      for (const offset of findAll(heap, secret.subarray(w, w + WINDOW))) {
        if (!found.some((f) => f.start === offset - w)) found.push({ window: `[${w}, ${w + WINDOW})`, offset, start: offset - w });
      }
    }
  }
  return found;
}

function assertNotOnHeap(heap, secret, what) {
  const found = leaks(heap, secret);
  const where = found.slice(0, 8).map(({ window, offset }) => {
    const ctx = heap.subarray(Math.max(0, offset - 16), offset);
    return `bytes ${window} at heap offset ${offset} (0x${offset.toString(16)}), preceded by ${toHex(ctx)}`;
  });
  assert.deepEqual(where, [], `${what} (${toHex(secret)}) is still on the Wasm heap of ${heap.length} bytes`);
}

/** The names of the secrets (name -> bytes) found on the heap, whole or by any WINDOW-byte slice. */
function leftOnHeap(heap, secrets) {
  return Object.entries(secrets).filter(([, bytes]) => leaks(heap, bytes).length).map(([name]) => name);
}

// RFC 5869 with Node's HMAC: Extract's PRK, Expand's first block T(1) (all the core ever takes is L <= 32), and every
// HMAC key on the way with its schedule. The salt is a key too: a secret one (RFC 8291's auth) is named in `secret`.
const hmac = (key, ...message) => u8(crypto.createHmac('sha256', key).update(concat(...message)).digest());
function hkdf(name, { salt, ikm, info }) {
  const prk = hmac(salt, ikm);
  return { prk, t1: hmac(prk, info, u8([1])), schedule: { [`${name} PRK`]: prk, ...hmacKeySchedule(prk, `${name} PRK`) } };
}

// Everything RFC 8291 and RFC 8188 derive for one push message, recomputed from its body (salt, the sender's key)
// and the receiver's key pair; auth is the subscription's secret (in sealForPeer, public: from the identity).
function messageSecrets({ body, receiver, auth }) {
  const salt = body.subarray(0, 16);
  const sender = body.subarray(21, 86);
  const ecdhSecret = u8(receiver.ecdh.computeSecret(Buffer.from(sender)));
  const key = hkdf('key', { salt: auth, ikm: ecdhSecret, info: concat(utf8('WebPush: info\0'), receiver.publicKey, sender) });
  const ikm = key.t1; // L = 32: all of T(1)
  const cek = hkdf('content', { salt, ikm, info: utf8('Content-Encoding: aes128gcm\0') });
  const nonce = hkdf('content', { salt, ikm, info: utf8('Content-Encoding: nonce\0') });
  return {
    'the ECDH secret': ecdhSecret, ...key.schedule, 'the IKM': ikm, ...cek.schedule,
    'the CEK': cek.t1.subarray(0, 16), 'the rest of the CEK\'s T(1)': cek.t1.subarray(16),
    'the nonce': nonce.t1.subarray(0, 12), 'the rest of the nonce\'s T(1)': nonce.t1.subarray(12),
  };
}

forEachFlavor((core) => {
  it('HKDF (testing.hkdfSha256) leaves no IKM, PRK, key schedule or unused output on the heap', () => {
    const salt = randomBytes(16);
    const ikm = randomBytes(32);
    const info = utf8('Content-Encoding: aes128gcm\0');
    const { prk, t1, schedule } = hkdf('the', { salt, ikm, info });
    assertBytes(core.testing.hkdfSha256(salt, ikm, info, 16), t1.subarray(0, 16));
    const heap = core.testing.heapSnapshot();
    // The 16 bytes asked for are the caller's (this entry point returns them through the heap); the rest of T(1) not.
    assert.deepEqual(leftOnHeap(heap, {
      'the IKM': ikm, ...hmacKeySchedule(salt, 'the salt'), ...schedule, 'the rest of T(1)': t1.subarray(16),
    }), [], 'left on the Wasm heap');
  });

  it('a push encrypted and decrypted (RFC 8291) leaves none of its derived secrets or key schedules on the heap', () => {
    const receiver = nodeKeyPair();
    const auth = randomBytes(16);
    const message = randomBytes(48);
    const body = core.encrypt({ p256dh: receiver.publicKey, auth, plaintext: message });
    const secrets = { ...hmacKeySchedule(auth, 'auth'), ...messageSecrets({ body, receiver, auth }) };
    assert.deepEqual(leftOnHeap(core.testing.heapSnapshot(), secrets), [], 'left on the Wasm heap after encrypt');
    assertBytes(core.decrypt({ ...receiver, auth, body }), message);
    assert.deepEqual(leftOnHeap(core.testing.heapSnapshot(), secrets), [], 'left on the Wasm heap after decrypt');
  });

  it('nor does a decrypt that fails after the keys are derived (a truncated record, a wrong tag)', () => {
    const receiver = nodeKeyPair();
    const auth = randomBytes(16);
    const body = core.encrypt({ p256dh: receiver.publicKey, auth, plaintext: randomBytes(48) });
    const secrets = { ...hmacKeySchedule(auth, 'auth'), ...messageSecrets({ body, receiver, auth }) };
    // A record shorter than its tag and delimiter: RFC 8188 keys derived, no AES-GCM run.
    expectCode(() => core.decrypt({ ...receiver, auth, body: body.subarray(0, 86 + 10) }), 'ECE_TRUNCATED_RECORD');
    assert.deepEqual(leftOnHeap(core.testing.heapSnapshot(), secrets), [], 'left on the Wasm heap (truncated record)');
    const flipped = body.slice();
    flipped[flipped.length - 1] ^= 1;
    expectCode(() => core.decrypt({ ...receiver, auth, body: flipped }), 'DECRYPT_FAILED');
    assert.deepEqual(leftOnHeap(core.testing.heapSnapshot(), secrets), [], 'left on the Wasm heap (wrong tag)');
  });

  it('an envelope sealed for a peer and opened (sealForPeer / openFromPeer) leaves none of them either', () => {
    const bob = nodeKeyPair();
    const envelope = randomBytes(200);
    const body = core.sealForPeer({ envelope, recipientIdentity: bob.publicKey });
    // PROTOCOL.md §4.1: the auth secret is public, SHA-256("pushpeer/neighbour/v1" || key id)[0..16].
    const keyId = fromB64u(keyIdOf(bob.publicKey));
    const auth = u8(crypto.createHash('sha256').update(concat(utf8('pushpeer/neighbour/v1'), keyId)).digest().subarray(0, 16));
    const secrets = messageSecrets({ body, receiver: bob, auth });
    assert.deepEqual(leftOnHeap(core.testing.heapSnapshot(), secrets), [], 'left on the Wasm heap after sealForPeer');
    assertBytes(core.openFromPeer({ body, ...bob }), envelope);
    assert.deepEqual(leftOnHeap(core.testing.heapSnapshot(), secrets), [], 'left on the Wasm heap after openFromPeer');
  });

  it('the heap holds no private key and no auth secret after generate, authorize, build and decrypt', () => {
    const vapid = core.generateVapidKeys();
    const receiver = nodeKeyPair(); // the subscription's key pair, given to decrypt
    const auth = randomBytes(16);
    const subscription = { endpoint: ENDPOINT, keys: { p256dh: toB64u(receiver.publicKey), auth: toB64u(auth) } };

    const authorization = core.vapidAuthorization({ endpoint: ENDPOINT, subject: SUBJECT, ...vapid });
    assert.match(authorization, /^vapid t=/);
    const request = core.buildPushRequest({ subscription, payload: 'a secret message', vapidKeys: vapid, subject: SUBJECT });
    const plaintext = core.decrypt({ privateKey: receiver.privateKey, publicKey: receiver.publicKey, auth, body: request.body });
    assert.equal(Buffer.from(plaintext).toString(), 'a secret message');

    const heap = core.testing.heapSnapshot();
    assert.ok(heap.length >= 1 << 20);
    assertNotOnHeap(heap, vapid.privateKey, 'the VAPID private key');
    assertNotOnHeap(heap, receiver.privateKey, 'the subscription private key given to decrypt');
    assertNotOnHeap(heap, auth, 'the auth secret');
  });

  it('the subscription JSON (auth secret and p256dh as base64url text) does not stay on the heap', () => {
    const vapid = core.generateVapidKeys();
    const receiver = nodeKeyPair();
    const auth = randomBytes(16);
    const subscription = { endpoint: ENDPOINT, keys: { p256dh: toB64u(receiver.publicKey), auth: toB64u(auth) } };
    core.buildPushRequest({ subscription, payload: 'x', vapidKeys: vapid, subject: SUBJECT });
    const heap = core.testing.heapSnapshot();
    assertNotOnHeap(heap, auth, 'the auth secret');
    assertNotOnHeap(heap, utf8(subscription.keys.auth), 'the auth secret\'s base64url text');
  });

  it('the self-test of this check: a secret left in a Wasm buffer is found', () => {
    // A window of a secret planted in a copy of the heap must be found, or a clean result would prove nothing.
    const secret = randomBytes(32);
    const heap = core.testing.heapSnapshot();
    assert.deepEqual(leaks(heap, secret), []);
    const planted = concat(heap.subarray(0, 100), secret.subarray(3, 3 + WINDOW), heap.subarray(100));
    assert.equal(leaks(planted, secret).length, 1, 'a 16-byte window is found');
    // 18 bytes of one copy hold three overlapping windows: still one finding (a heap byte next to a planted window
    // equals the secret's next byte 1 time in 256, so this is what the line above meets by chance).
    const longer = concat(heap.subarray(0, 100), secret.subarray(2, 2 + WINDOW + 2), heap.subarray(100));
    assert.equal(leaks(longer, secret).length, 1, 'overlapping windows of one copy are one finding');
  });

  it('no secret derived for the message stays on the heap: ECDH secret, IKM, PRK, CEK, plaintext', () => {
    const receiver = nodeKeyPair();
    const auth = randomBytes(16);
    const message = randomBytes(48);
    const body = core.encrypt({ p256dh: receiver.publicKey, auth, plaintext: message });
    assertBytes(core.decrypt({ ...receiver, auth, body }), message);
    // Recompute the message's secrets with Node's crypto from the body (salt, sender key) and the receiver key.
    const salt = body.subarray(0, 16);
    const sender = body.subarray(21, 86);
    const ecdhSecret = u8(receiver.ecdh.computeSecret(Buffer.from(sender)));
    const ikm = u8(Buffer.from(crypto.hkdfSync('sha256', ecdhSecret, auth, concat(utf8('WebPush: info\0'), receiver.publicKey, sender), 32)));
    const prk = u8(crypto.createHmac('sha256', salt).update(ikm).digest());
    const cek = u8(Buffer.from(crypto.hkdfSync('sha256', ikm, salt, utf8('Content-Encoding: aes128gcm\0'), 16)));
    const heap = core.testing.heapSnapshot();
    assertNotOnHeap(heap, ecdhSecret, 'the ECDH shared secret');
    assertNotOnHeap(heap, ikm, 'the IKM');
    assertNotOnHeap(heap, prk, 'the PRK');
    assertNotOnHeap(heap, cek, 'the CEK');
    assertNotOnHeap(heap, message, 'the plaintext');
  });

  it('a sender private key given to testing.encryptWithKeys does not stay on the heap', () => {
    const sender = core.generateVapidKeys();
    const receiver = nodeKeyPair();
    const auth = randomBytes(16);
    core.testing.encryptWithKeys({
      p256dh: receiver.publicKey, auth, plaintext: utf8('x'), senderPrivateKey: sender.privateKey,
      senderPublicKey: sender.publicKey, salt: randomBytes(16),
    });
    const heap = core.testing.heapSnapshot();
    assertNotOnHeap(heap, sender.privateKey, 'the sender private key');
    assertNotOnHeap(heap, auth, 'the auth secret');
  });

  it('keys given as base64url text (as web-push keeps them) do not stay on the heap either', () => {
    const vapid = core.generateVapidKeys();
    const receiver = nodeKeyPair();
    const auth = randomBytes(16);
    const text = { publicKey: toB64u(vapid.publicKey), privateKey: toB64u(vapid.privateKey) };
    core.vapidAuthorization({ endpoint: ENDPOINT, subject: SUBJECT, ...text });
    core.vapidKeysFromPrivate(text.privateKey);
    core.decrypt({
      privateKey: toB64u(receiver.privateKey), publicKey: toB64u(receiver.publicKey), auth: toB64u(auth),
      body: core.encrypt({ p256dh: toB64u(receiver.publicKey), auth: toB64u(auth), plaintext: 'x' }),
    });
    const heap = core.testing.heapSnapshot();
    assertNotOnHeap(heap, vapid.privateKey, 'the VAPID private key (given as text)');
    assertNotOnHeap(heap, utf8(text.privateKey), 'the VAPID private key\'s base64url text');
    assertNotOnHeap(heap, receiver.privateKey, 'the subscription private key (given as text)');
    assertNotOnHeap(heap, auth, 'the auth secret (given as text)');
    assertNotOnHeap(heap, utf8(toB64u(auth)), 'the auth secret\'s base64url text');
  });
}, { testing: true });
