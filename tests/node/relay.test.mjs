// relay/relay.js: the stateless push relay. A fake push service (node:http on 127.0.0.1) records what reaches it; the
// relay (serveRelayNode) stands in front of it with allowHosts for the fake; the client is Node's own fetch (or
// node:http where fetch cannot send what we need). Checks: only the push headers and the exact body go through, the
// push service's answers come back with their headers, and everything the relay must refuse never leaves it.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import { after, before, beforeEach, describe, it } from 'node:test';

import { loadCore, PushPeerError } from '../../js/core.js';
import { createRelay, DEFAULT_PUSH_HOSTS, FORWARDED_REQUEST_HEADERS, serveRelayNode } from '../../relay/relay.js';
import { closedPort } from './helpers.mjs';
import { rawRequest as rawRequestOnce, requestHead } from './raw-client.mjs';

const SUBJECT = 'mailto:relay-test@pushpeer.test';
const ALLOWED_HEADERS = FORWARDED_REQUEST_HEADERS.map((h) => h.toLowerCase());
const EXPOSED = ['location', 'retry-after', 'link', 'x-push-relay-error'];

// --- the fake push service ---

/** Records every request; answers by path (see routes). */
async function startUpstream() {
  const received = [];
  const hanging = new Set();
  let base;
  const routes = {
    '/wpush/created': (res) => {
      res.writeHead(201, {
        Location: `${base}/m/gAAAAABmessage`,
        Link: '<https://push.example/receipt/1>; rel="urn:ietf:params:push:receipt"',
        'Set-Cookie': 'upstream=secret',
        'X-Upstream-Internal': 'do-not-pass',
        'Strict-Transport-Security': 'max-age=1',
      });
      res.end();
    },
    '/wpush/busy': (res) => {
      res.writeHead(429, { 'Retry-After': '30', 'Content-Type': 'application/json' });
      res.end('{"code":429,"errno":999,"error":"Too Many Requests"}');
    },
    '/wpush/gone': (res) => {
      res.writeHead(410, { 'Content-Type': 'application/json' });
      res.end('{"code":410,"errno":106,"error":"Gone","message":"Request did not validate"}');
    },
    '/wpush/redirect': (res) => {
      res.writeHead(307, { Location: `${base}/wpush/created` });
      res.end();
    },
    '/wpush/no-content': (res) => {
      res.writeHead(204);
      res.end();
    },
    '/wpush/huge': (res) => {
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
      res.end(Buffer.alloc(200 * 1024, 0x61));
    },
    '/wpush/slow': (res) => {
      hanging.add(res); // never answers; the relay must give up
    },
  };
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const names = [];
      for (let i = 0; i < req.rawHeaders.length; i += 2) names.push(req.rawHeaders[i].toLowerCase());
      received.push({ method: req.method, url: req.url, headers: req.headers, names, body: new Uint8Array(Buffer.concat(chunks)) });
      const route = routes[new URL(req.url, base).pathname];
      if (route) route(res);
      else {
        res.writeHead(404);
        res.end();
      }
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${server.address().port}`;
  return {
    base,
    port: server.address().port,
    received,
    close: () => new Promise((resolve) => {
      for (const res of hanging) res.destroy();
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

// --- client side ---

function post(relay, endpoint, { headers = {}, body, origin, path = '/push', method = 'POST' } = {}) {
  const h = new Headers(headers);
  if (endpoint !== undefined) h.set('X-Push-Endpoint', endpoint);
  if (origin !== undefined) h.set('Origin', origin);
  return fetch(`${relay.url}${path}`, { method, headers: h, body, redirect: 'manual' });
}

async function expectRelayError(response, status, code) {
  const text = await response.text();
  assert.equal(response.status, status, `expected ${status} ${code}, got ${response.status}: ${text}`);
  assert.equal(response.headers.get('x-push-relay-error'), code);
  assert.match(response.headers.get('content-type'), /^application\/json/);
  const json = JSON.parse(text);
  assert.equal(json.error, code);
  assert.equal(typeof json.message, 'string');
  return json;
}

/** Raw node:http POST with a chunked body (no Content-Length), written until the relay answers or `total` is sent. */
function postChunked(relay, endpoint, headers, { chunk = 1024, total = 64 * 1024 } = {}) {
  return new Promise((resolve, reject) => {
    const url = new URL(`${relay.url}/push`);
    let answered = false;
    const req = http.request({
      host: url.hostname, port: url.port, path: url.pathname, method: 'POST',
      headers: { ...headers, 'X-Push-Endpoint': endpoint, 'Transfer-Encoding': 'chunked' },
    }, (res) => {
      answered = true;
      const parts = [];
      res.on('data', (c) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(parts).toString() }));
      res.on('error', () => resolve({ status: res.statusCode, headers: res.headers, body: '' }));
    });
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    let sent = 0;
    const writeMore = () => {
      while (!answered && sent < total) {
        sent += chunk;
        if (!req.write(Buffer.alloc(chunk, 0x42))) {
          req.once('drain', writeMore);
          return;
        }
      }
      if (!answered) req.end();
    };
    writeMore();
  });
}

// --- the tests ---

describe('relay in front of a fake push service', { timeout: 20_000 }, () => {
  let core;
  let vapid;
  let upstream;
  let relay; // allowOrigins '*'
  let listed; // allowOrigins: a list
  let quick; // timeoutMs 200
  let refusedPort;
  let baselineNames; // what Node's fetch adds by itself to a POST
  const logs = [];

  before(async () => {
    core = await loadCore();
    vapid = core.generateVapidKeys();
    upstream = await startUpstream();
    refusedPort = await closedPort();
    const allowHosts = [upstream.base, `http://127.0.0.1:${refusedPort}`];
    relay = await serveRelayNode({ allowHosts, log: (entry) => logs.push(entry) });
    listed = await serveRelayNode({ allowHosts, allowOrigins: ['https://app.example', 'http://localhost:8080/'] });
    quick = await serveRelayNode({ allowHosts, timeoutMs: 200 });
    await fetch(`${upstream.base}/baseline`, { method: 'POST', body: new Uint8Array(1) }).then((r) => r.arrayBuffer());
    baselineNames = new Set(upstream.received[0].names);
  });

  after(async () => {
    await Promise.all([relay?.close(), listed?.close(), quick?.close(), upstream?.close()]);
  });

  beforeEach(() => {
    upstream.received.length = 0;
    logs.length = 0;
  });

  /** A real RFC 8291/8292 request from the core for a subscription at `endpoint`. */
  function pushRequest(endpoint, extra = {}) {
    const receiver = crypto.createECDH('prime256v1');
    receiver.generateKeys();
    const subscription = { endpoint, keys: { p256dh: receiver.getPublicKey('base64url'), auth: crypto.randomBytes(16).toString('base64url') } };
    return core.buildPushRequest({ subscription, payload: 'offer: v=0 …', vapidKeys: vapid, subject: SUBJECT, ...extra });
  }

  describe('forwarding', () => {
    it('forwards exactly the push headers and the body bytes; drops Cookie, Origin, X-Evil and X-Push-Endpoint', async () => {
      const endpoint = `${upstream.base}/wpush/created?token=AbC-123`;
      const request = pushRequest(endpoint, { ttl: 60, urgency: 'high', topic: 'pushpeer-offer' });
      assert.deepEqual(Object.keys(request.headers).map((h) => h.toLowerCase()).sort(), [...ALLOWED_HEADERS].sort());
      const response = await post(relay, request.endpoint, {
        headers: { ...request.headers, Cookie: 'session=1', 'X-Evil': 'yes', Referer: 'https://app.example/', 'X-Forwarded-For': '10.0.0.1' },
        origin: 'https://app.example',
        body: request.body,
      });
      assert.equal(response.status, 201);
      await response.arrayBuffer();

      assert.equal(upstream.received.length, 1);
      const got = upstream.received[0];
      assert.equal(got.method, 'POST');
      assert.equal(got.url, '/wpush/created?token=AbC-123');
      assert.deepEqual(new Set(got.names), new Set([...baselineNames, ...ALLOWED_HEADERS]),
        'the push service sees the push headers and nothing but what fetch itself adds');
      for (const name of ['cookie', 'origin', 'x-evil', 'referer', 'x-forwarded-for', 'x-push-endpoint']) {
        assert.equal(got.headers[name], undefined, `${name} must not be forwarded`);
      }
      for (const [name, value] of Object.entries(request.headers)) assert.equal(got.headers[name.toLowerCase()], value, name);
      assert.deepEqual(got.body, request.body, 'body bytes intact');
      assert.equal(got.headers['content-length'], String(request.body.length));
    });

    it('201: Location and Link pass through and are exposed; other upstream headers do not', async () => {
      const request = pushRequest(`${upstream.base}/wpush/created`);
      const response = await post(relay, request.endpoint, { headers: request.headers, body: request.body, origin: 'https://anywhere.example' });
      assert.equal(response.status, 201);
      assert.equal(response.headers.get('location'), `${upstream.base}/m/gAAAAABmessage`);
      assert.match(response.headers.get('link'), /urn:ietf:params:push:receipt/);
      assert.equal(response.headers.get('access-control-allow-origin'), '*');
      assert.deepEqual(response.headers.get('access-control-expose-headers').toLowerCase().split(/, */), EXPOSED);
      for (const name of ['set-cookie', 'x-upstream-internal', 'strict-transport-security', 'x-push-relay-error']) {
        assert.equal(response.headers.get(name), null, name);
      }
    });

    it('429: status, Retry-After (exposed) and body pass through', async () => {
      const request = pushRequest(`${upstream.base}/wpush/busy`);
      const response = await post(relay, request.endpoint, { headers: request.headers, body: request.body });
      assert.equal(response.status, 429);
      assert.equal(response.headers.get('retry-after'), '30');
      assert.ok(response.headers.get('access-control-expose-headers').split(/, */).includes('Retry-After'));
      assert.equal(response.headers.get('x-push-relay-error'), null, 'an upstream answer is not a relay error');
      assert.equal(response.headers.get('location'), null, 'no header the push service did not send');
      assert.equal(response.headers.get('link'), null);
      assert.deepEqual(await response.json(), { code: 429, errno: 999, error: 'Too Many Requests' });
    });

    it('410: the push service\'s answer (subscription gone) passes through with its body and Content-Type', async () => {
      const request = pushRequest(`${upstream.base}/wpush/gone`);
      const response = await post(relay, request.endpoint, { headers: request.headers, body: request.body });
      assert.equal(response.status, 410);
      assert.equal(response.headers.get('content-type'), 'application/json');
      assert.equal(response.headers.get('x-push-relay-error'), null);
      assert.equal((await response.json()).errno, 106);
    });

    it('204 from upstream: no body', async () => {
      const request = pushRequest(`${upstream.base}/wpush/no-content`);
      const response = await post(relay, request.endpoint, { headers: request.headers, body: request.body });
      assert.equal(response.status, 204);
      assert.equal((await response.arrayBuffer()).byteLength, 0);
    });

    it('a redirect is not followed: the 307 and its Location come back, the push service saw one request', async () => {
      const request = pushRequest(`${upstream.base}/wpush/redirect`);
      const response = await post(relay, request.endpoint, { headers: request.headers, body: request.body });
      assert.equal(response.status, 307);
      assert.equal(response.headers.get('location'), `${upstream.base}/wpush/created`);
      assert.deepEqual(upstream.received.map((r) => r.url), ['/wpush/redirect']);
    });

    it('an upstream body is capped at 64 KiB', async () => {
      const request = pushRequest(`${upstream.base}/wpush/huge`);
      const response = await post(relay, request.endpoint, { headers: request.headers, body: request.body });
      assert.equal(response.status, 200);
      assert.equal((await response.arrayBuffer()).byteLength, 64 * 1024);
    });

    it('a push without a body needs no Content-Encoding', async () => {
      const request = pushRequest(`${upstream.base}/wpush/created`);
      const response = await post(relay, request.endpoint, { headers: { Authorization: request.headers.Authorization, TTL: '0' } });
      assert.equal(response.status, 201);
      assert.equal(upstream.received[0].body.length, 0);
      assert.equal(upstream.received[0].headers.ttl, '0');
    });

    it('a body of exactly 4096 bytes is forwarded', async () => {
      const request = pushRequest(`${upstream.base}/wpush/created`);
      const body = crypto.randomBytes(4096);
      const response = await post(relay, request.endpoint, { headers: request.headers, body });
      assert.equal(response.status, 201);
      assert.deepEqual(Buffer.from(upstream.received[0].body), body);
    });
  });

  describe('refusals (nothing reaches the push service)', () => {
    it('a host not on the list: 403 HOST_NOT_ALLOWED', async () => {
      const { headers, body } = pushRequest(`${upstream.base}/wpush/created`);
      for (const endpoint of [
        `http://localhost:${upstream.port}/wpush/created`, // the same fake, under a name that is not listed
        `https://127.0.0.1:${upstream.port}/wpush/created`, // listed for http, not https
        `http://127.0.0.1:${upstream.port + 1 === refusedPort ? upstream.port + 2 : upstream.port + 1}/wpush/created`,
        'https://push.example.net/wpush/created',
      ]) {
        await expectRelayError(await post(relay, endpoint, { headers, body }), 403, 'HOST_NOT_ALLOWED');
      }
      assert.equal(upstream.received.length, 0);
      assert.ok(logs.every((e) => e.status === 403 && e.host !== null));
    });

    it('http to a host that is not loopback: 403, and allowHosts refuses to list one', async () => {
      const { headers, body } = pushRequest(`${upstream.base}/wpush/created`);
      for (const endpoint of ['http://fcm.googleapis.com/fcm/send/abc', 'http://push.example.net/x', 'http://10.0.0.1/x']) {
        await expectRelayError(await post(relay, endpoint, { headers, body }), 403, 'HOST_NOT_ALLOWED');
      }
      for (const entry of ['http://push.example.net', 'http://10.0.0.1:8080', 'http://0.0.0.0:80']) {
        assert.throws(() => createRelay({ allowHosts: [entry] }), (e) => e instanceof PushPeerError && e.code === 'BAD_ARGUMENT', entry);
      }
      assert.equal(upstream.received.length, 0);
    });

    it('a 4097-byte body: 413 PAYLOAD_TOO_LARGE', async () => {
      const { endpoint, headers } = pushRequest(`${upstream.base}/wpush/created`);
      await expectRelayError(await post(relay, endpoint, { headers, body: new Uint8Array(4097) }), 413, 'PAYLOAD_TOO_LARGE');
      assert.equal(upstream.received.length, 0);
    });

    it('a streamed body without Content-Length that goes over 4096 bytes: 413', async () => {
      const { endpoint, headers } = pushRequest(`${upstream.base}/wpush/created`);
      const result = await postChunked(relay, endpoint, headers, { chunk: 1000, total: 256 * 1024 });
      assert.equal(result.status, 413);
      assert.equal(result.headers['x-push-relay-error'], 'PAYLOAD_TOO_LARGE');
      // and a small chunked body still goes through
      const small = await postChunked(relay, endpoint, headers, { chunk: 1000, total: 3000 });
      assert.equal(small.status, 201);
      assert.deepEqual(upstream.received.map((r) => r.body.length), [3000]);
    });

    it('malformed push headers: 400 with a code', async () => {
      const request = pushRequest(`${upstream.base}/wpush/created`);
      const without = (name) => Object.fromEntries(Object.entries(request.headers).filter(([k]) => k !== name));
      const cases = [
        ['TTL', '-1', 'BAD_TTL'], ['TTL', '2419201', 'BAD_TTL'], ['TTL', '1.5', 'BAD_TTL'], ['TTL', 'soon', 'BAD_TTL'],
        ['TTL', '', 'BAD_TTL'], ['TTL', null, 'BAD_TTL'],
        ['Urgency', 'urgent', 'BAD_URGENCY'], ['Urgency', 'HIGH', 'BAD_URGENCY'], ['Urgency', '', 'BAD_URGENCY'],
        ['Topic', 'x'.repeat(33), 'BAD_TOPIC'], ['Topic', 'has space', 'BAD_TOPIC'], ['Topic', 'a+b/c=', 'BAD_TOPIC'],
        ['Topic', '', 'BAD_TOPIC'],
        ['Content-Encoding', 'aesgcm', 'BAD_CONTENT_ENCODING'], ['Content-Encoding', 'gzip', 'BAD_CONTENT_ENCODING'],
        ['Content-Encoding', null, 'BAD_CONTENT_ENCODING'],
        ['Authorization', 'Bearer abc', 'BAD_AUTHORIZATION'], ['Authorization', 'vapid t=abc', 'BAD_AUTHORIZATION'],
        ['Authorization', 'key=AAAA', 'BAD_AUTHORIZATION'], ['Authorization', null, 'BAD_AUTHORIZATION'],
        ['Content-Type', 'not a type', 'BAD_CONTENT_TYPE'],
      ];
      for (const [name, value, code] of cases) {
        const headers = value === null ? without(name) : { ...request.headers, [name]: value };
        const response = await post(relay, request.endpoint, { headers, body: request.body });
        await expectRelayError(response, 400, code);
      }
      for (const endpoint of ['', 'not a url', '/wpush/created', 'ftp://127.0.0.1/x', `http://user:pw@127.0.0.1:${upstream.port}/wpush/created`,
        `${upstream.base}/wpush/created#frag`, `${upstream.base}/${'a'.repeat(3000)}`]) {
        await expectRelayError(await post(relay, endpoint, { headers: request.headers, body: request.body }), 400, 'BAD_ENDPOINT');
      }
      await expectRelayError(await post(relay, undefined, { headers: request.headers, body: request.body }), 400, 'BAD_ENDPOINT');
      assert.equal(upstream.received.length, 0);
    });

    it('other paths: 404; other methods: 405', async () => {
      const { endpoint, headers, body } = pushRequest(`${upstream.base}/wpush/created`);
      await expectRelayError(await post(relay, endpoint, { headers, body, path: '/' }), 404, 'NOT_FOUND');
      await expectRelayError(await post(relay, endpoint, { headers, body, path: '/push/x' }), 404, 'NOT_FOUND');
      const get = await post(relay, endpoint, { method: 'GET' });
      await expectRelayError(get, 405, 'METHOD_NOT_ALLOWED');
      assert.equal(get.headers.get('allow'), 'POST, OPTIONS');
      assert.equal(upstream.received.length, 0);
    });
  });

  describe('CORS', () => {
    it('preflight: 204 with POST, exactly the forwarded headers + X-Push-Endpoint, and Max-Age', async () => {
      const response = await fetch(`${relay.url}/push`, {
        method: 'OPTIONS',
        headers: {
          Origin: 'https://app.example',
          'Access-Control-Request-Method': 'POST',
          'Access-Control-Request-Headers': 'authorization,content-encoding,ttl,urgency,topic,x-push-endpoint',
        },
      });
      assert.equal(response.status, 204);
      assert.equal((await response.arrayBuffer()).byteLength, 0);
      assert.equal(response.headers.get('access-control-allow-origin'), '*');
      assert.equal(response.headers.get('access-control-allow-methods'), 'POST');
      assert.deepEqual(response.headers.get('access-control-allow-headers').toLowerCase().split(/, */).sort(),
        [...ALLOWED_HEADERS, 'x-push-endpoint'].sort());
      assert.match(response.headers.get('access-control-max-age'), /^[1-9][0-9]*$/);
      assert.equal(upstream.received.length, 0);
    });

    it('a list of origins: the listed one is echoed with Vary: Origin, others get 403 and nothing is forwarded', async () => {
      const request = pushRequest(`${upstream.base}/wpush/created`);
      const send = (origin) => post(listed, request.endpoint, { headers: request.headers, body: request.body, origin });

      for (const origin of ['https://app.example', 'http://localhost:8080']) {
        const ok = await send(origin);
        assert.equal(ok.status, 201, origin);
        assert.equal(ok.headers.get('access-control-allow-origin'), origin);
        assert.equal(ok.headers.get('vary'), 'Origin');
      }
      assert.equal(upstream.received.length, 2);

      for (const origin of ['https://evil.example', 'https://app.example.evil.example', 'http://app.example', 'null']) {
        const refused = await send(origin);
        await expectRelayError(refused, 403, 'ORIGIN_NOT_ALLOWED');
        assert.equal(refused.headers.get('access-control-allow-origin'), null, origin);
        assert.equal(refused.headers.get('vary'), 'Origin');
      }
      assert.equal(upstream.received.length, 2);

      // Not from a browser (no Origin): forwarded, no CORS grant needed.
      const noOrigin = await post(listed, request.endpoint, { headers: request.headers, body: request.body });
      assert.equal(noOrigin.status, 201);
      assert.equal(noOrigin.headers.get('access-control-allow-origin'), null);
      assert.equal(noOrigin.headers.get('vary'), 'Origin');
      assert.equal(upstream.received.length, 3);

      const preflight = (origin) => fetch(`${listed.url}/push`, { method: 'OPTIONS', headers: { Origin: origin, 'Access-Control-Request-Method': 'POST' } });
      const good = await preflight('https://app.example');
      assert.equal(good.status, 204);
      assert.equal(good.headers.get('access-control-allow-origin'), 'https://app.example');
      const bad = await preflight('https://evil.example');
      assert.equal(bad.status, 403);
      assert.equal(bad.headers.get('access-control-allow-origin'), null);
    });

    it('relay errors are readable by the page (CORS headers on every answer)', async () => {
      const response = await post(relay, 'https://push.example.net/x', { headers: { TTL: '0' }, origin: 'https://app.example' });
      await expectRelayError(response, 403, 'HOST_NOT_ALLOWED');
      assert.equal(response.headers.get('access-control-allow-origin'), '*');
      assert.match(response.headers.get('access-control-expose-headers'), /X-Push-Relay-Error/);
    });
  });

  describe('upstream failures', () => {
    it('no answer within timeoutMs: 504 UPSTREAM_TIMEOUT', async () => {
      const request = pushRequest(`${upstream.base}/wpush/slow`);
      const started = Date.now();
      const response = await post(quick, request.endpoint, { headers: request.headers, body: request.body });
      await expectRelayError(response, 504, 'UPSTREAM_TIMEOUT');
      assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
      assert.equal(upstream.received.length, 1);
    });

    it('connection refused: 502 UPSTREAM_UNREACHABLE', async () => {
      const request = pushRequest(`http://127.0.0.1:${refusedPort}/wpush/created`);
      const response = await post(relay, request.endpoint, { headers: request.headers, body: request.body });
      const json = await expectRelayError(response, 502, 'UPSTREAM_UNREACHABLE');
      assert.ok(!JSON.stringify(json).includes('wpush'), 'the error does not quote the endpoint');
    });
  });

  it('log gets method, host, status and duration only: no endpoint path, body or Authorization', async () => {
    const request = pushRequest(`${upstream.base}/wpush/created?token=SECRET-TOKEN`);
    await (await post(relay, request.endpoint, { headers: request.headers, body: request.body })).arrayBuffer();
    await (await post(relay, request.endpoint, { headers: { ...request.headers, TTL: 'x' }, body: request.body })).arrayBuffer();
    assert.equal(logs.length, 2);
    for (const entry of logs) {
      assert.deepEqual(Object.keys(entry).sort(), ['durationMs', 'host', 'method', 'status']);
      assert.equal(entry.method, 'POST');
      assert.equal(entry.host, `127.0.0.1:${upstream.port}`);
      assert.ok(Number.isFinite(entry.durationMs) && entry.durationMs >= 0);
    }
    assert.deepEqual(logs.map((e) => e.status), [201, 400]);
    const text = JSON.stringify(logs);
    for (const secret of ['SECRET-TOKEN', 'wpush', 'vapid', request.headers.Authorization.slice(8, 40)]) {
      assert.ok(!text.includes(secret), secret);
    }
  });
});

