// Protocol-level tests of the local push service, no browser: a `ws` client plays the user agent (fake-ua.mjs),
// our Wasm core builds the push requests, and the fake UA decrypts what it receives with core.decrypt. VAPID
// tokens the core refuses to make (expired, exp > 24 h, bad sub) are signed here with Node's crypto.
// Needs the Wasm build (js/wasm/).
import assert from 'node:assert/strict';
import { createPrivateKey, sign as cryptoSign } from 'node:crypto';
import { after, before, beforeEach, describe, test } from 'node:test';
import WebSocket from 'ws';

import { loadCore } from '../../js/core.js';
import { connectFakeUA, paddedBase64url } from './fake-ua.mjs';
import { MAX_BODY_BYTES, firefoxPrefs, startPushService } from './service.mjs';

const SUBJECT = 'mailto:service-test@pushpeer.invalid';
const b64 = (bytes) => Buffer.from(bytes).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

/** An ES256 JWT signed with Node's crypto (independent of our core). */
function signJwt(claims, { publicKey, privateKey }, header = { typ: 'JWT', alg: 'ES256' }) {
  const key = createPrivateKey({
    key: { kty: 'EC', crv: 'P-256', x: b64(publicKey.subarray(1, 33)), y: b64(publicKey.subarray(33)),
      d: b64(privateKey) },
    format: 'jwk',
  });
  const input = `${b64(Buffer.from(JSON.stringify(header)))}.${b64(Buffer.from(JSON.stringify(claims)))}`;
  return `${input}.${b64(cryptoSign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }))}`;
}

async function post(url, { headers = {}, body, method = 'POST' } = {}) {
  const response = await fetch(url, { method, headers, body });
  const text = await response.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // not JSON
  }
  return { status: response.status, headers: response.headers, json, text };
}

const send = (request, overrides = {}) => post(request.endpoint, {
  method: request.method, headers: { ...request.headers, ...overrides.headers }, body: overrides.body ?? request.body,
});

