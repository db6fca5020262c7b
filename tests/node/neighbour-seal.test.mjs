// An envelope sealed for a neighbour to carry (docs/PROTOCOL.md §4.1): core.sealForPeer / core.openFromPeer, checked
// against an independent implementation (http_ece, with the recipient's identity key in Node's crypto and the auth
// secret computed here with Node's SHA-256), and the vector printed in §4.1, read from the document itself.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

import ece from 'http_ece';

import {
  assertBytes, concat, expectCode, findAll, forEachFlavor, fromB64u, fromHex, nodeKeyPair, randomBytes, toB64u, u8,
  utf8,
} from './helpers.mjs';

const protocol = readFileSync(new URL('../../docs/PROTOCOL.md', import.meta.url), 'utf8');
const vector = (() => {
  const block = /```json\n(\{\n {2}"neighbour_seal"[\s\S]*?)\n```/.exec(protocol);
  assert.ok(block, 'docs/PROTOCOL.md has no neighbour_seal JSON block (§4.1)');
  return JSON.parse(block[1]).neighbour_seal;
})();

// Independent of the core: key id = SHA-256(compressed identity)[0..8] (§4), auth secret per §4.1.
function keyIdOf(identity) {
  const compressed = crypto.ECDH.convertKey(Buffer.from(identity), 'prime256v1', undefined, undefined, 'compressed');
  return u8(crypto.createHash('sha256').update(compressed).digest().subarray(0, 8));
}
function neighbourAuth(identity) {
  return u8(crypto.createHash('sha256').update(concat(utf8('pushpeer/neighbour/v1'), keyIdOf(identity))).digest().subarray(0, 16));
}
const httpEceOpen = (body, receiver) => u8(ece.decrypt(Buffer.from(body), {
  version: 'aes128gcm', privateKey: receiver.ecdh, authSecret: Buffer.from(neighbourAuth(receiver.publicKey)),
}));
function httpEceSeal(envelope, recipientIdentity, { sender, salt, pad = 0 } = {}) {
  const ecdh = crypto.createECDH('prime256v1');
  if (sender) ecdh.setPrivateKey(Buffer.from(sender));
  else ecdh.generateKeys();
  return u8(ece.encrypt(Buffer.from(envelope), {
    version: 'aes128gcm', privateKey: ecdh, dh: Buffer.from(recipientIdentity), rs: 4096, pad,
    authSecret: Buffer.from(neighbourAuth(recipientIdentity)), ...(salt ? { salt: Buffer.from(salt) } : {}),
  }));
}

const SIZES = [0, 1, 97, 1200, 3993];

