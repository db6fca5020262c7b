// js/push/page-push.js against the local push service (tests/push-service): the page's own push channel for call-only
// mode, here with ws's WebSocket (a page uses the browser's) and a memory store. Pushes are built by the core as a
// peer's page would send them and POSTed to the endpoint; what arrives must reach the inbox by the worker's path
// (receivePush) and be announced on the BroadcastChannel with the worker's message. tests/browser/page-push.test.mjs
// does the same in a real Chromium calling Firefox.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';

import { loadCore, PushPeerError } from '../../js/core.js';
import { channelName } from '../../js/push/reception.js';
import { openPagePush, STORE_KEY } from '../../js/push/page-push.js';
import { createMemoryStore } from '../../js/store/store.js';
import { startPushService } from '../push-service/service.mjs';
import { closedPort } from './helpers.mjs';

const SUBJECT = 'mailto:page-push-test@pushpeer.invalid';
const MOZ = 'https://updates.push.services.mozilla.com/wpush/v2/';
const b64 = (bytes) => Buffer.from(bytes).toString('base64url');
const FAST = { WebSocket, backoffMs: 50, maxBackoffMs: 200, connectTimeoutMs: 3000, requestTimeoutMs: 3000 };

async function rejectsWith(promise, code) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof PushPeerError, `a PushPeerError, not ${e?.constructor?.name}: ${e?.message}`);
    assert.equal(e.code, code, e.message);
    return true;
  });
}

/** Messages posted on the store's BroadcastChannel (what a PushPeer in the page hears). */
function listen(storeName) {
  const bc = new BroadcastChannel(channelName(storeName));
  const heard = [];
  const waiters = [];
  bc.onmessage = (e) => {
    heard.push(e.data);
    for (const w of waiters.splice(0)) w();
  };
  return {
    heard,
    async next(predicate, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = heard.find(predicate);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`nothing heard on the BroadcastChannel: ${JSON.stringify(heard)}`);
        await new Promise((r) => {
          waiters.push(r);
          setTimeout(r, 50);
        });
      }
    },
    close: () => bc.close(),
  };
}

const waitState = (channel, state, timeoutMs = 5000) => new Promise((resolve, reject) => {
  if (channel.state === state) return resolve();
  const timer = setTimeout(() => reject(new Error(`state ${channel.state}, not ${state}`)), timeoutMs);
  channel.addEventListener('statechange', function on() {
    if (channel.state !== state) return;
    clearTimeout(timer);
    channel.removeEventListener('statechange', on);
    resolve();
  });
});

