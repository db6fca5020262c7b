// A site's listed files in its service worker (js/site/site-files.js, docs/PROTOCOL.md §10), against a counting
// stand-in origin: the pinned publisher key, no going back to an older version, every answered byte verified
// against the listed root (tampered origin bytes are a 502 and nothing stored), ranges, unlisted paths and pages
// left to the network, and a new version that fetches only what changed and drops what is no longer listed.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import { loadCore } from '../../js/core.js';
import { createMemoryContentStore } from '../../js/content/content-store.js';
import { Shares } from '../../js/content/shares.js';
import { SiteFiles } from '../../js/site/site-files.js';
import { createMemoryStore } from '../../js/store/store.js';

const ORIGIN = 'https://site.example';
const MANIFEST = `${ORIGIN}/app/pushpeer-site.bin`;

function bytesOf(size, seed) {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

describe('site files in the service worker', () => {
  let core;
  let publisher;
  before(async () => {
    core = await loadCore();
    publisher = core.generateVapidKeys();
  });

  /** A stand-in origin: path -> bytes (or a Response maker); counts what it was asked. */
  function origin(files) {
    const asked = [];
    const fetch = async (input) => {
      const url = new URL(typeof input === 'string' ? input : input.url);
      asked.push(url.pathname);
      const body = files[url.pathname];
      if (body === undefined) return new Response('no', { status: 404 });
      return new Response(typeof body === 'function' ? body() : body, { status: 200 });
    };
    return { files, asked, fetch, count: (path) => asked.filter((p) => p === path).length };
  }

  function siteManifest(files, version, keys = publisher) {
    const listed = Object.entries(files).map(([name, { bytes, type }]) => {
      const hasher = core.contentHasher();
      hasher.update(bytes);
      return { name, size: bytes.length, type, root: hasher.finish().root };
    });
    return core.createSiteManifest({ privateKey: keys.privateKey, version, title: 'app', files: listed });
  }

  function siteFiles(o, extra = {}) {
    const store = createMemoryStore({ name: `site-${Math.random()}` });
    const contentStore = createMemoryContentStore({ name: `site-content-${Math.random()}` });
    const updates = [];
    const site = new SiteFiles({ core, store, contentStore, publisherKey: core.base64urlEncode(publisher.publicKey),
      manifestUrl: MANIFEST, fetch: o.fetch, updated: (u) => updates.push(u), ...extra });
    return { site, store, contentStore, updates };
  }

  const get = (path, headers = {}) => new Request(`${ORIGIN}${path}`, { headers });
  const body = async (response) => new Uint8Array(await response.arrayBuffer());

  it('a listed file comes from the origin once, verified, then from the store; ranges; its listed type', async () => {
    const app = bytesOf(20_000, 1);
    const clip = bytesOf(300_000, 2);
    const files = { 'app.js': { bytes: app, type: 'text/javascript' }, 'media/clip one.webm': { bytes: clip, type: 'video/webm' } };
    const o = origin({ '/app/pushpeer-site.bin': siteManifest(files, 1), '/app/app.js': app, '/app/media/clip%20one.webm': clip });
    const { site, updates } = siteFiles(o);
    const first = await site.respond(get('/app/app.js'));
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('Content-Type'), 'text/javascript');
    assert.equal(first.headers.get('X-PushPeer-Site-Version'), '1');
    assert.deepEqual(await body(first), app);
    assert.deepEqual(await body(await site.respond(get('/app/app.js'))), app);
    assert.equal(o.count('/app/app.js'), 1, 'the origin once');
    const part = await site.respond(get('/app/media/clip%20one.webm', { Range: 'bytes=131000-131071' }));
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('Content-Range'), 'bytes 131000-131071/300000');
    assert.deepEqual(await body(part), clip.subarray(131000, 131072));
    assert.deepEqual(updates, [{ version: 1, previous: null }]);
    // The page clears the store (forget): the worker notices at the next request and goes to the origin again.
    await site.contentStore.clear();
    const again = await site.respond(get('/app/app.js'));
    assert.deepEqual(await body(again), app);
    assert.equal(o.count('/app/app.js'), 2);
  });

  it('unlisted paths, pages, queries, other folders and origins, and other methods are not the site\'s', async () => {
    const files = { 'app.js': { bytes: bytesOf(10, 1), type: 'text/javascript' }, 'sub/page.html': { bytes: bytesOf(5, 1), type: 'text/html' },
      'page.php': { bytes: bytesOf(5, 2), type: 'text/html; charset=utf-8' } };
    const o = origin({ '/app/pushpeer-site.bin': siteManifest(files, 1) });
    const { site } = siteFiles(o);
    await site.current();
    assert.ok(site.match(get('/app/app.js')));
    for (const r of [get('/app/other.js'), get('/app/sub/page.html'), get('/app/page.php'), get('/app/app.js?v=2'), get('/app.js'),
      new Request('https://other.example/app/app.js'), new Request(`${ORIGIN}/app/app.js`, { method: 'POST', body: 'x' })]) {
      assert.equal(site.match(r), null, `${r.method} ${r.url}`);
    }
  });

  it('bytes from the origin that are not the listed ones: 502, nothing stored, and the origin is asked again next time',
    async () => {
      const app = bytesOf(200_000, 3);
      const tampered = app.slice();
      tampered[150_000] ^= 1;
      const files = { 'app.js': { bytes: app, type: 'text/javascript' } };
      const o = origin({ '/app/pushpeer-site.bin': siteManifest(files, 1), '/app/app.js': tampered });
      const { site, contentStore } = siteFiles(o);
      const refused = await site.respond(get('/app/app.js'));
      assert.equal(refused.status, 502);
      assert.match(await refused.text(), /CHUNK_MISMATCH/);
      const root = (await site.current()).files[0];
      assert.equal(await contentStore.getTree(root.root), undefined);
      assert.equal(await contentStore.pieceBytes(root.key, 0), null, 'no piece stored');
      o.files['/app/app.js'] = bytesOf(200_001, 3); // one byte too many
      assert.equal((await site.respond(get('/app/app.js'))).status, 502);
      o.files['/app/app.js'] = app;
      assert.deepEqual(await body(await site.respond(get('/app/app.js'))), app);
      assert.equal(o.count('/app/app.js'), 3);
    });

  it('storage full: the verified bytes are answered from memory (ranges too), nothing half stored', async () => {
    const app = bytesOf(400_000, 8);
    const o = origin({ '/app/pushpeer-site.bin': siteManifest({ 'app.bin': { bytes: app, type: '' } }, 1), '/app/app.bin': app });
    const full = createMemoryContentStore({ name: `full-${Math.random()}` });
    const contentStore = { ...full, putPieces: async () => {
      throw Object.assign(new Error('full'), { code: 'QUOTA_EXCEEDED' });
    } };
    const { site } = siteFiles(o, { contentStore });
    const whole = await site.respond(get('/app/app.bin'));
    assert.equal(whole.status, 200);
    assert.deepEqual(await body(whole), app);
    const part = await site.respond(get('/app/app.bin', { Range: 'bytes=-10' }));
    assert.equal(part.status, 206);
    assert.deepEqual(await body(part), app.subarray(app.length - 10));
    const file = (await site.current()).files[0];
    assert.equal(await full.getTree(file.root), undefined);
    assert.equal(await full.pieceBytes(file.key, 0), null);
    assert.equal(o.count('/app/app.bin'), 2, 'not kept: the origin again');
  });

  it('manifests: another key, altered bytes or an older version are refused with their code; the one in use stays',
    async () => {
      const app = bytesOf(1000, 4);
      const files = { 'app.js': { bytes: app, type: 'text/javascript' } };
      const o = origin({ '/app/pushpeer-site.bin': siteManifest(files, 5), '/app/app.js': app });
      const { site } = siteFiles(o);
      assert.equal((await site.refresh({ force: true })).version, 5);
      o.files['/app/pushpeer-site.bin'] = siteManifest(files, 6, core.generateVapidKeys());
      await assert.rejects(site.refresh({ force: true }), { code: 'WRONG_PUBLISHER' });
      const altered = siteManifest(files, 6);
      altered[40] ^= 1;
      o.files['/app/pushpeer-site.bin'] = altered;
      await assert.rejects(site.refresh({ force: true }), { code: 'BAD_MANIFEST' });
      o.files['/app/pushpeer-site.bin'] = siteManifest(files, 4);
      await assert.rejects(site.refresh({ force: true }), { code: 'VERSION_BACKWARDS' });
      o.files['/app/pushpeer-site.bin'] = siteManifest({ ...files, 'b.js': { bytes: app, type: '' } }, 5);
      await assert.rejects(site.refresh({ force: true }), { code: 'VERSION_BACKWARDS' }, 'another manifest under 5');
      assert.equal((await site.current()).version, 5);
      assert.deepEqual(await body(await site.respond(get('/app/app.js'))), app);
      // A worker started afresh on the same store: the version it saw is remembered, an older one still refused.
      const again = new SiteFiles({ core, store: site.store, contentStore: site.contentStore,
        publisherKey: publisher.publicKey, manifestUrl: MANIFEST, fetch: o.fetch });
      o.files['/app/pushpeer-site.bin'] = siteManifest(files, 3);
      assert.equal((await again.current()).version, 5);
      await assert.rejects(again.refresh({ force: true }), { code: 'VERSION_BACKWARDS' });
      assert.throws(() => new SiteFiles({ core, store: site.store, contentStore: site.contentStore, publisherKey: 'AAAA',
        manifestUrl: MANIFEST }), { code: 'BAD_ARGUMENT' });
    });

  it('a new version: a changed file from the origin again, an unchanged one from the store, the old bytes dropped',
    async () => {
      const keep = bytesOf(50_000, 5);
      const old = bytesOf(40_000, 6);
      const next = bytesOf(40_000, 7);
      const o = origin({ '/app/pushpeer-site.bin': siteManifest({ 'lib.js': { bytes: keep, type: 'text/javascript' },
        'app.js': { bytes: old, type: 'text/javascript' } }, 1), '/app/lib.js': keep, '/app/app.js': old });
      const { site, contentStore, updates } = siteFiles(o);
      await site.respond(get('/app/lib.js'));
      await site.respond(get('/app/app.js'));
      const oldFile = (await site.current()).files.find((f) => f.name === 'app.js');
      o.files['/app/pushpeer-site.bin'] = siteManifest({ 'lib.js': { bytes: keep, type: 'text/javascript' },
        'app.js': { bytes: next, type: 'text/javascript' } }, 2);
      o.files['/app/app.js'] = next;
      assert.equal((await site.refresh({ force: true })).version, 2);
      assert.deepEqual(await body(await site.respond(get('/app/app.js'))), next);
      assert.deepEqual(await body(await site.respond(get('/app/lib.js'))), keep);
      assert.equal(o.count('/app/lib.js'), 1, 'unchanged: from the store');
      assert.equal(o.count('/app/app.js'), 2);
      assert.equal(await contentStore.getTree(oldFile.root), undefined, 'the old version\'s file is gone');
      assert.equal(await contentStore.pieceBytes(oldFile.key, 0), null);
      assert.deepEqual((await contentStore.shares()).map((s) => s.site), [2]);
      assert.deepEqual(updates, [{ version: 1, previous: null }, { version: 2, previous: 1 }]);
    });

  it('a switch while a file of the version before is being fetched: nothing of that file is left in the store, and '
    + 'its request goes to the network; a response read from pieces the switch drops ends at once', async () => {
    const old = bytesOf(40_000, 13);
    const next = bytesOf(40_000, 14);
    const big = bytesOf(300_000, 15);
    const big2 = bytesOf(300_000, 16);
    let release;
    const gate = new Promise((resolve) => { release = resolve; });
    const o = origin({ '/app/pushpeer-site.bin': siteManifest({ 'app.js': { bytes: old, type: 'text/javascript' },
      'big.bin': { bytes: big, type: 'application/octet-stream' } }, 1),
    '/app/app.js': () => new ReadableStream({ async pull(c) { await gate; c.enqueue(old); c.close(); } }),
    '/app/big.bin': big });
    const { site, contentStore } = siteFiles(o);
    await body(await site.respond(get('/app/big.bin'))); // stored
    const v1 = await site.current();
    const oldApp = v1.files.find((f) => f.name === 'app.js');
    const oldBig = v1.files.find((f) => f.name === 'big.bin');
    const asked = site.respond(get('/app/app.js')); // the origin holds its bytes back
    const reading = (await site.respond(get('/app/big.bin'))).body.getReader();
    assert.equal((await reading.read()).value.length, 128 * 1024); // the first piece; the rest is read after the switch
    await new Promise((resolve) => setTimeout(resolve, 20));
    o.files['/app/pushpeer-site.bin'] = siteManifest({ 'app.js': { bytes: next, type: 'text/javascript' },
      'big.bin': { bytes: big2, type: 'application/octet-stream' } }, 2);
    o.files['/app/app.js'] = next;
    o.files['/app/big.bin'] = big2;
    assert.equal((await site.refresh({ force: true })).version, 2);
    release();
    const r = await asked;
    assert.deepEqual(await body(r), next, 'the network\'s answer (the version in use does not list what it asked for)');
    assert.equal(await contentStore.getTree(oldApp.root), undefined, 'no orphan tree');
    assert.equal(await contentStore.pieceBytes(oldApp.key, 0), null, 'no orphan pieces');
    const ended = await Promise.race([reading.read().then(() => 'read', () => 'error'),
      new Promise((resolve) => setTimeout(() => resolve('still waiting'), 3000))]);
    assert.equal(ended, 'error', 'the dropped pieces are not waited for');
    assert.equal(await contentStore.pieceBytes(oldBig.key, 1), null);
  });

  it('a request of the version before that ends after the switch is answered as the version in use says: its file '
    + 'at that path, checked (an origin that held the old bytes back and then sends others gets a 502 through)', async () => {
    const old = bytesOf(40_000, 23);
    const next = bytesOf(40_000, 24);
    const evil = bytesOf(40_000, 99);
    let release;
    const gate = new Promise((resolve) => { release = resolve; });
    const o = origin({ '/app/pushpeer-site.bin': siteManifest({ 'app.js': { bytes: old, type: 'text/javascript' } }, 1),
      '/app/app.js': () => new ReadableStream({ async pull(c) { await gate; c.enqueue(old); c.close(); } }) });
    const { site } = siteFiles(o);
    await site.current();
    const asked = site.respond(get('/app/app.js'));
    await new Promise((resolve) => setTimeout(resolve, 20));
    o.files['/app/pushpeer-site.bin'] = siteManifest({ 'app.js': { bytes: next, type: 'text/javascript' } }, 2);
    assert.equal((await site.refresh({ force: true })).version, 2);
    o.files['/app/app.js'] = evil;
    release();
    assert.equal((await asked).status, 502);
    o.files['/app/app.js'] = next;
    assert.deepEqual(await body(await site.respond(get('/app/app.js'))), next);
  });

  it('pieces a page stored for a file the switch dropped, when its fetch then fails: dropped too', async () => {
    const old = bytesOf(300_000, 25);
    const next = bytesOf(300_000, 26);
    let release;
    const gate = new Promise((resolve) => { release = resolve; });
    let store;
    // The page's peer fetch (js/site/peer-fetch.js) writes a verified piece after the switch, then fails.
    const peers = { hasPeers: true, want: async (id, index, file) => {
      await gate;
      await store.putPieces([{ file: file.key, index: 0, bytes: old.slice(0, 128 * 1024), leaves: null }]);
      return { ok: false, code: 'NOT_FOUND' };
    } };
    const o = origin({ '/app/pushpeer-site.bin': siteManifest({ 'a.bin': { bytes: old, type: 'application/octet-stream' } }, 1) });
    const { site, contentStore } = siteFiles(o, { peers });
    store = contentStore;
    const oldFile = (await site.current()).files[0];
    const asked = site.respond(get('/app/a.bin'));
    await new Promise((resolve) => setTimeout(resolve, 20));
    o.files['/app/pushpeer-site.bin'] = siteManifest({ 'a.bin': { bytes: next, type: 'application/octet-stream' } }, 2);
    o.files['/app/a.bin'] = next; // the v1 fetch from the origin fails (CHUNK_MISMATCH)
    assert.equal((await site.refresh({ force: true })).version, 2);
    release();
    await (await asked).arrayBuffer().catch(() => {});
    assert.equal(await contentStore.pieceBytes(oldFile.key, 0), null, 'no orphan pieces');
  });

  it('the site pins a new publisher key (its worker changed): what the old key signed is dropped, not a dead end; '
    + 'the new key\'s versions start over', async () => {
    const lib = bytesOf(30_000, 8);
    const o = origin({ '/app/pushpeer-site.bin': siteManifest({ 'lib.js': { bytes: lib, type: 'text/javascript' } }, 7),
      '/app/lib.js': lib });
    const { site, store, contentStore } = siteFiles(o);
    await site.respond(get('/app/lib.js'));
    const rotated = core.generateVapidKeys();
    o.files['/app/pushpeer-site.bin'] = siteManifest({ 'lib.js': { bytes: lib, type: 'text/javascript' } }, 1, rotated);
    // The worker restarts with the new key pinned (a new sw.js), over the same stores.
    const next = new SiteFiles({ core, store, contentStore, publisherKey: core.base64urlEncode(rotated.publicKey),
      manifestUrl: MANIFEST, fetch: o.fetch });
    assert.equal((await next.current()).version, 1);
    const r = await next.respond(get('/app/lib.js'));
    assert.equal(r.status, 200);
    assert.deepEqual(await body(r), lib);
    assert.equal(r.headers.get('X-PushPeer-Site-Version'), '1');
    assert.deepEqual((await contentStore.shares()).map((s) => s.site), [1], 'one site share: the old key\'s is gone');
  });

  it('a share of the person\'s own with the same bytes as a listed file: the site file is still fetched and answered '
    + '(a tree alone is not the file), and a version switch leaves that share\'s tree', async () => {
    const a = bytesOf(300_000, 11);
    const b = bytesOf(50_000, 12);
    const o = origin({ '/app/pushpeer-site.bin': siteManifest({ 'a.bin': { bytes: a, type: 'application/octet-stream' } }, 1),
      '/app/a.bin': a });
    const { site, contentStore } = siteFiles(o);
    const shares = new Shares({ core, store: contentStore, identity: core.generateVapidKeys(), card: () => ({ text: 'x' }),
      linkBase: () => `${ORIGIN}/app/`, connect: async () => null, connectionTo: () => null });
    const mine = await shares.share(new Blob([a]), { name: 'mine.bin' }); // its tree is under a.bin's root
    const r = await site.respond(get('/app/a.bin'));
    assert.deepEqual(await body(r), a);
    assert.equal(r.headers.get('X-PushPeer-Source'), 'origin');
    o.files['/app/pushpeer-site.bin'] = siteManifest({ 'a.bin': { bytes: b, type: 'application/octet-stream' } }, 2);
    o.files['/app/a.bin'] = b;
    assert.equal((await site.refresh({ force: true })).version, 2);
    assert.ok(await contentStore.getTree(mine.files[0].root), 'the person\'s share keeps its tree');
  });
});
