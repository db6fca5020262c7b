// A site's listed files from the site's other visitors (docs/PROTOCOL.md §10.3): each visitor is a worker
// (SiteFiles with its PageRequests) and a page (SiteRequestAnswers over SitePeerFetch, whose peers serve through
// their Shares), wired together as in a browser but over fake connections, with a counting stand-in origin. The
// origin is asked only when no peer can serve; a peer that lies is blamed and the file still arrives whole; the
// worker never waits long on a page that is gone.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';

import { loadCore } from '../../js/core.js';
import { createMemoryContentStore, PIECE_LEAVES } from '../../js/content/content-store.js';
import { Shares } from '../../js/content/shares.js';
import { CLAIM_MS, PageRequests } from '../../js/site/page-requests.js';
import { SitePeerFetch, SiteRequestAnswers } from '../../js/site/peer-fetch.js';
import { SiteFiles } from '../../js/site/site-files.js';
import { SiteVersions } from '../../js/site/site-versions.js';
import { createMemoryStore } from '../../js/store/store.js';
import { connectPair } from './fake-content.mjs';

const ORIGIN = 'https://site.example';
const MANIFEST = `${ORIGIN}/app/pushpeer-site.bin`;

function bytesOf(size, seed) {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (i * 31 + seed + (i >> 11)) & 0xff;
  return out;
}

