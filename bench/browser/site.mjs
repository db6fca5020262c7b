// Signed site versions (issue #14, Performance): what the service worker costs a listed file it already holds.
// One page per browser, on a site published with the command line's code (bin/site-publish.mjs) and served from
// loopback by tests/browser/server.mjs (no-store: every network fetch reaches the server); its module worker runs
// installPushPeer(self, { site }). Sequential fetch() of a --kib KiB file, --requests times each, after one warm-up:
// - listed, held by the worker: answered from the worker's store (IndexedDB), the stored root loaded, ranges none;
// - unlisted, same page: the worker's fetch listener looks and lets the network answer;
// - no worker: the same bytes from a path outside the worker's scope (the network only).
// Time per request in the page (performance.now() around fetch() and reading the body). Markdown on stdout.
//
//   node bench/browser/site.mjs [--kib 100] [--requests 200] [--browsers chromium,firefox]
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { loadCore } from '../../js/core.js';
import { publishSite } from '../../bin/site-publish.mjs';
import { browserVersion, launchBrowser } from '../../tests/browser/browsers.mjs';
import { repoRoot, startServer } from '../../tests/browser/server.mjs';

const { values: opts } = parseArgs({ options: {
  kib: { type: 'string', default: '100' },
  requests: { type: 'string', default: '200' },
  browsers: { type: 'string', default: 'chromium,firefox' },
} });
const size = Number(opts.kib) * 1024;
const requests = Number(opts.requests);
const say = (line) => process.stderr.write(`${line}\n`);

const dir = `build/bench-site-${process.pid}`;
const root = path.join(repoRoot, dir);
const outside = path.join(repoRoot, `${dir}-plain`);
const core = await loadCore();
const keys = core.generateVapidKeys();
const bytes = Buffer.alloc(size, 7);
await rm(root, { recursive: true, force: true });
await mkdir(root, { recursive: true });
await mkdir(outside, { recursive: true });
await writeFile(path.join(root, 'listed.bin'), bytes);
await writeFile(path.join(root, 'unlisted.bin'), bytes);
await writeFile(path.join(outside, 'plain.bin'), bytes);
await writeFile(path.join(root, 'sw.js'), `import { installPushPeer } from '/sw/handler.js';\n` +
  `installPushPeer(self, { notify: false, site: { publisherKey: '${core.base64urlEncode(keys.publicKey)}' } });\n`);
await writeFile(path.join(root, 'index.html'), `<!doctype html><meta charset="utf-8"><script type="module">
  window.ready = navigator.serviceWorker.register('./sw.js', { type: 'module' }).then(() => navigator.serviceWorker.ready);
  window.time = async (url, n) => {
    await (await fetch(url)).arrayBuffer(); // warm-up (the worker stores a listed file from the origin here)
    const ms = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      const r = await fetch(url);
      const b = await r.arrayBuffer();
      ms.push(performance.now() - t);
      if (!r.ok || b.byteLength !== ${size}) throw new Error(url + ': ' + r.status + ' ' + b.byteLength);
    }
    return ms;
  };
</script>`);
await publishSite(core, root, { key: keys, include: ['listed.bin'] });
const server = await startServer();

const stats = (ms) => {
  const s = ms.slice().sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { median: q(0.5), p90: q(0.9) };
};
const f2 = (x) => x.toFixed(2);

const rows = [];
const versions = [];
try {
  for (const name of opts.browsers.split(',')) {
    const browser = await launchBrowser(name);
    try {
      versions.push(await browserVersion(browser));
      const page = await browser.newPage();
      await page.goto(server.url(`/${dir}/index.html`));
      await page.evaluate(() => window.ready);
      await page.reload();
      await page.waitForFunction(() => Boolean(navigator.serviceWorker.controller), { timeout: 20_000 });
      const result = {};
      // Interleaved rounds, so that a slow moment of the host is shared.
      for (const [kind, url] of [['listed', 'listed.bin'], ['unlisted', 'unlisted.bin'], ['plain', `/${dir}-plain/plain.bin`]]) {
        result[kind] = [];
      }
      for (let round = 0; round < 4; round++) {
        for (const [kind, url] of [['listed', 'listed.bin'], ['unlisted', 'unlisted.bin'], ['plain', `/${dir}-plain/plain.bin`]]) {
          result[kind].push(...await page.evaluate((u, n) => window.time(u, n), url, Math.ceil(requests / 4)));
        }
      }
      const [listed, unlisted, plain] = ['listed', 'unlisted', 'plain'].map((k) => stats(result[k]));
      rows.push(`| ${name} | ${f2(listed.median)} | ${f2(listed.p90)} | ${f2(unlisted.median)} | ${f2(unlisted.p90)} | ` +
        `${f2(plain.median)} | ${f2(plain.p90)} | ${f2(listed.median - plain.median)} |`);
      say(`${name}: listed ${f2(listed.median)} ms, unlisted ${f2(unlisted.median)}, no worker ${f2(plain.median)}`);
    } finally {
      await browser.close();
    }
  }
} finally {
  await server.close();
  await rm(root, { recursive: true, force: true });
  await rm(outside, { recursive: true, force: true });
}

console.log(`## Signed site versions: a listed file the worker holds, beside the network\n`);
console.log(`\`node bench/browser/site.mjs --kib ${opts.kib} --requests ${requests} --browsers ${opts.browsers}\` ` +
  `(${new Date().toISOString().slice(0, 10)})\n`);
console.log(`A ${opts.kib} KiB file fetched ${requests} times one after the other (after a warm-up), in ms per request from fetch() to the`);
console.log('last byte read, in the page. Listed: answered by the worker from its store (checked when it came from the origin,');
console.log('not again). Unlisted: the worker\'s fetch listener lets the network answer. No worker: the same bytes from outside');
console.log('its scope. The loopback server answers every network fetch (no-store).\n');
console.log('| browser | listed (worker store) median | p90 | unlisted (network through the worker) median | p90 | no worker median | p90 | listed minus no worker, medians |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) console.log(r);
console.log(`\nBrowsers: ${versions.join(', ')}; Node ${process.version}.`);