// The handler on its own, with options.fetch injected: no network at all.
describe('createRelay (fetch handler)', { timeout: 10_000 }, () => {
  const AUTH = `vapid t=${'a'.repeat(20)}.${'b'.repeat(40)}.${'c'.repeat(86)}, k=${'B'.repeat(87)}`;
  const pushHeaders = { Authorization: AUTH, TTL: '60', 'Content-Encoding': 'aes128gcm', 'Content-Type': 'application/octet-stream' };

  function spyFetch(status = 201) {
    const calls = [];
    const fn = async (url, init) => {
      calls.push({ url, init });
      return new Response(null, { status, headers: { Location: 'https://push.example/m/1' } });
    };
    return { fn, calls };
  }

  function request(endpoint, { headers = pushHeaders, body = new Uint8Array(100), method = 'POST' } = {}) {
    return new Request('https://relay.example/push', {
      method, headers: { ...headers, 'X-Push-Endpoint': endpoint }, body, duplex: 'half',
    });
  }

  it('accepts the known push services and nothing that merely looks like them', async () => {
    assert.deepEqual([...DEFAULT_PUSH_HOSTS].sort(), ['*.notify.windows.com', '*.push.apple.com', 'fcm.googleapis.com',
      'updates.push.services.mozilla.com', 'web.push.apple.com']);
    const spy = spyFetch();
    const relay = createRelay({ fetch: spy.fn });
    const good = [
      'https://updates.push.services.mozilla.com/wpush/v2/gAAAAAB',
      'https://fcm.googleapis.com/fcm/send/dXz:APA91b',
      'https://wns2-par02p.notify.windows.com/w/?token=BQYAAAB',
      'https://web.push.apple.com/QGuQyavXutnMH',
      'https://api.push.apple.com/3/device/abc',
      'https://FCM.googleapis.com:443/fcm/send/x',
    ];
    for (const endpoint of good) {
      const response = await relay(request(endpoint));
      assert.equal(response.status, 201, endpoint);
    }
    assert.deepEqual(spy.calls.map((c) => new URL(c.url).host), ['updates.push.services.mozilla.com', 'fcm.googleapis.com',
      'wns2-par02p.notify.windows.com', 'web.push.apple.com', 'api.push.apple.com', 'fcm.googleapis.com']);
    for (const { init } of spy.calls) {
      assert.equal(init.method, 'POST');
      assert.equal(init.redirect, 'manual');
      assert.ok(init.signal instanceof AbortSignal);
      assert.equal(init.body.length, 100);
    }
    const bad = [
      'https://notify.windows.com/w/', 'https://a.b.notify.windows.com/w/', 'https://evil.com/.notify.windows.com',
      'https://fcm.googleapis.com.evil.example/x', 'https://evilfcm.googleapis.com/x', 'https://fcm.googleapis.com:8443/x',
      'https://fcm.googleapis.com./x', 'http://fcm.googleapis.com/x', 'https://push.apple.com/x', 'https://-x.push.apple.com/x',
    ];
    for (const endpoint of bad) {
      const response = await relay(request(endpoint));
      assert.equal(response.status, 403, endpoint);
      assert.equal((await response.json()).error, 'HOST_NOT_ALLOWED');
    }
    assert.equal(spy.calls.length, good.length);
    const none = createRelay({ fetch: spy.fn, defaultHosts: false });
    assert.equal((await none(request('https://fcm.googleapis.com/fcm/send/x'))).status, 403);
  });

  it('reads an endless body only up to the limit, then cancels it', async () => {
    const spy = spyFetch();
    const relay = createRelay({ fetch: spy.fn });
    let pulled = 0;
    let cancelled = false;
    const endless = new ReadableStream({
      pull(controller) {
        pulled += 1000;
        if (pulled > 1024 * 1024) controller.error(new Error('read far past the limit')); // fail, not hang
        else controller.enqueue(new Uint8Array(1000));
      },
      cancel() {
        cancelled = true;
      },
    }, { highWaterMark: 0 });
    const response = await relay(request('https://fcm.googleapis.com/fcm/send/x', { body: endless }));
    assert.equal(response.status, 413);
    assert.ok(pulled <= 6000, `pulled ${pulled} bytes`);
    await new Promise((resolve) => setImmediate(resolve));
    assert.ok(cancelled, 'the body stream is cancelled');
    assert.equal(spy.calls.length, 0);
  });

  /** A body that sends `first` bytes and then nothing, ever; `cancelled()` tells whether the relay let go of it. */
  function stalledBody(first = 10) {
    let cancelled = false;
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new Uint8Array(first));
      },
      cancel() {
        cancelled = true;
      },
    });
    return { stream, cancelled: () => cancelled };
  }

  it('a body that stops arriving: 408 BODY_TIMEOUT after bodyTimeoutMs, the body cancelled, nothing forwarded', async () => {
    const spy = spyFetch();
    const relay = createRelay({ fetch: spy.fn, bodyTimeoutMs: 100 });
    const body = stalledBody();
    const response = await relay(request('https://fcm.googleapis.com/fcm/send/x', { body: body.stream }));
    assert.equal(response.status, 408);
    assert.equal(response.headers.get('x-push-relay-error'), 'BODY_TIMEOUT');
    assert.equal((await response.json()).error, 'BODY_TIMEOUT');
    assert.equal(response.headers.get('access-control-allow-origin'), '*', 'readable by the page');
    await new Promise((resolve) => setImmediate(resolve));
    assert.ok(body.cancelled(), 'the body stream is cancelled');
    assert.equal(spy.calls.length, 0);
  });

  it('the deadline is for the whole body: a client that trickles a byte at a time is cut off too', async () => {
    const spy = spyFetch();
    const relay = createRelay({ fetch: spy.fn, bodyTimeoutMs: 150 });
    let sent = 0;
    const trickle = new ReadableStream({
      async pull(controller) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        sent += 1;
        if (sent > 4000) controller.close(); // would end long after any sane deadline; fail, not hang
        else controller.enqueue(new Uint8Array(1));
      },
    }, { highWaterMark: 0 });
    const response = await relay(request('https://fcm.googleapis.com/fcm/send/x', { body: trickle }));
    assert.equal(response.status, 408);
    assert.equal((await response.json()).error, 'BODY_TIMEOUT');
    assert.equal(spy.calls.length, 0);
  });

  it('by default the body must have arrived 5 s after the relay starts reading it', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] }); // virtual time: nothing here waits 5 s
    const spy = spyFetch();
    const relay = createRelay({ fetch: spy.fn });
    const body = stalledBody();
    let settled = false;
    const pending = relay(request('https://fcm.googleapis.com/fcm/send/x', { body: body.stream })).finally(() => {
      settled = true;
    });
    const turns = async () => {
      for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    };
    await turns();
    t.mock.timers.tick(4999);
    await turns();
    assert.equal(settled, false, 'still waiting for the body at 4999 ms');
    t.mock.timers.tick(1);
    const response = await pending;
    assert.equal(response.status, 408);
    assert.equal((await response.json()).error, 'BODY_TIMEOUT');
    assert.equal(spy.calls.length, 0);
  });

  it('a body that arrives in time is forwarded whole', async () => {
    const spy = spyFetch();
    const relay = createRelay({ fetch: spy.fn, bodyTimeoutMs: 2000 });
    const parts = [new Uint8Array(1000).fill(1), new Uint8Array(1000).fill(2)];
    const body = new ReadableStream({
      async pull(controller) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        const part = parts.shift();
        if (part) controller.enqueue(part);
        else controller.close();
      },
    }, { highWaterMark: 0 });
    const response = await relay(request('https://fcm.googleapis.com/fcm/send/x', { body }));
    assert.equal(response.status, 201);
    assert.deepEqual([...new Set(spy.calls[0].init.body)], [1, 2]);
    assert.equal(spy.calls[0].init.body.length, 2000);
  });

  it('a declared Content-Length over the limit is refused before reading', async () => {
    const spy = spyFetch();
    const relay = createRelay({ fetch: spy.fn });
    let pulled = false;
    const body = new ReadableStream({
      pull(controller) {
        pulled = true;
        controller.enqueue(new Uint8Array(5000));
        controller.close();
      },
    }, { highWaterMark: 0 });
    const response = await relay(request('https://fcm.googleapis.com/fcm/send/x', { headers: { ...pushHeaders, 'Content-Length': '5000' }, body }));
    assert.equal(response.status, 413);
    assert.equal(pulled, false);
  });

  it('accepts both orders of the vapid parameters', async () => {
    const spy = spyFetch();
    const relay = createRelay({ fetch: spy.fn });
    const reordered = `vapid k=${'B'.repeat(87)}, t=${'a'.repeat(20)}.${'b'.repeat(40)}.${'c'.repeat(86)}`;
    const response = await relay(request('https://fcm.googleapis.com/x', { headers: { ...pushHeaders, Authorization: reordered } }));
    assert.equal(response.status, 201);
    assert.equal(spy.calls[0].init.headers.get('authorization'), reordered);
  });

  it('calls fetch as a plain function, as workerd requires (its fetch throws "Illegal invocation" on another this)', async () => {
    // workerd's fetch refuses any `this` but the global object (or none); Node's does not care, so check it here.
    const calls = [];
    function strictFetch(url) {
      if (this !== undefined && this !== globalThis) {
        throw new TypeError('Illegal invocation: function called with incorrect `this` reference');
      }
      calls.push(url);
      return Promise.resolve(new Response(null, { status: 201 }));
    }
    const injected = createRelay({ fetch: strictFetch });
    assert.equal((await injected(request('https://fcm.googleapis.com/fcm/send/a'))).status, 201);
    const saved = globalThis.fetch;
    globalThis.fetch = strictFetch;
    try {
      const byDefault = createRelay(); // the global fetch, as on every edge platform
      assert.equal((await byDefault(request('https://fcm.googleapis.com/fcm/send/b'))).status, 201);
    } finally {
      globalThis.fetch = saved;
    }
    assert.deepEqual(calls, ['https://fcm.googleapis.com/fcm/send/a', 'https://fcm.googleapis.com/fcm/send/b']);
  });

  it('an injected fetch that throws: 502, and a failing logger does not fail the push', async () => {
    const relay = createRelay({ fetch: async () => { throw new TypeError('fetch failed: https://fcm.googleapis.com/x'); }, log: () => { throw new Error('log'); } });
    const response = await relay(request('https://fcm.googleapis.com/fcm/send/x'));
    assert.equal(response.status, 502);
    assert.equal((await response.json()).error, 'UPSTREAM_UNREACHABLE');
  });

  it('bad options throw PushPeerError BAD_ARGUMENT', () => {
    const bad = [
      null, { allowHosts: 'fcm.googleapis.com' }, { allowHosts: [''] }, { allowHosts: ['https://x.example/path'] },
      { allowHosts: ['ftp://x.example'] }, { allowOrigins: 'https://app.example' }, { allowOrigins: ['app.example'] },
      { allowOrigins: ['https://app.example/path'] }, { timeoutMs: 0 }, { timeoutMs: 'soon' }, { bodyTimeoutMs: 0 },
      { bodyTimeoutMs: -1 }, { bodyTimeoutMs: Infinity }, { bodyTimeoutMs: '5s' },
      // setTimeout fires at once for more than 2^31 - 1 ms: such a deadline would end every request immediately
      { timeoutMs: 2 ** 31 }, { bodyTimeoutMs: 2 ** 31 }, { fetch: 42 },
      { log: 'console' }, { path: 'push' },
    ];
    for (const options of bad) {
      assert.throws(() => createRelay(options), (e) => e instanceof PushPeerError && e.code === 'BAD_ARGUMENT', JSON.stringify(options));
    }
    assert.equal(typeof createRelay({ allowHosts: ['push.example:8443', 'http://127.0.0.1:9', 'http://[::1]:9', 'http://localhost:9'] }), 'function');
  });
});

