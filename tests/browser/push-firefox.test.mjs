// Real Firefox against the local push service (tests/push-service): headless firefox-esr subscribes through the
// Mozilla push WebSocket protocol, we send a push built by our Wasm core (RFC 8291 aes128gcm + RFC 8292 VAPID)
// through the service's RFC 8030 endpoint, and Firefox decrypts it itself and fires the service worker's `push`
// event. Firefox's ack code is an independent oracle for our encryption: 100 decrypted, 101 decryption failed.
// Prefs: docs/TESTING.md §3. A tab of the origin stays open all along (Firefox's silent-push quota).
// Needs the Wasm build (tests/run.sh browser builds it). PUSHPEER_PUSH_LOG=1 prints the service's events;
// PUSHPEER_BROWSER_DUMPIO=1 also Firefox's push log (dom.push.loglevel=debug).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { loadCore } from '../../js/core.js';
import { firefoxPrefs, startPushService } from '../push-service/service.mjs';
import { browserVersion, launchBrowser } from './browsers.mjs';
import { withTimeout } from './harness.mjs';
import { startServer } from './server.mjs';

const PAGE_PATH = '/tests/browser/push-page.html';
const SUBJECT = 'mailto:push-test@pushpeer.invalid';
const STEP_MS = 15_000; // any one step (subscribe, a push's round trip)
const TEST_MS = 45_000;

