// core.buildPushRequest: the RFC 8030/8291/8292 request for a PushSubscription — headers, body size, the accepted
// subscription forms, the JWT's audience, and reuse of signed tokens.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import ece from 'http_ece';

import {
  assertBytes, forEachFlavor, nodeKeyPair, nodeVerifyJwt, parseVapidAuthorization, randomBytes, toB64u, u8,
} from './helpers.mjs';

const SUBJECT = 'mailto:push-request@pushpeer.test';
const nowSeconds = () => Math.floor(Date.now() / 1000);

forEachFlavor((core) => {
  const vapid = core.generateVapidKeys();

  function makeSubscription(endpoint = 'https://push.example.net/wpush/v2/gAAAAABk') {
    const receiver = nodeKeyPair();
    const auth = randomBytes(16);
    return { receiver, auth, subscription: { endpoint, expirationTime: null, keys: { p256dh: toB64u(receiver.publicKey), auth: toB64u(auth) } } };
  }

  /** Decrypts a request body with http_ece (an independent implementation). */
  function open(request, { receiver, auth }) {
    return u8(ece.decrypt(Buffer.from(request.body), { version: 'aes128gcm', privateKey: receiver.ecdh, authSecret: Buffer.from(auth) }));
  }

  describe('headers', () => {
    it('Authorization, Content-Encoding, Content-Type, TTL; no Urgency or Topic unless asked', () => {
      const s = makeSubscription();
      const request = core.buildPushRequest({ subscription: s.subscription, payload: 'hi', vapidKeys: vapid, subject: SUBJECT });
      assert.equal(request.method, 'POST');
      assert.equal(request.endpoint, s.subscription.endpoint);
      assert.deepEqual(Object.keys(request.headers).sort(), ['Authorization', 'Content-Encoding', 'Content-Type', 'TTL']);
      assert.equal(request.headers['Content-Encoding'], 'aes128gcm');
      assert.equal(request.headers['Content-Type'], 'application/octet-stream');
      assert.equal(request.headers.TTL, '2419200', 'default TTL: 28 days');
      const { header, claims, k, jwt } = parseVapidAuthorization(request.headers.Authorization);
      assert.deepEqual(header, { typ: 'JWT', alg: 'ES256' });
      assert.equal(k, toB64u(vapid.publicKey));
      assert.equal(claims.sub, SUBJECT);
      assert.equal(nodeVerifyJwt(jwt, vapid.publicKey), true, 'the JWT verifies with Node crypto under k');
      assert.deepEqual(core.verifyVapidJwt(jwt, vapid.publicKey), claims);
      assertBytes(open(request, s), u8(Buffer.from('hi')));
      for (const value of Object.values(request.headers)) assert.equal(typeof value, 'string');
    });

    it('TTL, Urgency and Topic as given', () => {
      const s = makeSubscription();
      for (const ttl of [0, 1, 60, 86400, 2419200]) {
        const r = core.buildPushRequest({ subscription: s.subscription, payload: 'x', vapidKeys: vapid, subject: SUBJECT, ttl });
        assert.equal(r.headers.TTL, String(ttl));
      }
      for (const urgency of ['very-low', 'low', 'normal', 'high']) {
        const r = core.buildPushRequest({ subscription: s.subscription, payload: 'x', vapidKeys: vapid, subject: SUBJECT, urgency });
        assert.equal(r.headers.Urgency, urgency);
      }
      for (const topic of ['a', 'pushpeer-offer_1', 'x'.repeat(32)]) {
        const r = core.buildPushRequest({ subscription: s.subscription, payload: 'x', vapidKeys: vapid, subject: SUBJECT, topic });
        assert.equal(r.headers.Topic, topic);
      }
      const all = core.buildPushRequest({ subscription: s.subscription, payload: 'x', vapidKeys: vapid, subject: SUBJECT, ttl: 30, urgency: 'low', topic: 'abc' });
      assert.deepEqual(Object.keys(all.headers).sort(), ['Authorization', 'Content-Encoding', 'Content-Type', 'TTL', 'Topic', 'Urgency']);
    });
  });

  describe('body', () => {
    it('one aes128gcm record: rs 4096, the sender key as key id, 86 + payload + 17 bytes', () => {
      const s = makeSubscription();
      for (const size of [0, 1, 100, 1000]) {
        const payload = randomBytes(size);
        const r = core.buildPushRequest({ subscription: s.subscription, payload, vapidKeys: vapid, subject: SUBJECT });
        assert.equal(r.body.length, 86 + size + 17);
        assert.ok(r.body.length <= 4096);
        const view = new DataView(r.body.buffer, r.body.byteOffset);
        assert.equal(view.getUint32(16), 4096, 'rs');
        assert.equal(r.body[20], 65, 'idlen');
        assert.equal(r.body[21], 4, 'uncompressed point');
        assertBytes(open(r, s), payload);
        assertBytes(core.decrypt({ privateKey: s.receiver.privateKey, publicKey: s.receiver.publicKey, auth: s.auth, body: r.body }), payload);
      }
    });

    it('a 3993-byte payload (maxPayloadLength) makes a body of exactly 4096 bytes', () => {
      assert.equal(core.maxPayloadLength, 3993);
      const s = makeSubscription();
      const payload = randomBytes(3993);
      const r = core.buildPushRequest({ subscription: s.subscription, payload, vapidKeys: vapid, subject: SUBJECT });
      assert.equal(r.body.length, 4096);
      assertBytes(open(r, s), payload);
    });

    it('string payloads are sent as UTF-8', () => {
      const s = makeSubscription();
      const text = 'pushpeer ✓ 😀 \u0000 end';
      const r = core.buildPushRequest({ subscription: s.subscription, payload: text, vapidKeys: vapid, subject: SUBJECT });
      assert.equal(Buffer.from(open(r, s)).toString('utf8'), text);
    });

    it('every request has a fresh salt and sender key', () => {
      const s = makeSubscription();
      const bodies = Array.from({ length: 5 }, () =>
        core.buildPushRequest({ subscription: s.subscription, payload: 'same', vapidKeys: vapid, subject: SUBJECT }).body);
      assert.equal(new Set(bodies.map((b) => toB64u(b.subarray(0, 16)))).size, 5, 'salts');
      assert.equal(new Set(bodies.map((b) => toB64u(b.subarray(21, 86)))).size, 5, 'sender keys');
    });
  });

  describe('subscription forms', () => {
    it('a plain object, its JSON text, and an object with toJSON() (a PushSubscription)', () => {
      const s = makeSubscription();
      class FakePushSubscription {
        constructor(json) {
          this.endpoint = json.endpoint;
          this.options = { userVisibleOnly: true };
          this.#json = json;
        }
        #json;
        getKey() {
          return new ArrayBuffer(0);
        }
        toJSON() {
          return this.#json;
        }
      }
      for (const [label, subscription] of [
        ['object', s.subscription],
        ['JSON text', JSON.stringify(s.subscription)],
        ['toJSON()', new FakePushSubscription(s.subscription)],
        ['keys with = padding', { ...s.subscription, keys: { p256dh: `${s.subscription.keys.p256dh}=`, auth: `${s.subscription.keys.auth}==` } }],
        ['extra members', { ...s.subscription, clientHash: 'abc', options: {} }],
      ]) {
        const r = core.buildPushRequest({ subscription, payload: label, vapidKeys: vapid, subject: SUBJECT });
        assert.equal(r.endpoint, s.subscription.endpoint, label);
        assert.equal(Buffer.from(open(r, s)).toString(), label, label);
      }
    });
  });

  describe('VAPID token', () => {
    it('aud is the origin of the endpoint (lower-case, default port dropped, path/query ignored)', () => {
      for (const endpoint of [
        'https://push.example.net/wpush/v2/x', 'https://push.example.net:443/a?b=c#d', 'https://PUSH.Example.NET/x',
        'https://push.example.net:8443/x', 'https://fcm.googleapis.com/fcm/send/abc:def', 'https://[2001:db8::1]:8443/x',
        'http://localhost:8090/notify/abc', 'http://127.0.0.1/x', 'http://[::1]:3000/x',
        'https://updates.push.services.mozilla.com/wpush/v2/gAAAA', 'HTTPS://Push.Example.NET/x', 'http://localhost:80/x',
        'https://push.example.net:0443/x',
      ]) {
        const s = makeSubscription(endpoint);
        const r = core.buildPushRequest({ subscription: s.subscription, payload: 'x', vapidKeys: vapid, subject: SUBJECT });
        const { claims } = parseVapidAuthorization(r.headers.Authorization);
        assert.equal(claims.aud, new URL(endpoint).origin, endpoint);
        assert.equal(r.endpoint, endpoint);
      }
    });

    it('exp is about 12 hours ahead and never more than 24', () => {
      const s = makeSubscription('https://exp.example.net/x');
      const before = nowSeconds();
      const r = core.buildPushRequest({ subscription: s.subscription, payload: 'x', vapidKeys: vapid, subject: SUBJECT });
      const { claims } = parseVapidAuthorization(r.headers.Authorization);
      assert.ok(claims.exp >= before + 12 * 3600 - 5 && claims.exp <= nowSeconds() + 12 * 3600 + 5, `exp ${claims.exp}`);
      assert.ok(claims.exp <= nowSeconds() + 24 * 3600);
    });

    it('two requests within a second carry the same Authorization (token cache); another audience or subject does not', () => {
      const a = makeSubscription('https://cache.example.net/one');
      const b = makeSubscription('https://cache.example.net/two?x=1'); // same origin
      const c = makeSubscription('https://other.example.net/one');
      const build = (s, subject = SUBJECT, keys = vapid) =>
        core.buildPushRequest({ subscription: s.subscription, payload: 'x', vapidKeys: keys, subject }).headers.Authorization;
      const first = build(a);
      const second = build(a);
      assert.equal(second, first, 'same subscription');
      assert.equal(build(b), first, 'same origin, another path');
      assert.notEqual(build(c), first, 'another origin');
      assert.equal(parseVapidAuthorization(build(c)).claims.aud, 'https://other.example.net');
      assert.notEqual(build(a, 'mailto:other@pushpeer.test'), first, 'another subject');
      const other = core.generateVapidKeys();
      const withOther = build(a, SUBJECT, other);
      assert.notEqual(withOther, first, 'another VAPID key');
      assert.equal(parseVapidAuthorization(withOther).k, toB64u(other.publicKey));
      assert.equal(nodeVerifyJwt(parseVapidAuthorization(withOther).jwt, other.publicKey), true);
      assert.equal(build(a), first, 'the first token is still cached');
    });

    it('vapidAuthorization signs a fresh token for the given expiration (no cache)', () => {
      const exp = nowSeconds() + 3600;
      const endpoint = 'https://push.example.net/x';
      const v1 = core.vapidAuthorization({ endpoint, subject: SUBJECT, ...vapid, expiration: exp });
      const v2 = core.vapidAuthorization({ endpoint, subject: SUBJECT, ...vapid, expiration: exp + 1 });
      assert.equal(parseVapidAuthorization(v1).claims.exp, exp);
      assert.equal(parseVapidAuthorization(v2).claims.exp, exp + 1);
      // RFC 6979 signatures are deterministic: the same claims give the same token.
      assert.equal(core.vapidAuthorization({ endpoint, subject: SUBJECT, ...vapid, expiration: exp }), v1);
      assert.equal(parseVapidAuthorization(v1).claims.aud, 'https://push.example.net');
    });
  });
});
