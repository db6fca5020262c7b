// Groups (docs/PROTOCOL.md §7.8): core.groupId / core.groupProof / core.checkGroupProof, HMAC-SHA-256 keyed by the
// group secret, checked against Node's createHmac on random secrets and key ids, and the vector printed in §7.8,
// read from the document itself.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

import {
  assertBytes, concat, expectCode, findAll, forEachFlavor, fromB64u, hmacKeySchedule, keyIdOf, randomBytes,
  sha256Compress, SHA256_IV as IV, toB64u, u8, utf8,
} from './helpers.mjs';

const protocol = readFileSync(new URL('../../docs/PROTOCOL.md', import.meta.url), 'utf8');
const vector = (() => {
  const block = /```json\n(\{\n {2}"group_proof"[\s\S]*?)\n```/.exec(protocol);
  assert.ok(block, 'docs/PROTOCOL.md has no group_proof JSON block (§7.8)');
  return JSON.parse(block[1]).group_proof;
})();

// Independent of the core: §7.8 with Node's HMAC.
const hmac = (secret, ...message) => u8(crypto.createHmac('sha256', secret).update(concat(...message)).digest());
const nodeGroupId = (secret) => hmac(secret, utf8('pushpeer/group/v1/id')).subarray(0, 16);
const nodeProof = (secret, keyId) => hmac(secret, utf8('pushpeer/group/v1/member'), keyId).subarray(0, 16);

const SECRET_LENGTHS = [16, 17, 32, 48, 63, 64];

it('the key schedule helper is SHA-256 (checked on a full digest against Node)', () => {
  // SHA-256 of one 64-byte block = the compression of the block, then of the padding block.
  const block = randomBytes(64);
  const padding = new Uint8Array(64);
  padding[0] = 0x80;
  new DataView(padding.buffer).setUint32(60, 512);
  const state = sha256Compress(sha256Compress(IV, block), padding);
  const digest = new Uint8Array(32);
  state.forEach((x, i) => new DataView(digest.buffer).setUint32(4 * i, x));
  assertBytes(digest, u8(crypto.createHash('sha256').update(block).digest()));
});

it('the §7.8 vector is HMAC-SHA-256 as written there (Node crypto), for Bob\'s key id', () => {
  const secret = fromB64u(vector.secret);
  assert.equal(secret.length, 32);
  assertBytes(nodeGroupId(secret), fromB64u(vector.group_id));
  assertBytes(nodeProof(secret, fromB64u(vector.key_id)), fromB64u(vector.proof));
  const bob = fromB64u(protocol.match(/"recipient_identity": "([A-Za-z0-9_-]+)"/)[1]);
  assert.equal(keyIdOf(bob), vector.key_id);
});

