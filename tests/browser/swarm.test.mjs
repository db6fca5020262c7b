// The swarm in real browsers (docs/API.md, "Many sources"; docs/PROTOCOL.md §9.5, §9.6): Alice (Chromium) shares;
// Bob (Firefox), Carol and Dave (Chromium) open her link at once. Each calls Alice (two pushes), meets the others
// through her with no push (swarm introductions), and fetches from all of them; pushes are counted at the local push
// service. Two seeders capped at 2 MiB/s serve a download in at most 0.6x the time one takes; a seeder that lies is
// banned while the download completes from the others. Then a downloader
// reloads mid-transfer and resumes inside the swarm while a seeder closes its page.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { diagnose, pollUntil, startWorld, SUBJECT } from './apps.mjs';

const TEST_MS = 150_000;
const MiB = 1 << 20;

describe('the swarm: one link, many sources, in real browsers', { timeout: 8 * 60_000 }, () => {
  let world;
  let alice;
  let bob;
  let carol;
  let dave;
  const created = {};
  const options = {
    alice: { name: 'Alice', subject: SUBJECT, hostSubscribe: true },
    bob: { name: 'Bob', subject: SUBJECT },
    carol: { name: 'Carol', subject: SUBJECT, hostSubscribe: true },
    dave: { name: 'Dave', subject: SUBJECT, hostSubscribe: true },
  };

  before(async () => {
    world = await startWorld();
    [alice, bob] = await Promise.all([world.open('chromium', 'alice'), world.open('firefox', 'bob')]);
    carol = await world.open('chromium', 'carol', { inside: alice });
    dave = await world.open('chromium', 'dave', { inside: alice });
    for (const [name, app] of Object.entries({ alice, bob, carol, dave })) created[name] = await app.call('create', options[name]);
  });

  after(async () => {
    await world?.close();
  });

  /** Pushes since `since`, counted per subscription (the service's ids). */
  const pushesByRecipient = (since) => {
    const out = {};
    for (const p of world.pushesSince(since)) out[p.subscription] = (out[p.subscription] ?? 0) + 1;
    return out;
  };

  test('three downloaders open one link at once: two pushes each, they meet through Alice with none, each gets '
    + 'pieces from at least two peers, every copy verified and equal', { timeout: TEST_MS }, async (t) => {
    try {
      const share = await alice.call('share', [{ name: 'swarm.bin', size: 16 * MiB, seed: 21 }]);
      assert.equal(share.error, undefined, JSON.stringify(share.error));
      await alice.call('slowRanges', 150); // Alice's storage is slow: her downloaders trade meanwhile
      const since = world.service.lastSeq;
      const apps = [bob, carol, dave];
      const started = await Promise.all(apps.map((app) => app.call('fetchShare', share.link)));
      const got = await Promise.all(apps.map((app, i) => app.call('download', started[i].index)));
      for (const g of got) {
        assert.equal(g.error, undefined, JSON.stringify(g.error));
        assert.equal(g.files[0].sha256, share.files[0].sha256);
      }
      const pushes = world.pushesSince(since);
      assert.ok(pushes.every((p) => p.urgency === 'high'), 'calls only');
      t.diagnostic(`pushes: ${pushes.length} (${JSON.stringify(pushesByRecipient(since))})`);
      assert.ok(pushes.length <= 2 * apps.length, `${pushes.length} pushes for ${apps.length} downloaders`);
      const counts = Object.values(pushesByRecipient(since));
      assert.ok(counts.filter((n) => n > 1).length <= 1, 'only Alice got more than one push');
      for (const [i, app] of apps.entries()) {
        const peers = await app.call('downloadPeers', started[i].index);
        t.diagnostic(`${app.label}: ${peers.map((p) => `${p.name} ${p.pieces}`).join(', ')}`);
        const from = peers.filter((p) => p.pieces > 0);
        assert.ok(from.length >= 2, `${app.label} got pieces from ${JSON.stringify(peers)}`);
        assert.ok(from.some((p) => !p.link), `${app.label}: pieces from another downloader`);
      }
    } catch (error) {
      throw await diagnose(world, [alice, bob, carol, dave], error);
    } finally {
      await alice.call('honest');
    }
  });

  test('two seeders capped at 2 MiB/s each (maxUploadRate) serve a download in at most 0.6x the time one takes',
    { timeout: TEST_MS }, async (t) => {
      try {
        const one = await alice.call('share', [{ name: 'one.bin', size: 12 * MiB, seed: 23 }]);
        const two = await alice.call('share', [{ name: 'two.bin', size: 12 * MiB, seed: 24 }]);
        const seeded = await carol.call('fetchShare', two.link);
        assert.equal((await carol.call('download', seeded.index)).error, undefined);
        for (const app of [alice, carol]) await app.call('capUploads', 2 * MiB);
        const timed = async (link) => {
          const { index } = await dave.call('fetchShare', link);
          const got = await dave.call('download', index);
          assert.equal(got.error, undefined, JSON.stringify(got.error));
          // From the manifest to the last piece: the pieces' time, which the caps set.
          const at = (type) => got.events.find((e) => e.type === type).at;
          return { ms: at('done') - at('manifest'), peers: await dave.call('downloadPeers', index) };
        };
        const alone = await timed(one.link);
        const both = await timed(two.link);
        t.diagnostic(`one seeder ${Math.round(alone.ms)} ms, two ${Math.round(both.ms)} ms `
          + `(${(both.ms / alone.ms).toFixed(2)}x; ${both.peers.map((p) => `${p.name} ${p.pieces}`).join(', ')})`);
        assert.deepEqual(alone.peers.filter((p) => p.pieces > 0).map((p) => p.name), ['Alice']);
        assert.ok(both.ms <= 0.6 * alone.ms, `two seeders: ${Math.round(both.ms)} ms, one: ${Math.round(alone.ms)} ms`);
      } catch (error) {
        throw await diagnose(world, [alice, carol, dave], error);
      } finally {
        for (const app of [alice, carol]) await app.call('capUploads', null);
      }
    });

  test('a seeder that serves wrong bytes (Carol) is banned for the share and cut off; the download completes from '
    + 'Alice, every piece verified', { timeout: TEST_MS }, async (t) => {
    try {
      const share = await alice.call('share', [{ name: 'lies.bin', size: 8 * MiB, seed: 25 }]);
      const seeded = await carol.call('fetchShare', share.link);
      assert.equal((await carol.call('download', seeded.index)).error, undefined);
      await carol.call('lieInRanges', 3);
      await alice.call('slowRanges', 100); // so that Dave asks Carol for a good part of it
      const { index } = await dave.call('fetchShare', share.link);
      const got = await dave.call('download', index);
      assert.equal(got.error, undefined, JSON.stringify(got.error));
      assert.equal(got.files[0].sha256, share.files[0].sha256);
      assert.equal(got.events.filter((e) => e.type === 'error').length, 0);
      const peers = await dave.call('downloadPeers', index);
      t.diagnostic(peers.map((p) => `${p.name} ${p.pieces}${p.banned ? ' (banned)' : ''}`).join(', '));
      const liar = peers.find((p) => p.keyId === created.carol.keyId);
      assert.equal(liar?.banned, true, JSON.stringify(peers));
      assert.equal(liar.connected, false);
      assert.equal(peers.find((p) => p.keyId === created.alice.keyId).banned, false);
    } catch (error) {
      throw await diagnose(world, [alice, carol, dave], error);
    } finally {
      await carol.call('honest');
      await alice.call('honest');
    }
  });

  test('Carol reloads mid-transfer and resumes inside the swarm (pieces from the others again, those she had not '
    + 'asked again) while Bob, a seeder, closes his page: every copy verified and equal', { timeout: TEST_MS }, async (t) => {
    try {
      const share = await alice.call('share', [{ name: 'resume.bin', size: 24 * MiB, seed: 22 }]);
      await alice.call('slowRanges', 150);
      const [fromBob, fromCarol, fromDave] = await Promise.all([bob, carol, dave].map((app) => app.call('fetchShare', share.link)));
      const verified = (app, index) => app.call('downloadEvents', index).then((e) => e.filter((x) => x.type === 'verified').length);
      await pollUntil(() => verified(carol, fromCarol.index), (n) => n >= 24, { timeoutMs: 60_000 });
      await carol.page.reload({ waitUntil: 'load' });
      await carol.page.waitForFunction(() => window.appReady === true);
      await carol.call('create', options.carol);
      const since = world.service.lastSeq;
      const again = await carol.call('fetchShare', share.link);
      await pollUntil(() => verified(bob, fromBob.index), (n) => n >= 64, { timeoutMs: 60_000 });
      await bob.close(); // a seeder goes away mid-transfer
      const [c, d] = await Promise.all([carol.call('download', again.index), dave.call('download', fromDave.index)]);
      for (const g of [c, d]) {
        assert.equal(g.error, undefined, JSON.stringify(g.error));
        assert.equal(g.files[0].sha256, share.files[0].sha256);
      }
      const asked = c.events.filter((e) => e.type === 'verified').length;
      t.diagnostic(`after her reload Carol fetched ${asked} of 192 pieces; pushes since: ${JSON.stringify(pushesByRecipient(since))}`);
      assert.ok(asked <= 192 - 24, `after the reload ${asked} pieces were fetched`);
      // Calls are urgent pushes (an offer, an answer); a page that starts here also sends its peers a new card
      // (this harness subscribes Chromium anew on each page: urgency normal, a day's TTL), no part of the swarm.
      const calls = world.pushesSince(since).filter((p) => p.urgency === 'high');
      assert.equal(calls.length, 2, 'her call to Alice again; the others met with no push');
      const peers = await carol.call('downloadPeers', again.index);
      t.diagnostic(`Carol after the reload: ${peers.map((p) => `${p.name} ${p.pieces}`).join(', ')}`);
      assert.ok(peers.some((p) => !p.link && p.pieces > 0), `pieces from another downloader: ${JSON.stringify(peers)}`);
    } catch (error) {
      throw await diagnose(world, [alice, carol, dave], error);
    } finally {
      await alice.call('honest');
    }
  });
});
