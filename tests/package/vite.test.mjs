// The published package works when bundled by Vite: a tiny app installs the `npm pack` tarball (so only what
// package.json `files` ships is there), imports 'pushpeer' in its page and 'pushpeer/sw' in its own module service
// worker, and is built with Vite's JS API. The dist/ is served statically and opened in headless Chromium: the
// page loads the Wasm core from the asset Vite emitted (hashed name), runs real operations, and so does the
// service worker. The same app also runs under Vite's dev server, whose dependency optimizer re-bundles the
// package (the Wasm URL must survive that too). ~10 s; needs the Wasm build (js/wasm/).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { lstat, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { build, createLogger, createServer } from 'vite';
import { launchBrowser } from '../browser/browsers.mjs';
import { repoRoot, startServer } from '../browser/server.mjs';
import { createApp, packInto } from './app.mjs';

const INDEX_HTML = `<!doctype html>
<html>
  <head><meta charset="utf-8"><link rel="icon" href="data:,"><title>pushpeer + Vite</title></head>
  <body>
    <output id="result">pending</output>
    <script type="module" src="./main.js"></script>
  </body>
</html>
`;

// The page: the core from the package's main entry, a key pair, an RFC 8291 round trip, an SDP round trip, an
// error that must be the very PushPeerError class the entry exports; then the same core inside the worker.
const MAIN_JS = `import { loadCore, PushPeerError } from 'pushpeer';

const SDP = 'v=0\\r\\no=- 4611731400430051336 2 IN IP4 127.0.0.1\\r\\ns=-\\r\\nt=0 0\\r\\n' +
  'a=group:BUNDLE 0\\r\\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\\r\\nc=IN IP4 0.0.0.0\\r\\n' +
  'a=ice-ufrag:abcd\\r\\na=ice-pwd:abcdefghijklmnopqrstuvwx\\r\\na=setup:actpass\\r\\na=mid:0\\r\\n' +
  'a=sctp-port:5000\\r\\n';

async function inPage() {
  const core = await loadCore();
  const keys = core.generateVapidKeys();
  const auth = crypto.getRandomValues(new Uint8Array(16));
  const body = core.encrypt({ p256dh: keys.publicKey, auth, plaintext: 'hello from a Vite bundle' });
  const plain = new TextDecoder().decode(core.decrypt({ privateKey: keys.privateKey, publicKey: keys.publicKey,
    auth, body }));
  const packed = core.packSdp(SDP);
  let error = null;
  try {
    core.decrypt({ privateKey: keys.privateKey, publicKey: keys.publicKey, auth, body: body.subarray(0, 30) });
  } catch (e) {
    error = { isPushPeerError: e instanceof PushPeerError, code: e.code };
  }
  return {
    publicKey: keys.publicKey.length,
    privateKey: keys.privateKey.length,
    bodyLength: body.length,
    plain,
    sdpRoundTrip: core.unpackSdp(packed) === SDP,
    packedShorter: packed.length < SDP.length,
    error,
  };
}

async function inWorker() {
  const registration = await navigator.serviceWorker.register('./sw.js', { type: 'module', scope: './' });
  const worker = registration.installing ?? registration.waiting ?? registration.active;
  if (worker.state !== 'activated') {
    await new Promise((resolve) => worker.addEventListener('statechange', () => {
      if (worker.state === 'activated') resolve();
    }));
  }
  const channel = new MessageChannel();
  const reply = new Promise((resolve) => { channel.port1.onmessage = (e) => resolve(e.data); });
  worker.postMessage({ app: 'probe' }, [channel.port2]);
  return reply;
}

const out = document.getElementById('result');
try {
  const result = { page: await inPage(), worker: await inWorker() };
  window.__result = { ok: true, ...result };
} catch (error) {
  window.__result = { ok: false, error: String(error?.stack ?? error) };
}
out.textContent = JSON.stringify(window.__result);
`;

// The app's own module service worker: pushpeer's handler plus a probe that loads the core in the worker.
const SW_JS = `import { installPushPeer } from 'pushpeer/sw';
import { loadCore } from 'pushpeer/core';

installPushPeer(self);

self.addEventListener('message', (event) => {
  if (event.data?.app !== 'probe') return;
  event.waitUntil((async () => {
    let reply;
    try {
      const core = await loadCore();
      const keys = core.generateVapidKeys();
      reply = { ok: true, publicKey: keys.publicKey.length, jwt: core.vapidAuthorization({
        endpoint: 'https://push.example.net/x', subject: 'mailto:test@example.net',
        publicKey: keys.publicKey, privateKey: keys.privateKey }).startsWith('vapid t=') };
    } catch (error) {
      reply = { ok: false, error: String(error?.stack ?? error) };
    }
    event.ports[0].postMessage(reply);
  })());
});
`;

