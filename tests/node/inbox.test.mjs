// js/inbox.js (what the service worker does with a decrypted push; our card; re-subscription) and the pure parts of
// js/peer.js (isPolite, waitGathered).
// receivePush runs against the release Wasm core and a memory store; refreshSubscription against the local push
// service (tests/push-service), which checks every grant, with fake Firefox UAs that receive and keep their keys.
// Key ids and base64url are computed here with Node's crypto/Buffer, not with the core.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import { loadCore, PushPeerError } from '../../js/core.js';
import {
  CARD_RENEW_BEFORE, cardNeedsRenewal, GRANT_COUNT, GRANT_INTERVAL, INBOX_LIMITS, issueCard,
  pruneInbox, receivePush, recordRejection, refreshSubscription,
} from '../../js/inbox.js';
import { DEFAULT_GATHER_TIMEOUT_MS, isPolite, waitGathered } from '../../js/peer.js';
import { createPushSender } from '../../js/push.js';
import { createMemoryStore } from '../../js/store/store.js';
import { connectFakeUA } from '../push-service/fake-ua.mjs';
import { startPushService } from '../push-service/service.mjs';

const SUBJECT = 'mailto:inbox-test@pushpeer.invalid';
const MOZ = 'https://updates.push.services.mozilla.com/wpush/v2/';
const HOUR = 3600;
const b64 = (bytes) => Buffer.from(bytes).toString('base64url');
const u8 = (bytes) => Uint8Array.from(bytes);
const hex = (bytes) => Buffer.from(bytes).toString('hex');
const utf8 = (text) => new TextEncoder().encode(text);
const nowSeconds = () => Math.floor(Date.now() / 1000);
const randomBytes = (n) => crypto.getRandomValues(new Uint8Array(n));

/** docs/PROTOCOL.md §4: key id = SHA-256(compressed identity)[0..8], as base64url; computed without the core. */
function keyIdOf(publicKey) {
  const compressed = Buffer.concat([Buffer.from([0x02 | (publicKey[64] & 1)]), Buffer.from(publicKey.subarray(1, 33))]);
  return b64(createHash('sha256').update(compressed).digest().subarray(0, 8));
}

function assertBytes(actual, expected, message) {
  assert.ok(actual instanceof Uint8Array, `${message ?? 'value'}: a Uint8Array, not ${actual?.constructor?.name}`);
  assert.equal(hex(actual), hex(expected), message);
}

/** Asserts that `promise` rejects with a PushPeerError of `code`. */
async function rejectsWith(promise, code) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof PushPeerError, `expected a PushPeerError, got ${e?.constructor?.name}: ${e?.message}`);
    assert.equal(e.code, code, `code (${e.message})`);
    return true;
  });
}

/** Nothing was kept: no inbox item, no peer. */
async function assertNothingKept(store) {
  assert.deepEqual(await store.inbox(), []);
  assert.deepEqual(await store.peers(), []);
}

