// Signed site versions (issue #14, Performance): origin bytes and load time as visitors come, N = 1…5, with
// pushpeer (a worker with installPushPeer's `site` option, the visitors in one group: each later visitor's files come
// from the others, docs/PROTOCOL.md §10.3) and without (the same files from a folder outside any worker: the origin
// serves each visitor a copy). A site of --mib MiB of listed assets (three files and a small script) published with
// the command line's code, served from loopback by tests/browser/server.mjs (no-store), counted there. The visitors
// are Chromium contexts in one browser, run by the end-to-end tests' world (tests/browser/apps.mjs: local push
// service, the test app). Load time: fetch() of every asset, one after the other, in the visitor's page, timed there.
// Markdown on stdout.
//
//   node bench/browser/site-visitors.mjs [--mib 20] [--visitors 5]
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { loadCore } from '../../js/core.js';
import { publishSite } from '../../bin/site-publish.mjs';
import { browserVersion } from '../../tests/browser/browsers.mjs';
import { startWorld, SUBJECT } from '../../tests/browser/apps.mjs';
import { repoRoot } from '../../tests/browser/server.mjs';

const { values: opts } = parseArgs({ options: {
  mib: { type: 'string', default: '20' },
  visitors: { type: 'string', default: '5' },
} });
const MiB = 1 << 20;
const total = Number(opts.mib) * MiB;
const count = Number(opts.visitors);
const say = (line) => process.stderr.write(`${line}\n`);

const dir = `build/bench-site-visitors-${process.pid}`;
const root = path.join(repoRoot, dir);
const plain = path.join(repoRoot, `${dir}-plain`);
const base = `/${dir}/`;
const plainBase = `/${dir}-plain/`;
const core = await loadCore();
const keys = core.generateVapidKeys();
const fill = (size, seed) => {
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i++) out[i] = (i * 7 + seed * 13 + (i >> 10)) & 0xff;
  return out;
};
const script = Buffer.from('export const game = 1;\n');
const assets = { 'assets/level-1.bin': fill(Math.floor(0.4 * total), 1), 'assets/level-2.bin': fill(Math.floor(0.4 * total), 2),
  'assets/music.bin': fill(total - 2 * Math.floor(0.4 * total) - script.length, 3), 'assets/game.js': script };
const names = Object.keys(assets);
await rm(root, { recursive: true, force: true });
await rm(plain, { recursive: true, force: true });
for (const [name, bytes] of Object.entries(assets)) {
  for (const d of [root, plain]) {
    await mkdir(path.dirname(path.join(d, name)), { recursive: true });
    await writeFile(path.join(d, name), bytes);
  }
}
await writeFile(path.join(root, 'index.html'), '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,">'
  + '<script type="module" src="/tests/browser/app/app.mjs"></script>\n');
await writeFile(path.join(root, 'sw.mjs'), `import { installPushPeer } from '/sw/handler.js';\n`
  + `installPushPeer(self, { site: { publisherKey: '${core.base64urlEncode(keys.publicKey)}' } });\n`);
await publishSite(core, root, { key: keys, version: 1, previous: '/nonexistent', exclude: ['sw.mjs'], log: () => {} });

const origin = { site: 0, plain: 0 };
const world = await startWorld({ serverLog: (line) => {
  const [, p, status] = line.split(' ');
  if (status !== '200' || !p) return;
  for (const [key, prefix] of [['site', base], ['plain', plainBase]]) {
    const name = p.startsWith(prefix) ? decodeURIComponent(p.slice(prefix.length)) : null;
    if (name in assets) origin[key] += assets[name].length;
  }
} });

const rows = [];
let version = 'Chromium';
try {
  const visitors = [];
  let invite = null;
  for (let n = 1; n <= count; n++) {
    const v = await world.open('chromium', `v${n}`, { path: base, inside: visitors[0] });
    visitors.push(v);
    if (n === 1) version = await browserVersion(v.browser);
    await v.call('create', { name: v.label, subject: SUBJECT, hostSubscribe: true });
    await v.call('siteReady');
    if (n === 1) invite = (await v.call('group', 'visitors')).invite;
    else {
      const joined = await v.call('joinGroup', invite);
      if (joined.error) throw new Error(`v${n} could not join: ${JSON.stringify(joined.error)}`);
    }
    const timed = async (prefix) => v.page.evaluate(async (list, at) => {
      const t = performance.now();
      for (const name of list) await (await fetch(at + name)).arrayBuffer();
      return performance.now() - t;
    }, names, prefix);
    const withMs = await timed(base);
    const withoutMs = await timed(plainBase);
    const events = await v.call('events', 'sitefile');
    const peerBytes = events.filter((e) => e.source === 'peer').reduce((a, e) => a + e.bytes, 0);
    rows.push({ n, originWith: origin.site, originWithout: origin.plain, withMs, withoutMs, peerBytes });
    say(`N=${n}: origin ${(origin.site / MiB).toFixed(1)} MiB with, ${(origin.plain / MiB).toFixed(1)} without; `
      + `load ${withMs.toFixed(0)} ms with, ${withoutMs.toFixed(0)} ms without; ${(peerBytes / MiB).toFixed(1)} MiB from peers`);
  }
} finally {
  await world.close();
  await rm(root, { recursive: true, force: true });
  await rm(plain, { recursive: true, force: true });
}

const mib = (b) => (b / MiB).toFixed(1);
console.log(`${version}, ${opts.mib} MiB of listed assets (4 files), visitors in one group, loopback.`);
console.log('');
console.log('| visitors N | origin MiB, pushpeer | copies | origin MiB, no pushpeer | copies | N-th visitor\'s load, pushpeer | from peers | N-th visitor\'s load, no pushpeer |');
console.log('|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(`| ${r.n} | ${mib(r.originWith)} | ${(r.originWith / total).toFixed(2)} | ${mib(r.originWithout)} | `
    + `${(r.originWithout / total).toFixed(2)} | ${r.withMs.toFixed(0)} ms | ${mib(r.peerBytes)} MiB | ${r.withoutMs.toFixed(0)} ms |`);
}
