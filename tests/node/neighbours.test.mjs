// The carrier's rules (js/mesh/neighbours.js, docs/PROTOCOL.md §7.7) with stand-in connections: what it refuses
// and with which code, its rate per connection, where a recipient's word goes, and what happens when a connection
// ends or a neighbour never answers. The real thing, in browsers: tests/browser/mesh-introductions.test.mjs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { loadCore } from '../../js/core.js';
import { Neighbours } from '../../js/mesh/neighbours.js';
import { createMemoryStore } from '../../js/store/store.js';
import { FakeConnection, rejectsWith } from './helpers.mjs';

const KEY = { alice: 'AAAAAAAAAAA', bob: 'BBBBBBBBBBB', carol: 'CCCCCCCCCCC', dave: 'DDDDDDDDDDD', eve: 'EEEEEEEEEEE',
  self: 'SSSSSSSSSSS' };
const BODY = 'x'.repeat(200);

async function carrier({ peers = [KEY.alice, KEY.carol], delivered = [], vouched = [], keyId = KEY.self, ...options } = {}) {
  const store = createMemoryStore();
  for (const keyId of peers) await store.putPeer({ keyId, name: keyId, card: new Uint8Array(1), updated: 0 });
  const connections = new Set();
  const neighbours = new Neighbours({ core, store, keyId, options: { introductions: 'peers', ...options },
    connections: () => connections, emit: () => {},
    vouch: (from, vouch) => vouched.push({ from, ...vouch, delivered: delivered.length }),
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
  return { neighbours, open, delivered, vouched };
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
    assert.deepEqual(delivered, [{ body: new Uint8Array([1, 2, 3]), via: KEY.bob, from: KEY.alice, route: [] }]);
    assert.deepEqual(bob.sent, [{ t: 'fwd-ok', id: 9 }]);
    neighbours.host.deliver = async () => ({ error: Object.assign(new Error('replay'), { code: 'REPLAYED_MESSAGE' }) });
    await bob.receive({ t: 'fwd', id: 10, from: KEY.alice, body: 'AQID' });
    assert.deepEqual(bob.sent.at(-1), { t: 'fwd-no', id: 10, code: 'REPLAYED_MESSAGE' });
  });
});

