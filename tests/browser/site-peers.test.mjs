// A site served by its visitors, in real browsers (docs/PROTOCOL.md §10.3; js/site/page-requests.js and
// js/site/peer-fetch.js): a test site with 20 MiB of listed assets, published with the command line's code, behind a
// counting origin; five visitors (four Chromium contexts, one Firefox), each running the test app with a worker that
// has installPushPeer's `site` option, meet in a group. The first loads the assets from the origin; each later one
// loads them from the others (its page fetches every piece from its peers, verified, for its worker). The origin
// serves at most 1.3 copies of the assets in all and every later visitor gets at least 80% of the bytes from peers.
// A visitor whose page sends wrong bytes is blamed by the next one, which completes from the others: every byte
// any page sees is the listed one. Then a new version is published while they are online: one worker sees it at the
// origin, its page tells its peers, and every visitor switches, its changed assets fetched from peers first. Last, a
// newcomer who calls one visitor meets the others through the site's swarm (no push) and loads from several.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { loadCore } from '../../js/core.js';
import { publishSite } from '../../bin/site-publish.mjs';
import { connectAndTalk, diagnose, pollUntil, startWorld, SUBJECT } from './apps.mjs';
import { repoRoot } from './server.mjs';

const DIR = `build/browser-site-peers-${process.pid}`;
const BASE = `/${DIR}/`;
const MiB = 1 << 20;
const GROUP = 'visitors';

function bytesOf(size, seed) {
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i++) out[i] = (i * 7 + seed * 13 + (i >> 10)) & 0xff;
  return out;
}
const sha = (b) => createHash('sha256').update(b).digest('hex');

