// Swarm introductions (js/swarm/introductions.js, docs/PROTOCOL.md §9.6) through the real page code in the small
// world of tests/node/world.mjs (a local push service, workers, a fake RTCPeerConnection): downloaders of one link
// meet through the sharer with no push and fetch from each other. Real browsers: tests/browser/swarm.test.mjs.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { loadCore } from '../../js/core.js';
import { createMemoryContentStore } from '../../js/content/content-store.js';
import { startWorld, until } from './world.mjs';

const FAST = { answerTimeoutMs: 3000, openTimeoutMs: 3000, gatherTimeoutMs: 200 };
const PIECE = 128 * 1024;

/** Deterministic bytes. */
function pattern(size, seed) {
  const out = new Uint8Array(size);
  let x = seed * 2654435761 >>> 0;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

const bytesOf = async (blob) => new Uint8Array(await blob.arrayBuffer());

describe('swarm introductions (pages in a small world)', { timeout: 120_000 }, () => {
  let core;
  let world;
  before(async () => {
    core = await loadCore();
    world = await startWorld({ core });
  });
  after(async () => {
    await world?.close();
  });

  it('three downloaders of one link: two pushes each (their calls to the sharer), they meet through her with none, '
    + 'and each gets pieces from at least two peers', async () => {
    // Alice sends 1 MiB/s to each: the downloaders have pieces to trade long before she is done.
    const alice = await world.person('Alice', { ...FAST, autoAccept: true, maxUploadRate: 1 << 20 });
    const downloaders = [];
    for (const name of ['Bob', 'Carol', 'Dave']) downloaders.push(await world.person(name, FAST));
    const content = pattern(24 * PIECE + 999, 5);
    const share = await alice.peer.share(new Blob([content]), { name: 'data.bin' });
    const pushesBefore = world.service.received.filter((e) => e.type === 'push' && e.status === 201).length;

    const downloads = downloaders.map((p) => p.peer.fetch(share.link));
    let lastProgress = null;
    downloads[0].addEventListener('progress', (e) => { lastProgress = e; });
    await Promise.all(downloads.map((dl) => dl.done));
    // Progress events carry the per-peer figures (who sent how much), as peers() gives them.
    assert.deepEqual(lastProgress.sources.map((p) => [p.keyId, p.pieces]), downloads[0].peers().map((p) => [p.keyId, p.pieces]));
    assert.equal(lastProgress.sources.reduce((n, p) => n + p.pieces, 0), 25);

    for (const dl of downloads) assert.deepEqual(await bytesOf(await dl.blob(0)), content);
    const pushes = world.service.received.filter((e) => e.type === 'push' && e.status === 201).length - pushesBefore;
    assert.ok(pushes <= 2 * downloaders.length, `${pushes} pushes for ${downloaders.length} downloaders`);
    for (const p of downloaders) assert.ok(world.pushesTo(p) <= 1, `${p.name} got ${world.pushesTo(p)} pushes`);
    for (const [i, dl] of downloads.entries()) {
      const from = dl.peers().filter((p) => p.pieces > 0);
      assert.ok(from.length >= 2, `${downloaders[i].name} got pieces from ${JSON.stringify(dl.peers())}`);
      assert.ok(from.some((p) => !p.link), `${downloaders[i].name}: some pieces came from another downloader`);
    }
    // They are connected to each other (carried calls: no push), each through Alice.
    for (const p of downloaders) {
      const others = downloaders.filter((q) => q !== p).map((q) => q.peer.keyId);
      await until(() => others.every((k) => [...p.peer.connections].some((c) => c.remote.keyId === k && !c.closed)),
        { what: `${p.name} connected to the other downloaders` });
    }
    assert.ok(alice.peer.content.server.served.ranges < 3 * 25, `Alice sent ${alice.peer.content.server.served.ranges} ranges`);
    // Met through the swarm (strangers holding the same link): not on their peer lists, kept only as transient peers.
    for (const p of downloaders) assert.deepEqual((await p.peer.peers()).map((q) => q.name), ['Alice'], p.name);
    assert.ok((await downloaders[0].peer.store.peers()).some((q) => q.transient && q.name === 'Carol'));

    // A second share fetched by the same three, connected to each other already: the swarm takes those
    // connections (a hello on each), no call, no push.
    const pushesBeforeSecond = world.service.received.filter((e) => e.type === 'push' && e.status === 201).length;
    const second = await alice.peer.share(new Blob([pattern(16 * PIECE, 6)]), { name: 'more.bin' });
    const again = downloaders.map((p) => p.peer.fetch(second.link));
    await Promise.all(again.map((dl) => dl.done));
    assert.equal(world.service.received.filter((e) => e.type === 'push' && e.status === 201).length, pushesBeforeSecond);
    for (const [i, dl] of again.entries()) {
      assert.equal(dl.peers().length, 3, `${downloaders[i].name}'s sources: ${JSON.stringify(dl.peers())}`);
    }
    assert.ok(again.some((dl) => dl.peers().some((p) => !p.link && p.pieces > 0)), 'pieces traded again');

    // A latecomer meets them though they are done: they serve what they downloaded and stay in the swarm.
    const erin = await world.person('Erin', FAST);
    const late = erin.peer.fetch(share.link);
    await late.done;
    assert.deepEqual(await bytesOf(await late.blob(0)), content);
    assert.ok(world.pushesTo(erin) <= 1);
    const from = late.peers().filter((p) => p.pieces > 0);
    assert.ok(from.length >= 2 && from.some((p) => !p.link), JSON.stringify(late.peers()));
  });

  it('a swarm hands no stranger a way to push to anyone: the cards its members learn of each other carry no grants, '
    + 'the sharer keeps the cards of those who called her, and a new card reaches a swarm member without grants', async () => {
    const alice = await world.person('Alice', { ...FAST, autoAccept: true, maxUploadRate: 1 << 20 });
    const bob = await world.person('Bob', FAST);
    const carol = await world.person('Carol', FAST);
    const mallory = await world.person('Mallory', FAST); // anyone with the link (for a site: anyone at all)
    const share = await alice.peer.share(new Blob([pattern(8 * PIECE, 9)]), { name: 'x.bin' });
    for (const p of [bob, carol, mallory]) await p.peer.fetch(share.link).done;
    const people = [bob, carol, mallory];
    for (const p of people) {
      const others = people.filter((q) => q !== p).map((q) => q.peer.keyId);
      await until(() => others.every((k) => [...p.peer.connections].some((c) => c.remote.keyId === k && !c.closed)),
        { what: `${p.name} connected to the others` });
    }
    const grantsOf = async (p, q) => core.decodeCard((await p.peer.store.getPeer(q.peer.keyId)).card).grants.length;
    for (const p of people) {
      for (const q of people.filter((x) => x !== p)) assert.equal(await grantsOf(p, q), 0, `${p.name}'s card of ${q.name}`);
      assert.ok(await grantsOf(alice, p) > 0, `Alice keeps ${p.name}'s card (a call of theirs)`);
      assert.ok(await grantsOf(p, alice) > 0, `${p.name} keeps Alice's card (the link's)`);
    }
    // What Mallory holds of Bob cannot push to him.
    const pushesToBob = world.pushesTo(bob);
    const bobsCard = (await mallory.peer.store.getPeer(bob.peer.keyId)).card;
    assert.throws(() => core.grantAuthorization(bobsCard), (e) => e.code === 'NO_USABLE_GRANT');
    // (Through a member that carries it, her call reaches him as a swarm's does: no push. By push, it cannot.)
    await assert.rejects(mallory.peer.connect(bobsCard, { route: false }), (e) => e.code === 'NO_USABLE_GRANT');
    assert.equal(world.pushesTo(bob), pushesToBob);
    // Bob's new card (a new name) goes to his live connections: to Carol, met in the swarm, without grants; to
    // Alice, whom he called, whole.
    await bob.peer.setName('Bobby');
    await until(async () => (await carol.peer.store.getPeer(bob.peer.keyId)).name === 'Bobby', { what: 'Carol has the new card' });
    await until(async () => (await alice.peer.store.getPeer(bob.peer.keyId)).name === 'Bobby', { what: 'Alice has the new card' });
    assert.equal(await grantsOf(carol, bob), 0);
    assert.ok(await grantsOf(alice, bob) > 0);
  });

  it('a card frame from a swarm member we keep no record of (forgotten while connected) makes it no peer of ours, '
    + 'and our next card reaches it without grants', async () => {
    const alice = await world.person('Alice', { ...FAST, autoAccept: true, maxUploadRate: 1 << 20 });
    const bob = await world.person('Bob', FAST);
    const mallory = await world.person('Mallory', FAST);
    const share = await alice.peer.share(new Blob([pattern(8 * PIECE, 9)]), { name: 'x.bin' });
    for (const p of [bob, mallory]) await p.peer.fetch(share.link).done;
    const link = (p, q) => [...p.peer.connections].find((c) => c.remote.keyId === q.peer.keyId && !c.closed);
    await until(() => link(bob, mallory) && link(mallory, bob), { what: 'Bob and Mallory connected (swarm)' });
    await bob.peer.store.deletePeer(mallory.peer.keyId); // as forgetPeer() does, or an eviction of transient peers
    link(mallory, bob).sendControl({ t: 'card', card: mallory.peer.card({ push: false }).text });
    await bob.peer.setName('Bobby');
    await until(async () => (await mallory.peer.store.getPeer(bob.peer.keyId)).name === 'Bobby', { what: 'the new card' });
    assert.equal(await bob.peer.store.getPeer(mallory.peer.keyId), undefined, 'no record made by a card frame');
    assert.equal(core.decodeCard((await mallory.peer.store.getPeer(bob.peer.keyId)).card).grants.length, 0);
  });

  it('a carried call whose caller\'s card has no grants stays a transient peer when accepted (autoAccept): it gave us no '
    + 'way to push to it, and gets none to push to us', async () => {
    const alice = await world.person('Alice', { ...FAST, autoAccept: true, introductions: 'peers' }); // carries for peers
    const bob = await world.person('Bob', { ...FAST, autoAccept: true });
    const mallory = await world.person('Mallory', FAST);
    await bob.peer.connect(alice.card().link);
    const viaAlice = await mallory.peer.connect(alice.card().link);
    // Mallory calls Bob through Alice with her card without grants (as a swarm's calls do): no group admits it, so
    // Bob's app decides, and autoAccept takes it.
    const toBob = await mallory.peer.connect(bob.card().link, { via: viaAlice, transient: true });
    const kept = await bob.peer.store.getPeer(mallory.peer.keyId);
    assert.equal(core.decodeCard(kept.card).grants.length, 0);
    assert.equal(kept.transient, true);
    assert.ok(!(await bob.peer.peers()).some((p) => p.keyId === mallory.peer.keyId));
    // So his next card reaches her without grants (she keeps the one his link gave her: never replaced by less).
    const sent = [];
    toBob.addEventListener('card', (e) => sent.push(core.decodeCard(e.card)));
    await bob.peer.setName('Bobby');
    await until(() => sent.length > 0, { what: 'the new card' });
    assert.deepEqual(sent.map((c) => [c.name, c.grants.length]), [['Bobby', 0]]);
  });

  it('siteSwarm: false: a page neither joins its site\'s swarm through its connections nor answers a hello for it',
    async () => {
      const publisher = core.generateVapidKeys();
      const hasher = core.contentHasher();
      hasher.update(pattern(1000, 4));
      const bytes = core.createSiteManifest({ privateKey: publisher.privateKey, version: 1, title: 'app',
        files: [{ name: 'a.bin', size: 1000, type: 'application/octet-stream', root: hasher.finish().root }] });
      const id = core.base64urlEncode(core.openSiteManifest(bytes).manifest.id);
      // A visitor of a signed site: the worker's site record (its manifest) and the site's share in the content store.
      const visitor = async (name, options = {}) => {
        const p = await world.person(name, { ...FAST, autoAccept: true, ...options });
        await p.peer.store.set('site', { id, version: 1, bytes });
        await p.peer.content.store.putShare({ id, site: 1, complete: false, files: [], created: 0, from: null });
        return p;
      };
      const alice = await visitor('Alice');
      const bob = await visitor('Bob');
      const carol = await visitor('Carol', { siteSwarm: false });
      await alice.peer.connect(bob.card().link);
      await alice.peer.connect(carol.card().link);
      const swarm = () => alice.peer.groups.byName.get(`pushpeer-swarm:${id}`);
      await until(() => swarm()?.peers().some((p) => p.name === 'Bob'), { what: 'Alice and Bob in the site swarm' });
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.deepEqual(swarm().peers().map((p) => p.name), ['Bob'], 'Carol answered no hello');
      assert.ok(!carol.peer.groups.byName.has(`pushpeer-swarm:${id}`), 'Carol joined nothing');
    });

  it('a downloader that reloads mid-transfer resumes inside the swarm: its call to the sharer again, the others '
    + 'met again through her with no push, the pieces it had not asked again', async () => {
    const alice = await world.person('Alice', { ...FAST, autoAccept: true, maxUploadRate: 1 << 20 });
    const bob = await world.person('Bob', FAST);
    const carol = await world.person('Carol', { ...FAST, contentStore: createMemoryContentStore({ name: 'carol-reload' }) });
    const content = pattern(32 * PIECE, 9);
    const share = await alice.peer.share(new Blob([content]), { name: 'big.bin' });
    const fromBob = bob.peer.fetch(share.link);
    const first = carol.peer.fetch(share.link);
    await until(() => first.progress().pieces >= 6, { timeoutMs: 20_000, what: 'Carol has 6 pieces' });
    await carol.reload();
    const had = await until(async () => (await carol.peer.shares()).find((s) => s.id === share.id) && true);
    assert.ok(had);
    const pushesBefore = world.pushesTo(carol);
    const again = carol.peer.fetch(share.link);
    const verified = [];
    again.addEventListener('verified', (e) => verified.push(e.piece));
    await Promise.all([again.done, fromBob.done]);
    assert.deepEqual(await bytesOf(await again.blob(0)), content);
    assert.deepEqual(await bytesOf(await fromBob.blob(0)), content);
    assert.ok(world.pushesTo(carol) - pushesBefore <= 1, 'one push back from Alice (the answer), none from Bob');
    assert.ok(verified.length <= 32 - 6, `${verified.length} pieces fetched after the reload`);
    await until(() => [...carol.peer.connections].some((c) => c.remote.keyId === bob.peer.keyId && !c.closed),
      { what: 'Carol connected to Bob again' });
  });

  it('a member with maxNeighbours connections declines a carried call over its carrier (no push, nothing kept); '
    + 'swarm members are transient peers, at most 64, and a call of our own makes one a peer for good', async () => {
    const alice = await world.person('Alice', { ...FAST, autoAccept: true, maxUploadRate: 1 << 20 });
    const carol = await world.person('Carol', { ...FAST, maxNeighbours: 1, neighbourLimit: 1 });
    const bob = await world.person('Bob', FAST);
    const bobErrors = [];
    bob.peer.addEventListener('error', (e) => bobErrors.push(e.error.code));
    const share = await alice.peer.share(new Blob([pattern(16 * PIECE, 4)]), { name: 'd.bin' });
    const first = carol.peer.fetch(share.link);
    await until(() => first.progress().pieces >= 1, { what: 'Carol has a piece' });
    const pushesToCarol = world.pushesTo(carol);
    const second = bob.peer.fetch(share.link);
    await Promise.all([first.done, second.done]);
    // Bob heard of Carol from Alice and called her through Alice: Carol has Alice, her one neighbour.
    await until(() => bobErrors.includes('DECLINED'), { what: `Bob's call declined (${bobErrors})` });
    assert.ok(![...carol.peer.connections].some((c) => c.remote.keyId === bob.peer.keyId && !c.closed));
    assert.equal(await carol.peer.store.getPeer(bob.peer.keyId), undefined, 'nothing kept of a call declined');
    assert.equal(world.pushesTo(carol), pushesToCarol, 'the decline went back through Alice');

    // Transient peers: at most 64, the oldest we are not connected to go first; a call of ours makes one a peer.
    const keep = bob.peer.calls.host.keepPeer;
    const strangers = [];
    for (let i = 0; i < 70; i++) {
      const identity = core.generateVapidKeys();
      const card = core.createCard({ identity, subject: 'mailto:s@pushpeer.invalid', name: `s${i}`, subscription: {
        endpoint: `${world.service.httpOrigin}/push/s${i}`,
        keys: { p256dh: core.base64urlEncode(core.generateVapidKeys().publicKey), auth: core.base64urlEncode(new Uint8Array(16)) } } });
      strangers.push(core.base64urlEncode(core.keyIdOf(identity.publicKey)));
      await keep(strangers[i], card.bytes, undefined, { transient: true });
    }
    const transient = (await bob.peer.store.peers()).filter((p) => p.transient);
    assert.equal(transient.length, 64);
    assert.ok(!transient.some((p) => strangers.slice(0, 6).includes(p.keyId)), 'the oldest went');
    await keep(strangers[69], (await bob.peer.store.getPeer(strangers[69])).card);
    assert.ok((await bob.peer.peers()).some((p) => p.keyId === strangers[69]));
    assert.equal((await bob.peer.store.getPeer(strangers[69])).transient, undefined);
  });

  it('a swarm is joined only by a link holder, and only for a share the peer serves now', async () => {
    const alice = await world.person('Alice', { ...FAST, autoAccept: true });
    const mallory = await world.person('Mallory', FAST);
    const kept = await alice.peer.share(new Blob([pattern(1000, 1)]), { name: 'a.bin' });
    const removed = await alice.peer.share(new Blob([pattern(1000, 2)]), { name: 'b.bin' });
    await removed.remove();
    const conn = await mallory.peer.connect(alice.card().link);
    const pushes = world.pushesTo(alice);
    // The swarm of a share is the group whose secret is the share's id (the link's): what a link holder can make.
    const swarmOf = (id, name) => mallory.peer.group(name, { secret: id });
    const random = core.base64urlEncode(crypto.getRandomValues(new Uint8Array(32)));
    await assert.rejects(swarmOf(random, 'none').join(alice.card().link), (e) => e.code === 'NOT_A_MEMBER');
    await assert.rejects(swarmOf(removed.id, 'removed').join(alice.card().link), (e) => e.code === 'NOT_A_MEMBER');
    // (A proof for another key id, or made without the secret, is refused alike: tests/node/groups.test.mjs.)
    const joined = await swarmOf(kept.id, 'kept').join(alice.card().link);
    assert.deepEqual(joined.map((p) => p.name), ['Alice']);
    assert.equal(world.pushesTo(alice), pushes, 'over the connection Mallory had: no push');
    // Hellos for a share's swarm while it is being removed: none of them keeps Alice in it.
    const racing = await alice.peer.share(new Blob([pattern(1000, 3)]), { name: 'c.bin' });
    const groupId = core.base64urlEncode(core.groupId(core.base64urlDecode(racing.id)));
    const removing = racing.remove();
    const lookups = [];
    for (let i = 0; i < 50; i++) {
      lookups.push(alice.peer.swarms.groupFor(groupId));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await removing;
    await Promise.all(lookups);
    assert.ok(!alice.peer.groups.byId.has(groupId), 'not in the swarm of a share removed');
    conn.close();
  });
});
