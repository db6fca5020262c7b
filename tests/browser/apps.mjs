// End-to-end world for the PushPeer tests: the local push service (tests/push-service), a relay (relay/relay.js), the
// static server, and app pages (tests/browser/app/) in real browsers, each browser with its own profile.
//
//   const world = await startWorld();
//   const alice = await world.open('firefox', 'alice');          // a real Firefox subscribed through the service
//   const bob = await world.open('chromium', 'bob');             // Chromium: see below
//   await alice.call('create', { name: 'Alice' });  ...  await world.close();
//
// Firefox subscribes for real (Mozilla push WebSocket protocol, docs/TESTING.md §3). Chromium cannot reach a push
// service offline, so its subscription is made here by a user agent in Node (fake-ua.mjs) with a P-256 key of
// ours; each push for it is decrypted here with http_ece (an independent implementation) and handed to Chromium's
// service worker with the DevTools `ServiceWorker.deliverPushMessage` as base64url text, so the same
// service-worker code runs. Its ack tells the service it arrived.
import assert from 'node:assert/strict';
import { createECDH } from 'node:crypto';
import ece from 'http_ece';

import { serveRelayNode } from '../../relay/relay.js';
import { connectFakeUA } from '../push-service/fake-ua.mjs';
import { firefoxPrefs, startPushService } from '../push-service/service.mjs';
import { launchBrowser } from './browsers.mjs';
import { withTimeout } from './harness.mjs';
import { startServer } from './server.mjs';

export const APP_PATH = '/tests/browser/app/';
export const SUBJECT = 'mailto:e2e@pushpeer.invalid';

class App {
  constructor(world, name, label, browser, page) {
    Object.assign(this, { world, name, label, browser, page });
    this.consoleLines = [];
    page.on('console', (m) => this.consoleLines.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => this.consoleLines.push(`pageerror: ${e.message}`));
    this.delivered = []; // Chromium: pushes handed to the service worker
  }

  call(method, ...args) {
    // The local push service listens on loopback, which a page refuses to push to unless the app allows it.
    if (method === 'create') args[0] = { allowPushHosts: [this.world.service.httpOrigin], ...args[0] };
    return this.page.evaluate((m, a) => window.app[m](...a), method, args);
  }

  /** Opens the app page again in a new tab (e.g. after closing the tab). */
  async reopen() {
    this.page = await this.browser.newPage();
    this.page.on('console', (m) => this.consoleLines.push(`${m.type()}: ${m.text()}`));
    await this.page.goto(this.world.server.url(this.path ?? APP_PATH), { waitUntil: 'load' });
    await this.page.waitForFunction(() => window.appReady === true);
    if (this._expose) await this._expose(this.page);
  }

  async close() {
    await this.ua?.close().catch(() => {});
    // An app in a context of a shared browser closes its context; the browser goes with the app that launched it.
    if (this.context) await this.context.close();
    else await this.browser.close();
  }
}

/**
 * Reads `read()` until `done(value)` holds or `timeoutMs` has passed, and returns the last value read: the
 * caller's assertion on it then says what was there at the end.
 */
