// The carrier's rules (js/mesh/neighbours.js, docs/PROTOCOL.md §7.7) with stand-in connections: what it refuses
// and with which code, its rate per connection, where a recipient's word goes, and what happens when a connection
// ends or a neighbour never answers. The real thing, in browsers: tests/browser/mesh-introductions.test.mjs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { loadCore } from '../../js/core.js';
import { Neighbours } from '../../js/mesh/neighbours.js';
import { createMemoryStore } from '../../js/store/store.js';
import { FakeConnection, rejectsWith } from './helpers.mjs';

const KEY = { alice: 'AAAAAAAAAAA', bob: 'BBBBBBBBBBB', carol: 'CCCCCCCCCCC', dave: 'DDDDDDDDDDD' };
const BODY = 'x'.repeat(200);

async function carrier({ peers = [KEY.alice, KEY.carol], delivered = [], ...options } = {}) {
  const store = createMemoryStore();
  for (const keyId of peers) await store.putPeer({ keyId, name: keyId, card: new Uint8Array(1), updated: 0 });
  const connections = new Set();
  const neighbours = new Neighbours({ core, store, options: { introductions: 'peers', ...options },
    connections: () => connections, emit: () => {},
    deliver: async (body, via) => {
      delivered.push({ body, ...via });
      return { item: { id: 1 } };
    } });
  const open = (keyId) => {
    const c = new FakeConnection(keyId);
    connections.add(c);
    neighbours.attach(c);
    return c;
  };
  return { neighbours, open, delivered };
}

const core = await loadCore();
const settle = () => new Promise((resolve) => setTimeout(resolve, 10));

describe('the carrier', () => {
  it('carries between two peers under an id of its own, and sends the recipient\'s word back under the asker\'s', async () => {
    const { open } = await carrier();
    const alice = open(KEY.alice);
    const carol = open(KEY.carol);
    await alice.receive({ t: 'fwd', id: 5, to: KEY.carol, body: BODY });
    await settle();
    assert.equal(carol.sent.length, 1);
    const { id, ...rest } = carol.sent[0];
    assert.deepEqual(rest, { t: 'fwd', from: KEY.alice, body: BODY });
    carol.receive({ t: 'fwd-no', id, code: 'DECRYPT_FAILED' });
    assert.deepEqual(alice.sent, [{ t: 'fwd-no', id: 5, code: 'DECRYPT_FAILED' }]);
    // A word for an id it did not hand out goes nowhere.
    carol.receive({ t: 'fwd-ok', id: id + 100 });
    assert.equal(alice.sent.length, 1);
  });

  it('refuses what its policy forbids, a target without a route, and malformed frames, each with its code', async () => {
    const { open } = await carrier({ peers: [KEY.alice, KEY.carol] });
    const alice = open(KEY.alice);
    open(KEY.carol);
    const dave = open(KEY.dave); // connected, but not a peer
    await alice.receive({ t: 'fwd', id: 1, to: KEY.dave, body: BODY });
    await dave.receive({ t: 'fwd', id: 2, to: KEY.alice, body: BODY });
    await alice.receive({ t: 'fwd', id: 3, to: KEY.bob, body: BODY }); // not a peer either
    await alice.receive({ t: 'fwd', id: 4, to: 'short', body: BODY });
    await alice.receive({ t: 'fwd', id: 5, to: KEY.carol, body: 'not base64url!' });
    await alice.receive({ t: 'fwd', id: 6, to: KEY.carol, body: 'A'.repeat(6000) });
    await alice.receive({ t: 'fwd', id: 7, body: BODY });
    assert.deepEqual(alice.sent.map((f) => [f.id, f.code]), [[1, 'INTRODUCTION_REFUSED'], [3, 'INTRODUCTION_REFUSED'],
      [4, 'BAD_ARGUMENT'], [5, 'BAD_ARGUMENT'], [6, 'BAD_ARGUMENT'], [7, 'BAD_ARGUMENT']]);
    assert.deepEqual(dave.sent, [{ t: 'fwd-no', id: 2, code: 'INTRODUCTION_REFUSED' }]);
  });

  it('says NO_ROUTE for a peer it holds no open connection to, and when the target\'s connection ends mid-way', async () => {
    const { open } = await carrier();
    const alice = open(KEY.alice);
    await alice.receive({ t: 'fwd', id: 1, to: KEY.carol, body: BODY });
    const carol = open(KEY.carol);
    await alice.receive({ t: 'fwd', id: 2, to: KEY.carol, body: BODY });
    carol.close();
    assert.deepEqual(alice.sent, [{ t: 'fwd-no', id: 1, code: 'NO_ROUTE' }, { t: 'fwd-no', id: 2, code: 'NO_ROUTE' }]);
  });

  it('carries for no one with introductions off, and for no group yet with the default', async () => {
    for (const introductions of ['off', 'group']) {
      const { open } = await carrier({ introductions });
      const alice = open(KEY.alice);
      open(KEY.carol);
      await alice.receive({ t: 'fwd', id: 1, to: KEY.carol, body: BODY });
      assert.deepEqual(alice.sent, [{ t: 'fwd-no', id: 1, code: 'INTRODUCTION_REFUSED' }], introductions);
    }
    await assert.rejects(carrier({ introductions: 'everyone' }), { code: 'BAD_ARGUMENT' });
  });

  it('takes at most forwardsPerMinute frames from one connection, carried or for us', async () => {
    const { open, delivered } = await carrier({ forwardsPerMinute: 3 });
    const alice = open(KEY.alice);
    const carol = open(KEY.carol);
    for (let id = 1; id <= 3; id++) await alice.receive({ t: 'fwd', id, to: KEY.carol, body: BODY });
    await alice.receive({ t: 'fwd', id: 4, to: KEY.carol, body: BODY });
    assert.equal(carol.sent.length, 3);
    assert.deepEqual(alice.sent, [{ t: 'fwd-no', id: 4, code: 'RATE_LIMITED' }]);
    // Another connection has its own budget; frames for us count too.
    for (let id = 1; id <= 4; id++) await carol.receive({ t: 'fwd', id, from: KEY.alice, body: BODY });
    assert.equal(delivered.length, 3);
    assert.deepEqual(carol.sent.filter((f) => f.t !== 'fwd').map((f) => [f.t, f.id, f.code]),
      [['fwd-ok', 1, undefined], ['fwd-ok', 2, undefined], ['fwd-ok', 3, undefined], ['fwd-no', 4, 'RATE_LIMITED']]);
  });

  it('delivers what is carried to us with who carried it and for whom, and answers fwd-no with the refusal\'s code', async () => {
    const { neighbours, open, delivered } = await carrier();
    const bob = open(KEY.bob);
    await bob.receive({ t: 'fwd', id: 9, from: KEY.alice, body: 'AQID' });
    assert.deepEqual(delivered, [{ body: new Uint8Array([1, 2, 3]), via: KEY.bob, from: KEY.alice }]);
    assert.deepEqual(bob.sent, [{ t: 'fwd-ok', id: 9 }]);
    neighbours.host.deliver = async () => ({ error: Object.assign(new Error('replay'), { code: 'REPLAYED_MESSAGE' }) });
    await bob.receive({ t: 'fwd', id: 10, from: KEY.alice, body: 'AQID' });
    assert.deepEqual(bob.sent.at(-1), { t: 'fwd-no', id: 10, code: 'REPLAYED_MESSAGE' });
  });
});

