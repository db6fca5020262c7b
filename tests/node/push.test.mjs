// js/push/sender.js: one push to a peer described by a signed card, with the card's grant as VAPID Authorization, sent
// directly or through the relay. Everything goes through the local push service (tests/push-service), which checks
// VAPID (signature, aud, exp, k = the key the subscription was made with) and the push headers, and a fake Firefox
// UA (fake-ua.mjs) that receives the notification; its payload is decrypted here with http_ece (independent of the
// core). Retries and back-off use an injected sleep that only records the delays, so nothing here really waits.
import assert from 'node:assert/strict';
import { createECDH } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';

import ece from 'http_ece';

import { loadCore, PushPeerError } from '../../js/core.js';
import { createPushSender as createSender, DEFAULT_TTL, parseRetryAfter } from '../../js/push/sender.js';
import { serveRelayNode } from '../../relay/relay.js';
import { connectFakeUA } from '../push-service/fake-ua.mjs';
import { startPushService } from '../push-service/service.mjs';
import { closedPort } from './helpers.mjs';

const SUBJECT = 'mailto:push-test@pushpeer.invalid';
// The local push services listen on loopback, which a sender refuses unless told (allowPushHosts), as an app's own
// tests would do; 'push.example' stands for a push service in tests with a fake fetch.
let testHosts = ['push.example'];
const createPushSender = (options) => createSender(options && { allowPushHosts: testHosts, ...options });
const b64 = (bytes) => Buffer.from(bytes).toString('base64url');
const nowSeconds = () => Math.floor(Date.now() / 1000);
const hex = (bytes) => Buffer.from(bytes.buffer ?? bytes, bytes.byteOffset ?? 0, bytes.byteLength ?? bytes.length).toString('hex');

/** Asserts that `promise` rejects with a PushPeerError of `code` whose listed properties are as given. */
async function rejectsWith(promise, code, props = {}) {
  let error;
  await assert.rejects(promise, (e) => {
    error = e;
    assert.ok(e instanceof PushPeerError, `expected a PushPeerError, got ${e?.constructor?.name}: ${e?.message}`);
    assert.equal(e.name, 'PushPeerError');
    assert.equal(e.code, code, `code (${e.message})`);
    for (const [k, v] of Object.entries(props)) assert.deepEqual(e[k], v, `.${k} (${e.message})`);
    return true;
  });
  return error;
}

/** A fetch that records every call (url, headers as a plain lower-cased object, body bytes) before passing it on. */
function recordingFetch(inner = (url, init) => fetch(url, init)) {
  const calls = [];
  const fn = async (url, init) => {
    const headers = {};
    for (const [k, v] of new Headers(init.headers)) headers[k] = v;
    calls.push({ url: String(url), init, headers, body: Uint8Array.from(init.body) });
    return inner(url, init);
  };
  fn.calls = calls;
  return fn;
}

/** A sleep that records the requested delays and returns at once. */
function recordingSleep() {
  const delays = [];
  const fn = async (ms) => {
    delays.push(ms);
  };
  fn.delays = delays;
  return fn;
}

/** A fetch that throws TypeError (as a browser does for a CORS refusal) for every URL under `origin`. */
function corsBlockingFetch(origin) {
  return recordingFetch((url, init) => {
    if (new URL(url).origin === origin) return Promise.reject(new TypeError('Failed to fetch'));
    return fetch(url, init);
  });
}

/** Decrypts a notification's data with http_ece and the UA subscription's private key (not with our core). */
function eceDecrypt(keys, notification) {
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(Buffer.from(keys.privateKey));
  assert.equal(hex(ecdh.getPublicKey()), hex(keys.publicKey));
  return ece.decrypt(Buffer.from(notification.data, 'base64url'),
    { version: 'aes128gcm', privateKey: ecdh, authSecret: Buffer.from(keys.auth) });
}