forEachFlavor((core) => {
  const itTesting = core.testing ? it : () => {};

  describe('groupId / groupProof / checkGroupProof', () => {
    it('reproduces the §7.8 vector (bytes and base64url text)', () => {
      const secret = fromB64u(vector.secret);
      const keyId = fromB64u(vector.key_id);
      assert.equal(toB64u(core.groupId(secret)), vector.group_id);
      assert.equal(toB64u(core.groupProof({ secret, keyId })), vector.proof);
      assert.equal(toB64u(core.groupProof({ secret: vector.secret, keyId: vector.key_id })), vector.proof);
      assert.equal(toB64u(core.groupId(vector.secret)), vector.group_id);
      assert.equal(core.checkGroupProof({ secret, keyId, proof: fromB64u(vector.proof) }), true);
      assert.equal(core.checkGroupProof({ secret: vector.secret, keyId: vector.key_id, proof: vector.proof }), true);
    });

    it('node:crypto agrees on the id and the proof for random secrets and key ids', () => {
      for (const length of SECRET_LENGTHS) {
        for (let i = 0; i < 8; i++) {
          const secret = randomBytes(length);
          const keyId = randomBytes(8);
          const id = core.groupId(secret);
          const proof = core.groupProof({ secret, keyId });
          assert.ok(id instanceof Uint8Array && proof instanceof Uint8Array);
          assertBytes(id, nodeGroupId(secret), `id, ${length}-byte secret`);
          assertBytes(proof, nodeProof(secret, keyId), `proof, ${length}-byte secret`);
          assert.equal(core.checkGroupProof({ secret, keyId, proof }), true);
          // An ArrayBuffer is bytes too.
          assertBytes(core.groupProof({ secret: secret.slice().buffer, keyId: keyId.slice().buffer }), proof);
        }
      }
    });

    it('check accepts the right proof and refuses every flipped bit, another key id, another secret', () => {
      const secret = randomBytes(32);
      const keyId = randomBytes(8);
      const proof = core.groupProof({ secret, keyId });
      assert.equal(core.checkGroupProof({ secret, keyId, proof }), true);
      for (let bit = 0; bit < 128; bit++) {
        const flipped = proof.slice();
        flipped[bit >> 3] ^= 1 << (bit & 7);
        assert.equal(core.checkGroupProof({ secret, keyId, proof: flipped }), false, `bit ${bit}`);
      }
      for (let bit = 0; bit < 64; bit++) {
        const other = keyId.slice();
        other[bit >> 3] ^= 1 << (bit & 7);
        assert.equal(core.checkGroupProof({ secret, keyId: other, proof }), false, `key id bit ${bit}`);
      }
      assert.equal(core.checkGroupProof({ secret: randomBytes(32), keyId, proof }), false, 'another secret');
      const flippedSecret = secret.slice();
      flippedSecret[31] ^= 0x80;
      assert.equal(core.checkGroupProof({ secret: flippedSecret, keyId, proof }), false, 'a flipped secret bit');
      // RFC 2104 pads the key with zeros to the block: the secret followed by 0x00 is the same HMAC key (§7.8).
      assert.equal(core.checkGroupProof({ secret: concat(secret, new Uint8Array(1)), keyId, proof }), true,
        'the secret and a 0x00');
      assert.equal(core.checkGroupProof({ secret: concat(secret, new Uint8Array([1])), keyId, proof }), false,
        'the secret and a 0x01');
      assert.equal(core.checkGroupProof({ secret, keyId, proof: core.groupId(secret) }), false, 'the id is no proof');
    });

    it('a proof of another length is false, not an exception', () => {
      const secret = randomBytes(16);
      const keyId = randomBytes(8);
      const proof = core.groupProof({ secret, keyId });
      for (let n = 0; n < 16; n++) {
        assert.equal(core.checkGroupProof({ secret, keyId, proof: proof.subarray(0, n) }), false, `${n} bytes`);
      }
      assert.equal(core.checkGroupProof({ secret, keyId, proof: concat(proof, new Uint8Array(1)) }), false, '17 bytes');
      assert.equal(core.checkGroupProof({ secret, keyId, proof: hmac(secret, utf8('pushpeer/group/v1/member'), keyId) }),
        false, 'the whole 32-byte HMAC');
      assert.equal(core.checkGroupProof({ secret, keyId, proof: toB64u(proof).slice(0, 20) }), false, 'short text');
      assert.equal(core.checkGroupProof({ secret, keyId, proof: 'A'.repeat(100000) }), false, 'long text');
      assert.equal(core.checkGroupProof({ secret, keyId, proof: new Uint8Array(1 << 20) }), false, '1 MiB');
    });

    it('a secret outside 16..64 bytes or a key id not of 8 bytes is BAD_ARGUMENT', () => {
      const keyId = randomBytes(8);
      const proof = core.groupProof({ secret: randomBytes(32), keyId });
      for (const n of [0, 1, 15, 65, 100, 4096]) {
        const secret = randomBytes(n);
        expectCode(() => core.groupId(secret), 'BAD_ARGUMENT', `groupId, ${n}-byte secret`);
        expectCode(() => core.groupProof({ secret, keyId }), 'BAD_ARGUMENT', `groupProof, ${n}-byte secret`);
        expectCode(() => core.checkGroupProof({ secret, keyId, proof }), 'BAD_ARGUMENT', `check, ${n}-byte secret`);
        expectCode(() => core.checkGroupProof({ secret, keyId, proof: proof.subarray(0, 3) }), 'BAD_ARGUMENT',
          `check with a short proof, ${n}-byte secret`);
      }
      const secret = randomBytes(32);
      for (const n of [0, 7, 9, 65]) {
        const badId = randomBytes(n);
        expectCode(() => core.groupProof({ secret, keyId: badId }), 'BAD_ARGUMENT', `groupProof, ${n}-byte key id`);
        expectCode(() => core.checkGroupProof({ secret, keyId: badId, proof }), 'BAD_ARGUMENT', `check, ${n}-byte key id`);
      }
      for (const bad of [undefined, null, 42, [1, 2, 3], {}]) {
        expectCode(() => core.groupId(bad), 'BAD_ARGUMENT', `groupId(${JSON.stringify(bad)})`);
        expectCode(() => core.groupProof({ secret: bad, keyId }), 'BAD_ARGUMENT');
        expectCode(() => core.groupProof({ secret, keyId: bad }), 'BAD_ARGUMENT');
        expectCode(() => core.checkGroupProof({ secret, keyId, proof: bad }), 'BAD_ARGUMENT');
      }
      expectCode(() => core.groupProof(), 'BAD_ARGUMENT');
      expectCode(() => core.checkGroupProof(null), 'BAD_ARGUMENT');
    });
  });

  describe('secrets', () => {
    const onHeap = (heap, secret) => {
      const w = Math.min(16, secret.length);
      for (let i = 0; i + w <= secret.length; i++) if (findAll(heap, secret.subarray(i, i + w)).length) return true;
      return false;
    };

    itTesting('after an id, a proof and a failed check, the heap holds no secret, key schedule, HMAC or proof', () => {
      const secret = randomBytes(32);
      const keyId = randomBytes(8);
      const idMac = hmac(secret, utf8('pushpeer/group/v1/id'));
      const proofMac = hmac(secret, utf8('pushpeer/group/v1/member'), keyId);
      assertBytes(core.groupId(secret), idMac.subarray(0, 16));
      assertBytes(core.groupProof({ secret, keyId }), proofMac.subarray(0, 16));
      // A non-member's guess: the check must not leave the right proof behind for anyone reading the heap.
      assert.equal(core.checkGroupProof({ secret, keyId, proof: randomBytes(16) }), false);
      const heap = core.testing.heapSnapshot();
      const left = Object.entries({ secret, ...hmacKeySchedule(secret, 'secret'), idMac, proofMac })
        .filter(([, bytes]) => onHeap(heap, bytes)).map(([name]) => name);
      assert.deepEqual(left, [], 'secrets left on the Wasm heap');
    });

    itTesting('the same after a successful check and with a 64-byte secret', () => {
      const secret = randomBytes(64);
      const keyId = randomBytes(8);
      const proof = nodeProof(secret, keyId);
      assert.equal(core.checkGroupProof({ secret, keyId, proof }), true);
      const heap = core.testing.heapSnapshot();
      const left = Object.entries({ secret, ...hmacKeySchedule(secret, 'secret'), proof })
        .filter(([, bytes]) => onHeap(heap, bytes)).map(([name]) => name);
      assert.deepEqual(left, [], 'secrets left on the Wasm heap');
    });
  });
});