describe('site files from peers', () => {
  let core;
  let publisher;
  let PIECE;
  before(async () => {
    core = await loadCore();
    publisher = core.generateVapidKeys();
    PIECE = PIECE_LEAVES * core.limits.content.leafSize;
  });

  function siteManifest(files, version) {
    const listed = Object.entries(files).map(([name, { bytes, type }]) => {
      const hasher = core.contentHasher();
      hasher.update(bytes);
      return { name, size: bytes.length, type, root: hasher.finish().root };
    });
    return core.createSiteManifest({ privateKey: publisher.privateKey, version, title: 'app', files: listed });
  }

  /** The site: two listed files, and an origin that counts what it is asked. */
  function theSite() {
    const big = bytesOf(5 * PIECE + 1234, 1);
    const small = bytesOf(3000, 2);
    const files = { 'big.bin': { bytes: big, type: 'application/octet-stream' }, 'small.js': { bytes: small, type: 'text/javascript' } };
    const bodies = { '/app/pushpeer-site.bin': siteManifest(files, 1), '/app/big.bin': big, '/app/small.js': small };
    const asked = [];
    const fetch = async (input) => {
      const url = new URL(typeof input === 'string' ? input : input.url);
      asked.push(url.pathname);
      const body = bodies[url.pathname];
      return body === undefined ? new Response('no', { status: 404 }) : new Response(body, { status: 200 });
    };
    return { big, small, fetch, count: (path) => asked.filter((p) => p === path).length };
  }

  /**
   * A visitor: its worker (SiteFiles, PageRequests) and, unless `page` is false, one open page (SiteRequestAnswers)
   * on the same channel; its Shares serve what its content store holds to whoever connects.
   */
  function visitor(name, site, { page = true } = {}) {
    const keyId = core.base64urlEncode(core.keyIdOf(core.generateVapidKeys().publicKey));
    const contentStore = createMemoryContentStore({ name: `${name}-${Math.random()}` });
    const v = { name, keyId, contentStore, connections: new Set(), obtained: [] };
    const toPages = [];
    const toWorker = [];
    // The pages' channel: what one end posts, the others get, asynchronously.
    const deliver = (list, message) => setTimeout(() => list.forEach((f) => f(structuredClone(message))), 0);
    v.requests = new PageRequests({ post: (m) => deliver(toPages, m) });
    toWorker.push((m) => v.requests.receive(m));
    v.site = new SiteFiles({ core, store: createMemoryStore({ name: `${name}-store-${Math.random()}` }), contentStore,
      publisherKey: core.base64urlEncode(publisher.publicKey), manifestUrl: MANIFEST, fetch: site.fetch,
      peers: v.requests, obtained: (o) => v.obtained.push(o) });
    v.shares = new Shares({ core, store: contentStore, identity: core.generateVapidKeys(), card: () => null,
      linkBase: () => `${ORIGIN}/app/`, connect: async () => assert.fail('no calls here'), connectionTo: () => null });
    if (page) {
      v.fetcher = new SitePeerFetch({ core, store: contentStore, connections: () => v.connections,
        channelOf: (c) => v.shares.attach(c) });
      v.page = new SiteRequestAnswers({ fetcher: v.fetcher, post: (m) => deliver(toWorker, m) });
      toPages.push((m) => v.page.receive(m));
    }
    return v;
  }

  /** Connects two visitors' pages (each one's Shares serves the other); both pages tell their workers. */
  function connect(a, b) {
    const [ab, ba] = connectPair(a.keyId, b.keyId);
    a.connections.add(ab);
    b.connections.add(ba);
    a.shares.attach(ab);
    b.shares.attach(ba);
    for (const [v, c] of [[a, ab], [b, ba]]) {
      c.addEventListener('close', () => {
        v.connections.delete(c);
        v.page?.announce();
      });
      v.page?.announce();
    }
    return [ab, ba];
  }

  const get = (path, headers = {}) => new Request(`${ORIGIN}/app/${path}`, { headers });
  const body = async (response) => new Uint8Array(await response.arrayBuffer());
  const settle = (ms = 20) => new Promise((resolve) => setTimeout(resolve, ms));

  it('a later visitor gets a listed file from a peer that holds it: the origin serves it once in all; the answer '
    + 'says where it came from, and the peer that sent it', async () => {
    const site = theSite();
    const first = visitor('first', site);
    const later = visitor('later', site);
    const again = visitor('again', site);
    const r1 = await first.site.respond(get('big.bin'));
    assert.equal(r1.headers.get('X-PushPeer-Source'), 'origin');
    assert.deepEqual(await body(r1), site.big);
    assert.equal((await first.site.respond(get('big.bin'))).headers.get('X-PushPeer-Source'), 'cache');

    connect(later, first);
    await settle();
    const r2 = await later.site.respond(get('big.bin'));
    assert.equal(r2.status, 200);
    assert.equal(r2.headers.get('X-PushPeer-Source'), 'peer');
    assert.deepEqual(await body(r2), site.big);
    assert.equal(site.count('/app/big.bin'), 1, 'the origin served it once');
    assert.deepEqual(later.obtained, [{ path: 'big.bin', source: 'peer', bytes: site.big.length, from: { [first.keyId]: site.big.length } }]);
    const part = await later.site.respond(get('big.bin', { Range: `bytes=${PIECE - 10}-${PIECE + 9}` }));
    assert.equal(part.status, 206);
    assert.deepEqual(await body(part), site.big.subarray(PIECE - 10, PIECE + 10));

    // The one who got it from a peer serves it on: a third visitor connected to it alone.
    connect(again, later);
    await settle();
    assert.deepEqual(await body(await again.site.respond(get('big.bin'))), site.big);
    assert.equal(site.count('/app/big.bin'), 1);
    assert.equal(again.obtained[0].source, 'peer');
  });

  it('a peer that sends bytes that do not verify is blamed (its connection closed, never asked again) and the '
    + 'file completes from another peer; with no other peer, from the origin; no wrong byte answered', async () => {
    const site = theSite();
    const honest = visitor('honest', site);
    const liar = visitor('liar', site);
    await honest.site.respond(get('big.bin'));
    await liar.site.respond(get('big.bin'));
    assert.equal(site.count('/app/big.bin'), 2);

    const later = visitor('later', site);
    const [, fromLiar] = connect(later, liar);
    // Every data frame the liar sends has one byte flipped near its end (in the piece's bytes).
    fromLiar.tamper = (bytes) => {
      if (bytes[1] !== 4 || bytes.length < 1000) return bytes;
      const out = bytes.slice();
      out[out.length - 5] ^= 1;
      return out;
    };
    connect(later, honest);
    await settle();
    const r = await later.site.respond(get('big.bin'));
    assert.equal(r.headers.get('X-PushPeer-Source'), 'peer');
    assert.deepEqual(await body(r), site.big);
    assert.equal(site.count('/app/big.bin'), 2, 'not the origin');
    assert.ok(fromLiar.closed, 'the liar\'s connection was closed');
    assert.deepEqual(Object.keys(later.obtained[0].from), [honest.keyId]);
    assert.equal(later.fetcher.sourceCount(), 1, 'the liar is not a source any more');

    // Only a liar: the origin.
    const alone = visitor('alone', site);
    const [, lies] = connect(alone, liar);
    lies.tamper = fromLiar.tamper;
    await settle();
    const r2 = await alone.site.respond(get('big.bin'));
    assert.equal(r2.headers.get('X-PushPeer-Source'), 'origin');
    assert.deepEqual(await body(r2), site.big);
    assert.equal(site.count('/app/big.bin'), 3);
  });

  it('a peer that takes requests and never answers: its pieces go to another peer before the worker gives up, and it '
    + 'is left alone a while (the next file does not wait for it)', async () => {
    const site = theSite();
    const honest = visitor('honest', site);
    const silent = visitor('silent', site);
    await honest.site.respond(get('big.bin'));
    await silent.site.respond(get('big.bin'));
    await honest.site.respond(get('small.js'));
    await silent.site.respond(get('small.js'));
    const later = visitor('later', site);
    const [, fromSilent] = connect(later, silent);
    fromSilent.tamper = (bytes) => (bytes[1] === 4 ? null : bytes); // its data frames never arrive
    connect(later, honest);
    await settle();
    const r = await later.site.respond(get('big.bin'));
    assert.equal(r.headers.get('X-PushPeer-Source'), 'peer');
    assert.deepEqual(await body(r), site.big);
    const t0 = Date.now();
    assert.equal((await later.site.respond(get('small.js'))).headers.get('X-PushPeer-Source'), 'peer');
    assert.ok(Date.now() - t0 < 2000, 'the silent peer was not asked again');
  });

  it('peers that do not have the file, or have only part of it: the origin; no page with peers: the origin at '
    + 'once; a page that is gone: the origin after CLAIM_MS, and that page is not asked again', async () => {
    const site = theSite();
    const holder = visitor('holder', site);
    await holder.site.respond(get('small.js')); // it has small.js, not big.bin
    const later = visitor('later', site);
    connect(later, holder);
    await settle();
    const r = await later.site.respond(get('big.bin'));
    assert.equal(r.headers.get('X-PushPeer-Source'), 'origin');
    assert.deepEqual(await body(r), site.big);

    // Pieces without their tree (a file half stored) are not served: the file is, once whole.
    const half = visitor('half', site);
    await half.site.respond(get('big.bin'));
    const key = half.site._site.files[0].key;
    await half.contentStore.deleteTree(half.site._site.files[0].root);
    assert.ok(await half.contentStore.pieceBytes(key, 0));
    const other = visitor('other', site);
    connect(other, half);
    await settle();
    assert.equal((await other.site.respond(get('big.bin'))).headers.get('X-PushPeer-Source'), 'origin');

    // No page: no wait.
    const lonely = visitor('lonely', site, { page: false });
    await settle(60);
    const started = Date.now();
    assert.equal((await lonely.site.respond(get('small.js'))).headers.get('X-PushPeer-Source'), 'origin');
    assert.ok(Date.now() - started < CLAIM_MS / 2, 'no page with peers: the origin without waiting');

    // A page said it had peers, then went without a word.
    lonely.requests.receive({ pushpeer: 'site-sources', page: 'gone', peers: 3 });
    const t0 = Date.now();
    assert.equal((await lonely.site.respond(get('big.bin'))).headers.get('X-PushPeer-Source'), 'origin');
    assert.ok(Date.now() - t0 >= CLAIM_MS - 50);
    assert.equal(lonely.requests.hasPeers, false, 'forgotten');
  });

  it('a stranger who asks our page for a site file gets only whole, verified files; asking for another share is '
    + 'not-found; a page that closes tells the worker', async () => {
    const site = theSite();
    const holder = visitor('holder', site);
    await holder.site.respond(get('small.js'));
    const stranger = visitor('stranger', site, { page: false });
    const [toHolder] = connect(stranger, holder);
    const channel = stranger.shares.attach(toHolder);
    const id = core.base64urlDecode(holder.site._site.id);
    const ask = async (file, share = id) => {
      const request = channel.nextRequest();
      return (await channel.request(request, core.encodeContentFrame({ type: 'get', request, share, file, first: 0, count: 1 }))).frame;
    };
    assert.equal((await ask(1)).type, 'data');
    assert.deepEqual([(await ask(0)).type, (await ask(0)).code], ['error', 'not-found']); // big.bin: not here
    assert.equal((await ask(1, new Uint8Array(32))).code, 'not-found');

    // The page's announcements: its peers, then none when its last connection closes.
    const said = [];
    const answers = new SiteRequestAnswers({ fetcher: { sourceCount: () => 2 }, post: (m) => said.push(m) });
    answers.announce();
    answers.announce(); // unchanged: not said again
    answers.receive({ pushpeer: 'site-who' });
    answers.announce({ peers: 0 });
    assert.deepEqual(said.map((m) => m.peers), [2, 2, 0]);
  });
});