// Known and harmless: libsodium's randombytes.c (EM_ASM) falls back to require("crypto") when the module has no
// getRandomValue; core.js always passes one, so the browser stub Vite substitutes is never reached. Any other
// warning fails the build test.
const KNOWN_WARNINGS = [
  /^\[plugin rolldown:vite-resolve\] Module "crypto" has been externalized for browser compatibility, imported by "[^"]*\/node_modules\/pushpeer\/js\/wasm\/pushpeer-core\.mjs"/,
];
// The dev server's dependency optimizer also reports core.js's Node-only `import('node:fs/promises')` (file: URLs
// in Node; never reached in a browser).
const KNOWN_DEV_WARNINGS = [
  ...KNOWN_WARNINGS,
  /Module "node:fs\/promises" has been externalized for browser compatibility, imported by "[^"]*\/node_modules\/\.vite\/deps\//,
];

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

async function listFiles(dir, base = dir) {
  const out = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(full, base)));
    else out.push(path.relative(base, full).split(path.sep).join('/'));
  }
  return out.sort();
}

const PLAINTEXT = 'hello from a Vite bundle';

function assertResult(result) {
  assert.equal(result.ok, true, result.error);
  assert.deepEqual(result.page, {
    publicKey: 65,
    privateKey: 32,
    bodyLength: 86 + PLAINTEXT.length + 1 + 16, // RFC 8188 header with the key id, delimiter, AEAD tag
    plain: PLAINTEXT,
    sdpRoundTrip: true,
    packedShorter: true,
    error: { isPushPeerError: true, code: 'ECE_TRUNCATED_HEADER' },
  });
  assert.deepEqual(result.worker, { ok: true, publicKey: 65, jwt: true });
}

