// The relay where it runs: each deployment entry in relay/ started in its own runtime (workerd, Cloudflare's
// runtime, with relay/cloudflare/worker.js and its wrangler.toml; Deno; Bun; Node), configured through the
// environment, in front of the local push service (tests/push-service/). One table of cases runs against every
// runtime: real pushes, built by the core and sent through the relay, are delivered to a fake user agent that
// decrypts them; hostile requests are refused with the same status and X-Push-Relay-Error code everywhere, and none of
// them reaches the push service. A runtime that is not installed fails its tests (relay-runtimes.mjs).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { loadCore, PushPeerError } from '../../js/core.js';
import { nodeRelayOptionsFromEnv, relayOptionsFromEnv } from '../../relay/env.js';
import { connectFakeUA } from '../push-service/fake-ua.mjs';
import { startPushService } from '../push-service/service.mjs';
import { rawRequest, requestHead } from './raw-client.mjs';
import { RUNTIMES, startRelay } from './relay-runtimes.mjs';

const SUBJECT = 'mailto:relay-runtimes@pushpeer.test';
const APP = 'https://app.example';
const BODY_TIMEOUT_MS = 1000;
const FORWARDED = ['authorization', 'content-encoding', 'content-type', 'ttl', 'urgency', 'topic'];

// --- client side ---

async function send(relay, { method = 'POST', path = '/push', endpoint, headers = {}, body, origin } = {}) {
  const h = new Headers(headers);
  if (endpoint !== undefined) h.set('X-Push-Endpoint', endpoint);
  if (origin !== undefined) h.set('Origin', origin);
  const init = { method, headers: h, body, redirect: 'manual' };
  if (body instanceof ReadableStream) init.duplex = 'half';
  const response = await fetch(`${relay.url}${path}`, init);
  return { status: response.status, headers: response.headers, text: await response.text() };
}

function assertRelayError(answer, status, code) {
  assert.equal(answer.status, status, `expected ${status} ${code}, got ${answer.status}: ${answer.text}`);
  assert.equal(answer.headers.get('x-push-relay-error'), code);
  if (answer.text !== undefined) {
    assert.match(answer.headers.get('content-type'), /^application\/json/);
    assert.equal(JSON.parse(answer.text).error, code);
  }
}

// --- the table: the same for every runtime ---

/*
 * Each case: name, run(ctx) -> the answer, check(answer, ctx), and reaches: 'delivered' (the fake UA decrypts the
 * payload), 'push-service' (the push service saw it and answered itself) or 'nothing' (refused by the relay: the
 * push service saw no request for the subscription).
 * ctx: { relay, sub, request(extra) -> a fresh core push request for the subscription, otherVapid }.
 */
