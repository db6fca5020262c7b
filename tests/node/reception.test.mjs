// js/push/reception.js: what the service worker (and a page that holds its push channel) does with a decrypted
// push, against the release Wasm core and a memory store. Key ids and base64url are computed here with Node's
// crypto/Buffer, not with the core.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import { loadCore } from '../../js/core.js';
import { INBOX_LIMITS, pruneInbox, receivePush, recordRejection } from '../../js/push/reception.js';
import { createMemoryStore } from '../../js/store/store.js';
import { assertBytes, keyIdOf, nowSeconds, randomBytes, rejectsWith, toB64u as b64, toHex as hex, u8, utf8 } from './helpers.mjs';

const SUBJECT = 'mailto:inbox-test@pushpeer.invalid';
const MOZ = 'https://updates.push.services.mozilla.com/wpush/v2/';
const HOUR = 3600;

/** Nothing was kept: no inbox item, no peer. */
async function assertNothingKept(store) {
  assert.deepEqual(await store.inbox(), []);
  assert.deepEqual(await store.peers(), []);
}

describe('reception.js: receivePush', { timeout: 60_000 }, () => {
  let core;
  before(async () => {
    core = await loadCore();
  });

  /** Someone with an identity and a card (for a Mozilla endpoint that is never contacted). */
  function person(name, { created, endpoint } = {}) {
    const keys = core.generateVapidKeys();
    const ua = core.generateVapidKeys();
    const subscription = { endpoint: endpoint ?? `${MOZ}${b64(randomBytes(24))}`,
      keys: { p256dh: b64(ua.publicKey), auth: b64(randomBytes(16)) } };
    const card = core.createCard({ identity: keys, subscription, subject: SUBJECT, name,
      ...(created !== undefined ? { created } : {}) });
    return { name, keys, subscription, card, keyId: keyIdOf(keys.publicKey), keyIdBytes: u8(Buffer.from(keyIdOf(keys.publicKey), 'base64url')),
      seal: (to, options) => core.sealEnvelope({ privateKey: keys.privateKey, recipient: to.keyIdBytes,
        ...(options.type === 'answer' || options.type === 'bye' ? { ref: new Uint8Array(16) } : {}), ...options }) };
  }

  /** A store that is `who`'s: its identity, as a page saves it. */
  async function storeOf(who, config = {}) {
    const store = createMemoryStore();
    await store.set('identity', { ...who.keys, created: Date.now() });
    await store.set('config', { subject: SUBJECT, ...config });
    return store;
  }

  /** `peer` as one of `store`'s peers (we accepted a call from them, called them, or saved them). */
  const befriend = (store, peer) => store.putPeer({ keyId: peer.keyId, identity: peer.keys.publicKey,
    card: peer.card.bytes, name: peer.name, updated: core.decodeCard(peer.card.bytes).created });

  it("an offer from a stranger: an inbox item holding the caller's card, and no peer kept", async () => {
    const bob = person('Bob');
    const store = await storeOf(bob);
    const alice = person('Alice');
    const sessionId = randomBytes(8);
    const body = utf8('packed sdp, say');
    const timestamp = nowSeconds() - 5;
    const envelope = alice.seal(bob, { type: 'offer', body, sessionId, sequence: 3, timestamp, card: alice.card.bytes });
    const before = Date.now();
    const item = await receivePush({ core, store, data: envelope });
    assert.equal(item.type, 'offer');
    assert.equal(item.from, alice.keyId);
    assert.equal(item.name, 'Alice');
    assert.equal(item.sessionId, b64(sessionId));
    assert.equal(item.sequence, 3);
    assert.equal(item.timestamp, timestamp);
    assertBytes(item.body, body, 'body');
    assertBytes(item.card, alice.card.bytes, 'the card, to answer with if the app accepts');
    assertBytes(item.offerRef, core.envelopeReference(envelope), 'the reference an answer will name');
    assert.equal(item.knownPeer, false);
    assert.ok(Number.isInteger(item.id), 'id from the store');
    assert.ok(item.received >= before && item.received <= Date.now(), 'received');
    const stored = await store.getInbox(item.id);
    assert.equal(stored.state, 'new');
    assert.equal(stored.owner, null);
    assert.deepEqual(await store.peers(), [], 'a stranger is not kept as a peer');
    assert.ok((await store.get('replay')) instanceof Uint8Array, 'replay state saved');
  });

  it('an envelope by key id opens only from a peer (the stored identity verifies it)', async () => {
    const bob = person('Bob');
    const store = await storeOf(bob);
    const alice = person('Alice');
    const followUp = alice.seal(bob, { type: 'bye', sequence: 1 });
    assert.ok(followUp.length < alice.card.bytes.length, `${followUp.length} bytes: no card in it`);
    await rejectsWith(receivePush({ core, store, data: followUp }), 'UNKNOWN_SENDER');
    await befriend(store, alice);
    const item = await receivePush({ core, store, data: followUp });
    assert.equal(item.type, 'bye');
    assert.equal(item.from, alice.keyId);
    assert.equal(item.knownPeer, true);
    // Another key stored under Alice's key id does not verify her envelopes.
    const other = await storeOf(bob);
    await other.putPeer({ keyId: alice.keyId, identity: core.generateVapidKeys().publicKey, card: alice.card.bytes,
      name: 'Alice?', updated: 0 });
    await rejectsWith(receivePush({ core, store: other, data: alice.seal(bob, { type: 'bye' }) }), 'UNKNOWN_SENDER');
    assert.deepEqual(await other.inbox(), []);
  });

  it("an envelope for someone else (re-delivered by its recipient): WRONG_RECIPIENT, nothing kept", async () => {
    const bob = person('Bob');
    const carol = person('Carol');
    const alice = person('Alice');
    const store = await storeOf(carol);
    const forBob = alice.seal(bob, { type: 'offer', card: alice.card.bytes });
    await rejectsWith(receivePush({ core, store, data: forBob }), 'WRONG_RECIPIENT');
    await assertNothingKept(store);
    // The same offer reaches Bob fine.
    assert.equal((await receivePush({ core, store: await storeOf(bob), data: forBob })).type, 'offer');
  });

  it('a tampered signature or body: BAD_SIGNATURE, nothing kept', async () => {
    const bob = person('Bob');
    const store = await storeOf(bob);
    const alice = person('Alice');
    const envelope = alice.seal(bob, { type: 'offer', body: 'sdp', card: alice.card.bytes });
    const badSignature = u8(envelope);
    badSignature[badSignature.length - 1] ^= 0x01;
    await rejectsWith(receivePush({ core, store, data: badSignature }), 'BAD_SIGNATURE');
    const badBody = u8(envelope);
    badBody[badBody.length - 65] ^= 0x01; // last body byte (the 64-byte signature follows)
    await rejectsWith(receivePush({ core, store, data: badBody }), 'BAD_SIGNATURE');
    await assertNothingKept(store);
    // The refusals did not burn the genuine envelope.
    assert.equal((await receivePush({ core, store, data: envelope })).type, 'offer');
  });

  it('outside the time window: STALE_MESSAGE (too old, too far ahead, or by the given now)', async () => {
    const bob = person('Bob');
    const store = await storeOf(bob);
    const alice = person('Alice');
    const now = nowSeconds();
    await rejectsWith(receivePush({ core, store,
      data: alice.seal(bob, { type: 'offer', timestamp: now - 700, card: alice.card.bytes }) }), 'STALE_MESSAGE');
    await rejectsWith(receivePush({ core, store,
      data: alice.seal(bob, { type: 'offer', timestamp: now + 300, card: alice.card.bytes }) }), 'STALE_MESSAGE');
    await assertNothingKept(store);
    const envelope = alice.seal(bob, { type: 'offer', timestamp: now, card: alice.card.bytes });
    await rejectsWith(receivePush({ core, store, data: envelope, now: now + 601 }), 'STALE_MESSAGE');
    await assertNothingKept(store);
    assert.equal((await receivePush({ core, store, data: envelope, now: now + 600 })).type, 'offer');
  });

  it('the same envelope twice: REPLAYED_MESSAGE (binary or text form); a retried offer updates its request', async () => {
    const bob = person('Bob');
    const store = await storeOf(bob);
    const alice = person('Alice');
    const sessionId = randomBytes(8);
    const envelope = alice.seal(bob, { type: 'offer', sessionId, card: alice.card.bytes });
    const first = await receivePush({ core, store, data: envelope });
    await rejectsWith(receivePush({ core, store, data: envelope }), 'REPLAYED_MESSAGE');
    await rejectsWith(receivePush({ core, store, data: utf8(b64(envelope)) }), 'REPLAYED_MESSAGE');
    assert.equal((await store.inbox()).length, 1);
    // The same session with the next sequence number (the caller heard nothing and offers again) is not a replay:
    // it updates the pending request instead of asking twice.
    const retry = await receivePush({ core, store, data: alice.seal(bob, { type: 'offer', sessionId, sequence: 1, card: alice.card.bytes }) });
    assert.equal(retry.id, first.id);
    assert.equal(retry.sequence, 1);
    assert.equal(retry.retries, 1);
    // The request keeps its first arrival; the latest one is when the caller's wait restarted (its expiry).
    assert.equal(retry.received, first.received);
    assert.ok(retry.lastReceived >= first.received);
    assert.equal((await store.inbox()).length, 1);
    // Once declined, a further retry stays declined (nobody is asked again).
    await store.updateInbox(first.id, { state: 'declined' });
    const again = await receivePush({ core, store, data: alice.seal(bob, { type: 'offer', sessionId, sequence: 2, card: alice.card.bytes }) });
    assert.equal(again.state, 'declined');
  });

  it('a flood stamped at the edge of the window does not flush the replay guard: a captured envelope stays refused', async () => {
    const bob = person('Bob');
    const alice = person('Alice');
    const captured = alice.seal(bob, { type: 'offer', card: alice.card.bytes });
    const self = bob.keyIdBytes;
    const own = await loadCore();
    own.openEnvelope(captured, { self });
    // Sybils: identities cost nothing. 16 of them, 256 envelopes each (the per-sender cap), just inside the future
    // window, through the same core instance.
    const now = nowSeconds();
    let full = 0;
    for (let s = 0; s < 17; s++) {
      const sybil = core.generateVapidKeys();
      const id = keyIdOf(sybil.publicKey);
      for (let i = 0; i < 256; i++) {
        const e = core.sealEnvelope({ type: 'offer', privateKey: sybil.privateKey, recipient: self, sequence: i, timestamp: now + 119 });
        try {
          own.openEnvelope(e, { self, peers: { [id]: sybil.publicKey } });
        } catch (error) {
          assert.equal(error.code, 'REPLAY_GUARD_FULL');
          full++;
        }
      }
    }
    assert.ok(full >= 256, `${full} refused once the guard was full`);
    assert.throws(() => own.openEnvelope(captured, { self }), (e) => e.code === 'REPLAYED_MESSAGE');
    // It is forgotten only once the window would refuse it anyway.
    assert.throws(() => own.openEnvelope(captured, { self, now: now + 601 }), (e) => e.code === 'STALE_MESSAGE');
  });

  it('a peer who calls a lot is never refused by the replay guard, and what it forgot stays refused', async () => {
    const bob = person('Bob');
    const self = bob.keyIdBytes;
    const own = await loadCore();
    const alice = core.generateVapidKeys();
    const peers = { [keyIdOf(alice.publicKey)]: alice.publicKey };
    // 600 calls, two a second (the soak in bench/RESULTS.md makes a call about every 0.3 s): more than the 256 a
    // sender may hold.
    const start = nowSeconds() - 300;
    const sent = [];
    for (let i = 0; i < 600; i++) {
      const timestamp = start + Math.floor(i / 2);
      const e = core.sealEnvelope({ type: 'offer', privateKey: alice.privateKey, recipient: self, timestamp });
      sent.push({ e, timestamp });
      assert.equal(own.openEnvelope(e, { self, peers, now: timestamp }).timestamp, timestamp, `call ${i}`);
    }
    const now = start + 300;
    for (const [i, { e }] of sent.entries()) {
      assert.throws(() => own.openEnvelope(e, { self, peers, now }),
        (error) => ['REPLAYED_MESSAGE', 'STALE_MESSAGE'].includes(error.code), `replay of call ${i}`);
    }
  });

  it('replay protection survives a worker restart and a core that reloaded itself after a trap', async () => {
    const bob = person('Bob');
    const store = await storeOf(bob);
    const alice = person('Alice');
    await befriend(store, alice);
    const envelope = alice.seal(bob, { type: 'offer', card: alice.card.bytes });
    await receivePush({ core, store, data: envelope });
    const saved = await store.get('replay');
    assert.ok(saved instanceof Uint8Array && saved.length > 0, 'store key "replay" holds the guard');
    const restarted = await loadCore();
    await rejectsWith(receivePush({ core: restarted, store, data: envelope }), 'REPLAYED_MESSAGE');
    const second = alice.seal(bob, { type: 'bye' });
    assert.equal((await receivePush({ core: restarted, store, data: second })).type, 'bye');
    await rejectsWith(receivePush({ core: await loadCore(), store, data: second }), 'REPLAYED_MESSAGE');
    // A trap: the core reloads itself with an empty guard, and receivePush restores it from the store again.
    const testing = await loadCore({ flavor: 'testing' });
    await rejectsWith(receivePush({ core: testing, store, data: second }), 'REPLAYED_MESSAGE');
    assert.throws(() => testing.testing.trap(), (e) => e.code === 'INTERNAL');
    await testing.ready();
    assert.equal(testing.generation, 1);
    await rejectsWith(receivePush({ core: testing, store, data: second }), 'REPLAYED_MESSAGE');
    await rejectsWith(receivePush({ core: testing, store, data: envelope }), 'REPLAYED_MESSAGE');
    // Control: it is the stored state that refuses it. Without it a new instance accepts the envelope again.
    await store.delete('replay');
    assert.equal((await receivePush({ core: await loadCore(), store, data: envelope })).type, 'offer');
  });

  it('two pushes racing a cold start: the slower restore does not forget what the faster one recorded', async () => {
    const bob = person('Bob');
    const alice = person('Alice');
    const base = await storeOf(bob);
    await befriend(base, alice);
    await receivePush({ core, store: base, data: alice.seal(bob, { type: 'offer', card: alice.card.bytes }) });
    let gate;
    const opened = new Promise((resolve) => {
      gate = resolve;
    });
    let reads = 0;
    const slow = { ...base, get: async (key) => {
      const value = await base.get(key);
      if (key === 'replay' && ++reads === 2) await opened;
      return value;
    } };
    const restarted = await loadCore();
    const e1 = alice.seal(bob, { type: 'bye', sequence: 1 });
    const e2 = alice.seal(bob, { type: 'bye', sequence: 2 });
    const first = receivePush({ core: restarted, store: slow, data: e1 });
    const second = receivePush({ core: restarted, store: slow, data: e2 });
    await first;
    gate();
    await second;
    await rejectsWith(receivePush({ core: restarted, store: base, data: e1 }), 'REPLAYED_MESSAGE');
    await rejectsWith(receivePush({ core: await loadCore(), store: base, data: e1 }), 'REPLAYED_MESSAGE');
  });

  it('text mode: the base64url text as UTF-8 bytes is accepted; garbage and empty data are BAD_ENVELOPE', async () => {
    const bob = person('Bob');
    const store = await storeOf(bob);
    const alice = person('Alice');
    const text = alice.seal(bob, { type: 'offer', body: 'sdp', card: alice.card.bytes, text: true });
    assert.equal(typeof text, 'string');
    const item = await receivePush({ core, store, data: utf8(text) });
    assert.equal(item.type, 'offer');
    assert.equal(item.from, alice.keyId);
    assertBytes(item.body, utf8('sdp'));
    const refused = [
      new Uint8Array(0),
      new Uint8Array([0x00, 0xff, 0x10, 0x80]), // binary, not an envelope
      utf8('not base64url!'),
      utf8(`${text.slice(0, -1)}=`),
      utf8(`${text.slice(0, 40)} ${text.slice(40)}`),
      utf8('AAAA'), // base64url, but not an envelope
      utf8(text.slice(0, 60)), // a truncated envelope
      u8(core.base64urlDecode(text)).subarray(0, 30), // the same, binary
      new Uint8Array([0xe2]),
    ];
    for (const data of refused) {
      await assert.rejects(receivePush({ core, store, data }), (e) => ['BAD_ENVELOPE', 'BAD_BASE64'].includes(e.code),
        hex(data.subarray(0, 8)));
    }
    assert.equal((await store.inbox()).length, 1);
    // Version 1 envelopes are refused by their version.
    const v1 = u8(core.base64urlDecode(text));
    v1[0] = 0xe1;
    await rejectsWith(receivePush({ core, store, data: v1 }), 'UNSUPPORTED_VERSION');
  });

  it('a card envelope: from a peer it updates them (never with an older card); from a stranger it is refused', async () => {
    const bob = person('Bob');
    const store = await storeOf(bob);
    const now = nowSeconds();
    const keys = core.generateVapidKeys();
    const cardAt = (created, name, endpoint) => core.createCard({ identity: keys, created, subject: SUBJECT, name,
      subscription: { endpoint, keys: { p256dh: b64(core.generateVapidKeys().publicKey), auth: b64(randomBytes(16)) } } });
    const first = cardAt(now - 3 * HOUR, 'Carol', `${MOZ}first`);
    const newer = cardAt(now - HOUR, 'Carol 2', `${MOZ}newer`);
    const older = cardAt(now - 2 * HOUR, 'Carol old', `${MOZ}older`);
    const seal = (card) => core.sealEnvelope({ type: 'card', privateKey: keys.privateKey, recipient: bob.keyIdBytes, card: card.bytes });
    const keyId = keyIdOf(keys.publicKey);

    await rejectsWith(receivePush({ core, store, data: seal(first) }), 'UNKNOWN_SENDER');
    await assertNothingKept(store);
    await store.putPeer({ keyId, identity: keys.publicKey, card: first.bytes, name: 'Carol', updated: now - 3 * HOUR });
    const b = await receivePush({ core, store, data: seal(newer) });
    assert.equal(b.type, 'card');
    assert.equal((await store.getInbox(b.id)).state, 'done');
    let peer = await store.getPeer(keyId);
    assertBytes(peer.card, newer.bytes, 'newer card kept');
    assert.equal(peer.name, 'Carol 2');
    assert.equal(peer.updated, now - HOUR);
    await receivePush({ core, store, data: seal(older) });
    peer = await store.getPeer(keyId);
    assertBytes(peer.card, newer.bytes, 'an older card does not replace a newer one');
    // A newer card attached to an offer updates a peer too.
    const newest = cardAt(now, 'Carol 3', `${MOZ}newest`);
    await receivePush({ core, store, data: core.sealEnvelope({ type: 'offer', privateKey: keys.privateKey,
      recipient: bob.keyIdBytes, card: newest.bytes }) });
    assertBytes((await store.getPeer(keyId)).card, newest.bytes);
    assert.equal((await store.peers()).length, 1);
  });

  it("an offer whose card names a host that is not a push service: HOST_NOT_ALLOWED, unless the app allows it", async () => {
    const bob = person('Bob');
    const store = await storeOf(bob);
    for (const endpoint of ['https://attacker.example/wpush/x', 'http://127.0.0.1:9/x', 'https://fcm.googleapis.com:444/x']) {
      const mallory = person('Mallory', { endpoint });
      await rejectsWith(receivePush({ core, store, data: mallory.seal(bob, { type: 'offer', card: mallory.card.bytes }) }),
        'HOST_NOT_ALLOWED');
    }
    await assertNothingKept(store);
    const allowed = await storeOf(bob, { allowPushHosts: ['http://127.0.0.1:9'] });
    const local = person('Local', { endpoint: 'http://127.0.0.1:9/x' });
    assert.equal((await receivePush({ core, store: allowed, data: local.seal(bob, { type: 'offer', card: local.card.bytes }) })).type, 'offer');
  });

  it('the inbox is bounded: a flood of requests from strangers keeps the newest INBOX_LIMITS.maxItems, never grows', async () => {
    const bob = person('Bob');
    const store = await storeOf(bob);
    const strangers = Array.from({ length: 5 }, (_, i) => person(`S${i}`));
    let last;
    for (let i = 0; i < INBOX_LIMITS.maxItems + 30; i++) {
      const s = strangers[i % strangers.length];
      last = await receivePush({ core, store, data: s.seal(bob, { type: 'offer', sequence: i, card: s.card.bytes }) });
    }
    const inbox = await store.inbox();
    assert.equal(inbox.length, INBOX_LIMITS.maxItems);
    assert.equal(inbox.at(-1).id, last.id, 'the newest is kept');
    assert.equal(inbox[0].id, 31, 'the oldest went first');
    assert.deepEqual(await store.peers(), []);
    // The bytes follow from the count: an item keeps parts of one push (its body and the caller's card are inside
    // the envelope, at most 4096 bytes) and some bookkeeping, so maxItems items stay within maxBytes.
    assert.ok(INBOX_LIMITS.maxItems * (4096 + 512) <= INBOX_LIMITS.maxBytes, 'the limits agree');
    for (const i of inbox) assert.ok(i.body.length + i.card.length <= i.bytes, `item ${i.id}`);
  });
});