describe('new site versions over peers', () => {
  let core;
  let publisher;
  before(async () => {
    core = await loadCore();
    publisher = core.generateVapidKeys();
  });

  const manifestOf = (files, version, keys = publisher) => core.createSiteManifest({ privateKey: keys.privateKey, version,
    title: 'app', files: Object.entries(files).map(([name, bytes]) => {
      const hasher = core.contentHasher();
      hasher.update(bytes);
      return { name, size: bytes.length, type: 'application/octet-stream', root: hasher.finish().root };
    }) });

  /** Two ends of a control channel: frames sent on one reach the other's handler for their `t`. */
  function controlPair() {
    const end = () => Object.assign(new EventTarget(), { closed: false, handlers: new Map(), sent: [],
      onControl(t, handler) { this.handlers.set(t, handler); },
      sendControl(frame) {
        this.sent.push(frame);
        const copy = JSON.parse(JSON.stringify(frame));
        setTimeout(() => this.other.handlers.get(copy.t)?.(copy), 0);
        return true;
      } });
    const a = end();
    const b = end();
    a.other = b;
    b.other = a;
    return [a, b];
  }

  const settle = (ms = 30) => new Promise((resolve) => setTimeout(resolve, ms));

  it('a flood of site frames from one peer costs one signature check and at most 30 frames a minute looked at',
    async () => {
      const store = createMemoryStore({ name: `flood-${Math.random()}` });
      await store.set('site', { version: 2, bytes: manifestOf({ 'a.bin': bytesOf(10, 1) }, 2) });
      const counted = Object.create(core);
      let opens = 0;
      counted.openSiteManifest = (b) => {
        opens++;
        return core.openSiteManifest(b);
      };
      const versions = new SiteVersions({ core: counted, store, post: () => {} });
      const [a] = controlPair();
      versions.attach(a);
      await Promise.all(Array.from({ length: 2000 }, () => a.handlers.get('site')({ t: 'site', v: 0 })));
      assert.equal(opens, 1, 'the site in use opened once');
      assert.equal(a.sent.filter((f) => f.m).length, 1, 'the manifest sent once to the peer behind');
    });

  it('the frames a page sends are the vectors of docs/vectors/content.json (site_frames)', async () => {
    const doc = JSON.parse(readFileSync(new URL('../../docs/vectors/content.json', import.meta.url), 'utf8'));
    const ahead = new SiteVersions({ core, store: createMemoryStore({ name: `v-${Math.random()}` }), post: () => {} });
    await ahead.store.set('site', { version: doc.site.version, bytes: core.base64urlDecode(doc.site.bytes) });
    const [a, b] = controlPair();
    b.onControl('site', () => {});
    ahead.attach(a);
    await settle();
    await a.handlers.get('site')({ t: 'site', v: 2 }); // the peer is behind
    assert.deepEqual(a.sent.map((f) => JSON.stringify(f)), [doc.site_frames.version, doc.site_frames.manifest]);
  });

  it('a new version prefetches only the changed files this visitor held: one it never asked for stays unasked',
    async () => {
      const files1 = { 'app.js': bytesOf(3000, 1), 'media.bin': bytesOf(200_000, 2) };
      const files2 = { 'app.js': bytesOf(3000, 3), 'media.bin': bytesOf(200_000, 4) };
      const origin = { '/app/pushpeer-site.bin': manifestOf(files1, 1), '/app/app.js': files1['app.js'],
        '/app/media.bin': files1['media.bin'] };
      const asked = [];
      const site = new SiteFiles({ core, store: createMemoryStore({ name: `p-${Math.random()}` }),
        contentStore: createMemoryContentStore({ name: `pc-${Math.random()}` }),
        publisherKey: core.base64urlEncode(publisher.publicKey), manifestUrl: MANIFEST,
        fetch: async (input) => {
          const p = new URL(typeof input === 'string' ? input : input.url).pathname;
          asked.push(p);
          return origin[p] ? new Response(origin[p]) : new Response('no', { status: 404 });
        } });
      await site.respond(new Request(`${ORIGIN}/app/app.js`));
      origin['/app/app.js'] = files2['app.js'];
      origin['/app/media.bin'] = files2['media.bin'];
      assert.equal((await site.offer(manifestOf(files2, 2))).version, 2);
      assert.deepEqual([asked.filter((p) => p === '/app/app.js').length, asked.filter((p) => p === '/app/media.bin').length],
        [2, 0]);
    });

  it('a page behind is sent the manifest by a page ahead, checks it, and hands it to its worker; the worker takes '
    + 'it with its changed file fetched first; older, foreign or broken manifests go nowhere', async () => {
    const one = bytesOf(40_000, 1);
    const two = bytesOf(50_000, 2);
    const v1 = manifestOf({ 'a.bin': one }, 1);
    const v2 = manifestOf({ 'a.bin': two }, 2);
    const ahead = new SiteVersions({ core, store: createMemoryStore({ name: `ahead-${Math.random()}` }), post: () => {} });
    await ahead.store.set('site', { version: 2, bytes: v2 });
    const behindStore = createMemoryStore({ name: `behind-${Math.random()}` });
    const posted = [];
    const behind = new SiteVersions({ core, store: behindStore, post: (m) => posted.push(m) });
    await behindStore.set('site', { version: 1, bytes: v1 });
    const [ab, ba] = controlPair();
    ahead.attach(ab);
    behind.attach(ba);
    await settle();
    assert.equal(posted.length, 1, 'the page behind got the manifest and told its worker');
    assert.deepEqual(posted[0].bytes, v2);
    assert.equal(ab.sent.filter((f) => f.m).length, 1, 'sent once');

    // The worker takes it: a.bin changed, fetched before the switch (from the origin here: no page with peers).
    const origin = { '/app/pushpeer-site.bin': v1, '/app/a.bin': one };
    const asked = [];
    const site = new SiteFiles({ core, store: behindStore, contentStore: createMemoryContentStore({ name: `c-${Math.random()}` }),
      publisherKey: core.base64urlEncode(publisher.publicKey), manifestUrl: MANIFEST,
      fetch: async (input) => {
        const p = new URL(typeof input === 'string' ? input : input.url).pathname;
        asked.push(p);
        return origin[p] ? new Response(origin[p]) : new Response('no', { status: 404 });
      } });
    await site.respond(new Request(`${ORIGIN}/app/a.bin`)); // held: its new version comes before the switch
    origin['/app/a.bin'] = two;
    assert.equal((await site.offer(posted[0].bytes)).version, 2);
    assert.deepEqual(asked.filter((p) => p === '/app/a.bin').length, 2, 'the changed file was fetched before the switch');
    const r = await site.respond(new Request(`${ORIGIN}/app/a.bin`));
    assert.deepEqual([r.headers.get('X-PushPeer-Source'), r.headers.get('X-PushPeer-Site-Version')], ['cache', '2']);
    assert.deepEqual(new Uint8Array(await r.arrayBuffer()), two);
    assert.equal((await site.offer(v1)).version, 2, 'an older one offered: nothing changes');
    await assert.rejects(site.offer(manifestOf({ 'a.bin': one }, 9, core.generateVapidKeys())), { code: 'WRONG_PUBLISHER' });
    assert.equal(asked.filter((p) => p.endsWith('pushpeer-site.bin')).length, 0, 'the new version came from a peer, not the origin');

    // What a peer can send the page: nothing of it reaches the worker unless it is a newer manifest of our publisher.
    posted.length = 0;
    const [mallory, victim] = controlPair();
    behind.attach(victim);
    await settle();
    const say = async (frame) => {
      await victim.handlers.get('site')(frame);
    };
    await say({ t: 'site', v: 5, m: 'not base64 at all!' });
    await say({ t: 'site', v: 5, m: core.base64urlEncode(new Uint8Array(100)) });
    await say({ t: 'site', v: 9, m: core.base64urlEncode(manifestOf({ 'a.bin': one }, 9, core.generateVapidKeys())) });
    await say({ t: 'site', v: 3, m: core.base64urlEncode(v1) }); // says 3, is 1
    await say({ t: 'site', v: 'x' });
    assert.deepEqual(posted, []);
    // Six manifests a minute per connection, the bad ones above included: two more pass, then none.
    for (let v = 3; v < 12; v++) await say({ t: 'site', v, m: core.base64urlEncode(manifestOf({ 'a.bin': two }, v)) });
    assert.deepEqual(posted.map((m) => core.openSiteManifest(m.bytes).version), [3, 4]);
    assert.deepEqual(mallory.sent.filter((f) => f.m).map((f) => f.v), [], 'the victim is not behind: it sent no manifest');
  });
});

