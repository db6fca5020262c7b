// Share by link in real browsers (docs/API.md, "Share by link"; docs/PROTOCOL.md §9): Alice (Chromium) shares three
// files; Bob (Firefox) opens the link (two pushes), gets every file verified, in order and streamed, and seeds it to
// Carol (Chromium). Carol reloads mid-transfer and resumes; Bob and Carol, fetching one link at once, trade the
// pieces they verified (many sources); a lying sharer is blamed and dropped with nothing unverified kept; Alice
// reloads and her shares are still served.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { diagnose, pollUntil, startWorld, SUBJECT } from './apps.mjs';

const TEST_MS = 120_000;
const MiB = 1 << 20;
const PIECE = 128 * 1024;

describe('share by link: verified files between browsers', { timeout: 10 * 60_000 }, () => {
  let world;
  let alice;
  let bob;
  let carol;
  const created = {};
  const options = {
    alice: { name: 'Alice', subject: SUBJECT, hostSubscribe: true },
    bob: { name: 'Bob', subject: SUBJECT },
    carol: { name: 'Carol', subject: SUBJECT, hostSubscribe: true },
  };

  before(async () => {
    world = await startWorld();
    [alice, bob] = await Promise.all([world.open('chromium', 'alice'), world.open('firefox', 'bob')]);
    carol = await world.open('chromium', 'carol', { inside: alice });
    created.alice = await alice.call('create', options.alice);
    created.bob = await bob.call('create', options.bob);
    created.carol = await carol.call('create', options.carol);
  });

  after(async () => {
    await world?.close();
  });

  let first;

  test('Alice (Chromium) shares three files; Bob (Firefox) opens the link: two pushes, every file verified and equal',
    { timeout: TEST_MS }, async (t) => {
      try {
        first = await alice.call('share', [
          { name: 'clip 😀 (1).webm', type: 'video/webm', size: 6 * MiB + 12345, seed: 1 },
          { name: 'empty.txt', type: 'text/plain', size: 0 },
          { name: 'notes/one leaf.bin', size: 16384, seed: 7 },
        ], { title: 'Holiday' });
        assert.equal(first.error, undefined, JSON.stringify(first.error));
        t.diagnostic(`shared (hashed and stored) in ${Math.round(first.ms)} ms`);
        const since = world.service.lastSeq;
        const { index } = await bob.call('fetchShare', first.link);
        const got = await bob.call('download', index, { stream: true });
        assert.equal(got.error, undefined, JSON.stringify(got.error));
        assert.equal(world.pushesSince(since).length, 2, 'one push each way, as for any call');
        assert.deepEqual(got.files.map((f) => [f.name, f.size, f.sha256]), first.files.map((f) => [f.name, f.size, f.sha256]));
        assert.deepEqual(got.files.map((f) => f.type), ['video/webm', 'text/plain; charset=utf-8', '']);
        assert.equal(got.streamed, first.files[0].sha256, 'stream(0) gave the same bytes in order');
        const verified = got.events.filter((e) => e.type === 'verified');
        assert.equal(verified.length, Math.ceil((6 * MiB + 12345) / PIECE) + 2);
        assert.ok(got.events.some((e) => e.type === 'manifest') && got.events.some((e) => e.type === 'progress'));
        const manifestAt = got.events.find((e) => e.type === 'manifest').at;
        t.diagnostic(`manifest after ${Math.round(manifestAt)} ms (the call included), first piece verified ` +
          `${Math.round(verified[0].at - manifestAt)} ms later, all in ${Math.round(got.events.at(-1).at)} ms`);
      } catch (error) {
        throw await diagnose(world, [alice, bob], error);
      }
    });

  test('where the bytes are: Alice\'s (Chromium, shared) and Bob\'s (Firefox, downloaded) pieces are in the origin '
    + 'private file system, a file per stored file, with no bytes in IndexedDB; Bob\'s service worker serves them from there',
  { timeout: TEST_MS }, async () => {
    try {
      for (const app of [alice, bob]) {
        const stored = await app.page.evaluate(async () => {
          const root = await (await navigator.storage.getDirectory()).getDirectoryHandle('pushpeer-content');
          const out = [];
          for await (const [dir, handle] of root.entries()) {
            const files = {};
            for await (const [name, f] of handle.entries()) files[name] = (await f.getFile()).size;
            const db = await new Promise((resolve, reject) => {
              const open = indexedDB.open(`${decodeURIComponent(dir)}-content`);
              open.onsuccess = () => resolve(open.result);
              open.onerror = () => reject(open.error);
            });
            const pieces = await new Promise((resolve) => {
              const q = db.transaction('pieces').objectStore('pieces').getAll();
              q.onsuccess = () => resolve(q.result.map((p) => ({ file: p.file, index: p.index, opfs: p.opfs, data: p.data !== undefined })));
            });
            db.close();
            out.push({ dir, files, pieces });
          }
          return out;
        });
        assert.equal(stored.length, 1, JSON.stringify(stored.map((s) => s.dir)));
        const [{ files, pieces }] = stored;
        assert.ok(pieces.length >= Math.ceil((6 * MiB + 12345) / PIECE) + 2, `${app.label}: ${pieces.length} pieces`);
        for (const p of pieces) {
          assert.equal(p.data, false, `${app.label}: piece ${p.file}:${p.index} has bytes in IndexedDB`);
          assert.ok(Number.isInteger(p.opfs), `${app.label}: piece ${p.file}:${p.index}: ${p.opfs}`);
          assert.ok(files[p.file] >= p.index * PIECE + p.opfs, `${app.label}: ${p.file} holds piece ${p.index}`);
        }
      }
      const end = 6 * MiB + 12344;
      const served = await bob.call('fetchShareUrl', first.id, 0, `bytes=${PIECE - 7}-${end}`);
      assert.equal(served.status, 206);
      assert.equal(served.sha256, await alice.call('rangeSha', first.id, 0, PIECE - 7, end));
    } catch (error) {
      throw await diagnose(world, [alice, bob], error);
    }
  });

  test('Bob seeds what he downloaded: Carol (Chromium) gets it from Bob\'s link while Alice is not asked',
    { timeout: TEST_MS }, async () => {
      try {
        const bobsLink = first.link.replace(/\.[A-Za-z0-9_-]+$/, `.${created.bob.card.text}`);
        const since = world.service.lastSeq;
        const { index } = await carol.call('fetchShare', bobsLink);
        const got = await carol.call('download', index);
        assert.equal(got.error, undefined, JSON.stringify(got.error));
        assert.deepEqual(got.files.map((f) => f.sha256), first.files.map((f) => f.sha256));
        const pushes = world.pushesSince(since);
        assert.equal(pushes.length, 2);
        assert.equal(new Set(pushes.map((p) => p.subscription)).size, 2, 'Carol and Bob, not Alice');
        assert.ok((await bob.call('shares')).find((s) => s.id === first.id).complete);
      } catch (error) {
        throw await diagnose(world, [alice, bob, carol], error);
      }
    });

  test('Carol reloads mid-transfer: the same link resumes, and the pieces she had are not asked again',
    { timeout: TEST_MS }, async () => {
      try {
        const big = await alice.call('share', [{ name: 'big.bin', size: 24 * MiB, seed: 3 }]);
        const { index } = await carol.call('fetchShare', big.link, { window: 2 });
        await pollUntil(() => carol.call('downloadEvents', index), (e) => e.filter((x) => x.type === 'verified').length >= 8,
          { timeoutMs: 60_000 });
        await carol.page.reload({ waitUntil: 'load' });
        await carol.page.waitForFunction(() => window.appReady === true);
        await carol.call('create', options.carol);
        const again = await carol.call('fetchShare', big.link);
        const got = await carol.call('download', again.index);
        assert.equal(got.error, undefined, JSON.stringify(got.error));
        assert.equal(got.files[0].sha256, big.files[0].sha256);
        const asked = got.events.filter((e) => e.type === 'verified').length;
        assert.ok(asked <= 24 * 8 - 8, `after the reload ${asked} of ${24 * 8} pieces were fetched`);
      } catch (error) {
        throw await diagnose(world, [alice, carol], error);
      }
    });

  test('two downloaders of one link trade what they verified (Bob in Firefox, Carol in Chromium): each gets pieces '
    + 'from Alice and from the other while both are still fetching, every copy equal', { timeout: TEST_MS }, async (t) => {
    try {
      const swarm = await alice.call('share', [{ name: 'swarm.bin', size: 16 * MiB, seed: 11 }]);
      await alice.call('slowRanges', 200); // Alice's storage is slow: her downloaders trade meanwhile
      const fromBob = await bob.call('fetchShare', swarm.link);
      await pollUntil(() => bob.call('downloadEvents', fromBob.index), (e) => e.some((x) => x.type === 'manifest'),
        { timeoutMs: 60_000 });
      const fromCarol = await carol.call('fetchShare', swarm.link);
      // Carol learns that Bob fetches it too (as an introduction will tell her): he becomes a source of hers.
      const added = await carol.call('addSource', fromCarol.index, { keyId: created.bob.keyId, card: created.bob.card.text });
      assert.deepEqual(added, { added: true });
      const [b, c] = await Promise.all([bob.call('download', fromBob.index), carol.call('download', fromCarol.index)]);
      for (const got of [b, c]) {
        assert.equal(got.error, undefined, JSON.stringify(got.error));
        assert.equal(got.files[0].sha256, swarm.files[0].sha256);
      }
      const from = (list, who) => list.find((p) => p.keyId === who.keyId)?.pieces ?? 0;
      const carols = await carol.call('downloadPeers', fromCarol.index);
      const bobs = await bob.call('downloadPeers', fromBob.index);
      t.diagnostic(`Carol got ${from(carols, created.alice)} pieces from Alice and ${from(carols, created.bob)} from Bob; `
        + `Bob ${from(bobs, created.alice)} from Alice and ${from(bobs, created.carol)} from Carol`);
      assert.ok(from(carols, created.alice) > 0 && from(carols, created.bob) > 0, JSON.stringify(carols));
      assert.ok(from(bobs, created.carol) > 0, JSON.stringify(bobs));
    } catch (error) {
      throw await diagnose(world, [alice, bob, carol], error);
    } finally {
      await alice.call('honest');
    }
  });

  test('a sharer that lies in a range is blamed (CHUNK_MISMATCH) and dropped; no unverified piece is kept',
    { timeout: TEST_MS }, async () => {
      try {
        const lied = await alice.call('share', [{ name: 'lied.bin', size: 2 * MiB, seed: 5 }]);
        await alice.call('lieInRanges', 3);
        const { index } = await bob.call('fetchShare', lied.link, { window: 1 });
        const got = await bob.call('download', index);
        assert.equal(got.state, 'failed');
        assert.equal(got.error.code, 'CHUNK_MISMATCH');
        assert.equal(got.events.filter((e) => e.type === 'verified').length, 2, 'the two ranges before the lie');
        assert.equal(got.progress.pieces, 2);
        assert.deepEqual(got.events.filter((e) => e.type === 'error').map((e) => e.code), ['CHUNK_MISMATCH']);
        await alice.call('honest');
      } catch (error) {
        throw await diagnose(world, [alice, bob], error);
      }
    });

  test('a video plays while it arrives, from download.url(0) through the service worker, in Firefox and Chromium',
    { timeout: TEST_MS }, async (t) => {
      try {
        await alice.call('slowRanges', 250);
        for (const [who, app] of [['Bob (Firefox)', bob], ['Carol (Chromium)', carol]]) {
          const clip = await alice.call('shareRecording', 6);
          const r = await app.call('playWhileFetching', clip.link);
          assert.equal(r.error, undefined, `${who}: ${JSON.stringify(r.error)}`);
          t.diagnostic(`${who}: ${clip.size} bytes; playing after ${Math.round(r.playingAt)} ms with ` +
            `${r.piecesAtPlaying}/${r.totalPieces} pieces, done after ${Math.round(r.doneAt)} ms`);
          assert.equal(r.stateAtPlaying, 'downloading', `${who}: it played before the download was done`);
          assert.ok(r.piecesAtPlaying < r.totalPieces);
        }
        await alice.call('honest');
      } catch (error) {
        throw await diagnose(world, [alice, bob, carol], error);
      }
    });

  test('the worker serves ranges of verified bytes, and nothing a stranger shares runs in our origin',
    { timeout: TEST_MS }, async () => {
      try {
        const page = await alice.call('share', [
          { name: 'page.html', type: 'text/html', size: 3 * 16384 + 7, seed: 2 },
          { name: 'pic.svg', type: 'image/svg+xml', size: 100, seed: 3 },
          { name: 'song.ogg', type: 'audio/ogg', size: 300000, seed: 4 },
        ]);
        const { index } = await bob.call('fetchShare', page.link);
        assert.equal((await bob.call('download', index)).error, undefined);
        const html = await bob.call('fetchShareUrl', page.id, 0);
        assert.equal(html.status, 200);
        assert.equal(html.sha256, page.files[0].sha256);
        assert.equal(html.headers['content-type'], 'application/octet-stream');
        assert.equal(html.headers['content-disposition'], 'attachment');
        assert.equal(html.headers['content-security-policy'], "sandbox; default-src 'none'; frame-ancestors 'none'");
        assert.equal(html.headers['x-content-type-options'], 'nosniff');
        assert.equal((await bob.call('fetchShareUrl', page.id, 1)).headers['content-type'], 'application/octet-stream');
        const part = await bob.call('fetchShareUrl', page.id, 2, 'bytes=131000-140999');
        assert.equal(part.status, 206);
        assert.equal(part.headers['content-range'], 'bytes 131000-140999/300000');
        assert.equal(part.headers['content-type'], 'audio/ogg');
        assert.equal(part.length, 10000);
        assert.equal(part.sha256, await alice.call('rangeSha', page.id, 2, 131000, 140999));
        assert.equal((await bob.call('fetchShareUrl', page.id, 2, 'bytes=400000-')).status, 416);
        assert.equal((await bob.call('fetchShareUrl', page.id, 9)).status, 404);
      } catch (error) {
        throw await diagnose(world, [alice, bob], error);
      }
    });

  test('Alice reloads: her shares are still listed and served from storage', { timeout: TEST_MS }, async () => {
    try {
      const kept = await alice.call('share', [{ name: 'kept.bin', size: MiB + 1, seed: 11 }]);
      await alice.page.reload({ waitUntil: 'load' });
      await alice.page.waitForFunction(() => window.appReady === true);
      await alice.call('create', options.alice);
      assert.ok((await alice.call('shares')).some((s) => s.id === kept.id && s.complete));
      const { index } = await bob.call('fetchShare', kept.link);
      const got = await bob.call('download', index);
      assert.equal(got.error, undefined, JSON.stringify(got.error));
      assert.equal(got.files[0].sha256, kept.files[0].sha256);
    } catch (error) {
      throw await diagnose(world, [alice, bob], error);
    }
  });
  test('storage full in a real browser (Firefox with a 40 MiB storage limit): a share that cannot fit fails at once '
    + 'with QUOTA_EXCEEDED; one that runs out midway fails the same way, and what it kept is verified bytes only',
  { timeout: TEST_MS }, async (t) => {
    let dora;
    try {
      // Firefox's limit for all sites; one site gets a fifth of it, and at least 10 MB (what estimate() reports).
      dora = await world.open('firefox', 'dora', { extraPrefs: { 'dom.quotaManager.temporaryStorage.fixedLimit': 40 * 1024 } });
      await dora.call('create', { name: 'Dora', subject: SUBJECT });
      const { quota, usage } = await dora.page.evaluate(() => navigator.storage.estimate());
      t.diagnostic(`Firefox says: quota ${quota} bytes, usage ${usage}`);
      assert.ok(quota < 24 * MiB, `the limit applies (quota ${quota})`);
      const big = await alice.call('share', [{ name: 'big.bin', size: 24 * MiB, seed: 13 }]);
      const first = await dora.call('download', (await dora.call('fetchShare', big.link)).index);
      assert.equal(first.error?.code, 'QUOTA_EXCEEDED', JSON.stringify(first.error));
      assert.equal(first.progress.pieces, 0, 'nothing asked for');
      // A page that cannot learn its quota (estimate() missing) asks for the pieces, and storage runs out midway.
      await dora.page.evaluate(() => Object.defineProperty(navigator.storage, 'estimate', { value: undefined }));
      const second = await dora.call('download', (await dora.call('fetchShare', big.link)).index);
      assert.equal(second.error?.code, 'QUOTA_EXCEEDED', JSON.stringify(second.error));
      const kept = await dora.page.evaluate(() => window.app.state.downloads.at(-1).dl.pieces(0));
      t.diagnostic(`storage ran out after ${kept.length} of ${24 * MiB / PIECE} pieces`);
      assert.ok(kept.length > 0 && kept.length < 24 * MiB / PIECE, `${kept.length} pieces kept`);
      assert.deepEqual(kept, kept.map((_, i) => i), 'in order, none missing');
      // What is kept is the sharer's bytes: the worker serves exactly them.
      const end = kept.length * PIECE - 1;
      const served = await dora.call('fetchShareUrl', big.id, 0, `bytes=0-${end}`);
      assert.equal(served.status, 206);
      assert.equal(served.sha256, await alice.call('rangeSha', big.id, 0, 0, end));
      assert.equal((await dora.call('shares')).find((s) => s.id === big.id)?.complete, false);
    } catch (error) {
      throw await diagnose(world, [alice, dora].filter(Boolean), error);
    }
  });
});