describe('local push service', { timeout: 120_000 }, () => {
  let core;
  let service;
  let vapid;
  const uas = [];

  async function ua(options) {
    const u = await connectFakeUA(service.wsUrl, options);
    uas.push(u);
    return u;
  }

  /** A connected fake UA with one subscription for `vapid`. */
  async function subscribed(key = vapid.publicKey) {
    const u = await ua();
    return { ua: u, ...(await u.subscribe(core, key)) };
  }

  function build(sub, payload = 'hello', options = {}) {
    return core.buildPushRequest({ subscription: sub.subscription, payload, vapidKeys: vapid, subject: SUBJECT,
      ttl: 60, ...options });
  }

  function decrypt(sub, notification) {
    return Buffer.from(core.decrypt({ ...sub.keys, body: Buffer.from(notification.data, 'base64url') })).toString();
  }

  before(async () => {
    core = await loadCore();
    vapid = core.generateVapidKeys();
    service = await startPushService({ log: process.env.PUSHPEER_PUSH_LOG === '1' ? console.log : null });
  });

  beforeEach(() => {
    service.faults.clear();
    service.cors = true;
  });

  after(async () => {
    await Promise.all(uas.map((u) => u.close()));
    await service?.close();
  });

  describe('WebSocket (Mozilla push protocol)', () => {
    test('binds to 127.0.0.1; ws URL and HTTP origin; Firefox prefs', () => {
      assert.match(service.wsUrl, /^ws:\/\/127\.0\.0\.1:\d+\/$/);
      assert.equal(service.httpOrigin, `http://127.0.0.1:${service.port}`);
      assert.deepEqual(firefoxPrefs(service), {
        'dom.push.serverURL': service.wsUrl,
        'dom.push.testing.allowInsecureServerURL': true,
        'dom.push.enabled': true,
        'dom.push.connection.enabled': true,
        'permissions.default.desktop-notification': 1,
        'dom.push.testing.ignorePermission': true,
      });
    });

    test('the push-notification subprotocol is required', async () => {
      await assert.rejects(connectFakeUA(service.wsUrl, { protocol: null }), /HTTP 400/);
      await assert.rejects(connectFakeUA(service.wsUrl, { protocol: 'chat' }), /HTTP 400/);
      await assert.rejects(connectFakeUA(service.wsUrl.replace(/\/$/, '/other'), {}), /HTTP 404/);
    });

    test('a page\'s WebSocket (js/push/page-push.js): any Origin is accepted, as autopush does, with the subprotocol',
      async () => {
        // A browser sends the page's Origin and cannot set other headers; the service checks no origin, only the
        // subprotocol, so the demo page and the test app (other ports, localhost or 127.0.0.1) can connect.
        for (const origin of ['http://localhost:8080', 'https://you.github.io', 'null']) {
          const ws = new WebSocket(service.wsUrl, ['push-notification'], { origin });
          await new Promise((resolve, reject) => {
            ws.once('open', resolve);
            ws.once('unexpected-response', (req, res) => reject(new Error(`${origin}: HTTP ${res.statusCode}`)));
          });
          assert.equal(ws.protocol, 'push-notification');
          ws.send(JSON.stringify({ messageType: 'hello', use_webpush: true, broadcasts: {} }));
          const reply = JSON.parse(await new Promise((resolve) => ws.once('message', (data) => resolve(String(data)))));
          assert.equal(reply.status, 200, origin);
          ws.close();
        }
      });

    test('hello: a new uaid, then the same uaid echoed on reconnect', async () => {
      const a = await ua();
      assert.equal(a.ws.protocol, 'push-notification');
      assert.deepEqual(Object.keys(a.helloReply).sort(), ['broadcasts', 'messageType', 'status', 'uaid', 'use_webpush']);
      assert.equal(a.helloReply.status, 200);
      assert.equal(a.helloReply.use_webpush, true);
      assert.deepEqual(a.helloReply.broadcasts, {});
      assert.match(a.uaid, /^[0-9a-f]{32}$/);
      await a.close();
      const b = await ua({ uaid: a.uaid });
      assert.equal(b.uaid, a.uaid);
      // A uaid the service never issued is echoed too (Firefox keeps its registrations); garbage is replaced.
      const c = await ua({ uaid: 'f'.repeat(32) });
      assert.equal(c.uaid, 'f'.repeat(32));
      const d = await ua({ uaid: 'not a uaid!' });
      assert.match(d.uaid, /^[0-9a-f]{32}$/);
      assert.notEqual(d.uaid, 'not a uaid!');
    });

    test('a newer connection for the same uaid replaces the older one', async () => {
      const a = await ua();
      const b = await ua({ uaid: a.uaid });
      assert.equal((await a.closed).code, 4000);
      assert.equal(b.ws.readyState, b.ws.OPEN);
    });

    test('anything before hello, or not JSON, closes the connection (1002)', async () => {
      const a = await ua({ hello: false });
      a.send({ messageType: 'register', channelID: 'x' });
      assert.equal((await a.closed).code, 1002);
      const b = await ua({ hello: false });
      b.send('{not json');
      assert.equal((await b.closed).code, 1002);
    });

    test('ping: {} is answered with {}', async () => {
      const a = await ua();
      assert.deepEqual(await a.ping(), {});
      assert.ok(service.received.some((e) => e.type === 'ping' && e.uaid === a.uaid));
    });

    test('register: padded base64url key -> pushEndpoint on the service origin; bad keys refused', async () => {
      const a = await ua();
      const key = paddedBase64url(vapid.publicKey);
      assert.match(key, /=$/, '65 bytes encode with one = of padding');
      const since = service.lastSeq;
      const reply = await a.register(key);
      assert.equal(reply.status, 200);
      assert.match(reply.pushEndpoint, new RegExp(`^${service.httpOrigin}/wpush/[A-Za-z0-9_-]{22}$`));
      const event = await service.waitFor((e) => e.type === 'register' && e.channelID === reply.channelID, { since });
      assert.equal(event.keyText, key);
      assert.equal(service.subscription(reply.pushEndpoint).key, b64(vapid.publicKey));
      // Registering the same channelID again with the same key gives the same endpoint.
      assert.equal((await a.register(key, { channelID: reply.channelID })).pushEndpoint, reply.pushEndpoint);
      assert.equal((await a.register(vapid.publicKey.subarray(0, 64))).status, 400, 'short key');
      const offCurve = Buffer.from(vapid.publicKey);
      offCurve[64] ^= 1;
      assert.equal((await a.register(offCurve)).status, 400, 'not a point on P-256');
      assert.equal((await a.register('!!!')).status, 400, 'not base64url');
      assert.equal((await a.register(vapid.publicKey, { channelID: 'bad id with spaces' })).status, 400);
    });

    test('register: the same channelID with another key -> 409; without a key, VAPID is optional', async () => {
      const a = await ua();
      const first = await a.register(vapid.publicKey);
      const other = core.generateVapidKeys();
      const again = await a.register(other.publicKey, { channelID: first.channelID });
      assert.equal(again.status, 409);
      const keyless = await a.register(undefined);
      assert.equal(keyless.status, 200);
      assert.equal(service.subscription(keyless.pushEndpoint).key, null);
      const pair = core.generateVapidKeys();
      const auth = crypto.getRandomValues(new Uint8Array(16));
      const request = core.buildPushRequest({ payload: 'no vapid', vapidKeys: other, subject: SUBJECT, ttl: 60,
        subscription: { endpoint: keyless.pushEndpoint, keys: { p256dh: b64(pair.publicKey), auth: b64(auth) } } });
      const { Authorization: _a, ...headers } = request.headers;
      assert.equal((await post(request.endpoint, { headers, body: request.body })).status, 201, 'no Authorization');
      a.ack(await a.nextNotification());
      assert.equal((await send(request)).status, 201, 'any valid VAPID key');
      a.ack(await a.nextNotification());
      const bad = request.headers.Authorization.replace(/t=[^.]+\./, 't=eyJhbGciOiJub25lIn0.');
      assert.equal((await send(request, { headers: { Authorization: bad } })).status, 401, 'but checked when present');
    });

    test('delivery: notification with base64url data and encoding; the UA decrypts; ack 100 recorded',
      async () => {
        const sub = await subscribed();
        const text = 'hello from pushpeer';
        const request = build(sub, text, { urgency: 'high', topic: 'greeting' });
        const response = await send(request);
        assert.equal(response.status, 201, response.text);
        const location = response.headers.get('location');
        assert.match(location, new RegExp(`^${service.httpOrigin}/m/[0-9a-f-]{36}$`));
        assert.equal(response.headers.get('ttl'), '60');
        const n = await sub.ua.nextNotification();
        assert.deepEqual(Object.keys(n).sort(), ['channelID', 'data', 'headers', 'messageType', 'version']);
        assert.equal(n.channelID, sub.channelID);
        assert.equal(n.version, location.split('/m/')[1]);
        assert.deepEqual(n.headers, { encoding: 'aes128gcm' });
        assert.match(n.data, /^[A-Za-z0-9_-]+$/, 'base64url without padding');
        assert.deepEqual(Buffer.from(n.data, 'base64url'), Buffer.from(request.body), 'the body, byte for byte');
        assert.equal(decrypt(sub, n), text);
        const push = service.received.find((e) => e.type === 'push' && e.version === n.version);
        assert.equal(push.outcome, 'sent');
        assert.deepEqual([push.urgency, push.topic, push.ttl], ['high', 'greeting', 60]);
        assert.deepEqual(push.vapid, { aud: service.httpOrigin, exp: push.vapid.exp, sub: SUBJECT });
        sub.ua.ack(n, 100);
        const ack = await service.waitForAck(location);
        assert.deepEqual([ack.type, ack.code, ack.channelID, ack.subscription], ['ack', 100, sub.channelID,
          service.subscription(sub.endpoint).id]);
        assert.equal(service.subscription(sub.endpoint).pending, 0, 'acknowledged messages are forgotten');
      });

    test('ack codes 101/102 and nack are recorded', async () => {
      const sub = await subscribed();
      const versions = [];
      for (let i = 0; i < 3; i++) {
        assert.equal((await send(build(sub, `m${i}`))).status, 201);
        versions.push(await sub.ua.nextNotification());
      }
      sub.ua.ack(versions[0], 101);
      sub.ua.ack(versions[1], 102);
      sub.ua.nack(versions[2], 302);
      assert.equal((await service.waitForAck(versions[0].version)).code, 101);
      assert.equal((await service.waitForAck(versions[1].version)).code, 102);
      const nack = await service.waitForAck(versions[2].version);
      assert.deepEqual([nack.type, nack.code, nack.channelID], ['nack', 302, sub.channelID]);
    });

    test('an empty push carries no data and needs no Content-Encoding', async () => {
      const sub = await subscribed();
      const request = build(sub, 'x');
      const { 'Content-Encoding': _e, 'Content-Type': _t, ...headers } = request.headers;
      const response = await post(request.endpoint, { headers });
      assert.equal(response.status, 201, response.text);
      const n = await sub.ua.nextNotification();
      assert.deepEqual(Object.keys(n).sort(), ['channelID', 'messageType', 'version']);
    });

    test('unregister: reply status 200, then the endpoint answers 410', async () => {
      const sub = await subscribed();
      const reply = await sub.ua.unregister(sub.channelID);
      assert.deepEqual(reply, { messageType: 'unregister', channelID: sub.channelID, status: 200 });
      const response = await send(build(sub));
      assert.equal(response.status, 410);
      assert.equal(response.json.errno, 106);
      // Unknown channels are answered with 200 too.
      assert.equal((await sub.ua.unregister('no-such-channel')).status, 200);
    });

    test('store and forward: an offline UA gets its messages after hello; TTL 0 is not stored', async () => {
      const sub = await subscribed();
      const { uaid } = sub.ua;
      await sub.ua.close();
      await service.waitFor((e) => e.type === 'disconnect' && e.uaid === uaid);
      const stored = await send(build(sub, 'while you were away'));
      assert.equal(stored.status, 201);
      const zero = await send(build(sub, 'now or never', { ttl: 0 }));
      assert.equal(zero.status, 201);
      const outcomes = service.received.filter((e) => e.type === 'push' && e.subscription === service.subscription(sub.endpoint).id)
        .map((e) => e.outcome);
      assert.deepEqual(outcomes, ['stored', 'expired']);
      const back = await ua({ uaid });
      const n = await back.nextNotification();
      assert.equal(decrypt(sub, n), 'while you were away');
      back.ack(n);
      await service.waitForAck(n.version);
      await assert.rejects(back.nextNotification({ timeoutMs: 300 }), /no notification/);
    });

    test('store and forward: a newer message with the same Topic replaces the stored one', async () => {
      const sub = await subscribed();
      const { uaid } = sub.ua;
      await sub.ua.close();
      await service.waitFor((e) => e.type === 'disconnect' && e.uaid === uaid);
      assert.equal((await send(build(sub, 'old offer', { topic: 'offer' }))).status, 201);
      assert.equal((await send(build(sub, 'other', { topic: 'other' }))).status, 201);
      assert.equal((await send(build(sub, 'new offer', { topic: 'offer' }))).status, 201);
      const back = await ua({ uaid });
      const texts = [decrypt(sub, await back.nextNotification()), decrypt(sub, await back.nextNotification())];
      assert.deepEqual(texts.sort(), ['new offer', 'other']);
      await assert.rejects(back.nextNotification({ timeoutMs: 300 }), /no notification/);
    });

    test('unacknowledged messages are sent again after a reconnect', async () => {
      const sub = await subscribed();
      assert.equal((await send(build(sub, 'ack me'))).status, 201);
      const first = await sub.ua.nextNotification();
      assert.equal(service.disconnect(sub.ua.uaid), 1);
      await sub.ua.closed;
      const back = await ua({ uaid: sub.ua.uaid });
      const again = await back.nextNotification();
      assert.equal(again.version, first.version);
      assert.equal(decrypt(sub, again), 'ack me');
      back.ack(again);
      await service.waitForAck(again.version);
    });

    test('revoke(): the service ends a subscription, the endpoint answers 410', async () => {
      const sub = await subscribed();
      assert.equal(service.revoke(sub.endpoint), true);
      assert.equal((await send(build(sub))).status, 410);
    });
  });

  describe('HTTP endpoint (RFC 8030, VAPID RFC 8292)', () => {
    let sub;
    before(async () => {
      sub = await subscribed();
    });

    /** A request whose Authorization carries our own JWT (claims merged over valid ones) and key. */
    function withJwt(claims = {}, { keys = vapid, header } = {}) {
      const request = build(sub);
      const jwt = signJwt({ aud: service.httpOrigin, exp: now() + 3600, sub: SUBJECT, ...claims }, keys, header);
      request.headers.Authorization = `vapid t=${jwt}, k=${b64(keys.publicKey)}`;
      return request;
    }

    async function expectError(request, status, reason, overrides) {
      const response = await send(request, overrides);
      assert.equal(response.status, status, `${reason}: ${response.text}`);
      assert.equal(response.json?.reason, reason, response.text);
      assert.equal(response.json?.code, status);
      return response;
    }

    test('a JWT signed by Node crypto is accepted (exp just under 24 h)', async () => {
      const response = await send(withJwt({ exp: now() + 24 * 3600 - 5 }));
      assert.equal(response.status, 201, response.text);
      const n = await sub.ua.nextNotification();
      sub.ua.ack(n);
    });

    test('unknown subscription -> 404', async () => {
      const request = build(sub);
      const response = await post(`${service.httpOrigin}/wpush/AAAAAAAAAAAAAAAAAAAAAA`, {
        headers: request.headers, body: request.body });
      assert.equal(response.status, 404);
      assert.equal(response.json.errno, 102);
    });

    test('Authorization: missing, other scheme, no k, no t -> 401', async () => {
      const request = build(sub);
      const { Authorization: auth, ...noAuth } = request.headers;
      const r = await post(request.endpoint, { headers: noAuth, body: request.body });
      assert.equal(r.status, 401);
      assert.equal(r.json.reason, 'missing-authorization');
      assert.equal(r.json.errno, 109);
      await expectError(request, 401, 'unsupported-scheme', { headers: { Authorization: auth.replace('vapid', 'WebPush') } });
      await expectError(request, 401, 'missing-key', { headers: { Authorization: auth.replace(/, k=.*$/, '') } });
      await expectError(request, 401, 'missing-token', { headers: { Authorization: auth.replace(/t=[^,]+, /, '') } });
    });

    test('bad JWT: tampered signature, tampered claims, not a JWT, alg none -> 401', async () => {
      const request = build(sub);
      const auth = request.headers.Authorization;
      const jwt = /t=([^,]+)/.exec(auth)[1];
      const [, c, s] = jwt.split('.');
      const flipped = Buffer.from(s, 'base64url');
      flipped[10] ^= 0x01;
      await expectError(request, 401, 'bad-signature',
        { headers: { Authorization: auth.replace(s, b64(flipped)) } });
      const claims = JSON.parse(Buffer.from(c, 'base64url'));
      const forged = b64(Buffer.from(JSON.stringify({ ...claims, sub: 'mailto:mallory@example.com' })));
      await expectError(request, 401, 'bad-signature', { headers: { Authorization: auth.replace(c, forged) } });
      await expectError(request, 401, 'bad-jwt', { headers: { Authorization: auth.replace(jwt, 'abc.def') } });
      await expectError(withJwt({}, { header: { typ: 'JWT', alg: 'none' } }), 401, 'bad-jwt');
    });

    test('wrong aud (a JWT our core made for another origin) -> 401', async () => {
      const request = build(sub);
      const other = core.vapidAuthorization({ endpoint: 'http://127.0.0.1:1/wpush/x', subject: SUBJECT,
        publicKey: vapid.publicKey, privateKey: vapid.privateKey });
      await expectError(request, 401, 'bad-audience', { headers: { Authorization: other } });
      await expectError(withJwt({ aud: `${service.httpOrigin}/` }), 401, 'bad-audience');
      await expectError(withJwt({ aud: service.httpOrigin.replace('127.0.0.1', 'localhost') }), 401, 'bad-audience');
    });

    test('expired, exp more than 24 h ahead, exp not an integer -> 401', async () => {
      await expectError(withJwt({ exp: now() - 1 }), 401, 'expired');
      await expectError(withJwt({ exp: now() + 24 * 3600 + 60 }), 401, 'exp-too-far');
      await expectError(withJwt({ exp: String(now() + 60) }), 401, 'bad-jwt');
    });

    test('sub must be mailto: or https: -> 401 otherwise', async () => {
      await expectError(withJwt({ sub: 'me@example.com' }), 401, 'bad-subject');
      await expectError(withJwt({ sub: 'http://example.com' }), 401, 'bad-subject');
      await expectError(withJwt({ sub: undefined }), 401, 'bad-subject');
      assert.equal((await send(withJwt({ sub: 'https://pushpeer.example' }))).status, 201);
      sub.ua.ack(await sub.ua.nextNotification());
    });

    test('k must be the applicationServerKey of the subscription -> 401 key-mismatch; k not a point -> 401',
      async () => {
        const other = core.generateVapidKeys();
        // A perfectly valid token for another key pair.
        const request = core.buildPushRequest({ subscription: sub.subscription, payload: 'x', vapidKeys: other,
          subject: SUBJECT, ttl: 60 });
        await expectError(request, 401, 'key-mismatch');
        const notPoint = Buffer.from(vapid.publicKey);
        notPoint[64] ^= 1;
        const auth = build(sub).headers.Authorization.replace(/k=.*$/, `k=${b64(notPoint)}`);
        await expectError(build(sub), 401, 'bad-key', { headers: { Authorization: auth } });
      });

    test('TTL missing or not a non-negative integer -> 400', async () => {
      const request = build(sub);
      const { TTL: _ttl, ...noTtl } = request.headers;
      const r = await post(request.endpoint, { headers: noTtl, body: request.body });
      assert.equal(r.status, 400);
      assert.deepEqual([r.json.reason, r.json.errno], ['missing-ttl', 111]);
      await expectError(request, 400, 'missing-ttl', { headers: { TTL: '-1' } });
      await expectError(request, 400, 'missing-ttl', { headers: { TTL: 'soon' } });
    });

    test('Content-Encoding must be aes128gcm with a body; the body must look like RFC 8291', async () => {
      const request = build(sub);
      await expectError(request, 400, 'encryption', { headers: { 'Content-Encoding': 'aesgcm' } });
      const { 'Content-Encoding': _e, ...noEncoding } = request.headers;
      const r = await post(request.endpoint, { headers: noEncoding, body: request.body });
      assert.deepEqual([r.status, r.json.reason, r.json.errno], [400, 'encryption', 110]);
      await expectError(request, 400, 'encryption', { body: Buffer.from('plain text, not encrypted') });
    });

    test('Urgency and Topic are checked -> 400', async () => {
      const request = build(sub);
      await expectError(request, 400, 'bad-header', { headers: { Urgency: 'urgent' } });
      await expectError(request, 400, 'bad-header', { headers: { Topic: 'a'.repeat(33) } });
      await expectError(request, 400, 'bad-header', { headers: { Topic: 'not base64url!' } });
    });

    test(`body of ${MAX_BODY_BYTES} bytes is accepted, ${MAX_BODY_BYTES + 1} -> 413`, async () => {
      const full = build(sub, 'x'.repeat(core.maxPayloadLength));
      assert.equal(full.body.length, MAX_BODY_BYTES);
      const ok = await send(full);
      assert.equal(ok.status, 201, ok.text);
      const n = await sub.ua.nextNotification();
      assert.equal(decrypt(sub, n), 'x'.repeat(core.maxPayloadLength));
      sub.ua.ack(n);
      const over = Buffer.concat([Buffer.from(full.body), Buffer.from([0])]);
      const r = await expectError(full, 413, 'payload-too-large', { body: over });
      assert.equal(r.json.errno, 104);
      // Far too large: not even read.
      const huge = await expectError(full, 413, 'payload-too-large', { body: Buffer.alloc(1024 * 1024) });
      assert.equal(huge.headers.get('connection'), 'close');
    });

    test('other methods and paths', async () => {
      assert.equal((await post(sub.endpoint, { method: 'GET' })).status, 405);
      assert.equal((await post(`${service.httpOrigin}/nothing`, { method: 'GET' })).status, 404);
      assert.equal((await post(`${service.httpOrigin}/`, { method: 'GET' })).status, 200);
    });

    test('DELETE /m/<version> removes a stored message (RFC 8030 §7.3)', async () => {
      const s = await subscribed();
      const { uaid } = s.ua;
      await s.ua.close();
      await service.waitFor((e) => e.type === 'disconnect' && e.uaid === uaid);
      const r = await send(build(s, 'never mind'));
      assert.equal(r.status, 201);
      const location = r.headers.get('location');
      assert.equal((await post(location, { method: 'DELETE' })).status, 204);
      assert.equal((await post(location, { method: 'DELETE' })).status, 404);
      const back = await ua({ uaid });
      await assert.rejects(back.nextNotification({ timeoutMs: 300 }), /no notification/);
    });
  });

  describe('CORS', () => {
    let sub;
    before(async () => {
      sub = await subscribed();
    });

    const preflight = (url) => fetch(url, { method: 'OPTIONS', headers: {
      Origin: 'http://localhost:8080', 'Access-Control-Request-Method': 'POST',
      'Access-Control-Request-Headers': 'authorization,content-encoding,content-type,ttl,urgency,topic' } });

    test('on (like Mozilla): preflight allows the push headers; responses, errors included, carry ACAO *',
      async () => {
        const p = await preflight(sub.endpoint);
        assert.equal(p.status, 204);
        assert.equal(p.headers.get('access-control-allow-origin'), '*');
        assert.match(p.headers.get('access-control-allow-methods'), /\bPOST\b/);
        const allowed = p.headers.get('access-control-allow-headers').toLowerCase().split(/\s*,\s*/);
        for (const h of ['authorization', 'content-encoding', 'content-type', 'ttl', 'urgency', 'topic']) {
          assert.ok(allowed.includes(h), `${h} allowed`);
        }
        assert.equal(p.headers.get('access-control-max-age'), '3600');
        const ok = await send(build(sub), { headers: { Origin: 'http://localhost:8080' } });
        assert.equal(ok.status, 201);
        assert.equal(ok.headers.get('access-control-allow-origin'), '*');
        assert.match(ok.headers.get('access-control-expose-headers'), /Location/);
        sub.ua.ack(await sub.ua.nextNotification());
        const missing = await post(`${service.httpOrigin}/wpush/nope`, { headers: { Origin: 'http://localhost:8080' } });
        assert.equal(missing.status, 404);
        assert.equal(missing.headers.get('access-control-allow-origin'), '*');
      });

    test('off (like FCM): no CORS headers anywhere, preflight refused; switchable at run time', async () => {
      service.cors = false;
      const p = await preflight(sub.endpoint);
      assert.equal(p.status, 405);
      assert.equal(p.headers.get('access-control-allow-origin'), null);
      assert.equal(p.headers.get('access-control-allow-headers'), null);
      const ok = await send(build(sub), { headers: { Origin: 'http://localhost:8080' } });
      assert.equal(ok.status, 201, 'a server-side sender is not affected');
      assert.equal(ok.headers.get('access-control-allow-origin'), null);
      sub.ua.ack(await sub.ua.nextNotification());
      service.cors = true;
      assert.equal((await preflight(sub.endpoint)).status, 204);
    });

    test('startPushService({ cors: false })', async () => {
      const off = await startPushService({ cors: false });
      try {
        const p = await preflight(`${off.httpOrigin}/wpush/x`);
        assert.equal(p.status, 405);
        assert.equal(p.headers.get('access-control-allow-origin'), null);
      } finally {
        await off.close();
      }
    });
  });

  describe('fault injection', () => {
    let a;
    let b;
    before(async () => {
      a = await subscribed();
      b = await subscribed();
    });

    async function delivered(sub, text) {
      const n = await sub.ua.nextNotification();
      assert.equal(decrypt(sub, n), text);
      sub.ua.ack(n);
      return n;
    }

    test('429 with Retry-After, then normal service', async () => {
      service.faults.add({ status: 429, retryAfter: 7 });
      const r = await send(build(a, 'one'));
      assert.equal(r.status, 429);
      assert.equal(r.headers.get('retry-after'), '7');
      assert.equal(r.json.errno, 117);
      assert.equal((await send(build(a, 'two'))).status, 201);
      await delivered(a, 'two');
      service.faults.add({ status: 429 });
      assert.equal((await send(build(a))).headers.get('retry-after'), '1', 'default Retry-After');
    });

    for (const status of [410, 413, 500, 502, 503]) {
      test(`status ${status}`, async () => {
        service.faults.add({ status });
        const r = await send(build(a, 'x'));
        assert.equal(r.status, status);
        assert.equal(r.json.code, status);
        assert.equal(r.headers.get('retry-after'), status === 503 ? '1' : null);
        await assert.rejects(a.ua.nextNotification({ timeoutMs: 200 }), /no notification/, 'not delivered');
        assert.equal((await send(build(a, 'after'))).status, 201, 'one request only');
        await delivered(a, 'after');
      });
    }

    test('count: the next N requests', async () => {
      service.faults.add({ status: 500, count: 2 });
      assert.equal(service.faults.pending()[0].remaining, 2);
      assert.equal((await send(build(a))).status, 500);
      assert.equal((await send(build(b))).status, 500, 'global: any subscription');
      assert.equal((await send(build(a, 'third'))).status, 201);
      await delivered(a, 'third');
      assert.deepEqual(service.faults.pending(), []);
    });

    test('per subscription (by endpoint), used before the global queue', async () => {
      service.faults.add({ subscription: a.endpoint, status: 503, retryAfter: 2 });
      service.faults.add({ status: 429 });
      const rb = await send(build(b, 'b first'));
      assert.equal(rb.status, 429, 'b takes the global fault');
      const ra = await send(build(a, 'a first'));
      assert.equal(ra.status, 503, 'a takes its own fault first');
      assert.equal(ra.headers.get('retry-after'), '2');
      assert.equal((await send(build(a, 'a second'))).status, 201);
      assert.equal((await send(build(b, 'b second'))).status, 201);
      await delivered(a, 'a second');
      await delivered(b, 'b second');
      // By subscription id too.
      service.faults.add({ subscription: service.subscription(b.endpoint).id, status: 410 });
      assert.equal((await send(build(b))).status, 410);
    });

    test('delayMs: the answer (and delivery) comes late', async () => {
      service.faults.add({ subscription: a.endpoint, delayMs: 400 });
      const t0 = Date.now();
      const r = await send(build(a, 'slow'));
      const elapsed = Date.now() - t0;
      assert.equal(r.status, 201);
      assert.ok(elapsed >= 390, `answered after ${elapsed} ms`);
      await delivered(a, 'slow');
      service.faults.add({ delayMs: 200, status: 429 });
      const t1 = Date.now();
      assert.equal((await send(build(a))).status, 429);
      assert.ok(Date.now() - t1 >= 190, 'delay then status');
    });

    test('drop: 201, but the message never reaches the UA', async () => {
      service.faults.add({ subscription: a.endpoint, drop: true });
      const r = await send(build(a, 'lost'));
      assert.equal(r.status, 201);
      const version = r.headers.get('location').split('/m/')[1];
      const push = service.received.find((e) => e.type === 'push' && e.version === version);
      assert.equal(push.outcome, 'dropped');
      assert.equal((await send(build(a, 'found'))).status, 201);
      const n = await delivered(a, 'found');
      assert.notEqual(n.version, version);
    });

    test('reset: the connection closes without an answer', async () => {
      service.faults.add({ reset: true });
      await assert.rejects(send(build(a)), /fetch failed/);
      assert.equal((await send(build(a, 'fine'))).status, 201);
      await delivered(a, 'fine');
    });

    test('invalid faults are refused; clear() empties the queues', () => {
      assert.throws(() => service.faults.add({}), /empty fault/);
      assert.throws(() => service.faults.add({ status: 200 }), /400-599/);
      assert.throws(() => service.faults.add({ status: 500, count: 0 }), /count/);
      assert.throws(() => service.faults.add({ delayMs: 10 ** 9 }), /delayMs/);
      service.faults.add({ status: 500, count: 3 });
      service.faults.add({ subscription: a.endpoint, drop: true });
      assert.equal(service.faults.pending().length, 2);
      service.faults.clear(a.endpoint);
      assert.equal(service.faults.pending().length, 1);
      service.faults.clear();
      assert.deepEqual(service.faults.pending(), []);
    });
  });

  describe('bounds and shutdown', () => {
    test('maxConnections and maxLog', async () => {
      const small = await startPushService({ limits: { maxConnections: 1, maxLog: 5 } });
      try {
        const one = await connectFakeUA(small.wsUrl);
        await assert.rejects(connectFakeUA(small.wsUrl), /HTTP 503/);
        for (let i = 0; i < 5; i++) await one.ping();
        assert.ok(small.received.length <= 5);
        assert.ok(small.droppedLogEntries > 0);
        await one.close();
      } finally {
        await small.close();
      }
    });

    test('close(): UAs get 1001, pending delays end, waiters reject, the port is free', async () => {
      const s = await startPushService();
      const u = await connectFakeUA(s.wsUrl);
      const sub2 = await u.subscribe(core, vapid.publicKey);
      s.faults.add({ delayMs: 60_000 });
      const slow = send(core.buildPushRequest({ subscription: sub2.subscription, payload: 'x', vapidKeys: vapid,
        subject: SUBJECT, ttl: 60 })).then((r) => r.status, (e) => e.message);
      while (s.faults.pending().length > 0) await new Promise((r) => setTimeout(r, 10)); // the request is in
      const waiting = s.waitFor(() => false, { timeoutMs: 60_000 });
      const t0 = Date.now();
      await s.close();
      assert.ok(Date.now() - t0 < 3000, `closed in ${Date.now() - t0} ms`);
      assert.equal((await u.closed).code, 1001);
      await assert.rejects(waiting, /closed/);
      assert.match(String(await slow), /fetch failed|^5\d\d$/);
      await assert.rejects(fetch(`${s.httpOrigin}/`), /fetch failed/);
      await s.close(); // twice is fine
    });
  });
});