describe('the page\'s fetch of a site file (js/site/peer-fetch.js)', () => {
  it('a peer that answers busy to everything is dropped after a few tries: the fetch ends (NOT_FOUND) and the '
    + 'worker can go to the origin', async () => {
    const core = await loadCore();
    const [ours, theirs] = connectPair('A', 'B');
    let asked = 0;
    theirs.onContent((data) => {
      const f = core.decodeContentFrame(new Uint8Array(data));
      if (f.type !== 'get') return;
      asked++;
      void theirs.writeContent(core.encodeContentFrame({ type: 'error', request: f.request, code: 'busy' }));
    });
    const shares = new Shares({ core, store: createMemoryContentStore({ name: `b-${Math.random()}` }),
      identity: core.generateVapidKeys(), card: () => null, linkBase: () => 'https://x/', connect: async () => null,
      connectionTo: () => null });
    const fetcher = new SitePeerFetch({ core, store: createMemoryContentStore({ name: `c-${Math.random()}` }),
      connections: () => [ours], channelOf: (c) => shares.attach(c) });
    const root = core.base64urlEncode(new Uint8Array(32).fill(7));
    const result = await fetcher.fetchFile({ id: core.base64urlEncode(new Uint8Array(32).fill(9)), file: 0, root,
      size: 1_000_000, key: `site-${root}` });
    assert.equal(result.ok, false);
    assert.ok(asked < 100, `${asked} requests`);
    ours.close();
  });
});

describe('the worker\'s requests to pages (js/site/page-requests.js)', () => {
  it('a page that drips a piece now and then, never finishing, is given up at the deadline (size at the minimum '
    + 'rate, plus grace) and told to stop', async () => {
    const sent = [];
    let drip = null;
    const requests = new PageRequests({ graceMs: 300, minRate: 1000, post: (m) => {
      sent.push(m);
      if (m.pushpeer === 'site-want') {
        requests.receive({ pushpeer: 'site-taking', request: m.request });
        drip = setInterval(() => requests.receive({ pushpeer: 'site-progress', request: m.request }), 50);
      }
    } });
    requests.receive({ pushpeer: 'site-sources', page: 'p', peers: 1 });
    const t0 = Date.now();
    const result = await requests.want('id', 0, { root: 'r', size: 500, key: 'k' });
    clearInterval(drip);
    const took = Date.now() - t0;
    assert.deepEqual(result, { ok: false, code: 'TIMEOUT' });
    assert.ok(took >= 750 && took < 3000, `gave up after ${took} ms (300 + 500 bytes at 1000 B/s)`);
    assert.equal(sent.at(-1).pushpeer, 'site-cancel');
    assert.equal(requests.hasPeers, true, 'the page took it: it is not forgotten');
  });
});