describe('inbox.js: receivePush', { timeout: 60_000 }, () => {
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

describe('inbox.js: our card', { timeout: 30_000 }, () => {
  let core;
  before(async () => {
    core = await loadCore();
  });

  const subscriptionFor = (endpoint) => ({ endpoint, expirationTime: null,
    keys: { p256dh: b64(core.generateVapidKeys().publicKey), auth: b64(randomBytes(16)) } });

  it('issueCard: 4 grants 20 h apart, saved under "card" with grantsUntil = the last grant\'s exp', async () => {
    assert.equal(GRANT_COUNT, 4);
    assert.equal(GRANT_INTERVAL, 20 * HOUR);
    const store = createMemoryStore();
    const identity = core.generateVapidKeys();
    const subscription = subscriptionFor(`${MOZ}me`);
    const before = nowSeconds();
    const saved = await issueCard({ core, store, identity, subscription, config: { subject: SUBJECT, name: 'Me' } });
    const after = nowSeconds();
    const card = core.decodeCard(saved.bytes);
    assert.equal(card.grants.length, 4);
    for (let i = 1; i < 4; i++) assert.equal(card.grants[i].exp - card.grants[i - 1].exp, 20 * HOUR, `grant ${i}`);
    assert.ok(card.grants[0].exp >= before + 20 * HOUR && card.grants[0].exp <= after + 20 * HOUR, 'first exp');
    assert.equal(saved.grantsUntil, card.grants[3].exp);
    assert.equal(card.endpoint, subscription.endpoint);
    assertBytes(card.identity, identity.publicKey);
    assert.equal(card.name, 'Me');
    assert.equal(card.subject, SUBJECT);
    assert.equal(saved.endpoint, subscription.endpoint);
    assert.equal(saved.name, 'Me');
    assert.equal(saved.subject, SUBJECT);
    assert.equal(saved.text, b64(saved.bytes));
    // the grants are VAPID for our endpoint, signed by our identity
    const { authorization } = core.grantAuthorization(saved.bytes);
    const jwt = /t=([^,]+)/.exec(authorization)[1];
    assert.equal(core.verifyVapidJwt(jwt, identity.publicKey).aud, 'https://updates.push.services.mozilla.com');

    const stored = await store.get('card');
    assert.deepEqual(stored, saved);
    assertBytes(stored.bytes, saved.bytes);

    // no name: '' (and cardNeedsRenewal agrees with what was saved)
    const anonymous = await issueCard({ core, store, identity, subscription, config: { subject: SUBJECT } });
    assert.equal(anonymous.name, '');
    assert.equal(core.decodeCard(anonymous.bytes).name, '');
    assert.equal(cardNeedsRenewal(anonymous, { core, endpoint: subscription.endpoint, config: { subject: SUBJECT } }), false);
    assert.deepEqual(await store.get('card'), anonymous, 'the latest card replaces the saved one');
  });

  it('cardNeedsRenewal: missing, another endpoint/name/subject, or grants ending within 40 h', async () => {
    assert.equal(CARD_RENEW_BEFORE, 40 * HOUR);
    const store = createMemoryStore();
    const identity = core.generateVapidKeys();
    const endpoint = `${MOZ}renew`;
    const config = { subject: SUBJECT, name: 'Me' };
    const saved = await issueCard({ core, store, identity, subscription: subscriptionFor(endpoint), config });
    const issuedAt = saved.grantsUntil - 80 * HOUR;
    const needs = (s, o = {}) => cardNeedsRenewal(s, { core, endpoint, config, ...o });

    assert.equal(needs(saved), false, 'fresh card (default now)');
    assert.equal(needs(saved, { now: issuedAt }), false);
    assert.equal(needs(undefined), true, 'missing');
    assert.equal(needs(null), true, 'missing');
    assert.equal(needs(saved, { endpoint: `${MOZ}other` }), true, 'other endpoint');
    assert.equal(needs(saved, { config: { ...config, name: 'Someone else' } }), true, 'other name');
    assert.equal(needs(saved, { config: { subject: SUBJECT } }), true, 'name dropped');
    assert.equal(needs(saved, { config: { ...config, subject: 'mailto:other@pushpeer.invalid' } }), true, 'other subject');
    // 40 h left exactly: still fine; less: renew.
    assert.equal(needs(saved, { now: saved.grantsUntil - 40 * HOUR }), false, '40 h left');
    assert.equal(needs(saved, { now: saved.grantsUntil - 40 * HOUR + 1 }), true, '40 h - 1 s left');
    assert.equal(needs(saved, { now: saved.grantsUntil - HOUR }), true, '1 h left');
    assert.equal(needs(saved, { now: saved.grantsUntil + HOUR }), true, 'expired');
    // A card this core cannot read (an older format version) is renewed too.
    const v1 = { ...saved, bytes: Uint8Array.from(saved.bytes, (b, i) => (i === 0 ? 0xc1 : b)) };
    assert.equal(needs(v1), true, 'card format version 1');
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

describe('inbox.js: refreshSubscription through the local push service', { timeout: 30_000 }, () => {
  let core;
  let service;
  const uas = [];

  before(async () => {
    core = await loadCore();
    service = await startPushService();
  });

  after(async () => {
    await Promise.all(uas.map((u) => u.close()));
    await service?.close();
  });

  async function ua() {
    const u = await connectFakeUA(service.wsUrl);
    uas.push(u);
    return u;
  }

  /** A known peer: identity, a fake UA subscribed with that identity key, its card. */
  async function knownPeer(name) {
    const identity = core.generateVapidKeys();
    const u = await ua();
    const sub = await u.subscribe(core, identity.publicKey);
    const card = core.createCard({ identity, subscription: sub.subscription, subject: SUBJECT, name });
    return { name, identity, ua: u, sub, card, keyId: keyIdOf(identity.publicKey),
      nextNotification: (options) => u.next((m) => m.messageType === 'notification' && m.channelID === sub.channelID,
        { what: `notification for ${name}`, ...options }) };
  }

  /**
   * A registration whose pushManager subscribes a fake UA on the local service with the applicationServerKey it
   * is given (as a browser does), so the service requires grants signed by that key.
   */
  function fakeRegistration(u) {
    const log = { subscribe: [], unsubscribe: 0 };
    let current = null;
    const wrap = (sub) => ({
      endpoint: sub.endpoint,
      sub,
      toJSON: () => structuredClone(sub.subscription),
      async unsubscribe() {
        log.unsubscribe++;
        await u.unregister(sub.channelID);
        if (current?.sub === sub) current = null;
        return true;
      },
    });
    const registration = {
      pushManager: {
        getSubscription: async () => current,
        async subscribe(options) {
          log.subscribe.push(options);
          current = wrap(await u.subscribe(core, options.applicationServerKey));
          return current;
        },
      },
    };
    return { registration, log, get current() {
      return current;
    } };
  }

  /** Our store: identity and config, and the peers we know. */
  async function ourStore(identity, peers) {
    const store = createMemoryStore();
    await store.set('identity', { ...identity, created: nowSeconds() });
    await store.set('config', { subject: SUBJECT, name: 'Me', relay: null, relayMode: 'never',
      allowPushHosts: [service.httpOrigin] });
    for (const p of peers) {
      await store.putPeer({ keyId: p.keyId, identity: p.identity.publicKey, card: p.card.bytes, name: p.name,
        updated: core.decodeCard(p.card.bytes).created });
    }
    return store;
  }

  /** The next push for `p`, decrypted with the UA's subscription keys, acked, opened as an envelope. */
  async function receivedEnvelope(p) {
    const n = await p.nextNotification();
    assert.equal(n.headers?.encoding, 'aes128gcm');
    const plaintext = core.decrypt({ ...p.sub.keys, body: Buffer.from(n.data, 'base64url') });
    p.ua.ack(n);
    return { plaintext, opened: core.openEnvelope(plaintext, { self: core.keyIdOf(p.identity.publicKey), replay: false }) };
  }

  it('subscribes with our identity key, issues a new card and sends it to every known peer in a card envelope', async () => {
    const me = core.generateVapidKeys();
    const alice = await knownPeer('Alice');
    const bob = await knownPeer('Bob');
    const store = await ourStore(me, [alice, bob]);
    const ours = await ua();
    const reg = fakeRegistration(ours);
    const since = service.lastSeq;

    const result = await refreshSubscription({ core, store, registration: reg.registration });
    assert.equal(reg.log.subscribe.length, 1);
    assert.equal(reg.log.subscribe[0].userVisibleOnly, true);
    assertBytes(reg.log.subscribe[0].applicationServerKey, me.publicKey, 'applicationServerKey = identity');
    const endpoint = reg.current.endpoint;
    assert.ok(endpoint.startsWith(`${service.httpOrigin}/`), endpoint);
    assert.equal(service.subscription(endpoint).key, b64(me.publicKey), 'the service holds our identity key');
    // the memory store lists peers in insertion order
    assert.deepEqual(result, { endpoint, sent: [alice.keyId, bob.keyId], failed: [] });

    // The saved card is for the new endpoint.
    const saved = await store.get('card');
    assert.equal(saved.endpoint, endpoint);
    assert.equal(core.decodeCard(saved.bytes).endpoint, endpoint);

    for (const p of [alice, bob]) {
      const { plaintext, opened } = await receivedEnvelope(p);
      assert.equal(opened.typeName, 'card', p.name);
      assert.equal(b64(opened.sender), keyIdOf(me.publicKey));
      assertBytes(opened.senderKey, me.publicKey);
      assertBytes(opened.cardBytes, saved.bytes, `${p.name} got the saved card`);
      assert.equal(core.decodeCard(opened.cardBytes).endpoint, endpoint);
      assert.equal(opened.card.name, 'Me');
      // and the peer's worker, knowing our old card, keeps the new one
      const theirs = createMemoryStore();
      await theirs.set('identity', p.identity);
      await theirs.set('config', { subject: SUBJECT });
      const oldCard = core.createCard({ identity: me, subject: SUBJECT, name: 'Me', created: nowSeconds() - HOUR,
        subscription: { endpoint: `${MOZ}old`, keys: { p256dh: b64(core.generateVapidKeys().publicKey), auth: b64(randomBytes(16)) } } });
      await theirs.putPeer({ keyId: keyIdOf(me.publicKey), identity: me.publicKey, card: oldCard.bytes, name: 'Me',
        updated: nowSeconds() - HOUR });
      const item = await receivePush({ core: await loadCore(), store: theirs, data: plaintext });
      assert.equal(item.type, 'card');
      assert.equal(item.state, 'done');
      assertBytes((await theirs.getPeer(keyIdOf(me.publicKey))).card, saved.bytes);
    }
    // Each went out as one push with a Topic of its own (one per peer: a newer card replaces an older one still
    // waiting), a day's TTL and normal urgency, under the peer's grant.
    const pushes = service.received.filter((e) => e.type === 'push' && e.seq > since);
    assert.equal(pushes.length, 2);
    const topics = [alice, bob].map((q) => core.pushTopic('card', core.keyIdOf(q.identity.publicKey), new Uint8Array(8)));
    for (const p of pushes) {
      assert.equal(p.status, 201);
      assert.ok(topics.includes(p.topic), p.topic);
      assert.equal(p.ttl, 86400);
      assert.equal(p.urgency, 'normal');
    }

    // The new card's grants are accepted by the service for our new subscription (k = our identity).
    const sender = createPushSender({ core, relayMode: 'never', allowPushHosts: [service.httpOrigin] });
    const sent = await sender.send({ card: saved.bytes, payload: utf8('hello back') });
    assert.equal(sent.status, 201);
    const n = await ours.next((m) => m.messageType === 'notification' && m.channelID === reg.current.sub.channelID,
      { what: 'push to our new subscription' });
    assert.equal(Buffer.from(core.decrypt({ ...reg.current.sub.keys, body: Buffer.from(n.data, 'base64url') })).toString(),
      'hello back');
    ours.ack(n);
  });

  it('a peer whose subscription was revoked lands in failed with PEER_GONE; the others still get the card', async () => {
    const me = core.generateVapidKeys();
    const alice = await knownPeer('Alice');
    const gone = await knownPeer('Gone');
    const bob = await knownPeer('Bob');
    assert.equal(service.revoke(gone.sub.endpoint), true);
    const store = await ourStore(me, [alice, gone, bob]);
    const reg = fakeRegistration(await ua());

    const result = await refreshSubscription({ core, store, registration: reg.registration });
    assert.equal(result.endpoint, reg.current.endpoint);
    assert.deepEqual([...result.sent].sort(), [alice.keyId, bob.keyId].sort());
    assert.deepEqual(result.failed, [{ peer: gone.keyId, code: 'PEER_GONE' }]);
    for (const p of [alice, bob]) {
      const { opened } = await receivedEnvelope(p);
      assert.equal(core.decodeCard(opened.cardBytes).endpoint, result.endpoint);
    }
    await assert.rejects(gone.nextNotification({ timeoutMs: 150 }), /no notification/);
  });

  it('keeps a current subscription unless forced; force unsubscribes first; a given newSubscription is used as is', async () => {
    const me = core.generateVapidKeys();
    const alice = await knownPeer('Alice');
    const store = await ourStore(me, [alice]);
    const reg = fakeRegistration(await ua());

    const first = await refreshSubscription({ core, store, registration: reg.registration });
    assert.deepEqual(first.sent, [alice.keyId]);
    await receivedEnvelope(alice);
    const again = await refreshSubscription({ core, store, registration: reg.registration });
    assert.equal(again.endpoint, first.endpoint, 'the current subscription is kept');
    assert.equal(reg.log.subscribe.length, 1);
    assert.equal(reg.log.unsubscribe, 0);
    await receivedEnvelope(alice);

    const forced = await refreshSubscription({ core, store, registration: reg.registration, force: true });
    assert.equal(reg.log.unsubscribe, 1);
    assert.equal(reg.log.subscribe.length, 2);
    assert.notEqual(forced.endpoint, first.endpoint);
    assert.equal(service.subscription(first.endpoint).active, false, 'the old subscription ended');
    assert.equal(core.decodeCard((await receivedEnvelope(alice)).opened.cardBytes).endpoint, forced.endpoint);

    // pushsubscriptionchange with event.newSubscription: no pushManager call at all
    const given = (await (await ua()).subscribe(core, me.publicKey)).subscription;
    const noManager = { pushManager: { getSubscription: () => assert.fail('not asked'), subscribe: () => assert.fail('not asked') } };
    const changed = await refreshSubscription({ core, store, registration: noManager, newSubscription: given });
    assert.equal(changed.endpoint, given.endpoint);
    assert.equal((await store.get('card')).endpoint, given.endpoint);
    assert.equal(core.decodeCard((await receivedEnvelope(alice)).opened.cardBytes).endpoint, given.endpoint);
  });

  it('without an identity in the store: NOT_SUPPORTED, nothing subscribed', async () => {
    const reg = fakeRegistration(null);
    await rejectsWith(refreshSubscription({ core, store: createMemoryStore(), registration: reg.registration }),
      'NOT_SUPPORTED');
    assert.equal(reg.log.subscribe.length, 0);
  });
});

describe('peer.js: isPolite and waitGathered', () => {
  it('isPolite: exactly one side is polite, both agree; the same key twice is BAD_ARGUMENT', async () => {
    const core = await loadCore();
    for (let i = 0; i < 20; i++) {
      const a = core.generateVapidKeys().publicKey;
      const b = core.generateVapidKeys().publicKey;
      assert.notEqual(isPolite(a, b), isPolite(b, a), `pair ${i}`);
      assert.equal(isPolite(a, b), Buffer.compare(Buffer.from(a), Buffer.from(b)) < 0, 'the lower key is polite');
    }
    // differing only in the last byte, and a prefix
    const x = new Uint8Array(65).fill(7);
    const y = Uint8Array.from(x);
    y[64] = 8;
    assert.equal(isPolite(x, y), true);
    assert.equal(isPolite(y, x), false);
    assert.notEqual(isPolite(x.subarray(0, 64), x), isPolite(x, x.subarray(0, 64)));
    const key = core.generateVapidKeys().publicKey;
    for (const [ours, theirs] of [[key, key], [key, Uint8Array.from(key)], [x, Uint8Array.from(x)]]) {
      assert.throws(() => isPolite(ours, theirs), (e) => e instanceof PushPeerError && e.code === 'BAD_ARGUMENT');
    }
  });

  /** A stand-in RTCPeerConnection: an EventTarget with iceGatheringState. */
  function fakePc(state = 'gathering') {
    const pc = new EventTarget();
    pc.iceGatheringState = state;
    const add = pc.addEventListener.bind(pc);
    const remove = pc.removeEventListener.bind(pc);
    pc.listeners = 0;
    pc.addEventListener = (...args) => {
      pc.listeners++;
      add(...args);
    };
    pc.removeEventListener = (...args) => {
      pc.listeners--;
      remove(...args);
    };
    return pc;
  }
  const candidateEvent = (candidate) => Object.assign(new Event('icecandidate'), { candidate });

  it('waitGathered: true when gathering completes (state change or null candidate), false after the timeout', async () => {
    assert.equal(DEFAULT_GATHER_TIMEOUT_MS, 3000);
    // already complete
    assert.equal(await waitGathered(fakePc('complete'), 10), true);

    // icegatheringstatechange to 'complete' (a change to anything else is not the end)
    const a = fakePc('new');
    const pa = waitGathered(a, 5000);
    let settled = null;
    pa.then((v) => {
      settled = v;
    });
    a.iceGatheringState = 'gathering';
    a.dispatchEvent(new Event('icegatheringstatechange'));
    a.dispatchEvent(candidateEvent({ candidate: 'candidate:1 1 udp 1 127.0.0.1 9 typ host' }));
    await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(settled, null, 'not settled by a change to gathering or by a real candidate');
    setTimeout(() => {
      a.iceGatheringState = 'complete';
      a.dispatchEvent(new Event('icegatheringstatechange'));
    }, 5);
    const started = Date.now();
    assert.equal(await pa, true);
    assert.ok(Date.now() - started < 1000, 'resolved by the event, not the timeout');
    assert.equal(a.listeners, 0, 'listeners removed');

    // the end-of-candidates null candidate, with the state never changing
    const b = fakePc();
    const pb = waitGathered(b, 5000);
    setTimeout(() => b.dispatchEvent(candidateEvent(null)), 5);
    assert.equal(await pb, true);
    assert.equal(b.iceGatheringState, 'gathering');
    assert.equal(b.listeners, 0, 'listeners removed');

    // nothing: false after the timeout, not before
    const c = fakePc();
    const t0 = Date.now();
    const pc = waitGathered(c, 60);
    c.dispatchEvent(candidateEvent({ candidate: 'candidate:2' }));
    assert.equal(await pc, false);
    assert.ok(Date.now() - t0 >= 55, `waited ${Date.now() - t0} ms`);
    assert.equal(c.listeners, 0, 'listeners removed');
    // a late completion after the timeout changes nothing (and throws nothing)
    c.iceGatheringState = 'complete';
    c.dispatchEvent(new Event('icegatheringstatechange'));
  });
});