// serveRelayNode against clients that hold connections (slow heads and bodies, many sockets from one address),
// through real sockets. The cases wait for real deadlines, so they run side by side.
describe('serveRelayNode: slow and greedy clients', { timeout: 30_000, concurrency: true }, () => {
  let upstream;
  const relays = [];
  const clients = [];
  const AUTH = `vapid t=${'a'.repeat(20)}.${'b'.repeat(40)}.${'c'.repeat(86)}, k=${'B'.repeat(87)}`;

  before(async () => {
    upstream = await startUpstream();
  });

  after(async () => {
    for (const client of clients) client.socket.destroy(); // a failed case leaves its sockets open
    await Promise.all(relays.map((r) => r.close()));
    await upstream?.close();
  });

  /** rawRequest, closed at the end whatever happens. */
  function rawRequest(url, options) {
    const client = rawRequestOnce(url, options);
    clients.push(client);
    return client;
  }

  async function serve(options = {}) {
    const relay = await serveRelayNode({ allowHosts: [upstream.base], ...options });
    relays.push(relay);
    return relay;
  }

  /** Headers of a push to the fake upstream with a `length`-byte body. */
  const pushHead = (relay, length = 100, extra = {}) => requestHead(relay.url, '/push', {
    'X-Push-Endpoint': `${upstream.base}/wpush/created`, Authorization: AUTH, TTL: '60', 'Content-Encoding': 'aes128gcm',
    'Content-Length': length, ...extra,
  });

  /** Asserts a relay-made answer that ends the connection. */
  async function assertCutOff(client, status, code) {
    const answer = await client.answer;
    assert.ok(answer, `the connection closed without an answer (expected ${status} ${code})`);
    assert.equal(answer.status, status, answer.body);
    assert.equal(answer.headers.get('x-push-relay-error'), code);
    assert.equal(JSON.parse(answer.body).error, code);
    assert.equal(answer.headers.get('connection'), 'close');
    await client.closed;
    return answer;
  }

  for (const [label, options] of [['bodyTimeoutMs: 300', { bodyTimeoutMs: 300 }], ['default options (5 s)', {}]]) {
    it(`a client that sends its headers and a few body bytes, then stalls, is answered 408 BODY_TIMEOUT and cut off (${label})`, async () => {
      const relay = await serve(options);
      const client = rawRequest(relay.url, { head: pushHead(relay, 100), body: Buffer.alloc(10, 0x42) });
      await assertCutOff(client, 408, 'BODY_TIMEOUT'); // the test's timeout fails it if the relay does not close
      assert.ok(!upstream.received.some((r) => r.body.length === 10), 'nothing forwarded');
    });
  }

  for (const [label, options] of [['headersTimeoutMs: 300', { headersTimeoutMs: 300 }], ['default options (10 s)', {}]]) {
    it(`a client that stalls in the middle of its headers is answered 408 REQUEST_TIMEOUT and cut off (${label})`, async () => {
      const relay = await serve(options);
      const head = pushHead(relay, 100);
      const client = rawRequest(relay.url, { head: head.slice(0, head.indexOf('TTL')) });
      await assertCutOff(client, 408, 'REQUEST_TIMEOUT');
    });
  }

  it('the whole request (head and body) must arrive within requestTimeoutMs, whatever bodyTimeoutMs says', async () => {
    const relay = await serve({ headersTimeoutMs: 200, requestTimeoutMs: 400, bodyTimeoutMs: 60_000 });
    const client = rawRequest(relay.url, { head: pushHead(relay, 100), body: Buffer.alloc(10, 0x42) });
    await assertCutOff(client, 408, 'REQUEST_TIMEOUT');
  });

  /** A push from `localAddress` that completes: { status, headers, body } of the answer. */
  async function push(relay, localAddress) {
    const body = Buffer.alloc(100, 0x43);
    const client = rawRequest(relay.url, { localAddress, head: pushHead(relay, body.length, { Connection: 'close' }), body });
    const answer = await client.answer;
    client.socket.destroy();
    return answer;
  }

  /** `count` connections from `localAddress` that send a push head and 10 bytes of its 100-byte body, then stall. */
  async function stallers(relay, count, localAddress = '127.0.0.1') {
    const clients = [];
    for (let i = 0; i < count; i++) {
      const client = rawRequest(relay.url, { localAddress, head: pushHead(relay, 100), body: Buffer.alloc(10, 0x42) });
      await client.connected;
      clients.push(client);
    }
    return clients;
  }

  for (const [label, options, cap] of [
    ['maxConnectionsPerClient: 3', { maxConnectionsPerClient: 3, bodyTimeoutMs: 20_000 }, 3],
    ['default options (16)', {}, 16],
  ]) {
    it(`one address holds at most its cap of connections: more get 429 TOO_MANY_CONNECTIONS, another address is served (${label})`, async () => {
      const relay = await serve(options);
      const held = await stallers(relay, cap);
      const refused = await stallers(relay, 2);
      for (const client of refused) {
        const answer = await assertCutOff(client, 429, 'TOO_MANY_CONNECTIONS');
        assert.match(answer.headers.get('retry-after'), /^[1-9][0-9]*$/);
        assert.equal(answer.headers.get('access-control-allow-origin'), '*', 'readable by any page, as allowOrigins is \'*\'');
      }
      const other = await push(relay, '127.0.0.2');
      assert.equal(other?.status, 201, '127.0.0.2 is served while 127.0.0.1 is at its cap');
      for (const client of held) assert.equal(client.socket.destroyed, false, 'the connections within the cap are kept');

      // A connection that ends frees its place: once the relay has seen it close, 127.0.0.1 is served again.
      held[0].socket.destroy();
      let again;
      for (let attempt = 0; attempt < 50; attempt++) {
        again = await push(relay, '127.0.0.1');
        if (again?.status !== 429) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.equal(again?.status, 201, 'a freed place is given again');
      for (const client of held) client.socket.destroy();
    });
  }

  it('with listed origins a refusal made before the request is read grants no origin', async () => {
    const relay = await serve({ maxConnectionsPerClient: 1, allowOrigins: ['https://app.example'] });
    const [held] = await stallers(relay, 1);
    const [refused] = await stallers(relay, 1);
    const answer = await assertCutOff(refused, 429, 'TOO_MANY_CONNECTIONS');
    assert.equal(answer.headers.get('access-control-allow-origin'), null);
    held.socket.destroy();
  });

  it('a request Node cannot parse: 400 BAD_REQUEST (431 for a head over 16 KiB), and the connection closed', async () => {
    const relay = await serve();
    await assertCutOff(rawRequest(relay.url, { head: 'NOT HTTP AT ALL\r\n\r\n' }), 400, 'BAD_REQUEST');
    const huge = rawRequest(relay.url, { head: pushHead(relay, 0, { 'X-Filler': 'x'.repeat(20_000) }) });
    await assertCutOff(huge, 431, 'BAD_REQUEST');
  });

  it('bad Node options throw PushPeerError BAD_ARGUMENT', async () => {
    for (const options of [{ maxConnectionsPerClient: 0 }, { maxConnectionsPerClient: 1.5 }, { maxConnectionsPerClient: '8' },
      { headersTimeoutMs: 0 }, { requestTimeoutMs: -1 }, { headersTimeoutMs: 2000, requestTimeoutMs: 1000 },
      { headersTimeoutMs: 2 ** 31 }]) {
      await assert.rejects(serveRelayNode(options), (e) => e instanceof PushPeerError && e.code === 'BAD_ARGUMENT', JSON.stringify(options));
    }
    const unlimited = await serveRelayNode({ maxConnectionsPerClient: Infinity });
    await unlimited.close();
  });
});