describe('a site served by its visitors, in real browsers', { timeout: 10 * 60_000 }, () => {
  let world;
  let core;
  const visitors = [];
  const originBytes = new Map(); // asset path -> bytes the origin sent
  let manifests = 0; // requests for the manifest
  let keys;
  const assets = { 'assets/level-1.bin': bytesOf(8 * MiB, 1), 'assets/level-2.bin': bytesOf(8 * MiB, 2),
    'assets/music.bin': bytesOf(4 * MiB - 12345, 3), 'assets/game.js': Buffer.from('export const game = 1;\n') };
  const names = Object.keys(assets);
  const listedBytes = Object.values(assets).reduce((n, b) => n + b.length, 0);
  const root = path.join(repoRoot, DIR);

  before(async () => {
    core = await loadCore();
    keys = core.generateVapidKeys();
    await rm(root, { recursive: true, force: true });
    const write = async (name, bytes) => {
      await mkdir(path.dirname(path.join(root, name)), { recursive: true });
      await writeFile(path.join(root, name), bytes);
    };
    for (const [name, bytes] of Object.entries(assets)) await write(name, bytes);
    await write('index.html', '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>a site</title>'
      + '<script type="module" src="/tests/browser/app/app.mjs"></script>\n');
    await write('sw.mjs', `import { installPushPeer } from '/sw/handler.js';\n`
      + `installPushPeer(self, { site: { publisherKey: '${core.base64urlEncode(keys.publicKey)}' } });\n`);
    await publishSite(core, root, { key: keys, version: 1, previous: '/nonexistent', exclude: ['sw.mjs'] });
    world = await startWorld({ serverLog: (line) => {
      const [, p, status] = line.split(' ');
      const name = p?.startsWith(BASE) ? decodeURIComponent(p.slice(BASE.length)) : null;
      if (name === 'pushpeer-site.bin') manifests++;
      if (name in assets && status === '200') originBytes.set(name, (originBytes.get(name) ?? 0) + assets[name].length);
    } });
    const first = await world.open('chromium', 'v1', { path: BASE });
    visitors.push(first);
    for (const label of ['v2', 'v3', 'v4']) visitors.push(await world.open('chromium', label, { path: BASE, inside: first }));
    visitors.push(await world.open('firefox', 'v5', { path: BASE }));
    for (const v of visitors) {
      const created = await v.call('create', { name: v.label, subject: SUBJECT, hostSubscribe: v.name === 'chromium' });
      v.keyId = created.keyId;
      assert.deepEqual(await v.call('siteReady'), { version: 1 }, `${v.label}'s worker has the site`);
    }
  });

  after(async () => {
    await world?.close();
    await rm(root, { recursive: true, force: true });
  });

  const originTotal = () => [...originBytes.values()].reduce((n, b) => n + b, 0);
  const sitefiles = async (v) => (await v.call('events', 'sitefile'));

  test('the first visitor loads the assets from the origin; the four after it from the others, verified; the '
    + 'origin serves at most 1.3 copies; a visitor that lies is blamed and the bytes come from the others',
  { timeout: 8 * 60_000 }, async (t) => {
    try {
      const [v1, ...later] = visitors;
      const got1 = await v1.call('siteGet', names);
      for (const g of got1) assert.deepEqual([g.status, g.sha256, g.source], [200, sha(assets[g.name]), 'origin'], g.name);
      assert.equal(originTotal(), listedBytes);

      // A group, as the site's own app would make one: the first visitor's invite, each later one joins with it.
      const { invite } = await v1.call('group', GROUP);
      for (const v of later) {
        const joined = await v.call('joinGroup', invite);
        assert.equal(joined.error, undefined, `${v.label}: ${JSON.stringify(joined.error)}`);
      }

      for (const [i, v] of later.entries()) {
        // The visitor before the last sends a wrong byte in every range from now on: the last one blames it.
        const liar = i === later.length - 1 ? later[i - 1] : null;
        if (liar) await liar.call('lieInRanges', 1);
        const t0 = Date.now();
        const got = await v.call('siteGet', names);
        for (const g of got) {
          assert.deepEqual([g.status, g.length, g.sha256], [200, assets[g.name].length, sha(assets[g.name])], `${v.label} ${g.name}`);
        }
        const events = await sitefiles(v);
        const fromPeers = events.filter((e) => e.source === 'peer').reduce((n, e) => n + e.bytes, 0);
        const by = {};
        for (const e of events) for (const [k, n] of Object.entries(e.from ?? {})) by[k] = (by[k] ?? 0) + n;
        const named = Object.fromEntries(Object.entries(by).map(([k, n]) => [visitors.find((x) => x.keyId === k)?.label ?? k, n]));
        t.diagnostic(`${v.label}: ${(fromPeers / MiB).toFixed(1)} of ${(listedBytes / MiB).toFixed(1)} MiB from peers `
          + `in ${Date.now() - t0} ms (${JSON.stringify(named)}); origin so far ${(originTotal() / MiB).toFixed(1)} MiB`);
        assert.ok(fromPeers >= 0.8 * listedBytes, `${v.label}: ${fromPeers} of ${listedBytes} bytes from peers`);
        if (liar) {
          assert.equal(by[liar.keyId], undefined, 'nothing taken from the liar');
          const closes = await liar.call('closes');
          t.diagnostic(`${liar.label}'s connections closed: ${JSON.stringify(closes)}`);
          assert.ok(closes.some((c) => /content: (BAD_PROOF|CHUNK_MISMATCH)/.test(c.peerReason ?? c.reason ?? '')),
            'the liar was asked, and blamed');
          await liar.call('honest');
        }
      }
      assert.ok(originTotal() <= 1.3 * listedBytes, `the origin served ${originTotal()} bytes for ${listedBytes} listed`);
    } catch (error) {
      throw await diagnose(world, visitors, error);
    }
  });

  test('a new version published while they are online reaches all five through the peers: the origin serves the '
    + 'new manifest once and the changed assets once; every visitor switches with the changed assets in its store',
  { timeout: 4 * 60_000 }, async (t) => {
    try {
      const changed = { 'assets/level-2.bin': bytesOf(8 * MiB, 22), 'assets/game.js': Buffer.from('export const game = 2;\n') };
      for (const [name, bytes] of Object.entries(changed)) {
        assets[name] = bytes;
        await writeFile(path.join(root, name), bytes);
      }
      await publishSite(core, root, { key: keys, exclude: ['sw.mjs'] });
      originBytes.clear();
      manifests = 0;
      const [v1] = visitors;
      // The first visitor's worker looks at the manifest (as on its next navigation); the others hear it from peers.
      assert.deepEqual(await v1.call('siteReady'), { version: 2 });
      const t0 = Date.now();
      await pollUntil(async () => Promise.all(visitors.map(async (v) => (await v.call('events', 'siteupdate'))
        .some((e) => e.version === 2))), (all) => all.every(Boolean), { timeoutMs: 60_000 });
      t.diagnostic(`all five on version 2 in ${Date.now() - t0} ms`);
      for (const v of visitors) {
        const got = await v.call('siteGet', names);
        for (const g of got) {
          assert.deepEqual([g.status, g.sha256, g.version], [200, sha(assets[g.name]), '2'], `${v.label} ${g.name}`);
          if (g.name in changed) assert.equal(g.source, 'cache', `${v.label} ${g.name}: fetched before the switch`);
        }
      }
      const changedBytes = Object.values(changed).reduce((n, b) => n + b.length, 0);
      t.diagnostic(`origin: ${manifests} manifest request(s), ${(originTotal() / MiB).toFixed(1)} MiB of assets for `
        + `${(changedBytes / MiB).toFixed(1)} MiB changed`);
      assert.equal(manifests, 1, 'the new manifest from the origin once: the others had it from peers');
      assert.ok(originTotal() <= 1.3 * changedBytes, `the origin served ${originTotal()} bytes for ${changedBytes} changed`);
    } catch (error) {
      throw await diagnose(world, visitors, error);
    }
  });

  test('a newcomer who knows one visitor (a call: two pushes) meets the others through them with no push, and '
    + 'loads the assets from several of them', { timeout: 3 * 60_000 }, async (t) => {
    const [v1] = visitors;
    const v6 = await world.open('chromium', 'v6', { path: BASE, inside: v1 });
    visitors.push(v6);
    try {
      const created = await v6.call('create', { name: 'v6', subject: SUBJECT, hostSubscribe: true });
      v6.keyId = created.keyId;
      assert.deepEqual(await v6.call('siteReady'), { version: 2 });
      const since = world.service.lastSeq;
      await connectAndTalk(world, v6, v1, t);
      // The site's swarm: v1 introduces v6 to the visitors it is connected to (carried calls).
      const open = await pollUntil(() => v6.call('connectionStates'), (states) => states.filter((s) => s === 'connected').length >= 3,
        { timeoutMs: 30_000 });
      t.diagnostic(`v6's connections: ${JSON.stringify(open)}; pushes ${world.pushesSince(since).length}`);
      assert.ok(open.filter((s) => s === 'connected').length >= 3, 'introduced to at least two more visitors');
      assert.equal(world.pushesSince(since).length, 2, 'the call to v1 only');
      originBytes.clear();
      const got = await v6.call('siteGet', names);
      for (const g of got) assert.deepEqual([g.status, g.sha256, g.source], [200, sha(assets[g.name]), 'peer'], g.name);
      const by = {};
      for (const e of await sitefiles(v6)) for (const [k, n] of Object.entries(e.from ?? {})) by[k] = (by[k] ?? 0) + n;
      t.diagnostic(`v6 got ${JSON.stringify(Object.fromEntries(Object.entries(by).map(([k, n]) => [visitors.find((x) => x.keyId === k)?.label, n])))}`);
      assert.ok(Object.keys(by).length >= 2, 'from several visitors');
      assert.equal(originTotal(), 0, 'nothing from the origin');
    } catch (error) {
      throw await diagnose(world, visitors, error);
    }
  });
});
