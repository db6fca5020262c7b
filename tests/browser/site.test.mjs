// Signed site versions in real browsers (docs/PROTOCOL.md §10, js/site/site-files.js): a site published with the
// command line's code and served by a counting origin, a module service worker with installPushPeer's `site` option,
// in Chromium and in Firefox. A listed asset comes from the origin once, checked, then from the worker's store; a
// tampered asset is never answered (502); ranges work; unlisted paths and pages always go to the network; a manifest
// by another key or with an older version is refused and the version in use keeps working; a newer version reaches
// the page (siteupdate) and only its changed file is fetched again.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { loadCore } from '../../js/core.js';
import { publishSite } from '../../bin/site-publish.mjs';
import { BROWSERS, launchBrowser } from './browsers.mjs';
import { repoRoot, startServer } from './server.mjs';

const DIR = `build/browser-site-${process.pid}`;
const BASE = `/${DIR}/`;

function bytesOf(size, seed) {
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i++) out[i] = (i * 7 + seed * 13 + (i >> 9)) & 0xff;
  return out;
}
const sha = (b) => createHash('sha256').update(b).digest('hex');

describe('signed site versions: the worker answers listed files verified', { timeout: 6 * 60_000 }, () => {
  let core;
  let server;
  let keys;
  const requests = [];
  const root = path.join(repoRoot, DIR);
  const assets = { 'big.bin': bytesOf(3 << 20, 1), 'app.js': Buffer.from('export const version = 1;\n'),
    'tampered.bin': bytesOf(300_000, 2), 'free.txt': Buffer.from('not listed') };

  const count = (name) => requests.filter((r) => r === `${BASE}${name}`).length;

  async function write(name, bytes) {
    await mkdir(path.dirname(path.join(root, name)), { recursive: true });
    await writeFile(path.join(root, name), bytes);
  }

  /** Version 1 of the site; then the origin changes one listed file: what it serves is not what is listed. */
  async function publishFirst() {
    for (const [name, bytes] of Object.entries(assets)) await write(name, bytes);
    await publishSite(core, root, { key: keys, version: 1, previous: '/nonexistent', exclude: ['sw.js', 'free.txt'] });
    const altered = Buffer.from(assets['tampered.bin']);
    altered[200_000] ^= 1;
    await write('tampered.bin', altered);
  }

  before(async () => {
    core = await loadCore();
    keys = core.generateVapidKeys();
    await rm(root, { recursive: true, force: true });
    await write('sw.js', `import { installPushPeer } from '/sw/handler.js';\n` +
      `installPushPeer(self, { notify: false, site: { publisherKey: '${core.base64urlEncode(keys.publicKey)}' } });\n`);
    await write('index.html', `<!doctype html><meta charset="utf-8"><title>site</title><script type="module">
      window.events = [];
      new BroadcastChannel('pushpeer:pushpeer').onmessage = (e) => window.events.push(e.data);
      // Ask the worker to look at the manifest now (it does on navigations, at most once a minute).
      window.refresh = () => new Promise((resolve) => {
        const { port1, port2 } = new MessageChannel();
        port1.onmessage = (e) => resolve(e.data);
        navigator.serviceWorker.controller.postMessage({ pushpeer: 'site-refresh' }, [port2]);
      });
      window.ready = navigator.serviceWorker.register('./sw.js', { type: 'module' }).then(() => navigator.serviceWorker.ready);
      window.get = async (name, headers = {}) => {
        const r = await fetch(name, { headers });
        const bytes = new Uint8Array(await r.arrayBuffer());
        const digest = [...new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))].map((b) => b.toString(16).padStart(2, '0')).join('');
        return { status: r.status, type: r.headers.get('Content-Type'), version: r.headers.get('X-PushPeer-Site-Version'),
          range: r.headers.get('Content-Range'), length: bytes.length, digest, text: bytes.length < 200 ? new TextDecoder().decode(bytes) : '' };
      };
    </script>`);
    server = await startServer({ log: (line) => {
      const [, p] = line.split(' ');
      if (p?.startsWith(BASE)) requests.push(p);
    } });
  });

  after(async () => {
    await server?.close();
    await rm(root, { recursive: true, force: true });
  });

  for (const name of BROWSERS) {
    test(`${name}: listed files verified and kept, tampered ones refused, unlisted ones untouched, versions`, async () => {
      await publishFirst();
      requests.length = 0;
      const browser = await launchBrowser(name);
      try {
        const page = await browser.newPage();
        await page.goto(server.url(`${BASE}index.html`));
        await page.evaluate(() => window.ready);
        // Controlled from the next load on.
        await page.reload();
        await page.evaluate(() => window.ready);
        await page.waitForFunction(() => Boolean(navigator.serviceWorker.controller), { timeout: 20_000 });

        const big = await page.evaluate(() => window.get('big.bin'));
        assert.deepEqual([big.status, big.length, big.digest, big.version, big.type], [200, assets['big.bin'].length,
          sha(assets['big.bin']), '1', 'application/octet-stream']);
        const js = await page.evaluate(() => window.get('app.js'));
        assert.deepEqual([js.status, js.text, js.type], [200, 'export const version = 1;\n', 'text/javascript']);
        await page.reload();
        await page.waitForFunction(() => Boolean(navigator.serviceWorker.controller));
        assert.equal((await page.evaluate(() => window.get('big.bin'))).digest, sha(assets['big.bin']));
        assert.equal(count('big.bin'), 1, 'the origin served big.bin once: then the worker\'s store');
        const part = await page.evaluate(() => window.get('big.bin', { Range: 'bytes=1000000-1000099' }));
        assert.deepEqual([part.status, part.range, part.digest], [206, `bytes 1000000-1000099/${3 << 20}`,
          sha(assets['big.bin'].subarray(1000000, 1000100))]);

        const bad = await page.evaluate(() => window.get('tampered.bin'));
        assert.equal(bad.status, 502);
        assert.match(bad.text, /CHUNK_MISMATCH/);
        const free1 = await page.evaluate(() => window.get('free.txt'));
        const free2 = await page.evaluate(() => window.get('free.txt'));
        assert.equal(free1.text, 'not listed');
        assert.equal(free2.text, 'not listed');
        assert.equal(count('free.txt'), 2, 'unlisted: the network each time');
        const pages = count('index.html');
        await page.reload();
        assert.equal(count('index.html'), pages + 1, 'a page: the network');

        // Another key, then an older version: refused, the version in use answers.
        const good = await readFile(path.join(root, 'pushpeer-site.bin'));
        await publishSite(core, root, { key: core.generateVapidKeys(), version: 9, previous: '/nonexistent',
          exclude: ['sw.js', 'free.txt'] });
        assert.equal((await page.evaluate(() => window.refresh())).error?.code, 'WRONG_PUBLISHER');
        await page.waitForFunction(() => window.events.some((e) => e?.pushpeer === 'siteerror'), { timeout: 20_000 });
        assert.equal((await page.evaluate(() => window.get('app.js'))).version, '1');
        await writeFile(path.join(root, 'pushpeer-site.bin'), Buffer.from(good).fill(0, 0, 1)); // magic broken
        assert.equal((await page.evaluate(() => window.refresh())).error?.code, 'BAD_MANIFEST');

        // A newer version with app.js changed: the page hears of it; app.js comes anew, big.bin stays in the store.
        await writeFile(path.join(root, 'pushpeer-site.bin'), good);
        await write('app.js', Buffer.from('export const version = 2;\n'));
        await publishSite(core, root, { key: keys, exclude: ['sw.js', 'free.txt'] });
        assert.deepEqual(await page.evaluate(() => window.refresh()), { version: 2 });
        await page.waitForFunction(() => window.events.some((e) => e?.pushpeer === 'siteupdate' && e.version === 2),
          { timeout: 20_000 });
        const js2 = await page.evaluate(() => window.get('app.js'));
        assert.deepEqual([js2.text, js2.version], ['export const version = 2;\n', '2']);
        assert.equal((await page.evaluate(() => window.get('big.bin'))).digest, sha(assets['big.bin']));
        assert.equal(count('big.bin'), 1, 'unchanged: still the first copy');
        assert.equal(count('app.js'), 2);
      } finally {
        await browser.close();
      }
    });
  }
});
