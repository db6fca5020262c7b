// js/push/subscription.js (and js/card.js's sendCardToPeers under it) against the local push service
// (tests/push-service), which checks every grant, with fake Firefox UAs that receive and keep their keys.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { loadCore } from '../../js/core.js';
import { receivePush } from '../../js/push/reception.js';
import { refreshSubscription } from '../../js/push/subscription.js';
import { createPushSender } from '../../js/push/sender.js';
import { createMemoryStore } from '../../js/store/store.js';
import { connectFakeUA } from '../push-service/fake-ua.mjs';
import { startPushService } from '../push-service/service.mjs';
import { assertBytes, keyIdOf, nowSeconds, randomBytes, rejectsWith, toB64u as b64, utf8 } from './helpers.mjs';

const SUBJECT = 'mailto:inbox-test@pushpeer.invalid';
const MOZ = 'https://updates.push.services.mozilla.com/wpush/v2/';
const HOUR = 3600;

describe('subscription.js: refreshSubscription through the local push service', { timeout: 30_000 }, () => {
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

  it('a transient peer (met in a swarm, js/mesh/groups.js) does not get our new card: no push to a stranger', async () => {
    const alice = await knownPeer('Alice');
    const stranger = await knownPeer('Stranger');
    const store = await ourStore(core.generateVapidKeys(), [alice, stranger]);
    await store.putPeer({ ...(await store.getPeer(stranger.keyId)), transient: true });
    const since = service.lastSeq;
    const result = await refreshSubscription({ core, store, registration: fakeRegistration(await ua()).registration });
    assert.deepEqual(result.sent, [alice.keyId]);
    assert.deepEqual(result.failed, []);
    assert.equal(service.received.filter((e) => e.seq > since && e.type === 'push').length, 1);
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