describe('reception.js: the inbox and refusals over time', { timeout: 30_000 }, () => {
  let core;
  before(async () => {
    core = await loadCore();
  });

  it('the inbox forgets handled items after 10 minutes and unhandled ones after a week (on each push)', async () => {
    const { keepMs, keepNewMs } = INBOX_LIMITS;
    assert.equal(keepMs, 10 * 60 * 1000);
    assert.equal(keepNewMs, 7 * 24 * HOUR * 1000);
    const store = createMemoryStore();
    const now = Date.now();
    const add = (state, age) => store.addInbox({ type: 'offer', received: now - age, state });
    // In arrival order, as the worker adds them: a request from over a week ago, one from six days ago (an open
    // request: kept, and stepped over), handled ones from an hour ago, then recent ones.
    await add('new', keepNewMs + 1000);
    const open = await add('new', keepNewMs - 1000);
    await add('done', HOUR * 1000);
    await add('declined', HOUR * 1000);
    const keep = [open, await add('done', keepMs - 1000), await add('new', 1000), await add('done', 500)];
    assert.equal(await pruneInbox(store, now), 3);
    assert.deepEqual((await store.inbox()).map((i) => i.id).sort(), keep.sort());
    // receivePush prunes too: a handled item that has grown old goes when the next push arrives.
    const worker = createMemoryStore();
    await worker.addInbox({ type: 'answer', received: now - keepMs - 1000, state: 'done' });
    const me = core.generateVapidKeys();
    await worker.set('identity', me);
    await worker.set('config', { subject: SUBJECT });
    const keys = core.generateVapidKeys();
    const card = core.createCard({ identity: keys, subject: SUBJECT, subscription: { endpoint: `${MOZ}x`,
      keys: { p256dh: b64(core.generateVapidKeys().publicKey), auth: b64(randomBytes(16)) } } });
    const data = core.sealEnvelope({ type: 'offer', privateKey: keys.privateKey, recipient: core.keyIdOf(me.publicKey), card: card.bytes });
    const item = await receivePush({ core, store: worker, data });
    assert.deepEqual((await worker.inbox()).map((i) => i.id), [item.id]);
  });

  it('recordRejection keeps the last 50 refusals (code, bytes, time) and never throws', async () => {
    const store = createMemoryStore();
    const start = Date.now();
    for (let i = 0; i < 57; i++) await recordRejection(store, `CODE_${i}`, i * 10);
    const list = await store.get('rejections');
    assert.equal(list.length, 50);
    assert.deepEqual(list.map((r) => r.code), Array.from({ length: 50 }, (_, i) => `CODE_${i + 7}`));
    assert.equal(list[0].bytes, 70);
    assert.equal(list[49].bytes, 560);
    assert.ok(list.every((r) => r.at >= start && r.at <= Date.now()));
    // fewer than 50: all kept, in order
    const small = createMemoryStore();
    await recordRejection(small, 'BAD_SIGNATURE', 300);
    await recordRejection(small, 'REPLAYED_MESSAGE', 301);
    assert.deepEqual((await small.get('rejections')).map(({ code, bytes }) => ({ code, bytes })),
      [{ code: 'BAD_SIGNATURE', bytes: 300 }, { code: 'REPLAYED_MESSAGE', bytes: 301 }]);
    // a failing store is not the caller's problem (diagnostics only)
    const broken = { ...createMemoryStore(), get: async () => { throw new Error('disk gone'); } };
    await recordRejection(broken, 'X', 1);
  });
});