export async function pollUntil(read, done, { timeoutMs = 10_000, intervalMs = 100 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * Alice and Bob in Firefox, each app created with their name: the two people most tests need. `alice` and `bob` are
 * their world.open options (e.g. a headed Firefox). Resolves to { alice, bob }.
 */
export async function openAliceAndBob(world, { alice: aliceOptions = {}, bob: bobOptions = {} } = {}) {
  const [alice, bob] = await Promise.all([world.open('firefox', 'alice', aliceOptions),
    world.open('firefox', 'bob', bobOptions)]);
  await Promise.all([alice.call('create', { name: 'Alice', subject: SUBJECT }),
    bob.call('create', { name: 'Bob', subject: SUBJECT })]);
  return { alice, bob };
}

/**
 * `n` callers, each a person of their own (own storage, service worker and subscription) in one Chromium: the first
 * launches it, the others are contexts inside it. Each app is created (named caller-i) and subscribed.
 */
export async function openCallers(world, n) {
  const callers = [await world.open('chromium', 'caller-1')];
  for (let i = 2; i <= n; i++) callers.push(await world.open('chromium', `caller-${i}`, { inside: callers[0] }));
  await Promise.all(callers.map((c) => c.call('create', { name: c.label, subject: SUBJECT, hostSubscribe: true })));
  return callers;
}

/**
 * Reloads the app's page and starts the app on the fresh page armed to reload itself once more at `step` of the
 * next call (app.mjs: reloadOn).
 */
export async function armReload(app, step, createOptions) {
  await app.page.reload({ waitUntil: 'load' });
  await app.page.waitForFunction(() => window.appReady === true);
  await app.call('create', { ...createOptions, reloadOn: step });
  // Marks this document: startAfterReload waits for another one (the armed page has appReady too).
  await app.page.evaluate(() => { window.armedForReload = true; });
}

/** Waits (up to 30 s) until the page reloaded itself at `step`, then starts the app again on the new page. */
export async function startAfterReload(app, step, createOptions) {
  await pollUntil(() => app.page.evaluate(() => sessionStorage.getItem('reloaded')).catch(() => null),
    (v) => v === step, { timeoutMs: 30_000, intervalMs: 50 });
  // The armed document carries a mark and has appReady too: wait for the new one, not the one going away.
  await app.page.waitForFunction(() => window.appReady === true && !window.armedForReload, { timeout: 30_000 });
  await app.page.evaluate(() => sessionStorage.removeItem('reloaded'));
  await app.call('create', createOptions);
}

/**
 * An Error for a failed end-to-end step: the original message, then per app its events, inbox (read from
 * IndexedDB, so also before a PushPeer exists), Chromium's DevTools deliveries and last console lines, then the
 * push service's last pushes, acks and notifications, then `extra` (e.g. a helper process's stderr).
 */
export async function diagnose(world, apps, error, extra = '') {
  const lines = [];
  for (const a of apps) {
    let events = 'unavailable';
    let inbox = 'unavailable';
    try {
      events = JSON.stringify(await a.call('events'));
      inbox = JSON.stringify(await a.call('rawInbox'));
    } catch {
      // page gone
    }
    lines.push(`${a.label}: events ${events}\n  inbox ${inbox}\n` +
      (a.delivered.length ? `  delivered ${JSON.stringify(a.delivered)}\n` : '') +
      `  console ${JSON.stringify(a.consoleLines.slice(-12))}`);
  }
  const pushes = world.service.received.filter((e) => ['push', 'ack', 'nack', 'notification'].includes(e.type))
    .slice(-12).map(({ body, headers, ...e }) => JSON.stringify(e));
  return new Error(`${error.message}\n${lines.join('\n')}\nservice:\n  ${pushes.join('\n  ')}${extra}`, { cause: error });
}

/** Connects caller -> callee with the callee's card; asserts exactly two pushes and messages both ways. */
export async function connectAndTalk(world, caller, callee, t, connectOptions = {}) {
  const since = world.service.lastSeq;
  const card = await callee.call('card');
  const before = await callee.call('events', 'connection').then((e) => e.length);
  const result = await caller.call('connect', card.text, connectOptions);
  assert.equal(result.error, undefined, `connect failed: ${JSON.stringify(result.error)}`);
  t?.diagnostic(`${caller.label} -> ${callee.label}: open in ${Math.round(result.ms)} ms`);
  const calleeIndex = (await callee.call('waitConnections', before + 1)) - 1;
  await caller.call('send', result.index, `hello ${callee.label}`);
  await callee.call('send', calleeIndex, `hello ${caller.label}`);
  assert.deepEqual(await callee.call('waitMessages', calleeIndex, 1), [`hello ${callee.label}`]);
  assert.deepEqual(await caller.call('waitMessages', result.index, 1), [`hello ${caller.label}`]);
  const pushes = world.pushesSince(since);
  assert.equal(pushes.length, 2, `exactly two pushes (offer, answer), got ${pushes.length}`);
  return { callerIndex: result.index, calleeIndex, pushes, ms: result.ms };
}

/** Options: cors (push service), relay (start one, default true), log, serverLog (each request the app server answered). */
export async function startWorld({ cors = true, log = null, serverLog = null } = {}) {
  const service = await startPushService({ cors, log });
  const server = await startServer({ log: serverLog });
  const relay = await serveRelayNode({ allowHosts: [service.httpOrigin], defaultHosts: false });
  const apps = new Set();

  /**
   * Options: headless (default true), env (of the browser process), extraPrefs (Firefox, over the service's),
   * inside (Chromium: an app whose browser to share, in a new context of its own: own storage, service worker and
   * subscription, without a browser process per person), hostPush (Chromium: the push leg played from here, below;
   * default true; false leaves the page with Chromium's own push service, which offline never answers).
   */
  async function open(name, label = name, { headless = true, env, extraPrefs = {}, path = APP_PATH,
    ready = () => window.appReady === true, inside, hostPush = true } = {}) {
    const options = name === 'firefox' ? { extraPrefs: { ...firefoxPrefs(service), ...extraPrefs }, headless, env }
      : { headless, env };
    const browser = inside ? inside.browser : await launchBrowser(name, options);
    const context = inside ? await browser.createBrowserContext() : null;
    let app;
    try {
      if (name === 'chromium') {
        await (context ?? browser.defaultBrowserContext()).overridePermissions(server.origin, ['notifications']);
      }
      const page = context ? await context.newPage() : (await browser.pages())[0] ?? await browser.newPage();
      app = new App(world, name, label, browser, page);
      app.context = context;
      app.path = path;
      if (name === 'chromium' && hostPush) await chromiumPush(app);
      await page.goto(server.url(path), { waitUntil: 'load' });
      await page.waitForFunction(ready);
      apps.add(app);
      return app;
    } catch (error) {
      await (context ?? browser).close();
      throw error;
    }
  }

  /** Successful POSTs the service accepted (201) after `since` (a service.lastSeq). */
  function pushesSince(since) {
    return service.received.filter((e) => e.seq > since && e.type === 'push' && e.status === 201);
  }

  async function close() {
    // Contexts first, then the browsers they live in.
    await Promise.all([...apps].filter((a) => a.context).map((a) => a.close().catch(() => {})));
    await Promise.all([...apps].filter((a) => !a.context).map((a) => a.close().catch(() => {})));
    await relay.close();
    await server.close();
    await service.close();
  }

  const world = { service, server, relay, relayUrl: `${relay.url}/push`, open, pushesSince, close };
  return world;
}

/** Chromium's push leg, played by a Node user agent + DevTools delivery (see the top of this file). */
async function chromiumPush(app) {
  const { world } = app;
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  const auth = crypto.getRandomValues(new Uint8Array(16));
  let registrationId = null;
  let cdp = null;

  const expose = async (page) => {
    cdp = await page.createCDPSession();
    cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations }) => {
      const scope = world.server.url(app.path.split(/[?#]/)[0]);
      const mine = registrations.find((r) => r.scopeURL === scope && !r.isDeleted);
      if (mine) registrationId = mine.registrationId;
    });
    await cdp.send('ServiceWorker.enable');
  };
  app._expose = expose;
  await app.page.exposeFunction('pushpeerSubscribe', async (keyText) => {
    app.ua ??= await connectFakeUA(world.service.wsUrl);
    const reply = await app.ua.register(Buffer.from(keyText, 'base64url'));
    if (reply.status !== 200) throw new Error(`register: ${JSON.stringify(reply)}`);
    app.endpoint = reply.pushEndpoint;
    pump();
    return { endpoint: reply.pushEndpoint, expirationTime: null,
      keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: Buffer.from(auth).toString('base64url') } };
  });
  await expose(app.page);

  let pumping = false;
  async function pump() {
    if (pumping) return;
    pumping = true;
    while (app.ua && app.ua.ws.readyState === 1) {
      let note;
      try {
        note = await app.ua.nextNotification({ timeoutMs: 3_600_000 });
      } catch {
        break;
      }
      try {
        const plaintext = ece.decrypt(Buffer.from(note.data, 'base64url'), { version: 'aes128gcm',
          privateKey: ecdh, authSecret: Buffer.from(auth) });
        await withTimeout((async () => {
          while (registrationId === null) await new Promise((r) => setTimeout(r, 20));
        })(), 10_000, 'Chromium service-worker registration id');
        await cdp.send('ServiceWorker.deliverPushMessage', { origin: world.server.origin, registrationId,
          data: plaintext.toString('base64url') });
        app.delivered.push({ bytes: plaintext.length, at: Date.now() });
        app.ua.ack(note, 100);
      } catch (error) {
        app.delivered.push({ error: String(error?.message ?? error) });
        app.ua.ack(note, 101);
      }
    }
    pumping = false;
  }
}