describe('Firefox receives pushpeer pushes through the local push service', { timeout: 4 * 60_000 }, () => {
  let core;
  let service;
  let server;
  let browser;
  let page;
  let vapid;
  let subscription;
  let startMs;
  const consoleLines = [];
  const b64 = (bytes) => Buffer.from(bytes).toString('base64url');

  async function post(request) {
    const response = await withTimeout(fetch(request.endpoint, {
      method: request.method, headers: request.headers, body: request.body,
    }), STEP_MS, `POST ${request.endpoint}`);
    await response.arrayBuffer();
    return response;
  }

  /** POSTs a request that must be accepted; resolves to Firefox's ack ({ type, code, ... }) for it. */
  async function push(request) {
    const response = await post(request);
    assert.equal(response.status, 201, `push service answered ${response.status}`);
    const location = response.headers.get('location');
    assert.match(location ?? '', /\/m\/[0-9a-f-]{36}$/);
    return service.waitForAck(location, { timeoutMs: STEP_MS });
  }

  function pageState() {
    return page.evaluate(() => window.pushTest.received.slice());
  }

  async function diagnostics() {
    const events = service?.received.slice(-15).map(({ body, ...e }) => JSON.stringify(e)) ?? [];
    let received = 'unavailable';
    try {
      received = JSON.stringify(await withTimeout(pageState(), 5000, 'page state'));
    } catch {
      // the page is gone
    }
    return `\npage received: ${received}\nconsole: ${JSON.stringify(consoleLines.slice(-10))}\n` +
      `service events:\n  ${events.join('\n  ')}`;
  }

  async function step(promise, what) {
    try {
      return await promise;
    } catch (error) {
      throw new Error(`${what}: ${error.message}${await diagnostics()}`, { cause: error });
    }
  }

  before(async () => {
    const t0 = Date.now();
    core = await loadCore();
    vapid = core.generateVapidKeys();
    const verbose = process.env.PUSHPEER_PUSH_LOG === '1';
    service = await startPushService({ log: verbose ? (line) => console.log(line) : null });
    server = await startServer();
    const debug = process.env.PUSHPEER_BROWSER_DUMPIO === '1';
    browser = await launchBrowser('firefox', { extraPrefs: firefoxPrefs(service, { debug }) });
    page = await browser.newPage();
    page.on('console', (msg) => consoleLines.push(`${msg.type()}: ${msg.text()}`));
    page.on('pageerror', (err) => consoleLines.push(`pageerror: ${err.message}`));
    await page.goto(server.url(PAGE_PATH), { waitUntil: 'load', timeout: STEP_MS });
    await page.waitForFunction(() => window.pushReady === true, { timeout: STEP_MS });
    startMs = Date.now() - t0;
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await service?.close();
  });

  test('subscribe: Firefox says hello and registers with our applicationServerKey', { timeout: TEST_MS },
    async (t) => {
      t.diagnostic(`firefox ${await browserVersion(browser)}, launched and page loaded in ${startMs} ms`);
      const t0 = Date.now();
      const reg = await step(page.evaluate(() => window.pushTest.register()), 'service worker registration');
      assert.equal(reg.active, true);
      subscription = await step(page.evaluate((key) => window.pushTest.subscribe(key), b64(vapid.publicKey)),
        'pushManager.subscribe');
      t.diagnostic(`registered and subscribed in ${Date.now() - t0} ms`);
      assert.ok(subscription.endpoint.startsWith(`${service.httpOrigin}/wpush/`), subscription.endpoint);
      assert.equal(Buffer.from(subscription.keys.p256dh, 'base64url').length, 65);
      assert.equal(Buffer.from(subscription.keys.auth, 'base64url').length, 16);

      const hello = service.received.find((e) => e.type === 'hello');
      assert.ok(hello, 'hello');
      assert.equal(hello.useWebpush, true);
      const connect = service.received.find((e) => e.type === 'connect');
      assert.equal(connect.protocol, 'push-notification');
      const register = service.received.find((e) => e.type === 'register' && e.status === 200);
      assert.ok(register, 'register');
      assert.equal(register.endpoint, subscription.endpoint);
      assert.equal(register.uaid, hello.uaid);
      // docs/TESTING.md §3: Firefox sends the key as base64url with '=' padding.
      assert.match(register.keyText, /^[A-Za-z0-9_-]+=$/);
      assert.deepEqual(Buffer.from(register.keyText, 'base64url'), Buffer.from(vapid.publicKey));
      assert.equal(service.subscription(subscription.endpoint).connected, true);
    });

  test('a push built by our core: Firefox decrypts it (ack 100) and the service worker gets the text',
    { timeout: TEST_MS }, async (t) => {
      assert.ok(subscription, 'subscribed');
      const text = 'hello from pushpeer';
      const request = core.buildPushRequest({ subscription, payload: text, vapidKeys: vapid, subject: SUBJECT,
        ttl: 60, urgency: 'high', topic: 'hello' });
      const t0 = Date.now();
      const ack = await step(push(request), 'push');
      t.diagnostic(`POST to ack in ${Date.now() - t0} ms`);
      assert.equal(ack.type, 'ack');
      assert.equal(ack.code, 100, 'ack code 100: Firefox decrypted our aes128gcm');
      const messages = await step(page.evaluate(() => window.pushTest.waitMessages(1)), 'service worker message');
      t.diagnostic(`POST to page in ${Date.now() - t0} ms`);
      assert.equal(messages.length, 1);
      assert.equal(messages[0].type, 'push');
      assert.equal(messages[0].text, text);
      assert.deepEqual(messages[0].bytes, [...Buffer.from(text)]);
    });

  test('a body encrypted for another key: Firefox acks 101 and the service worker sees nothing',
    { timeout: TEST_MS }, async () => {
      assert.ok(subscription, 'subscribed');
      const stranger = core.generateVapidKeys();
      const wrong = { endpoint: subscription.endpoint,
        keys: { p256dh: b64(stranger.publicKey), auth: b64(crypto.getRandomValues(new Uint8Array(16))) } };
      const bad = core.buildPushRequest({ subscription: wrong, payload: 'not for you', vapidKeys: vapid,
        subject: SUBJECT, ttl: 60 });
      const ack = await step(push(bad), 'push for another key');
      assert.equal(ack.type, 'ack');
      assert.equal(ack.code, 101, 'ack code 101: decryption failed');
      // A good push afterwards: on one socket Firefox handles them in order, so if the bad one had reached the
      // service worker it would be in the page before this one.
      const after = 'after the failure';
      const ok = await step(push(core.buildPushRequest({ subscription, payload: after, vapidKeys: vapid,
        subject: SUBJECT, ttl: 60 })), 'push after the failure');
      assert.equal(ok.code, 100);
      const messages = await step(page.evaluate(() => window.pushTest.waitMessages(2)), 'service worker messages');
      assert.deepEqual(messages.map((m) => m.text), ['hello from pushpeer', after]);
    });

  test('the page sends a push itself with fetch: works with CORS on, blocked with CORS off',
    { timeout: TEST_MS }, async () => {
      assert.ok(subscription, 'subscribed');
      const args = { subscription, payload: 'from the page', publicKey: b64(vapid.publicKey),
        privateKey: b64(vapid.privateKey), subject: SUBJECT };
      const sent = await step(page.evaluate((a) => window.pushTest.sendFromPage(a), args), 'send from the page');
      assert.equal(sent.status, 201, JSON.stringify(sent));
      const ack = await step(service.waitForAck(sent.location, { timeoutMs: STEP_MS }), 'ack');
      assert.equal(ack.code, 100);
      const messages = await step(page.evaluate(() => window.pushTest.waitMessages(3)), 'service worker messages');
      assert.equal(messages[2].text, 'from the page');

      service.cors = false;
      try {
        const since = service.lastSeq;
        const blocked = await step(page.evaluate((a) => window.pushTest.sendFromPage(a), { ...args,
          payload: 'blocked' }), 'send from the page, CORS off');
        assert.match(blocked.error ?? '', /TypeError/, JSON.stringify(blocked));
        const preflight = service.received.find((e) => e.seq > since && e.type === 'preflight');
        assert.ok(preflight, 'the browser sent a preflight');
        assert.equal(preflight.cors, false);
        assert.equal(service.received.some((e) => e.seq > since && e.type === 'push'), false,
          'no POST after the failed preflight');
      } finally {
        service.cors = true;
      }
    });

  test('unsubscribe: Firefox unregisters, the endpoint answers 410', { timeout: TEST_MS }, async () => {
    assert.ok(subscription, 'subscribed');
    const done = await step(page.evaluate(() => window.pushTest.unsubscribe()), 'unsubscribe');
    assert.equal(done, true);
    const unregister = service.received.find((e) => e.type === 'unregister');
    assert.ok(unregister, 'unregister');
    assert.equal(service.subscription(subscription.endpoint).active, false);
    const response = await post(core.buildPushRequest({ subscription, payload: 'too late', vapidKeys: vapid,
      subject: SUBJECT, ttl: 60 }));
    assert.equal(response.status, 410);
    const messages = await page.evaluate(() => window.pushTest.received.length);
    assert.equal(messages, 3, 'nothing more reached the page');
  });
});