forEachFlavor((core) => {
  const itTesting = core.testing ? it : () => {};

  describe('sealForPeer / openFromPeer', () => {
    it('round trip at every size, one record with a fresh ephemeral key and salt', () => {
      const bob = core.generateVapidKeys();
      for (const size of SIZES) {
        const envelope = randomBytes(size);
        const body = core.sealForPeer({ envelope, recipientIdentity: bob.publicKey });
        assert.equal(body.length, 86 + size + 17);
        assert.equal(new DataView(body.buffer, body.byteOffset).getUint32(16), 4096);
        assert.equal(body[20], 65);
        assert.equal(body[21], 4);
        assertBytes(core.openFromPeer({ body, ...bob }), envelope, `${size} bytes`);
        const again = core.sealForPeer({ envelope, recipientIdentity: bob.publicKey });
        assert.notDeepEqual(again.subarray(0, 86), body.subarray(0, 86), 'salt and ephemeral key are fresh');
      }
    });

    it('takes the identity as base64url text as well, as cards are shown', () => {
      const bob = core.generateVapidKeys();
      const body = core.sealForPeer({ envelope: utf8('hi'), recipientIdentity: toB64u(bob.publicKey) });
      assert.equal(Buffer.from(core.openFromPeer({ body, privateKey: toB64u(bob.privateKey), publicKey: bob.publicKey })).toString(), 'hi');
    });

    it('http_ece, given the identity private key and the derived auth secret, opens what we seal', () => {
      for (const size of SIZES) {
        const bob = nodeKeyPair();
        const envelope = randomBytes(size);
        const body = core.sealForPeer({ envelope, recipientIdentity: bob.publicKey });
        assertBytes(httpEceOpen(body, bob), envelope, `${size} bytes`);
      }
    });

    it('we open what http_ece seals the same way (padding too)', () => {
      for (const [size, pad] of [[0, 0], [1, 0], [97, 0], [1200, 33], [3993, 0]]) {
        const bob = nodeKeyPair();
        const envelope = randomBytes(size);
        const body = httpEceSeal(envelope, bob.publicKey, { pad });
        assertBytes(core.openFromPeer({ body, privateKey: bob.privateKey, publicKey: bob.publicKey }), envelope, `${size}+${pad}`);
      }
    });

    it('only the recipient opens it: another identity, or a mismatched key pair, is DECRYPT_FAILED', () => {
      const bob = core.generateVapidKeys();
      const carol = core.generateVapidKeys();
      const body = core.sealForPeer({ envelope: randomBytes(120), recipientIdentity: bob.publicKey });
      expectCode(() => core.openFromPeer({ body, ...carol }), 'DECRYPT_FAILED');
      expectCode(() => core.openFromPeer({ body, privateKey: bob.privateKey, publicKey: carol.publicKey }), 'DECRYPT_FAILED');
      expectCode(() => core.openFromPeer({ body, privateKey: carol.privateKey, publicKey: bob.publicKey }), 'DECRYPT_FAILED');
      // A push decrypt with the subscription-style auth secret of someone else's choosing does not open it either.
      expectCode(() => core.decrypt({ ...bob, auth: randomBytes(16), body }), 'DECRYPT_FAILED');
    });

    it('a flipped byte anywhere is refused with a typed code', () => {
      const bob = core.generateVapidKeys();
      const body = core.sealForPeer({ envelope: randomBytes(97), recipientIdentity: bob.publicKey });
      for (let i = 0; i < body.length; i++) {
        const tampered = Uint8Array.from(body);
        tampered[i] ^= 0x80;
        const expected = i < 16 ? 'DECRYPT_FAILED' : i < 20 ? 'ECE_BAD_RECORD_SIZE'
          : i === 20 ? ['ECE_BAD_KEY_ID', 'ECE_TRUNCATED_HEADER'] : i < 86 ? ['ECE_BAD_KEY_ID', 'DECRYPT_FAILED'] : 'DECRYPT_FAILED';
        expectCode(() => core.openFromPeer({ body: tampered, ...bob }), expected, `byte ${i}`);
      }
    });

    it('truncated and oversize inputs are refused, never a crash', () => {
      const bob = core.generateVapidKeys();
      const body = core.sealForPeer({ envelope: randomBytes(97), recipientIdentity: bob.publicKey });
      for (let n = 0; n < body.length; n++) {
        const expected = n < 86 ? 'ECE_TRUNCATED_HEADER' : n === 86 ? 'ECE_TRUNCATED_MESSAGE'
          : n <= 86 + 16 ? 'ECE_TRUNCATED_RECORD' : 'DECRYPT_FAILED';
        expectCode(() => core.openFromPeer({ body: body.subarray(0, n), ...bob }), expected, `first ${n} bytes`);
      }
      const full = core.sealForPeer({ envelope: randomBytes(3993), recipientIdentity: bob.publicKey });
      assert.equal(full.length, 4096);
      expectCode(() => core.sealForPeer({ envelope: randomBytes(3994), recipientIdentity: bob.publicKey }), 'PAYLOAD_TOO_LARGE');
      expectCode(() => core.openFromPeer({ body: concat(full, new Uint8Array(1)), ...bob }), 'PAYLOAD_TOO_LARGE');
      expectCode(() => core.openFromPeer({ body: new Uint8Array(1 << 24), ...bob }), 'PAYLOAD_TOO_LARGE');
      // A body with rs other than 4096, which a push decryptor would take, is refused.
      const multi = httpEceSeal(randomBytes(50), bob.publicKey);
      new DataView(multi.buffer, multi.byteOffset).setUint32(16, 4095);
      expectCode(() => core.openFromPeer({ body: multi, ...bob }), 'ECE_BAD_RECORD_SIZE');
    });

    it('wrong arguments are typed errors', () => {
      const bob = core.generateVapidKeys();
      const body = core.sealForPeer({ envelope: utf8('x'), recipientIdentity: bob.publicKey });
      expectCode(() => core.sealForPeer({ envelope: utf8('x'), recipientIdentity: bob.publicKey.subarray(0, 64) }), 'BAD_KEY');
      const offCurve = Uint8Array.from(bob.publicKey);
      offCurve[64] ^= 1;
      expectCode(() => core.sealForPeer({ envelope: utf8('x'), recipientIdentity: offCurve }), 'BAD_KEY');
      expectCode(() => core.sealForPeer({ envelope: 'text', recipientIdentity: bob.publicKey }), 'BAD_ARGUMENT');
      expectCode(() => core.sealForPeer(null), 'BAD_ARGUMENT');
      expectCode(() => core.openFromPeer({ body, privateKey: bob.privateKey.subarray(1), publicKey: bob.publicKey }), 'BAD_KEY');
      expectCode(() => core.openFromPeer({ body, privateKey: new Uint8Array(32), publicKey: bob.publicKey }), 'BAD_KEY');
      expectCode(() => core.openFromPeer({ body, privateKey: bob.privateKey, publicKey: offCurve }), 'BAD_KEY');
      expectCode(() => core.openFromPeer({ body: 'not bytes', ...bob }), 'BAD_ARGUMENT');
    });

    it('the neighbour carries a signed envelope it can neither read nor alter; the recipient opens and verifies it', () => {
      // Alice -> (Bob carries) -> Carol. Bob sees only ciphertext; Carol opens it and checks Alice's signature.
      const alice = core.generateVapidKeys();
      const carol = core.generateVapidKeys();
      const offer = core.sealEnvelope({ type: 'offer', privateKey: alice.privateKey, recipient: core.keyIdOf(carol.publicKey),
        body: utf8('packed sdp') });
      const body = core.sealForPeer({ envelope: offer, recipientIdentity: carol.publicKey });
      assert.equal(findAll(body, offer.subarray(0, 16)).length, 0, 'the envelope does not show in the body');
      const opened = core.openEnvelope(core.openFromPeer({ body, ...carol }), { self: carol.publicKey,
        peers: { [toB64u(core.keyIdOf(alice.publicKey))]: alice.publicKey }, replay: false });
      assert.equal(opened.typeName, 'offer');
      assert.equal(Buffer.from(opened.body).toString(), 'packed sdp');
    });
  });

  describe('§4.1 vector (docs/PROTOCOL.md)', () => {
    it('the key id and the auth secret follow from the identity (Node crypto)', () => {
      const identity = fromB64u(vector.recipient_identity);
      assert.equal(toB64u(keyIdOf(identity)), vector.recipient_key_id);
      assert.equal(toB64u(core.keyIdOf(identity)), vector.recipient_key_id);
      assert.equal(Buffer.from(neighbourAuth(identity)).toString('hex'), vector.auth_secret_hex);
      assertBytes(core.vapidKeysFromPrivate(fromB64u(vector.recipient_private_key)).publicKey, identity);
    });

    it('http_ece reproduces the body from the ephemeral key and salt, and opens it', () => {
      const identity = fromB64u(vector.recipient_identity);
      const body = httpEceSeal(fromB64u(vector.envelope), identity, {
        sender: fromB64u(vector.ephemeral_private_key), salt: fromB64u(vector.salt),
      });
      assert.equal(toB64u(body), vector.body);
      const ecdh = crypto.createECDH('prime256v1');
      ecdh.setPrivateKey(Buffer.from(fromB64u(vector.recipient_private_key)));
      assert.equal(toB64u(httpEceOpen(fromB64u(vector.body), { ecdh, publicKey: identity })), vector.envelope);
    });

    it('openFromPeer opens it', () => {
      const opened = core.openFromPeer({ body: fromB64u(vector.body), privateKey: fromB64u(vector.recipient_private_key),
        publicKey: fromB64u(vector.recipient_identity) });
      assert.equal(toB64u(opened), vector.envelope);
    });

    itTesting('testing.sealForPeerWithKeys reproduces it byte for byte', () => {
      const body = core.testing.sealForPeerWithKeys({
        envelope: fromB64u(vector.envelope), recipientIdentity: fromB64u(vector.recipient_identity),
        ephemeralPrivateKey: fromB64u(vector.ephemeral_private_key), ephemeralPublicKey: fromB64u(vector.ephemeral_public_key),
        salt: fromB64u(vector.salt),
      });
      assert.equal(toB64u(body), vector.body);
    });
  });

  describe('secrets', () => {
    const onHeap = (heap, secret) => {
      const w = Math.min(16, secret.length);
      for (let i = 0; i + w <= secret.length; i++) if (findAll(heap, secret.subarray(i, i + w)).length) return true;
      return false;
    };

    itTesting('after a seal and an open, the heap holds no private key, ECDH secret, PRK, CEK, nonce or envelope', () => {
      const bob = core.generateVapidKeys();
      const envelope = randomBytes(200);
      const body = core.sealForPeer({ envelope, recipientIdentity: bob.publicKey });
      assertBytes(core.openFromPeer({ body, ...bob }), envelope);
      // Recompute the message's secrets with Node's crypto from the body (salt, ephemeral key) and Bob's key.
      const ecdh = crypto.createECDH('prime256v1');
      ecdh.setPrivateKey(Buffer.from(bob.privateKey));
      const salt = body.subarray(0, 16);
      const sender = body.subarray(21, 86);
      const shared = u8(ecdh.computeSecret(Buffer.from(sender)));
      const auth = neighbourAuth(bob.publicKey);
      const prkKey = u8(crypto.createHmac('sha256', auth).update(shared).digest());
      const ikm = u8(Buffer.from(crypto.hkdfSync('sha256', shared, auth, concat(utf8('WebPush: info\0'), bob.publicKey, sender), 32)));
      const prk = u8(crypto.createHmac('sha256', salt).update(ikm).digest());
      const cek = u8(Buffer.from(crypto.hkdfSync('sha256', ikm, salt, utf8('Content-Encoding: aes128gcm\0'), 16)));
      const nonce = u8(Buffer.from(crypto.hkdfSync('sha256', ikm, salt, utf8('Content-Encoding: nonce\0'), 12)));
      const heap = core.testing.heapSnapshot();
      const left = Object.entries({ privateKey: bob.privateKey, shared, prkKey, ikm, prk, cek, nonce, envelope })
        .filter(([, secret]) => onHeap(heap, secret)).map(([name]) => name);
      assert.deepEqual(left, [], 'secrets left on the Wasm heap');
    });

    itTesting('an ephemeral private key given to testing.sealForPeerWithKeys does not stay on the heap', () => {
      const bob = core.generateVapidKeys();
      const ephemeral = core.generateVapidKeys();
      core.testing.sealForPeerWithKeys({ envelope: utf8('x'), recipientIdentity: bob.publicKey,
        ephemeralPrivateKey: ephemeral.privateKey, ephemeralPublicKey: ephemeral.publicKey, salt: randomBytes(16) });
      assert.equal(onHeap(core.testing.heapSnapshot(), ephemeral.privateKey), false);
    });
  });
});

it('the §4.1 vector is the §5 follow-up offer (Alice to Bob by key id) sealed to Bob', () => {
  const doc = JSON.parse(readFileSync(new URL('../../docs/vectors/core.json', import.meta.url), 'utf8'));
  assert.equal(vector.envelope, doc.envelope.offer_by_key_id.bytes);
  assert.equal(vector.recipient_private_key, doc.envelope.recipient_private_key);
  assert.equal(vector.recipient_key_id, doc.envelope.recipient_key_id);
  assert.equal(fromHex(vector.auth_secret_hex).length, 16);
});