const CASES = [
  {
    name: 'a real push from a listed origin is forwarded and delivered, without its Origin',
    reaches: 'delivered',
    run: ({ relay, request }) => {
      const r = request({ urgency: 'high', topic: 'pushpeer-offer' });
      return send(relay, { endpoint: r.endpoint, headers: { ...r.headers, Cookie: 'session=1', 'X-Evil': 'yes' }, body: r.body,
        origin: APP });
    },
    check: (answer, { service }) => {
      assert.equal(answer.status, 201, answer.text);
      assert.match(answer.headers.get('location'), new RegExp(`^${service.httpOrigin}/m/`));
      assert.equal(answer.headers.get('access-control-allow-origin'), APP);
      assert.equal(answer.headers.get('vary'), 'Origin');
      assert.equal(answer.headers.get('x-push-relay-error'), null);
    },
  },
  {
    name: 'a real push without Origin (not from a browser) is forwarded and delivered',
    reaches: 'delivered',
    run: ({ relay, request }) => {
      const r = request();
      return send(relay, { endpoint: r.endpoint, headers: r.headers, body: r.body });
    },
    check: (answer) => {
      assert.equal(answer.status, 201, answer.text);
      assert.equal(answer.headers.get('access-control-allow-origin'), null);
    },
  },
  {
    name: 'the push service\'s own refusal passes through (a VAPID key the subscription was not made with: 401)',
    reaches: 'push-service',
    run: ({ relay, request, otherVapid }) => {
      const r = request({ vapidKeys: otherVapid });
      return send(relay, { endpoint: r.endpoint, headers: r.headers, body: r.body, origin: APP });
    },
    check: (answer) => {
      assert.equal(answer.status, 401, answer.text);
      assert.equal(answer.headers.get('x-push-relay-error'), null, 'the push service\'s answer, not the relay\'s');
      assert.equal(JSON.parse(answer.text).reason, 'key-mismatch');
      assert.equal(answer.headers.get('access-control-allow-origin'), APP);
    },
  },
  {
    name: 'a push service that is not listed: 403 HOST_NOT_ALLOWED',
    reaches: 'nothing',
    run: async ({ relay, request, service }) => {
      const r = request();
      const answers = [];
      for (const endpoint of ['https://push.example.net/wpush/x', r.endpoint.replace('127.0.0.1', 'localhost'),
        r.endpoint.replace(/^http:/, 'https:'), `http://127.0.0.1:${Number(new URL(service.httpOrigin).port) + 1}/wpush/x`]) {
        answers.push(await send(relay, { endpoint, headers: r.headers, body: r.body, origin: APP }));
      }
      return answers;
    },
    check: (answers) => {
      for (const answer of answers) assertRelayError(answer, 403, 'HOST_NOT_ALLOWED');
      assert.equal(answers[0].headers.get('access-control-allow-origin'), APP, 'a relay error is readable by the page');
    },
  },
  {
    name: 'no X-Push-Endpoint, or one with credentials: 400 BAD_ENDPOINT',
    reaches: 'nothing',
    run: async ({ relay, request }) => {
      const r = request();
      return [
        await send(relay, { headers: r.headers, body: r.body }),
        await send(relay, { endpoint: r.endpoint.replace('http://', 'http://user:pw@'), headers: r.headers, body: r.body }),
      ];
    },
    check: (answers) => {
      for (const answer of answers) assertRelayError(answer, 400, 'BAD_ENDPOINT');
    },
  },
  {
    name: 'an Authorization that is not vapid t=…, k=…: 400 BAD_AUTHORIZATION',
    reaches: 'nothing',
    run: ({ relay, request }) => {
      const r = request();
      return send(relay, { endpoint: r.endpoint, headers: { ...r.headers, Authorization: 'Bearer abc' }, body: r.body });
    },
    check: (answer) => assertRelayError(answer, 400, 'BAD_AUTHORIZATION'),
  },
  {
    name: 'no TTL: 400 BAD_TTL',
    reaches: 'nothing',
    run: ({ relay, request }) => {
      const r = request();
      const headers = Object.fromEntries(Object.entries(r.headers).filter(([name]) => name.toLowerCase() !== 'ttl'));
      return send(relay, { endpoint: r.endpoint, headers, body: r.body });
    },
    check: (answer) => assertRelayError(answer, 400, 'BAD_TTL'),
  },
  {
    name: 'a body without Content-Encoding: aes128gcm: 400 BAD_CONTENT_ENCODING',
    reaches: 'nothing',
    run: ({ relay, request }) => {
      const r = request();
      const headers = Object.fromEntries(Object.entries(r.headers).filter(([name]) => name.toLowerCase() !== 'content-encoding'));
      return send(relay, { endpoint: r.endpoint, headers, body: r.body });
    },
    check: (answer) => assertRelayError(answer, 400, 'BAD_CONTENT_ENCODING'),
  },
  {
    name: 'a body of 4097 bytes, declared or chunked: 413 PAYLOAD_TOO_LARGE',
    reaches: 'nothing',
    run: async ({ relay, request }) => {
      const r = request();
      const big = new Uint8Array(4097);
      const chunked = new ReadableStream({
        start(controller) {
          controller.enqueue(big.subarray(0, 3000));
          controller.enqueue(big.subarray(3000));
          controller.close();
        },
      });
      return [
        await send(relay, { endpoint: r.endpoint, headers: r.headers, body: big }),
        await send(relay, { endpoint: r.endpoint, headers: r.headers, body: chunked }),
      ];
    },
    check: (answers) => {
      for (const answer of answers) assertRelayError(answer, 413, 'PAYLOAD_TOO_LARGE');
    },
  },
  {
    name: 'a page of another origin: 403 ORIGIN_NOT_ALLOWED, for the push and for its preflight',
    reaches: 'nothing',
    run: async ({ relay, request }) => {
      const r = request();
      return [
        await send(relay, { endpoint: r.endpoint, headers: r.headers, body: r.body, origin: 'https://evil.example' }),
        await send(relay, { method: 'OPTIONS', origin: 'https://evil.example', headers: { 'Access-Control-Request-Method': 'POST' } }),
      ];
    },
    check: (answers) => {
      for (const answer of answers) {
        assertRelayError(answer, 403, 'ORIGIN_NOT_ALLOWED');
        assert.equal(answer.headers.get('access-control-allow-origin'), null);
      }
    },
  },
  {
    name: 'the preflight of a listed origin: 204 with POST, the push headers and a Max-Age',
    reaches: 'nothing',
    run: ({ relay }) => send(relay, {
      method: 'OPTIONS', origin: APP,
      headers: { 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization,content-encoding,ttl,x-push-endpoint' },
    }),
    check: (answer) => {
      assert.equal(answer.status, 204);
      assert.equal(answer.text, '');
      assert.equal(answer.headers.get('access-control-allow-origin'), APP);
      assert.equal(answer.headers.get('access-control-allow-methods'), 'POST');
      assert.deepEqual(answer.headers.get('access-control-allow-headers').toLowerCase().split(/, */).sort(),
        [...FORWARDED, 'x-push-endpoint'].sort());
      assert.match(answer.headers.get('access-control-max-age'), /^[1-9][0-9]*$/);
    },
  },
  {
    name: 'another path: 404 NOT_FOUND; another method: 405 METHOD_NOT_ALLOWED with Allow',
    reaches: 'nothing',
    run: async ({ relay, request }) => {
      const r = request();
      return [
        await send(relay, { path: '/', endpoint: r.endpoint, headers: r.headers, body: r.body }),
        await send(relay, { path: '/push/x', endpoint: r.endpoint, headers: r.headers, body: r.body }),
        await send(relay, { method: 'GET', endpoint: r.endpoint }),
        await send(relay, { method: 'PUT', endpoint: r.endpoint, headers: r.headers, body: r.body }),
      ];
    },
    check: ([root, sub, get, put]) => {
      assertRelayError(root, 404, 'NOT_FOUND');
      assertRelayError(sub, 404, 'NOT_FOUND');
      assertRelayError(get, 405, 'METHOD_NOT_ALLOWED');
      assertRelayError(put, 405, 'METHOD_NOT_ALLOWED');
      assert.equal(get.headers.get('allow'), 'POST, OPTIONS');
    },
  },
  {
    name: `a client that stops sending its body: 408 BODY_TIMEOUT (RELAY_BODY_TIMEOUT_MS=${BODY_TIMEOUT_MS})`,
    reaches: 'nothing',
    run: async ({ relay, request }) => {
      const r = request();
      const client = rawRequest(relay.url, {
        head: requestHead(relay.url, '/push', { ...r.headers, 'X-Push-Endpoint': r.endpoint, 'Content-Length': r.body.length }),
        body: r.body.subarray(0, 20),
      });
      const answer = await client.answer;
      client.socket.destroy();
      return answer;
    },
    check: (answer) => {
      assert.ok(answer, 'the connection closed without an answer');
      assertRelayError(answer, 408, 'BODY_TIMEOUT');
    },
  },
];

// --- the runs ---

describe('the relay in workerd, Deno, Bun and Node, in front of the local push service', { timeout: 60_000, concurrency: RUNTIMES.length }, () => {
  let core;
  let service;
  let vapid;
  let otherVapid;
  const starting = new Map();

  before(async () => {
    core = await loadCore();
    vapid = core.generateVapidKeys();
    otherVapid = core.generateVapidKeys();
    service = await startPushService({ log: process.env.PUSHPEER_PUSH_LOG === '1' ? console.log : null });
    const vars = {
      RELAY_ALLOW_ORIGINS: `${APP}, http://localhost:8080`,
      RELAY_ALLOW_HOSTS: service.httpOrigin,
      RELAY_TIMEOUT_MS: '10000',
      RELAY_BODY_TIMEOUT_MS: String(BODY_TIMEOUT_MS),
    };
    for (const runtime of RUNTIMES) {
      const started = startRelay(runtime, vars);
      started.catch(() => {}); // reported by the runtime's own before()
      starting.set(runtime, started);
    }
  });

  after(async () => {
    await Promise.all([...starting.values()].map((p) => p.then((relay) => relay.close(), () => {})));
    await service?.close();
  });

  for (const runtime of RUNTIMES) {
    describe(runtime, { concurrency: 1 }, () => {
      let relay;
      let ua;
      let sub;

      before(async () => {
        relay = await starting.get(runtime); // a runtime that did not start fails every case below
        ua = await connectFakeUA(service.wsUrl);
        sub = await ua.subscribe(core, vapid.publicKey);
      });

      after(async () => {
        await ua?.close();
      });

      const subscriptionId = () => new URL(sub.endpoint).pathname.split('/').pop();
      let count = 0;

      for (const c of CASES) {
        it(c.name, { timeout: 20_000 }, async () => {
          const since = service.lastSeq;
          const payload = `offer ${++count} through ${runtime}: v=0 o=- 4611731400430051336 2 IN IP4 127.0.0.1`;
          const ctx = {
            relay, service, otherVapid,
            request: (extra = {}) => core.buildPushRequest({ subscription: sub.subscription, payload, vapidKeys: vapid,
              subject: SUBJECT, ttl: 60, ...extra }),
          };
          const answer = await c.run(ctx);
          c.check(answer, ctx);
          const pushes = service.received.filter((e) => e.seq > since && e.type === 'push' && e.subscription === subscriptionId());
          if (c.reaches === 'nothing') {
            assert.deepEqual(pushes, [], `${runtime} forwarded what it had to refuse`);
            return;
          }
          assert.equal(pushes.length, 1, 'exactly one request reached the push service');
          // The push service records the push headers and Origin (the relay's own tests check every other header).
          assert.equal(pushes[0].headers.origin, undefined, 'the page\'s Origin reached the push service');
          if (c.reaches === 'delivered') {
            assert.equal(pushes[0].status, 201);
            const notification = await ua.nextNotification();
            const plaintext = core.decrypt({ ...sub.keys, body: Buffer.from(notification.data, 'base64url') });
            assert.equal(Buffer.from(plaintext).toString(), payload);
            ua.ack(notification);
          }
        });
      }
    });
  }
});

describe('relay/env.js: the entries\' configuration', () => {
  it('reads lists, milliseconds and \'*\'; leaves unset and empty variables to the defaults', () => {
    const env = (vars) => (name) => vars[name];
    assert.deepEqual(relayOptionsFromEnv(env({})), {});
    assert.deepEqual(relayOptionsFromEnv(env({ RELAY_ALLOW_ORIGINS: ' ', RELAY_TIMEOUT_MS: '' })), {});
    assert.deepEqual(relayOptionsFromEnv(env({ RELAY_ALLOW_ORIGINS: ' * ' })), { allowOrigins: '*' });
    assert.deepEqual(relayOptionsFromEnv(env({
      RELAY_ALLOW_ORIGINS: 'https://a.example, https://b.example\nhttp://localhost:8080',
      RELAY_ALLOW_HOSTS: 'push.example:8443,http://127.0.0.1:9',
      RELAY_TIMEOUT_MS: '2500',
      RELAY_BODY_TIMEOUT_MS: '700',
    })), {
      allowOrigins: ['https://a.example', 'https://b.example', 'http://localhost:8080'],
      allowHosts: ['push.example:8443', 'http://127.0.0.1:9'],
      timeoutMs: 2500,
      bodyTimeoutMs: 700,
    });
  });

  it('the Node entry also reads RELAY_MAX_CONNECTIONS_PER_CLIENT (0: no cap); the others ignore it', () => {
    const env = (vars) => (name) => vars[name];
    assert.deepEqual(nodeRelayOptionsFromEnv(env({ RELAY_MAX_CONNECTIONS_PER_CLIENT: '4', RELAY_TIMEOUT_MS: '900' })),
      { maxConnectionsPerClient: 4, timeoutMs: 900 });
    assert.deepEqual(nodeRelayOptionsFromEnv(env({ RELAY_MAX_CONNECTIONS_PER_CLIENT: '0' })), { maxConnectionsPerClient: Infinity });
    assert.deepEqual(nodeRelayOptionsFromEnv(env({ RELAY_MAX_CONNECTIONS_PER_CLIENT: '' })), {});
    assert.deepEqual(relayOptionsFromEnv(env({ RELAY_MAX_CONNECTIONS_PER_CLIENT: '4' })), {});
    for (const value of ['-1', 'many', '2.5']) {
      assert.throws(() => nodeRelayOptionsFromEnv(env({ RELAY_MAX_CONNECTIONS_PER_CLIENT: value })),
        (e) => e instanceof PushPeerError && e.code === 'BAD_ARGUMENT' && e.message.includes('RELAY_MAX_CONNECTIONS_PER_CLIENT'), value);
    }
  });

  it('a value that is not valid throws BAD_ARGUMENT naming the variable', () => {
    for (const variable of ['RELAY_TIMEOUT_MS', 'RELAY_BODY_TIMEOUT_MS']) {
      for (const value of ['0', '-1', '1.5', '10s', '9999999999']) {
        assert.throws(() => relayOptionsFromEnv((name) => (name === variable ? value : undefined)),
          (e) => e instanceof PushPeerError && e.code === 'BAD_ARGUMENT' && e.message.includes(variable), `${variable}=${value}`);
      }
    }
  });
});