describe('carried over several hops (a route)', () => {
  it('the first carrier passes the rest of the route on, naming the caller; the next one starts the way back', async () => {
    // Alice -> us -> Carol -> Dave: we are the first carrier.
    const { open } = await carrier({ peers: [KEY.alice, KEY.carol] });
    const alice = open(KEY.alice);
    const carol = open(KEY.carol);
    await alice.receive({ t: 'fwd', id: 5, to: KEY.dave, route: [KEY.carol], body: BODY });
    const { id, ...rest } = carol.sent[0];
    assert.deepEqual(rest, { t: 'fwd', to: KEY.dave, from: KEY.alice, route: [], back: [], body: BODY });
    // Dave's word comes back through Carol, and goes on to Alice under her id.
    carol.receive({ t: 'fwd-no', id, code: 'WRONG_RECIPIENT' });
    assert.deepEqual(alice.sent, [{ t: 'fwd-no', id: 5, code: 'WRONG_RECIPIENT' }]);
  });

  it('the last carrier delivers with the way back (the carriers before it, nearest first) and the vouch', async () => {
    // Alice -> Bob -> us -> Dave: Bob passed it on to us; we are the last carrier. Alice is our peer too.
    const { open } = await carrier({ peers: [KEY.alice, KEY.bob, KEY.dave] });
    const bob = open(KEY.bob);
    const dave = open(KEY.dave);
    const vouch = { group: 'Z3JvdXA', proof: 'cHJvb2Y' };
    await bob.receive({ t: 'fwd', id: 3, to: KEY.dave, from: KEY.alice, route: [], back: [], body: BODY, vouch });
    const { id, ...rest } = dave.sent[0];
    assert.deepEqual(rest, { t: 'fwd', from: KEY.alice, back: [KEY.bob], body: BODY, vouch });
    dave.receive({ t: 'fwd-ok', id });
    assert.deepEqual(bob.sent, [{ t: 'fwd-ok', id: 3 }]);
  });

  it('a call passed on by a carrier is carried only for a caller our rule admits: our peer (\'peers\'), or a member its '
    + 'vouch proves to be in a group with both ends (\'group\')', async () => {
    const passed = (id, extra = {}) => ({ t: 'fwd', id, to: KEY.dave, from: KEY.alice, route: [], back: [], body: BODY, ...extra });
    const vouch = { group: 'Z3JvdXA', proof: 'cHJvb2Y' };
    // 'peers': Bob and Dave are our peers, Alice is not.
    const peers = await carrier({ peers: [KEY.bob, KEY.dave] });
    const bob = peers.open(KEY.bob);
    const dave = peers.open(KEY.dave);
    await bob.receive(passed(1));
    assert.deepEqual(bob.sent, [{ t: 'fwd-no', id: 1, code: 'INTRODUCTION_REFUSED' }]);
    assert.equal(dave.sent.length, 0);
    // 'group': the vouch decides (the group module checks the proof for Alice and the membership of Bob and Dave).
    const asked = [];
    const group = await carrier({ peers: [KEY.bob, KEY.dave], introductions: 'group' });
    group.neighbours.host.inSameGroup = () => true;
    group.neighbours.host.vouches = (keyId, v, a, b) => {
      asked.push([keyId, v, a, b]);
      return v.proof === vouch.proof;
    };
    const bob2 = group.open(KEY.bob);
    const dave2 = group.open(KEY.dave);
    await bob2.receive(passed(1)); // no vouch
    await bob2.receive(passed(2, { vouch: { ...vouch, proof: 'b3RoZXI' } }));
    await bob2.receive(passed(3, { vouch }));
    assert.deepEqual(bob2.sent.map((f) => [f.id, f.code]), [[1, 'INTRODUCTION_REFUSED'], [2, 'INTRODUCTION_REFUSED']]);
    assert.equal(dave2.sent.length, 1);
    assert.deepEqual(asked.at(-1), [KEY.alice, vouch, KEY.bob, KEY.dave]);
    // Dave's reply to Alice, passed on to us by another carrier (Carol) and on to Bob: no vouch, and none needed for
    // the reply to a call we carried; a call from Dave to Alice that is not one is refused as before.
    const { open: open3, neighbours: n3 } = await carrier({ peers: [KEY.bob, KEY.carol, KEY.dave], introductions: 'group' });
    n3.host.inSameGroup = () => true;
    n3.host.vouches = () => false;
    const bob3 = open3(KEY.bob);
    const carol3 = open3(KEY.carol);
    const dave3 = open3(KEY.dave);
    const reply = { t: 'fwd', to: KEY.alice, from: KEY.dave, route: [KEY.bob], back: [], body: BODY };
    await carol3.receive({ ...reply, id: 1 });
    assert.deepEqual(carol3.sent.at(-1), { t: 'fwd-no', id: 1, code: 'INTRODUCTION_REFUSED' }, 'not a reply: refused');
    n3.host.vouches = () => true;
    await bob3.receive({ t: 'fwd', id: 2, to: KEY.dave, from: KEY.alice, route: [], back: [], body: BODY, vouch });
    assert.equal(dave3.sent.length, 1, 'Alice\'s call, carried to Dave');
    n3.host.vouches = () => false;
    await carol3.receive({ ...reply, id: 3 });
    assert.equal(carol3.sent.length, 1, 'the reply is not refused');
    const out = bob3.sent.at(-1);
    assert.deepEqual(out, { t: 'fwd', id: out.id, to: KEY.alice, from: KEY.dave, route: [], back: [KEY.carol], body: BODY });
  });

  it('the recipient keeps the way back on the item, and hears of the vouch before the envelope', async () => {
    const { open, delivered, vouched } = await carrier();
    const dave = open(KEY.dave);
    const vouch = { group: 'Z3JvdXA', proof: 'cHJvb2Y' };
    await dave.receive({ t: 'fwd', id: 7, from: KEY.alice, back: [KEY.bob, KEY.carol], body: 'AQID', vouch });
    assert.deepEqual(delivered, [{ body: new Uint8Array([1, 2, 3]), via: KEY.dave, from: KEY.alice,
      route: [KEY.bob, KEY.carol] }]);
    assert.deepEqual(vouched, [{ from: KEY.alice, ...vouch, delivered: 0 }]);
    assert.deepEqual(dave.sent, [{ t: 'fwd-ok', id: 7 }]);
  });

  it('refuses a route that loops, is too long, or is not key ids; a next hop it may not carry to, or has no link to',
    async () => {
      const { open } = await carrier({ peers: [KEY.alice, KEY.carol, KEY.bob] });
      const alice = open(KEY.alice);
      open(KEY.carol);
      const bob = open(KEY.bob);
      const refusals = [
        { to: KEY.dave, route: [KEY.self] }, // through us again
        { to: KEY.dave, route: [KEY.carol, KEY.carol] },
        { to: KEY.dave, route: [KEY.dave] }, // the recipient as a carrier
        { to: KEY.dave, route: [KEY.alice] }, // back to the caller
        { to: KEY.dave, route: ['not a key id'] },
        { to: KEY.dave, route: 'CCCCCCCCCCC' },
        { to: KEY.dave, route: Array.from({ length: 8 }, (_, i) => `${'K'.repeat(10)}${i}`) }, // 9 carriers with us
        { to: KEY.dave, route: [], back: [KEY.carol] }, // a way back without the caller named
      ];
      for (const [i, f] of refusals.entries()) await alice.receive({ t: 'fwd', id: i, body: BODY, ...f });
      assert.deepEqual(alice.sent.map((f) => f.code), refusals.map(() => 'BAD_ARGUMENT'));
      // Passed on by Bob: the caller must not be Bob himself, nor be on the way back.
      await bob.receive({ t: 'fwd', id: 1, to: KEY.carol, from: KEY.bob, body: BODY });
      await bob.receive({ t: 'fwd', id: 2, to: KEY.carol, from: KEY.alice, back: [KEY.alice], body: BODY });
      await bob.receive({ t: 'fwd', id: 3, to: KEY.carol, from: KEY.dave, back: [KEY.eve, KEY.carol], body: BODY });
      assert.deepEqual(bob.sent.map((f) => f.code), ['BAD_ARGUMENT', 'BAD_ARGUMENT', 'BAD_ARGUMENT']);
      // The next hop, not the recipient, is what our policy looks at: Eve is not our peer; Dave is, but not here.
      await alice.receive({ t: 'fwd', id: 20, to: KEY.carol, route: [KEY.eve], body: BODY });
      assert.equal(alice.sent.at(-1).code, 'INTRODUCTION_REFUSED');
      const { open: open2 } = await carrier({ peers: [KEY.alice, KEY.dave] });
      const alice2 = open2(KEY.alice);
      await alice2.receive({ t: 'fwd', id: 21, to: KEY.carol, route: [KEY.dave], body: BODY });
      assert.equal(alice2.sent.at(-1).code, 'NO_ROUTE');
      // A delivered frame whose way back names the caller or the carrier.
      const dave = open(KEY.dave);
      await dave.receive({ t: 'fwd', id: 30, from: KEY.alice, back: [KEY.alice], body: 'AQID' });
      await dave.receive({ t: 'fwd', id: 31, from: KEY.alice, back: [KEY.dave], body: 'AQID' });
      await dave.receive({ t: 'fwd', id: 32, from: KEY.alice, body: 'AQID', vouch: { group: 'x' } });
      assert.deepEqual(dave.sent.map((f) => f.code), ['BAD_ARGUMENT', 'BAD_ARGUMENT', 'BAD_ARGUMENT']);
    });

  it('linkVia with a route sends it and the vouch; it may name the neighbour as the callee then, never on the route', async () => {
    const { neighbours, open } = await carrier();
    const bob = open(KEY.bob);
    const vouch = { group: 'Z3JvdXA', proof: 'cHJvb2Y' };
    const cardOf = (name) => { // a real card: linkVia seals to its identity key
      const identity = core.generateVapidKeys();
      return core.createCard({ identity, subject: 'mailto:t@pushpeer.invalid', name, subscription: {
        endpoint: 'https://updates.push.services.mozilla.com/wpush/v2/x', keys: {
          p256dh: core.base64urlEncode(core.generateVapidKeys().publicKey), auth: core.base64urlEncode(new Uint8Array(16)) } } }).bytes;
    };
    const link = neighbours.linkVia(bob, { route: [KEY.carol], vouch });
    link.check({ to: KEY.dave });
    assert.throws(() => link.check({ to: KEY.carol }), { code: 'BAD_ARGUMENT' });
    assert.throws(() => neighbours.linkVia(bob, { route: [KEY.bob] }).check({ to: KEY.dave }), { code: 'BAD_ARGUMENT' });
    assert.throws(() => neighbours.linkVia(bob, { route: [KEY.carol, KEY.carol] }), { code: 'BAD_ARGUMENT' });
    assert.throws(() => neighbours.linkVia(bob).check({ to: KEY.bob }), { code: 'BAD_ARGUMENT' });
    const sent = link.send({ to: KEY.dave, card: cardOf('dave'), envelope: new Uint8Array(100) });
    const frame = bob.sent.at(-1);
    assert.deepEqual([frame.t, frame.to, frame.route, frame.vouch], ['fwd', KEY.dave, [KEY.carol], vouch]);
    bob.receive({ t: 'fwd-ok', id: frame.id });
    assert.deepEqual(await sent, { via: 'neighbour', neighbour: KEY.bob, route: [KEY.carol] });
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