describe('push.js: send one push to a card', { timeout: 60_000 }, () => {
  let core;
  let service;
  let other; // a second push service: another origin
  let relay; // allows both services
  let strictRelay; // allows neither (HOST_NOT_ALLOWED)
  let relayUrl;
  const uas = [];

  before(async () => {
    core = await loadCore();
    service = await startPushService({ log: process.env.PUSHPEER_PUSH_LOG === '1' ? console.log : null });
    other = await startPushService();
    relay = await serveRelayNode({ allowHosts: [service.httpOrigin, other.httpOrigin] });
    relayUrl = `${relay.url}/push`;
    strictRelay = await serveRelayNode({ allowHosts: ['http://127.0.0.1:1'] });
    testHosts = [...testHosts, service.httpOrigin, other.httpOrigin];
  });

  beforeEach(() => {
    service.faults.clear();
    other.faults.clear();
    service.cors = true;
  });

  after(async () => {
    await Promise.all(uas.map((u) => u.close()));
    await relay?.close();
    await strictRelay?.close();
    await other?.close();
    await service?.close();
  });

  /**
   * A peer: a fake UA subscribed with the peer's identity key as applicationServerKey (so the service requires the
   * card's grants), and the peer's card. Options: on (push service), name, grants, cardIdentity (sign the card with
   * another key than the one the subscription was made with).
   */
  async function peer({ on = service, name = 'Bob', grants, cardIdentity } = {}) {
    const identity = core.generateVapidKeys();
    const ua = await connectFakeUA(on.wsUrl);
    uas.push(ua);
    const sub = await ua.subscribe(core, identity.publicKey);
    const card = core.createCard({ identity: cardIdentity ?? identity, subscription: sub.subscription, subject: SUBJECT,
      name, ...(grants ? { grants } : {}) });
    const id = on.subscription(sub.endpoint).id;
    return {
      identity, ua, sub, card, id, endpoint: sub.endpoint, service: on,
      nextNotification: (options) => ua.next((m) => m.messageType === 'notification' && m.channelID === sub.channelID,
        { what: 'notification', ...options }),
      /** 'push' events of this subscription after seq. */
      pushes: (since = 0) => on.received.filter((e) => e.type === 'push' && e.subscription === id && e.seq > since),
    };
  }

  /** Receives, checks and acks the next notification of `p`; returns the plaintext as a Buffer. */
  async function received(p) {
    const n = await p.nextNotification();
    assert.equal(n.headers?.encoding, 'aes128gcm');
    const plain = eceDecrypt(p.sub.keys, n);
    // and the core's own receiver side agrees
    assert.equal(hex(core.decrypt({ ...p.sub.keys, body: Buffer.from(n.data, 'base64url') })), hex(plain));
    p.ua.ack(n);
    return plain;
  }

  /** Nothing more arrives for `p` within ms. */
  async function nothingArrives(p, ms = 150) {
    await assert.rejects(p.nextNotification({ timeoutMs: ms }), /no notification/);
  }

  describe('direct', () => {
    it('201 via direct: the UA decrypts the payload; the service saw the grant, Urgency high, TTL and Topic', async () => {
      const p = await peer();
      const since = p.service.lastSeq;
      const f = recordingFetch();
      const events = [];
      const sender = createPushSender({ core, fetch: f, sleep: recordingSleep(), onEvent: (e) => events.push(e) });
      const payload = 'offer: v=0 o=- 4611 2 IN IP4 127.0.0.1 ✓';
      const result = await sender.send({ card: p.card.bytes, payload, topic: 'offer_1-A' });

      assert.equal(result.status, 201);
      assert.equal(result.via, 'direct');
      assert.equal(result.attempts, 1);
      assert.equal(result.endpoint, p.endpoint);
      assert.match(result.location, new RegExp(`^${service.httpOrigin}/m/[0-9a-f-]{36}$`));
      assert.equal((await received(p)).toString('utf8'), payload);

      // exactly one request, to the endpoint itself, with the body that reached the UA
      assert.equal(f.calls.length, 1);
      const [call] = f.calls;
      assert.equal(call.url, p.endpoint);
      assert.equal(call.init.method, 'POST');
      assert.equal(call.init.credentials, 'omit');
      assert.equal(result.bytes, call.body.length);
      assert.equal(call.body.length, 86 + 17 + Buffer.byteLength(payload)); // one aes128gcm record, no padding

      const pushes = p.pushes(since);
      assert.equal(pushes.length, 1);
      const [push] = pushes;
      assert.equal(push.status, 201);
      assert.equal(push.outcome, 'sent');
      assert.equal(result.location, `${service.httpOrigin}/m/${push.version}`);
      assert.equal(hex(push.body), hex(call.body));
      // Authorization is the card's grant, rebuilt: the one the core picks, k = the card owner's identity
      const decoded = core.decodeCard(p.card.bytes);
      const grant = core.grantAuthorization(p.card.bytes);
      assert.equal(push.headers.authorization, grant.authorization);
      assert.match(push.headers.authorization, new RegExp(`, k=${b64(p.identity.publicKey)}$`));
      assert.deepEqual(push.vapid, { aud: service.httpOrigin, exp: grant.exp, sub: SUBJECT });
      assert.equal(grant.exp, Math.min(...decoded.grants.map((g) => g.exp)));
      assert.equal(push.urgency, 'high');
      assert.equal(push.ttl, DEFAULT_TTL);
      assert.equal(push.headers.ttl, '120');
      assert.equal(push.topic, 'offer_1-A');
      assert.equal(push.headers['content-encoding'], 'aes128gcm');
      assert.equal(push.headers['content-type'], 'application/octet-stream');

      assert.deepEqual(events.map((e) => e.type), ['attempt', 'response']);
      assert.deepEqual({ ...events[0] }, { type: 'attempt', via: 'direct', endpoint: p.endpoint, bytes: call.body.length });
      assert.equal(events[1].status, 201);
      assert.equal(typeof events[1].ms, 'number');
    });

    it('no Topic header without a topic; ttl and urgency are passed as given', async () => {
      const p = await peer();
      const since = p.service.lastSeq;
      const f = recordingFetch();
      const sender = createPushSender({ core, fetch: f });
      await sender.send({ card: p.card.bytes, payload: 'x', ttl: 0, urgency: 'normal' });
      assert.equal((await received(p)).toString(), 'x');
      assert.equal(f.calls[0].headers.topic, undefined);
      const [push] = p.pushes(since);
      assert.equal(push.topic, null);
      assert.equal(push.headers.topic, undefined);
      assert.equal(push.ttl, 0);
      assert.equal(push.urgency, 'normal');
    });

    it('the card as bytes, as text, as a #card= link and decoded with .bytes all reach the same peer', async () => {
      const p = await peer();
      const sender = createPushSender({ core });
      const forms = {
        bytes: p.card.bytes,
        text: p.card.text,
        link: `https://app.example/#card=${p.card.text}`,
        decoded: { ...core.decodeCard(p.card.bytes), bytes: p.card.bytes },
      };
      for (const [form, card] of Object.entries(forms)) {
        const result = await sender.send({ card, payload: `via ${form}` });
        assert.equal(result.status, 201, form);
        assert.equal(result.endpoint, p.endpoint, form);
        assert.equal((await received(p)).toString(), `via ${form}`, form);
      }
    });

    it('binary payloads, the empty payload and exactly maxPayloadLength (3993) bytes arrive intact', async () => {
      const p = await peer();
      const sender = createPushSender({ core });
      assert.equal(core.maxPayloadLength, 3993);
      const big = Uint8Array.from({ length: 3993 }, (_, i) => (i * 7 + 3) & 0xff);
      for (const payload of [new Uint8Array([0, 1, 2, 0xff]), new Uint8Array(0), big]) {
        const result = await sender.send({ card: p.card.bytes, payload });
        assert.equal(result.bytes, 86 + 17 + payload.length);
        assert.equal(hex(await received(p)), hex(payload));
      }
      assert.equal(p.pushes().at(-1).bodyLength, 4096);
    });

    it('two sends are two distinct encryptions (fresh key and salt), both delivered', async () => {
      const p = await peer();
      const f = recordingFetch();
      const sender = createPushSender({ core, fetch: f });
      await sender.send({ card: p.card.bytes, payload: 'same' });
      await sender.send({ card: p.card.bytes, payload: 'same' });
      assert.equal((await received(p)).toString(), 'same');
      assert.equal((await received(p)).toString(), 'same');
      assert.notEqual(hex(f.calls[0].body), hex(f.calls[1].body));
    });

    it('a card signed by another key than the subscription\'s: the service refuses the grant (401) → PUSH_REJECTED', async () => {
      // Shows that the service really checks the grant: the same request with a foreign key is refused.
      const p = await peer({ cardIdentity: core.generateVapidKeys() });
      const since = p.service.lastSeq;
      const sleep = recordingSleep();
      const sender = createPushSender({ core, sleep });
      await rejectsWith(sender.send({ card: p.card.bytes, payload: 'hi' }), 'PUSH_REJECTED',
        { status: 401, via: 'direct', attempts: 1, endpoint: p.endpoint, retryAfter: null });
      assert.deepEqual(p.pushes(since).map((e) => [e.status, e.reason]), [[401, 'key-mismatch']]);
      assert.deepEqual(sleep.delays, []);
      await nothingArrives(p);
    });
  });

  describe('errors from the push service', () => {
    it('410 (revoked) → PEER_GONE with status 410, not retried', async () => {
      const p = await peer();
      assert.ok(p.service.revoke(p.endpoint));
      const since = p.service.lastSeq;
      const sleep = recordingSleep();
      const sender = createPushSender({ core, sleep });
      const error = await rejectsWith(sender.send({ card: p.card.bytes, payload: 'hi' }), 'PEER_GONE',
        { status: 410, via: 'direct', attempts: 1, endpoint: p.endpoint, retryAfter: null });
      assert.match(error.message, /410/);
      assert.deepEqual(p.pushes(since).map((e) => [e.status, e.reason]), [[410, 'subscription-gone']]);
      assert.deepEqual(sleep.delays, []);
    });

    it('404 (unknown subscription) → PEER_GONE with status 404', async () => {
      const identity = core.generateVapidKeys();
      const keys = core.generateVapidKeys();
      const endpoint = `${service.httpOrigin}/wpush/never-registered-${Date.now()}`;
      const card = core.createCard({ identity, subject: SUBJECT,
        subscription: { endpoint, keys: { p256dh: b64(keys.publicKey), auth: b64(new Uint8Array(16).fill(9)) } } });
      const f = recordingFetch();
      await rejectsWith(createPushSender({ core, fetch: f, sleep: recordingSleep() }).send({ card: card.bytes, payload: 'hi' }),
        'PEER_GONE', { status: 404, attempts: 1, endpoint });
      assert.equal(f.calls.length, 1);
    });

    it('413 from the service → PAYLOAD_TOO_LARGE with status 413, not retried', async () => {
      const p = await peer();
      p.service.faults.add({ subscription: p.endpoint, status: 413 });
      const since = p.service.lastSeq;
      const sleep = recordingSleep();
      await rejectsWith(createPushSender({ core, sleep }).send({ card: p.card.bytes, payload: 'hi' }), 'PAYLOAD_TOO_LARGE',
        { status: 413, attempts: 1, via: 'direct' });
      assert.deepEqual(p.pushes(since).map((e) => e.status), [413]);
      assert.deepEqual(sleep.delays, []);
      await nothingArrives(p);
    });

    it('a payload over 3993 bytes is refused before any request (direct or relay)', async () => {
      const p = await peer();
      const since = p.service.lastSeq;
      for (const options of [{}, { relay: relayUrl, relayMode: 'always' }]) {
        const f = recordingFetch();
        const events = [];
        const sender = createPushSender({ core, fetch: f, onEvent: (e) => events.push(e), ...options });
        await rejectsWith(sender.send({ card: p.card.bytes, payload: new Uint8Array(3994) }), 'PAYLOAD_TOO_LARGE');
        await rejectsWith(sender.send({ card: p.card.bytes, payload: 'é'.repeat(1997) }), 'PAYLOAD_TOO_LARGE'); // 3994 UTF-8 bytes
        assert.equal(f.calls.length, 0);
        assert.deepEqual(events, []);
      }
      assert.deepEqual(p.service.received.filter((e) => e.seq > since && e.type === 'push'), []);
    });

    it('other 4xx (400) → PUSH_REJECTED with the status, not retried', async () => {
      const p = await peer();
      p.service.faults.add({ subscription: p.endpoint, status: 400 });
      const sleep = recordingSleep();
      const f = recordingFetch();
      await rejectsWith(createPushSender({ core, sleep, fetch: f }).send({ card: p.card.bytes, payload: 'hi' }),
        'PUSH_REJECTED', { status: 400, attempts: 1 });
      assert.equal(f.calls.length, 1);
      assert.deepEqual(sleep.delays, []);
    });

    it('an Urgency the service refuses (400 bad-header) → PUSH_REJECTED: push.js does not check it itself', async () => {
      const p = await peer();
      const since = p.service.lastSeq;
      await rejectsWith(createPushSender({ core }).send({ card: p.card.bytes, payload: 'hi', urgency: 'asap' }),
        'PUSH_REJECTED', { status: 400 });
      assert.deepEqual(p.pushes(since).map((e) => [e.status, e.reason]), [[400, 'bad-header']]);
    });

    it('a card whose grants are all expired → NO_USABLE_GRANT before any request', async () => {
      const identity = core.generateVapidKeys();
      const ua = await connectFakeUA(service.wsUrl);
      uas.push(ua);
      const sub = await ua.subscribe(core, identity.publicKey);
      const since = service.lastSeq;
      const f = recordingFetch();
      const sender = createPushSender({ core, fetch: f, relay: relayUrl });
      const expired = core.issueGrants({ privateKey: identity.privateKey, endpoint: sub.endpoint, subject: SUBJECT,
        firstExpiration: nowSeconds() - 10 - 3 * 3600, interval: 3600, count: 3 }); // the last expired 10 s ago
      const tooFar = core.issueGrants({ privateKey: identity.privateKey, endpoint: sub.endpoint, subject: SUBJECT,
        firstExpiration: nowSeconds() + 30 * 3600, count: 2 }); // not usable yet (exp beyond 24 h)
      for (const grants of [expired, tooFar]) {
        const card = core.createCard({ identity, subscription: sub.subscription, subject: SUBJECT, grants });
        await rejectsWith(sender.send({ card: card.bytes, payload: 'hi' }), 'NO_USABLE_GRANT');
      }
      assert.equal(f.calls.length, 0);
      assert.deepEqual(service.received.filter((e) => e.seq > since && e.type === 'push'), []);
      // the control: with a usable grant among them, the same peer is reached
      const usable = core.issueGrants({ privateKey: identity.privateKey, endpoint: sub.endpoint, subject: SUBJECT,
        firstExpiration: nowSeconds() + 600, count: 1 });
      const card = core.createCard({ identity, subscription: sub.subscription, subject: SUBJECT, grants: [...expired, ...usable] });
      assert.equal((await sender.send({ card: card.bytes, payload: 'ok' })).status, 201);
      const n = await ua.nextNotification();
      assert.equal(eceDecrypt(sub.keys, n).toString(), 'ok');
      const push = service.received.filter((e) => e.seq > since && e.type === 'push').at(-1);
      assert.equal(push.vapid.exp, usable[0].exp);
    });
  });

  describe('retries', () => {
    it('429 with Retry-After: 1, then 201 → attempts 2 after sleeping 1000 ms; delivered once', async () => {
      const p = await peer();
      p.service.faults.add({ subscription: p.endpoint, status: 429, retryAfter: 1 });
      const since = p.service.lastSeq;
      const sleep = recordingSleep();
      const events = [];
      const sender = createPushSender({ core, sleep, onEvent: (e) => events.push(e) });
      const result = await sender.send({ card: p.card.bytes, payload: 'after 429', topic: 't429' });
      assert.equal(result.status, 201);
      assert.equal(result.attempts, 2);
      assert.deepEqual(sleep.delays, [1000]);
      assert.deepEqual(p.pushes(since).map((e) => e.status), [429, 201]);
      assert.deepEqual(events.map((e) => e.type), ['attempt', 'response', 'retry', 'attempt', 'response']);
      assert.deepEqual({ ...events[2] }, { type: 'retry', status: 429, delayMs: 1000 });
      assert.equal((await received(p)).toString(), 'after 429');
      await nothingArrives(p);
    });

    it('429 with a Retry-After beyond maxRetryAfterMs → RATE_LIMITED with retryAfter, without waiting', async () => {
      const p = await peer();
      const sleep = recordingSleep();
      p.service.faults.add({ subscription: p.endpoint, status: 429, retryAfter: 31 });
      await rejectsWith(createPushSender({ core, sleep }).send({ card: p.card.bytes, payload: 'hi' }), 'RATE_LIMITED',
        { status: 429, retryAfter: 31, attempts: 1, via: 'direct', endpoint: p.endpoint });
      // a custom maximum
      p.service.faults.add({ subscription: p.endpoint, status: 429, retryAfter: 3 });
      await rejectsWith(createPushSender({ core, sleep, maxRetryAfterMs: 2000 }).send({ card: p.card.bytes, payload: 'hi' }),
        'RATE_LIMITED', { status: 429, retryAfter: 3, attempts: 1 });
      assert.deepEqual(sleep.delays, []);
      // exactly the maximum is still waited for
      p.service.faults.add({ subscription: p.endpoint, status: 429, retryAfter: 2 });
      const result = await createPushSender({ core, sleep, maxRetryAfterMs: 2000 }).send({ card: p.card.bytes, payload: 'hi' });
      assert.equal(result.attempts, 2);
      assert.deepEqual(sleep.delays, [2000]);
      assert.equal((await received(p)).toString(), 'hi');
    });

    it('429 on every attempt → RATE_LIMITED after retries + 1 attempts', async () => {
      const p = await peer();
      const sleep = recordingSleep();
      p.service.faults.add({ subscription: p.endpoint, status: 429, retryAfter: 1, count: 3 });
      const since = p.service.lastSeq;
      await rejectsWith(createPushSender({ core, sleep, retries: 2 }).send({ card: p.card.bytes, payload: 'hi' }),
        'RATE_LIMITED', { status: 429, retryAfter: 1, attempts: 3 });
      assert.deepEqual(sleep.delays, [1000, 1000]);
      assert.deepEqual(p.pushes(since).map((e) => e.status), [429, 429, 429]);
      assert.deepEqual(p.service.faults.pending(), []);
    });

    it('5xx twice, then 201 → attempts 3 with back-off 500, 1000 ms; the same body, Topic and Authorization each time', async () => {
      const p = await peer();
      p.service.faults.add({ subscription: p.endpoint, status: 500, count: 2 });
      const since = p.service.lastSeq;
      const sleep = recordingSleep();
      const f = recordingFetch();
      const result = await createPushSender({ core, sleep, fetch: f }).send({ card: p.card.bytes, payload: 'retried', topic: 'call-7' });
      assert.equal(result.status, 201);
      assert.equal(result.attempts, 3);
      assert.equal(result.via, 'direct');
      assert.deepEqual(sleep.delays, [500, 1000]);
      assert.equal(f.calls.length, 3);
      for (const call of f.calls) {
        assert.equal(call.url, p.endpoint);
        assert.equal(hex(call.body), hex(f.calls[0].body));
        assert.equal(call.headers.topic, 'call-7');
        assert.equal(call.headers.authorization, f.calls[0].headers.authorization);
      }
      const pushes = p.pushes(since);
      assert.deepEqual(pushes.map((e) => e.status), [500, 500, 201]);
      assert.equal(hex(pushes[2].body), hex(f.calls[0].body)); // what was accepted is what was first sent
      assert.equal(pushes[2].topic, 'call-7');
      assert.equal((await received(p)).toString(), 'retried');
      await nothingArrives(p);
    });

    it('5xx on every attempt → PUSH_FAILED after retries + 1 attempts, back-off doubling, identical bodies', async () => {
      const p = await peer();
      p.service.faults.add({ subscription: p.endpoint, status: 503, count: 4 });
      const since = p.service.lastSeq;
      const sleep = recordingSleep();
      const f = recordingFetch();
      const error = await rejectsWith(createPushSender({ core, sleep, fetch: f }).send({ card: p.card.bytes, payload: 'x', topic: 'tp' }),
        'PUSH_FAILED', { status: 503, attempts: 4, via: 'direct', endpoint: p.endpoint, retryAfter: 1 });
      assert.match(error.message, /4 times/);
      assert.deepEqual(sleep.delays, [500, 1000, 2000]);
      assert.equal(f.calls.length, 4);
      assert.equal(new Set(f.calls.map((c) => hex(c.body))).size, 1);
      assert.deepEqual(f.calls.map((c) => c.headers.topic), ['tp', 'tp', 'tp', 'tp']);
      assert.deepEqual(p.pushes(since).map((e) => e.status), [503, 503, 503, 503]);
      assert.equal(new Set(p.pushes(since).map((e) => e.bodyLength)).size, 1);
      assert.deepEqual(p.service.faults.pending(), []);
      await nothingArrives(p);
    });

    it('retries and backoffMs are honoured: retries 0 fails at once, backoffMs 10 → 10, 20', async () => {
      const p = await peer();
      const sleep = recordingSleep();
      p.service.faults.add({ subscription: p.endpoint, status: 502 });
      await rejectsWith(createPushSender({ core, sleep, retries: 0 }).send({ card: p.card.bytes, payload: 'x' }),
        'PUSH_FAILED', { status: 502, attempts: 1 });
      assert.deepEqual(sleep.delays, []);
      p.service.faults.add({ subscription: p.endpoint, status: 502, count: 2 });
      const result = await createPushSender({ core, sleep, backoffMs: 10 }).send({ card: p.card.bytes, payload: 'y' });
      assert.equal(result.attempts, 3);
      assert.deepEqual(sleep.delays, [10, 20]);
      assert.equal((await received(p)).toString(), 'y');
    });

    it('the back-off of one send does not leak into the next', async () => {
      const p = await peer();
      const sleep = recordingSleep();
      const sender = createPushSender({ core, sleep });
      p.service.faults.add({ subscription: p.endpoint, status: 500, count: 2 });
      await sender.send({ card: p.card.bytes, payload: 'a' });
      p.service.faults.add({ subscription: p.endpoint, status: 500 });
      await sender.send({ card: p.card.bytes, payload: 'b' });
      assert.deepEqual(sleep.delays, [500, 1000, 500]);
      assert.equal((await received(p)).toString(), 'a');
      assert.equal((await received(p)).toString(), 'b');
    });

    it('the real sleep is used by default (a 429 with Retry-After: 0 retries at once)', async () => {
      const p = await peer();
      p.service.faults.add({ subscription: p.endpoint, status: 429, retryAfter: 0 });
      const started = Date.now();
      const result = await createPushSender({ core }).send({ card: p.card.bytes, payload: 'z' });
      assert.equal(result.attempts, 2);
      assert.ok(Date.now() - started < 2000);
      assert.equal((await received(p)).toString(), 'z');
    });
  });

  describe('relay', () => {
    it("relayMode 'always' goes through serveRelayNode and the UA still decrypts it", async () => {
      const p = await peer();
      const since = p.service.lastSeq;
      const f = recordingFetch();
      const events = [];
      const sender = createPushSender({ core, relay: relayUrl, relayMode: 'always', fetch: f, onEvent: (e) => events.push(e) });
      const result = await sender.send({ card: p.card.bytes, payload: 'relayed', topic: 'rel' });
      assert.equal(result.status, 201);
      assert.equal(result.via, 'relay');
      assert.equal(result.attempts, 1);
      assert.equal(result.endpoint, p.endpoint);
      assert.match(result.location, new RegExp(`^${service.httpOrigin}/m/`)); // the push service's, passed on
      assert.equal(f.calls.length, 1);
      assert.equal(f.calls[0].url, relayUrl);
      assert.equal(f.calls[0].headers['x-push-endpoint'], p.endpoint);
      assert.equal(events[0].via, 'relay');
      assert.equal((await received(p)).toString(), 'relayed');
      const [push] = p.pushes(since);
      assert.equal(push.headers.authorization, core.grantAuthorization(p.card.bytes).authorization);
      assert.equal(push.urgency, 'high');
      assert.equal(push.topic, 'rel');
      assert.equal(push.ttl, DEFAULT_TTL);
      assert.equal(hex(push.body), hex(f.calls[0].body));
    });

    it("relayMode 'auto': a CORS failure (TypeError) falls back to the relay; later sends to that origin go straight to it", async () => {
      const p = await peer();
      const q = await peer({ on: other }); // another push-service origin, not blocked
      const f = corsBlockingFetch(service.httpOrigin);
      const events = [];
      const sender = createPushSender({ core, relay: relayUrl, fetch: f, onEvent: (e) => events.push(e), sleep: recordingSleep() });

      const first = await sender.send({ card: p.card.bytes, payload: 'one' });
      assert.equal(first.status, 201);
      assert.equal(first.via, 'relay');
      assert.equal(first.attempts, 1); // the refused direct try is not an attempt at the push service
      assert.deepEqual(f.calls.map((c) => c.url), [p.endpoint, relayUrl]);
      assert.equal(hex(f.calls[0].body), hex(f.calls[1].body));
      assert.equal(f.calls[1].headers['x-push-endpoint'], p.endpoint);
      assert.deepEqual(events.map((e) => e.type), ['attempt', 'fallback', 'attempt', 'response']);
      assert.equal(events[1].from, 'direct');
      assert.equal(events[1].to, 'relay');
      assert.match(events[1].reason, /Failed to fetch/);
      assert.equal((await received(p)).toString(), 'one');

      const second = await sender.send({ card: p.card.bytes, payload: 'two' });
      assert.equal(second.via, 'relay');
      assert.deepEqual(f.calls.slice(2).map((c) => c.url), [relayUrl]); // no direct try any more
      assert.equal((await received(p)).toString(), 'two');

      // the memory is per push-service origin: the other one is still tried directly
      const third = await sender.send({ card: q.card.bytes, payload: 'three' });
      assert.equal(third.via, 'direct');
      assert.deepEqual(f.calls.slice(3).map((c) => c.url), [q.endpoint]);
      assert.equal((await received(q)).toString(), 'three');

      // and per sender: a new sender tries directly again
      const g = corsBlockingFetch(service.httpOrigin);
      await createPushSender({ core, relay: relayUrl, fetch: g }).send({ card: p.card.bytes, payload: 'four' });
      assert.deepEqual(g.calls.map((c) => c.url), [p.endpoint, relayUrl]);
      assert.equal((await received(p)).toString(), 'four');
    });

    it('a real network failure (connection reset, no answer) falls back to the relay in auto mode', async () => {
      const p = await peer();
      p.service.faults.add({ subscription: p.endpoint, reset: true });
      const since = p.service.lastSeq;
      const f = recordingFetch();
      const result = await createPushSender({ core, relay: relayUrl, fetch: f }).send({ card: p.card.bytes, payload: 'reset' });
      assert.equal(result.via, 'relay');
      assert.deepEqual(f.calls.map((c) => c.url), [p.endpoint, relayUrl]);
      assert.deepEqual(p.pushes(since).map((e) => e.outcome), ['reset', 'sent']);
      assert.equal((await received(p)).toString(), 'reset');
    });

    it('without a relay (or with relayMode never) a TypeError twice → PUSH_UNREACHABLE with the cause', async () => {
      const p = await peer();
      for (const options of [{}, { relay: relayUrl, relayMode: 'never' }]) {
        const f = corsBlockingFetch(service.httpOrigin);
        const slept = [];
        const error = await rejectsWith(createPushSender({ core, fetch: f, sleep: async (ms) => slept.push(ms), ...options })
          .send({ card: p.card.bytes, payload: 'x' }),
        'PUSH_UNREACHABLE', { status: null, retryAfter: null, via: 'direct', attempts: 2, endpoint: p.endpoint });
        assert.ok(error.cause instanceof TypeError);
        assert.match(error.message, new RegExp(service.httpOrigin.replace(/\./g, '\\.')));
        assert.deepEqual(f.calls.map((c) => c.url), [p.endpoint, p.endpoint]); // the relay is never asked
        assert.deepEqual(slept, [500]);
      }
      // a real connection reset, twice, no relay
      p.service.faults.add({ subscription: p.endpoint, reset: true, count: 2 });
      await rejectsWith(createPushSender({ core }).send({ card: p.card.bytes, payload: 'x' }), 'PUSH_UNREACHABLE', { status: null });
      await nothingArrives(p);
    });

    it('without a relay a network failure once (a reset connection) is tried once more, after backoffMs: the push '
      + 'arrives once', async () => {
      const p = await peer();
      p.service.faults.add({ subscription: p.endpoint, reset: true });
      const since = p.service.lastSeq;
      const events = [];
      const result = await createPushSender({ core, onEvent: (e) => events.push(e) })
        .send({ card: p.card.bytes, payload: 'again' });
      assert.equal(result.via, 'direct');
      assert.equal(result.attempts, 2);
      assert.deepEqual(p.pushes(since).map((e) => e.outcome), ['reset', 'sent']);
      assert.deepEqual(events.filter((e) => e.type === 'retry').map(({ reason, delayMs }) => ({ reason, delayMs })),
        [{ reason: 'network', delayMs: 500 }]);
      assert.equal((await received(p)).toString(), 'again');
      await nothingArrives(p);
    });

    it("relayMode 'never' with a relay sends directly even to an origin that would need it", async () => {
      const p = await peer();
      const f = recordingFetch();
      const result = await createPushSender({ core, relay: relayUrl, relayMode: 'never', fetch: f }).send({ card: p.card.bytes, payload: 'n' });
      assert.equal(result.via, 'direct');
      assert.deepEqual(f.calls.map((c) => c.url), [p.endpoint]);
      assert.equal((await received(p)).toString(), 'n');
    });

    it('an unreachable relay → PUSH_UNREACHABLE via relay (always, and after an auto fallback)', async () => {
      const p = await peer();
      const dead = `http://127.0.0.1:${await closedPort()}/push`;
      await rejectsWith(createPushSender({ core, relay: dead, relayMode: 'always' }).send({ card: p.card.bytes, payload: 'x' }),
        'PUSH_UNREACHABLE', { via: 'relay', status: null, attempts: 2 });
      const f = corsBlockingFetch(service.httpOrigin);
      const error = await rejectsWith(createPushSender({ core, relay: dead, fetch: f }).send({ card: p.card.bytes, payload: 'x' }),
        'PUSH_UNREACHABLE', { via: 'relay', attempts: 2 });
      assert.match(error.message, /relay/);
      assert.deepEqual(f.calls.map((c) => c.url), [p.endpoint, dead, dead]);
      await nothingArrives(p);
    });

    it('a relay refusing the host (403 HOST_NOT_ALLOWED) → RELAY_ERROR with relayCode; nothing reaches the service', async () => {
      const p = await peer();
      const since = p.service.lastSeq;
      const sleep = recordingSleep();
      const f = recordingFetch();
      const error = await rejectsWith(
        createPushSender({ core, relay: `${strictRelay.url}/push`, relayMode: 'always', sleep, fetch: f }).send({ card: p.card.bytes, payload: 'x' }),
        'RELAY_ERROR', { relayCode: 'HOST_NOT_ALLOWED', status: 403, via: 'relay', attempts: 1, endpoint: p.endpoint });
      assert.match(error.message, /HOST_NOT_ALLOWED/);
      assert.equal(f.calls.length, 1);
      assert.deepEqual(sleep.delays, []);
      assert.deepEqual(p.service.received.filter((e) => e.seq > since && e.type === 'push'), []);
      await nothingArrives(p);
      // the same after an auto fallback
      await rejectsWith(
        createPushSender({ core, relay: `${strictRelay.url}/push`, fetch: corsBlockingFetch(service.httpOrigin) }).send({ card: p.card.bytes, payload: 'x' }),
        'RELAY_ERROR', { relayCode: 'HOST_NOT_ALLOWED', status: 403, via: 'relay' });
    });

    it("the push service's own errors through the relay keep their meaning (410 → PEER_GONE, not RELAY_ERROR)", async () => {
      const p = await peer();
      p.service.revoke(p.endpoint);
      const error = await rejectsWith(createPushSender({ core, relay: relayUrl, relayMode: 'always' }).send({ card: p.card.bytes, payload: 'x' }),
        'PEER_GONE', { status: 410, via: 'relay' });
      assert.equal(error.relayCode, undefined);
    });

    it('429 and 5xx through the relay are retried (Retry-After passed on by the relay), the same body each time', async () => {
      const p = await peer();
      p.service.faults.add({ subscription: p.endpoint, status: 429, retryAfter: 1 });
      p.service.faults.add({ subscription: p.endpoint, status: 502 });
      const since = p.service.lastSeq;
      const sleep = recordingSleep();
      const f = recordingFetch();
      const result = await createPushSender({ core, relay: relayUrl, relayMode: 'always', sleep, fetch: f })
        .send({ card: p.card.bytes, payload: 'through', topic: 'rt' });
      assert.equal(result.via, 'relay');
      assert.equal(result.attempts, 3);
      assert.deepEqual(sleep.delays, [1000, 500]);
      assert.deepEqual(f.calls.map((c) => c.url), [relayUrl, relayUrl, relayUrl]);
      assert.equal(new Set(f.calls.map((c) => hex(c.body))).size, 1);
      assert.deepEqual(p.pushes(since).map((e) => [e.status, e.topic ?? e.headers.topic]), [[429, 'rt'], [502, 'rt'], [201, 'rt']]);
      assert.equal((await received(p)).toString(), 'through');
    });

    it('a relay 413 is a RELAY_ERROR (the relay itself refused), and 5xx made by the relay are not retried', async () => {
      // A fake relay answering as relay.js does for its own errors.
      const answers = [[413, 'PAYLOAD_TOO_LARGE'], [502, 'UPSTREAM_UNREACHABLE']];
      for (const [status, code] of answers) {
        const sleep = recordingSleep();
        const f = recordingFetch(async () => new Response(JSON.stringify({ error: code }),
          { status, headers: { 'X-Push-Relay-Error': code, 'Content-Type': 'application/json' } }));
        const p = { card: core.createCard({ identity: core.generateVapidKeys(), subject: SUBJECT,
          subscription: { endpoint: 'https://fcm.googleapis.com/fcm/send/abc',
            keys: { p256dh: b64(core.generateVapidKeys().publicKey), auth: b64(new Uint8Array(16)) } } }) };
        await rejectsWith(createPushSender({ core, relay: 'https://relay.example/push', relayMode: 'always', sleep, fetch: f })
          .send({ card: p.card.bytes, payload: 'x' }), 'RELAY_ERROR', { status, relayCode: code, attempts: 1 });
        assert.deepEqual(sleep.delays, []);
        assert.equal(f.calls[0].url, 'https://relay.example/push');
        assert.equal(f.calls[0].headers['x-push-endpoint'], 'https://fcm.googleapis.com/fcm/send/abc');
      }
    });

    it('X-Push-Relay-Error on a direct answer is ignored (only the relay speaks for itself)', async () => {
      const card = core.createCard({ identity: core.generateVapidKeys(), subject: SUBJECT,
        subscription: { endpoint: 'https://push.example/wpush/1',
          keys: { p256dh: b64(core.generateVapidKeys().publicKey), auth: b64(new Uint8Array(16)) } } });
      const f = recordingFetch(async () => new Response(null, { status: 403, headers: { 'X-Push-Relay-Error': 'HOST_NOT_ALLOWED' } }));
      const error = await rejectsWith(createPushSender({ core, fetch: f, relay: 'https://relay.example/push', relayMode: 'never' })
        .send({ card: card.bytes, payload: 'x' }), 'PUSH_REJECTED', { status: 403, via: 'direct' });
      assert.equal(error.relayCode, undefined);
    });
  });

  describe('parseRetryAfter', () => {
    it('delay-seconds', () => {
      assert.equal(parseRetryAfter('0'), 0);
      assert.equal(parseRetryAfter('1'), 1);
      assert.equal(parseRetryAfter('120'), 120);
      assert.equal(parseRetryAfter(' 7 '), 7);
      assert.equal(parseRetryAfter('007'), 7);
    });

    it('an HTTP date, relative to now, never negative, rounded up', () => {
      const now = Date.parse('Wed, 21 Oct 2015 07:28:00 GMT');
      assert.equal(parseRetryAfter('Wed, 21 Oct 2015 07:28:30 GMT', now), 30);
      assert.equal(parseRetryAfter('Wed, 21 Oct 2015 07:30:00 GMT', now), 120);
      assert.equal(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', now + 1), 0);
      assert.equal(parseRetryAfter('Wed, 21 Oct 2015 07:28:01 GMT', now + 1), 1); // 999 ms → 1 s
      assert.equal(parseRetryAfter('Tue, 20 Oct 2015 07:28:00 GMT', now), 0); // in the past
      assert.equal(parseRetryAfter('Wednesday, 21-Oct-15 07:29:00 GMT', now), 60); // obsolete RFC 850 form
      // the default `now` is the clock
      const inTen = new Date(Date.now() + 10_000).toUTCString();
      assert.ok([9, 10].includes(parseRetryAfter(inTen)), String(parseRetryAfter(inTen)));
    });

    it('absent or unreadable → null', () => {
      for (const value of [null, undefined, '', 'soon', 'in a minute', '5 seconds', '0x10', 'NaN']) {
        assert.equal(parseRetryAfter(value), null, JSON.stringify(value));
      }
    });

    it('numbers that are not delay-seconds → null (not "retry now")', () => {
      for (const value of ['-1', '1.5', '+5', '1 2', 'abc 12']) {
        assert.equal(parseRetryAfter(value), null, JSON.stringify(value));
      }
    });

    it('an asctime date is GMT, whatever the local time zone', () => {
      const now = Date.parse('Sun, 06 Nov 1994 08:49:00 GMT');
      const tz = process.env.TZ;
      process.env.TZ = 'America/New_York'; // Node applies a TZ change at once
      try {
        assert.equal(parseRetryAfter('Sun Nov  6 08:49:37 1994', now), 37);
      } finally {
        if (tz === undefined) delete process.env.TZ;
        else process.env.TZ = tz;
      }
    });
  });

  describe('options', () => {
    /** A fresh card for `endpoint` (keys that nobody holds: these tests never decrypt). */
    const card = (endpoint = `${service.httpOrigin}/wpush/opts`) => core.createCard({ identity: core.generateVapidKeys(),
      subject: SUBJECT, subscription: { endpoint, keys: { p256dh: b64(core.generateVapidKeys().publicKey), auth: b64(new Uint8Array(16)) } } });

    it('createPushSender without core, with a bad relayMode, always without relay, or a bad relay URL → BAD_ARGUMENT', () => {
      const bad = (fn, label) => assert.throws(fn, (e) => e instanceof PushPeerError && e.code === 'BAD_ARGUMENT', label);
      bad(() => createPushSender(), 'no options');
      bad(() => createPushSender({}), 'no core');
      bad(() => createPushSender({ core: null, relay: relayUrl }), 'core null');
      bad(() => createPushSender({ core, relayMode: 'sometimes' }), 'relayMode');
      bad(() => createPushSender({ core, relayMode: 'always' }), 'always without relay');
      bad(() => createPushSender({ core, relayMode: 'always', relay: null }), 'always with relay null');
      bad(() => createPushSender({ core, relay: 'relay.example/push' }), 'relative relay URL');
      bad(() => createPushSender({ core, relay: '/push' }), 'path only');
      bad(() => createPushSender({ core, relay: 'not a url' }), 'garbage');
      // and what is fine
      for (const options of [{ core }, { core, relay: relayUrl }, { core, relay: relayUrl, relayMode: 'always' },
        { core, relayMode: 'never' }, { core, relay: null, relayMode: 'auto' }]) {
        const sender = createPushSender(options);
        assert.equal(typeof sender.send, 'function');
        assert.equal(typeof sender.build, 'function');
      }
    });

    it('a bad topic → BAD_TOPIC before any request', async () => {
      const f = recordingFetch();
      const sender = createPushSender({ core, fetch: f, relay: relayUrl });
      for (const topic of ['has space', 'a'.repeat(33), 'dot.ted', 'plus+', 'émoji', 'slash/']) {
        await rejectsWith(sender.send({ card: card().bytes, payload: 'x', topic }), 'BAD_TOPIC');
      }
      assert.equal(f.calls.length, 0);
      // 32 base64url characters are fine
      const request = sender.build({ card: card().bytes, payload: 'x', topic: 'A-_z09'.padEnd(32, 'x') });
      assert.equal(request.headers.Topic.length, 32);
    });

    it('a bad card → the core\'s error, before any request', async () => {
      const f = recordingFetch();
      const sender = createPushSender({ core, fetch: f });
      const tampered = Uint8Array.from(card().bytes);
      tampered[tampered.length - 1] ^= 1;
      await rejectsWith(sender.send({ card: tampered, payload: 'x' }), 'BAD_SIGNATURE');
      await rejectsWith(sender.send({ card: 'not base64!', payload: 'x' }), 'BAD_BASE64');
      await rejectsWith(sender.send({ payload: 'x' }), 'BAD_ARGUMENT');
      await rejectsWith(sender.send({ card: { endpoint: 'https://push.example/x' }, payload: 'x' }), 'BAD_ARGUMENT');
      assert.equal(f.calls.length, 0);
    });

    it('a card naming a host that is not a push service → HOST_NOT_ALLOWED with the defaults, and no request', async () => {
      const f = recordingFetch();
      const sender = createSender({ core, fetch: f, relay: relayUrl });
      for (const endpoint of ['https://attacker.example/x', 'http://127.0.0.1:9/x', `${service.httpOrigin}/wpush/x`,
        'https://updates.push.services.mozilla.com:8443/wpush/v2/x', 'https://evil.notify.windows.com.attacker.example/w']) {
        const c = card(endpoint);
        await rejectsWith(sender.send({ card: c.bytes, payload: 'x' }), 'HOST_NOT_ALLOWED', { endpoint });
        assert.equal(sender.allows(endpoint), false, endpoint);
      }
      assert.equal(f.calls.length, 0);
      // The known push services are allowed by default; others only when listed (loopback: http allowed).
      for (const endpoint of ['https://updates.push.services.mozilla.com/wpush/v2/x', 'https://fcm.googleapis.com/fcm/send/x',
        'https://wns2-by3p.notify.windows.com/w/?token=x', 'https://web.push.apple.com/x']) {
        assert.equal(sender.allows(endpoint), true, endpoint);
      }
      assert.equal(createSender({ core, allowPushHosts: [service.httpOrigin] }).allows(`${service.httpOrigin}/x`), true);
      assert.throws(() => createSender({ core, allowPushHosts: ['http://attacker.example'] }), (e) => e.code === 'BAD_ARGUMENT');
      assert.throws(() => createSender({ core, allowPushHosts: 'push.example' }), (e) => e.code === 'BAD_ARGUMENT');
    });

    it('a push service that redirects is not followed (redirect: error): the body goes nowhere else', async () => {
      const http = await import('node:http');
      let elsewhere = 0;
      const target = http.createServer((req, res) => {
        elsewhere++;
        res.writeHead(201).end();
      });
      const redirecting = http.createServer((req, res) => {
        res.writeHead(307, { Location: `http://127.0.0.1:${target.address().port}/stolen` }).end();
      });
      await new Promise((r) => target.listen(0, '127.0.0.1', r));
      await new Promise((r) => redirecting.listen(0, '127.0.0.1', r));
      try {
        const origin = `http://127.0.0.1:${redirecting.address().port}`;
        const f = recordingFetch();
        const c = card(`${origin}/wpush/r`);
        await rejectsWith(createSender({ core, fetch: f, allowPushHosts: [origin] }).send({ card: c.bytes, payload: 'x' }),
          'PUSH_UNREACHABLE');
        assert.equal(f.calls[0].init.redirect, 'error');
        assert.equal(elsewhere, 0);
      } finally {
        target.close();
        redirecting.close();
      }
    });

    it('a push service that never answers fails the push (PUSH_UNREACHABLE) instead of holding it forever', async () => {
      const http = await import('node:http');
      const silent = http.createServer(() => {}); // reads the request, never answers
      await new Promise((r) => silent.listen(0, '127.0.0.1', r));
      try {
        const origin = `http://127.0.0.1:${silent.address().port}`;
        const c = card(`${origin}/wpush/s`);
        const error = await rejectsWith(createSender({ core, allowPushHosts: [origin], requestTimeoutMs: 300 })
          .send({ card: c.bytes, payload: 'x' }), 'PUSH_UNREACHABLE');
        assert.match(error.message, /did not answer within 300 ms/);
      } finally {
        silent.closeAllConnections();
        silent.close();
      }
    });

    it('send() with no options → a PushPeerError, not a TypeError', async () => {
      await rejectsWith(createPushSender({ core }).send(), 'BAD_ARGUMENT');
    });

    it('build() returns the request send() would make: endpoint, headers, an RFC 8291 body', () => {
      const identity = core.generateVapidKeys();
      const keys = core.generateVapidKeys();
      const auth = new Uint8Array(16).fill(5);
      const endpoint = 'https://updates.push.services.mozilla.com/wpush/v2/abc';
      const c = core.createCard({ identity, subject: SUBJECT, subscription: { endpoint, keys: { p256dh: b64(keys.publicKey), auth: b64(auth) } } });
      const request = createPushSender({ core }).build({ card: c.bytes, payload: 'built', ttl: 30, urgency: 'low', topic: 'bt' });
      assert.equal(request.endpoint, endpoint);
      assert.deepEqual(request.headers, {
        Authorization: core.grantAuthorization(c.bytes).authorization,
        TTL: '30',
        'Content-Encoding': 'aes128gcm',
        'Content-Type': 'application/octet-stream',
        Urgency: 'low',
        Topic: 'bt',
      });
      assert.equal(Buffer.from(core.decrypt({ privateKey: keys.privateKey, publicKey: keys.publicKey, auth, body: request.body })).toString(), 'built');
      const jwt = /t=([^,]+)/.exec(request.headers.Authorization)[1];
      assert.deepEqual(core.verifyVapidJwt(jwt, identity.publicKey),
        { aud: 'https://updates.push.services.mozilla.com', exp: core.grantAuthorization(c.bytes).exp, sub: SUBJECT });
    });
  });
});