describe('page-push.js: a push channel held by the page', { timeout: 60_000 }, () => {
  let core;
  let service;
  let n = 0;
  const open = [];

  before(async () => {
    core = await loadCore();
    service = await startPushService();
  });

  after(async () => {
    for (const c of open) c.close();
    await service?.close();
  });

  /** Bob's store (his identity, as PushPeer.create saves it) and a caller, Alice, with a card. */
  async function people() {
    const store = createMemoryStore({ name: `page-push-${++n}` });
    const bob = core.generateVapidKeys();
    await store.set('identity', { ...bob, created: Date.now() });
    await store.set('config', { subject: SUBJECT });
    const alice = core.generateVapidKeys();
    const subscription = { endpoint: `${MOZ}${b64(crypto.getRandomValues(new Uint8Array(24)))}`,
      keys: { p256dh: b64(core.generateVapidKeys().publicKey), auth: b64(crypto.getRandomValues(new Uint8Array(16))) } };
    const card = core.createCard({ identity: alice, subscription, subject: SUBJECT, name: 'Alice' });
    const offer = () => core.sealEnvelope({ type: 'offer', privateKey: alice.privateKey,
      recipient: core.keyIdOf(bob.publicKey), body: 'sdp', card: card.bytes });
    return { store, bob, offer };
  }

  async function channelFor(store, options = {}) {
    const channel = await openPagePush({ url: service.wsUrl, core, store, ...FAST, ...options });
    open.push(channel);
    return channel;
  }

  /** POSTs `payload` to the subscription as a sender holding the application server key would. */
  async function push(subscription, keys, payload) {
    const request = core.buildPushRequest({ subscription, payload, vapidKeys: keys, subject: SUBJECT, ttl: 60 });
    const response = await fetch(request.endpoint, { method: 'POST', headers: request.headers, body: request.body });
    assert.equal(response.status, 201, await response.text());
    return response.headers.get('location').replace(/^.*\/m\//, '');
  }

  it('url must be ws: or wss:; a service that does not answer: PUSH_UNREACHABLE, nothing left running', async () => {
    await rejectsWith(openPagePush({ url: 'https://push.example/', core, store: createMemoryStore(), WebSocket }),
      'BAD_ARGUMENT');
    const t0 = Date.now();
    await rejectsWith(openPagePush({ url: `ws://127.0.0.1:${await closedPort()}/`, core, store: createMemoryStore(),
      ...FAST, connectTimeoutMs: 500 }), 'PUSH_UNREACHABLE');
    assert.ok(Date.now() - t0 < 2000, 'within the connect timeout');
  });

  it('subscribe: a registration with our key; a push is decrypted, kept by the worker\'s path, announced, acked',
    async () => {
      const { store, bob, offer } = await people();
      const heard = listen(store.name);
      try {
        const channel = await channelFor(store);
        assert.equal(channel.state, 'open');
        const subscription = await channel.subscribe(bob.publicKey);
        assert.deepEqual(Object.keys(subscription.keys).sort(), ['auth', 'p256dh']);
        const sub = service.subscription(subscription.endpoint);
        assert.equal(sub.key, b64(bob.publicKey), 'registered with the application server key');
        assert.ok(sub.connected);
        // Secrets stay in the store: the subscription handed out carries public values only.
        const saved = await store.get(STORE_KEY);
        assert.equal(saved.endpoint, subscription.endpoint);
        assert.equal(b64(saved.keys.publicKey), subscription.keys.p256dh);
        assert.equal(saved.keys.privateKey.length, 32);
        assert.ok(!JSON.stringify(subscription).includes(b64(saved.keys.privateKey)));
        // The same key again: the same subscription, no new registration.
        assert.deepEqual(await channel.subscribe(b64(bob.publicKey)), subscription);

        const version = await push(subscription, bob, offer());
        const message = await heard.next((m) => m.pushpeer === 'inbox');
        assert.equal(message.type, 'offer');
        const item = (await store.inbox()).find((i) => i.id === message.id);
        assert.equal(item.name, 'Alice');
        assert.equal((await service.waitForAck(version)).code, 100);

        // A push that does not decrypt (another subscription's keys): ack 101, nothing kept, refusal announced.
        const other = { endpoint: subscription.endpoint,
          keys: { p256dh: b64(core.generateVapidKeys().publicKey), auth: subscription.keys.auth } };
        const bad = await push(other, bob, offer());
        assert.equal((await service.waitForAck(bad)).code, 101);
        await heard.next((m) => m.pushpeer === 'rejected');
        // One that decrypts but is no envelope: refused by receivePush, delivered all the same (the worker too).
        const junk = await push(subscription, bob, new Uint8Array([0xff, 1, 2, 3]));
        assert.equal((await service.waitForAck(junk)).code, 100);
        assert.equal((await store.inbox()).length, 1);
        assert.ok((await store.get('rejections')).some((r) => r.code === 'BAD_ENVELOPE'), JSON.stringify(await store.get('rejections')));
      } finally {
        heard.close();
      }
    });

  it('a dropped connection: reconnects with the same uaid and gets what was pushed meanwhile', async () => {
    const { store, bob, offer } = await people();
    const heard = listen(store.name);
    try {
      const channel = await channelFor(store);
      const subscription = await channel.subscribe(bob.publicKey);
      const { uaid } = service.subscription(subscription.endpoint);
      const waiting = waitState(channel, 'waiting');
      assert.equal(service.disconnect(uaid), 1);
      await waiting;
      const version = await push(subscription, bob, offer()); // stored by the service until we are back
      await waitState(channel, 'open');
      assert.equal((await service.waitForAck(version)).code, 100);
      await heard.next((m) => m.pushpeer === 'inbox');
      assert.deepEqual(service.connectedUaids().filter((u) => u === uaid), [uaid]);
      assert.equal(service.subscription(subscription.endpoint).active, true);
    } finally {
      heard.close();
    }
  });

  it('keepalive: pings the service (an empty object), which answers; the connection stays', async () => {
    const { store } = await people();
    const since = service.lastSeq;
    const channel = await channelFor(store, { pingIntervalMs: 100, pongTimeoutMs: 1000 });
    await service.waitFor((e) => e.type === 'ping', { since, what: 'ping' });
    await new Promise((r) => setTimeout(r, 1300));
    assert.equal(channel.state, 'open');
    assert.equal(service.received.filter((e) => e.seq > since && e.type === 'hello').length, 1, 'no reconnect');
    channel.close();
  });

  it('a new page (same store): the same uaid and endpoint; two pages: the newer holds it, the older stands by',
    async () => {
      const { store, bob } = await people();
      const first = await channelFor(store);
      const subscription = await first.subscribe(bob.publicKey);
      first.close();
      assert.equal(first.state, 'closed');
      const second = await channelFor(store);
      assert.deepEqual(await second.subscribe(bob.publicKey), subscription, 'same endpoint and keys after a reload');
      const { uaid } = service.subscription(subscription.endpoint);
      assert.equal(service.subscriptions().filter((s) => s.uaid === uaid).length, 1, 'no second registration');

      const replaced = waitState(second, 'replaced');
      const third = await channelFor(store);
      await replaced;
      assert.deepEqual(await third.subscribe(bob.publicKey), subscription);
      assert.deepEqual(service.connectedUaids().filter((u) => u === uaid), [uaid]);
    });

  it('another application server key: a new channel and keys, the old one unregistered; unsubscribe', async () => {
    const { store, bob } = await people();
    const channel = await channelFor(store);
    const first = await channel.subscribe(bob.publicKey);
    const next = await channel.subscribe(core.generateVapidKeys().publicKey);
    assert.notEqual(next.endpoint, first.endpoint);
    assert.notEqual(next.keys.p256dh, first.keys.p256dh);
    assert.equal(service.subscription(first.endpoint).active, false);
    await rejectsWith(channel.subscribe(new Uint8Array(64)), 'BAD_KEY');
    assert.equal(await channel.unsubscribe(), true);
    assert.equal(service.subscription(next.endpoint).active, false);
    assert.equal((await store.get(STORE_KEY)).channelID, undefined);
    assert.equal(await channel.unsubscribe(), false);
  });

  it('a service that answers hello with another uaid (it dropped ours): a new registration, subscriptionchange',
    async () => {
      const { store, bob } = await people();
      const channel = await channelFor(store);
      const first = await channel.subscribe(bob.publicKey);
      const changed = new Promise((resolve) => channel.addEventListener('subscriptionchange', resolve, { once: true }));
      // autopush gives a new uaid when it no longer knows ours; the local service echoes any well-formed uaid and
      // replaces only a malformed one, so the saved uaid is made one it replaces.
      await store.set(STORE_KEY, { ...(await store.get(STORE_KEY)), uaid: 'x'.repeat(65) });
      service.disconnect(service.subscription(first.endpoint).uaid);
      const event = await changed;
      assert.notEqual(event.subscription.endpoint, first.endpoint);
      assert.notEqual(event.subscription.keys.p256dh, first.keys.p256dh, 'fresh keys');
      const now = service.subscription(event.subscription.endpoint);
      assert.ok(now.active && now.connected);
      const saved = await store.get(STORE_KEY);
      assert.equal(saved.uaid, now.uaid);
      assert.equal(saved.endpoint, event.subscription.endpoint);
      assert.deepEqual(await channel.subscribe(bob.publicKey), event.subscription);
    });
});