/** Opens the app in a fresh browser context; waits for its result; collects console errors and wasm responses. */
async function openApp(browser, url, t) {
  const context = await browser.createBrowserContext();
  try {
    const page = await context.newPage();
    const problems = [];
    const wasmResponses = [];
    page.on('console', (msg) => {
      if (msg.type() === 'error' || msg.type() === 'warn') problems.push(`console.${msg.type()}: ${msg.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
    page.on('requestfailed', (req) => problems.push(`requestfailed: ${req.url()} ${req.failure()?.errorText}`));
    page.on('response', (res) => {
      if (res.url().includes('.wasm')) wasmResponses.push({ url: res.url(), status: res.status() });
    });
    await page.goto(url, { waitUntil: 'load' });
    await page.waitForFunction(() => window.__result !== undefined, { timeout: 30_000 });
    const result = await page.evaluate(() => window.__result);
    const shown = await page.$eval('#result', (el) => el.textContent);
    t.diagnostic(`result: ${shown}`);
    assert.deepEqual(JSON.parse(shown), result, 'the page shows its result');
    return { result, problems, wasmResponses };
  } finally {
    await context.close();
  }
}

describe('pushpeer bundled by Vite (npm pack tarball, vite build, Chromium)', { timeout: 120_000 }, () => {
  let tmp;
  let appDir;
  let dist;
  let distFiles;
  let wasmAssets;
  let browser;
  const warnings = [];
  const timings = {};
  // Vite's warnings (e.g. "… doesn't exist at build time, it will remain unchanged to be resolved at runtime")
  // are collected: a wasm URL Vite could not follow must fail the test, not scroll by.
  // (Reported through t.diagnostic, not printed as they come.)
  // Vite colours its messages when it thinks it runs in CI (picocolors looks for a CI variable), so the colour
  // codes are stripped before the messages are matched.
  const logger = createLogger('warn', { allowClearScreen: false });
  const collect = (msg) => warnings.push(stripVTControlCharacters(String(msg)));
  logger.warn = collect;
  logger.warnOnce = collect;
  logger.error = collect;

  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'pushpeer-vite-'));
    let t0 = Date.now();
    const tarball = await packInto(tmp);
    appDir = path.join(tmp, 'app');
    await createApp(appDir, tarball, { 'index.html': INDEX_HTML, 'main.js': MAIN_JS, 'sw.js': SW_JS });
    timings.packInstall = Date.now() - t0;

    dist = path.join(appDir, 'dist');
    t0 = Date.now();
    await build({
      root: appDir,
      configFile: false,
      envDir: false,
      logLevel: 'warn',
      customLogger: logger,
      base: './',
      build: {
        outDir: dist,
        emptyOutDir: true,
        rolldownOptions: {
          // The page and the service worker; the worker keeps a fixed name (its URL is its identity).
          input: { main: path.join(appDir, 'index.html'), sw: path.join(appDir, 'sw.js') },
          output: { entryFileNames: (chunk) => (chunk.name === 'sw' ? '[name].js' : 'assets/[name]-[hash].js') },
        },
      },
    });
    timings.build = Date.now() - t0;
    distFiles = await listFiles(dist);
    wasmAssets = distFiles.filter((f) => f.endsWith('.wasm'));
    browser = await launchBrowser('chromium');
  });

  after(async () => {
    await browser?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  test('the app installed the packed tarball (a copy, not a link to the repository)', async () => {
    const installed = path.join(appDir, 'node_modules', 'pushpeer');
    assert.equal((await lstat(installed)).isSymbolicLink(), false);
    const shipped = await listFiles(path.join(installed, 'js', 'wasm'));
    assert.deepEqual(shipped, ['pushpeer-core.mjs', 'pushpeer-core.wasm', 'pushpeer-sw.classic.js']);
  });

  test('vite build emits the release .wasm once, under a hashed name, byte for byte, without warnings', async (t) => {
    t.diagnostic(`npm pack + install ${timings.packInstall} ms, vite build ${timings.build} ms`);
    t.diagnostic(`dist: ${distFiles.join(', ')}`);
    if (warnings.length) t.diagnostic(`Vite warnings: ${warnings.join(' | ')}`);
    assert.deepEqual(warnings.filter((w) => !KNOWN_WARNINGS.some((re) => re.test(w))), [], 'Vite warned while building');
    assert.equal(wasmAssets.length, 1, `exactly one .wasm in dist, got ${JSON.stringify(wasmAssets)}`);
    assert.match(wasmAssets[0], /^assets\/pushpeer-core-[\w-]{8,}\.wasm$/, 'hashed asset name');
    const emitted = await readFile(path.join(dist, wasmAssets[0]));
    const original = await readFile(path.join(repoRoot, 'js', 'wasm', 'pushpeer-core.wasm'));
    assert.equal(sha256(emitted), sha256(original), 'the emitted asset is the shipped module');
    assert.ok(distFiles.includes('sw.js'), 'the service worker entry');
    assert.ok(distFiles.includes('index.html'));
    // Nothing in the output points back at the build machine.
    for (const f of distFiles.filter((name) => /\.(js|html)$/.test(name))) {
      const text = await readFile(path.join(dist, f), 'utf8');
      assert.ok(!text.includes('node_modules'), `${f} mentions node_modules`);
      assert.ok(!text.includes(tmp), `${f} mentions the build directory`);
    }
  });

  test('Chromium: the built page and its service worker load the Wasm asset and run the core', async (t) => {
    const requests = [];
    const server = await startServer({ root: dist, log: (line) => requests.push(line) });
    try {
      const { result, problems } = await openApp(browser, server.url('/'), t);
      assertResult(result);
      // Page and worker each fetched the hashed asset (no-store: nothing cached); nothing missing.
      const wasmGets = requests.filter((line) => line === `GET /${wasmAssets[0]} 200`);
      assert.equal(wasmGets.length, 2, `the page and the worker fetch the asset:\n${requests.join('\n')}`);
      assert.deepEqual(requests.filter((line) => !line.endsWith(' 200')), [], 'requests that failed');
      assert.deepEqual(problems, [], 'console errors or failed requests');
    } finally {
      await server.close();
    }
  });

  test('Chromium: the same app under the Vite dev server (dependency pre-bundling) loads the Wasm', async (t) => {
    const firstWarning = warnings.length;
    const server = await createServer({
      root: appDir,
      configFile: false,
      envDir: false,
      logLevel: 'warn',
      customLogger: logger,
      server: { host: '127.0.0.1', port: 0, hmr: false, watch: null },
    });
    await server.listen();
    try {
      const origin = `http://localhost:${server.httpServer.address().port}`;
      const { result, problems, wasmResponses } = await openApp(browser, `${origin}/`, t);
      assertResult(result);
      t.diagnostic(`wasm: ${wasmResponses.map((r) => `${r.status} ${r.url}`).join(', ')}`);
      assert.ok(wasmResponses.some((r) => r.status === 200 && r.url.endsWith('/pushpeer-core.wasm')),
        `the page fetched the module: ${JSON.stringify(wasmResponses)}`);
      assert.deepEqual(wasmResponses.filter((r) => r.status !== 200), [], 'wasm requests that failed');
      assert.deepEqual(problems, [], 'console errors or failed requests');
      const devWarnings = warnings.slice(firstWarning);
      assert.deepEqual(devWarnings.filter((w) => !KNOWN_DEV_WARNINGS.some((re) => re.test(w))), [], 'Vite warned');
    } finally {
      await server.close();
    }
  });
});