describe('our sends through a neighbour', () => {
  it('resolve on fwd-ok, reject with the refusal\'s code, TIMEOUT without a word, NOT_CONNECTED when it goes', async () => {
    const { neighbours, open } = await carrier({ forwardTimeoutMs: 50 });
    const bob = open(KEY.bob);
    const ok = neighbours._send(bob, { t: 'fwd', to: KEY.carol, body: BODY });
    bob.receive({ t: 'fwd-ok', id: bob.sent.at(-1).id });
    await ok;
    const refused = neighbours._send(bob, { t: 'fwd', to: KEY.carol, body: BODY });
    bob.receive({ t: 'fwd-no', id: bob.sent.at(-1).id, code: 'WRONG_RECIPIENT' });
    await assert.rejects(refused, (e) => e.code === 'INTRODUCTION_REFUSED' && e.reason === 'WRONG_RECIPIENT');
    const noRoute = neighbours._send(bob, { t: 'fwd', to: KEY.carol, body: BODY });
    bob.receive({ t: 'fwd-no', id: bob.sent.at(-1).id, code: 'NO_ROUTE' });
    await rejectsWith(noRoute, 'NO_ROUTE');
    await rejectsWith(neighbours._send(bob, { t: 'fwd', to: KEY.carol, body: BODY }), 'TIMEOUT');
    const gone = neighbours._send(bob, { t: 'fwd', to: KEY.carol, body: BODY });
    bob.close();
    await rejectsWith(gone, 'NOT_CONNECTED');
    await rejectsWith(neighbours._send(bob, { t: 'fwd', to: KEY.carol, body: BODY }), 'NOT_CONNECTED');
  });
});
