// What a super-seeding seeder shows each downloader (js/swarm/seed-offers.js): a few pieces each, the least sent,
// seen and offered, a new one each time one is taken or turns up elsewhere, offers spread over the downloaders,
// departures, and everything once every piece went out; then whole runs of one seeder and five trading downloaders
// driven to the end with a seeded random source. Pure bookkeeping, so no core and no connections; bench/sim/swarm.mjs
// runs the same module in a simulated swarm.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { SeedOffers } from '../../js/swarm/seed-offers.js';
import { seeded } from './helpers.mjs';

const sorted = (list) => [...list].sort((a, b) => a - b);
const none = () => false;

/** A downloader holding the listed pieces; has() reads the set, so adding to it later is seen by the offers. */
function holder(list = []) {
  const have = new Set(list);
  return { have, has: (i) => have.has(i) };
}

describe('seed offers', () => {
  describe('a newcomer', () => {
    it('is offered perPeer distinct pieces, none of those it already has', () => {
      const s = new SeedOffers({ pieces: 10, perPeer: 3 });
      const a = holder([0, 1, 2, 5]);
      const offers = s.addPeer('a', a.has);
      assert.equal(offers.length, 3);
      assert.equal(new Set(offers).size, 3);
      for (const i of offers) {
        assert.ok(i >= 0 && i < 10);
        assert.ok(!a.has(i), `offered piece ${i} it has`);
      }
      // Nothing has gone out and nothing is offered elsewhere, so the scan from piece 0 takes the first it lacks.
      assert.deepEqual(offers, [3, 4, 6]);
    });

    it('is offered only the pieces it lacks when it lacks fewer than perPeer', () => {
      const s = new SeedOffers({ pieces: 6, perPeer: 4 });
      assert.deepEqual(sorted(s.addPeer('a', (i) => i !== 1 && i !== 4)), [1, 4]);
    });

    it('that already has every piece is offered nothing (an empty list, not everything)', () => {
      const s = new SeedOffers({ pieces: 5, perPeer: 2 });
      assert.deepEqual(s.addPeer('a', () => true), []);
      assert.equal(s.open, false);
      // And it holds no offer, so the next downloader still gets the first pieces.
      assert.deepEqual(s.addPeer('b', none), [0, 1]);
    });

    it('is shown everything (null) once every piece went out', () => {
      const s = new SeedOffers({ pieces: 2, perPeer: 1 });
      s.sent('x', 0);
      assert.deepEqual(s.addPeer('a', none), [1]); // still closed: 1 has not gone out
      assert.equal(s.sent('x', 1), null);
      assert.equal(s.open, true);
      assert.equal(s.addPeer('b', none), null);
      assert.equal(s.addPeer('c', () => true), null);
    });

    it('perPeer defaults to 4', () => {
      const s = new SeedOffers({ pieces: 10 });
      assert.equal(s.perPeer, 4);
      assert.equal(s.addPeer('a', none).length, 4);
    });
  });

  describe('spreading the offers', () => {
    it('two downloaders added one after the other are offered different pieces', () => {
      const s = new SeedOffers({ pieces: 8, perPeer: 3 });
      const a = s.addPeer('a', none);
      const b = s.addPeer('b', none);
      assert.equal(a.length, 3);
      assert.equal(b.length, 3);
      assert.deepEqual(a.filter((i) => b.includes(i)), []);
    });

    it('no piece is offered twice while some piece is offered to nobody', () => {
      const s = new SeedOffers({ pieces: 8, perPeer: 3 });
      const a = s.addPeer('a', none);
      const b = s.addPeer('b', none);
      // 6 of 8 are offered: c gets the two nobody was offered, and only then a piece offered once already.
      const c = s.addPeer('c', none);
      const unoffered = [0, 1, 2, 3, 4, 5, 6, 7].filter((i) => !a.includes(i) && !b.includes(i));
      assert.deepEqual(sorted(c.slice(0, 2)), unoffered);
      assert.equal(c.length, 3);
      assert.ok(a.includes(c[2]) || b.includes(c[2]));
      // Every piece is now offered to someone: the next is offered the ones offered to a single downloader.
      const d = s.addPeer('d', none);
      assert.equal(d.length, 3);
      assert.ok(!d.includes(c[2]), 'offered a piece already offered twice');
    });

    it('among equally good pieces the scan starts after the last piece offered, not at piece 0', () => {
      // A moving start: ties do not always fall on the lowest pieces.
      const s = new SeedOffers({ pieces: 6, perPeer: 1 });
      assert.deepEqual(s.addPeer('a', (i) => i !== 3), [3]);
      assert.deepEqual(s.addPeer('b', none), [4]);
      assert.deepEqual(s.addPeer('c', none), [5]);
      assert.deepEqual(s.addPeer('d', none), [0]);
    });

    it('a downloader lacking only pieces others are offered is still offered them', () => {
      // Offers are only advice: when every piece it lacks is taken, it shares rather than gets nothing.
      const s = new SeedOffers({ pieces: 4, perPeer: 2 });
      assert.deepEqual(s.addPeer('a', none), [0, 1]);
      assert.deepEqual(s.addPeer('b', (i) => i >= 2), [0, 1]);
    });
  });

  describe('sent', () => {
    it('takes the piece out of the downloader\'s offers and offers a piece never sent nor seen in its place', () => {
      const s = new SeedOffers({ pieces: 6, perPeer: 2 });
      const a = holder();
      assert.deepEqual(s.addPeer('a', a.has), [0, 1]);
      assert.deepEqual(s.addPeer('b', none), [2, 3]);
      s.seen('z', 4); // some neighbour has 4 already: 5, neither sent, seen nor offered, is the one to spread
      a.have.add(0);
      assert.deepEqual(s.sent('a', 0), [5]);
      // Now the best left for a are the pieces offered to b (2, 3), ahead of the seen 4 and the sent 0.
      a.have.add(1);
      const next = s.sent('a', 1);
      assert.equal(next.length, 1);
      assert.ok([2, 3].includes(next[0]), `offered ${next[0]}`);
    });

    it('replaces only the piece taken: the downloader keeps its other offers', () => {
      const s = new SeedOffers({ pieces: 10, perPeer: 3 });
      const a = holder();
      const first = s.addPeer('a', a.has);
      a.have.add(first[0]);
      const next = s.sent('a', first[0]);
      assert.equal(next.length, 1);
      assert.ok(!first.includes(next[0]));
      // A piece it was offered and still has an offer for is not offered again.
      a.have.add(first[1]);
      assert.ok(!s.sent('a', first[1]).includes(first[2]));
    });

    it('a piece taken from a downloader\'s offers no longer counts as offered there', () => {
      const s = new SeedOffers({ pieces: 4, perPeer: 1 });
      const a = holder();
      assert.deepEqual(s.addPeer('a', a.has), [0]);
      a.have.add(0);
      assert.deepEqual(s.sent('a', 0), [1]);
      assert.deepEqual(s.addPeer('b', (i) => i !== 2), [2]);
      s.sent('ghost', 2); // 2 went out too, and b still holds an offer of it
      assert.deepEqual(s.addPeer('d', (i) => i !== 1), [1]); // (moves the scan start to 2)
      // c lacks 0 and 2, both sent once: 2 is still offered to b, 0 is offered to nobody now, so c gets 0.
      assert.deepEqual(s.addPeer('c', (i) => i === 1 || i === 3), [0]);
    });

    it('a piece sent to a downloader it was not offered still counts as gone', () => {
      const s = new SeedOffers({ pieces: 3, perPeer: 1 });
      assert.deepEqual(s.sent('ghost', 0), []); // an unknown downloader: nothing to announce to it
      assert.equal(s.open, false);
      // 0 went out, so a newcomer is offered 1 rather than 0.
      assert.deepEqual(s.addPeer('a', none), [1]);
      s.sent('ghost', 1);
      s.sent('ghost', 2);
      assert.equal(s.open, true);
    });

    it('returns null exactly when the last unsent piece goes out, and open turns true then', () => {
      const s = new SeedOffers({ pieces: 3, perPeer: 1 });
      const a = holder();
      assert.deepEqual(s.addPeer('a', a.has), [0]);
      a.have.add(0);
      assert.deepEqual(s.sent('a', 0), [1]);
      assert.equal(s.open, false);
      // A second copy of a piece that already went out does not bring the opening closer.
      assert.deepEqual(s.sent('b', 0), []);
      assert.equal(s.open, false);
      a.have.add(1);
      assert.deepEqual(s.sent('a', 1), [2]);
      assert.equal(s.open, false);
      a.have.add(2);
      assert.equal(s.sent('a', 2), null);
      assert.equal(s.open, true);
      // Everything was shown to everyone when it opened: later uploads have nothing new to announce.
      assert.deepEqual(s.sent('a', 1), []);
      assert.deepEqual(s.sent('b', 2), []);
      assert.equal(s.open, true);
    });

    it('returns null too when the last piece goes out to a downloader it does not know', () => {
      const s = new SeedOffers({ pieces: 2, perPeer: 1 });
      assert.deepEqual(s.sent('ghost', 1), []);
      assert.equal(s.sent('ghost', 0), null);
      assert.equal(s.open, true);
    });
  });

  describe('seen', () => {
    it('a piece a downloader announces that it was offered (it got it elsewhere) is replaced by another offer', () => {
      const s = new SeedOffers({ pieces: 6, perPeer: 2 });
      assert.deepEqual(s.addPeer('a', none), [0, 1]);
      const b = holder();
      assert.deepEqual(s.addPeer('b', b.has), [2, 3]);
      b.have.add(2);
      assert.deepEqual(s.seen('b', 2), [4]); // 4 and 5 were offered to nobody
      // The offer is gone: announcing it again changes nothing, and 3 is still b's.
      assert.deepEqual(s.seen('b', 2), []);
      b.have.add(3);
      assert.deepEqual(s.seen('b', 3), [5]);
    });

    it('a piece announced by a downloader it was not offered only counts as seen', () => {
      const s = new SeedOffers({ pieces: 6, perPeer: 2 });
      assert.deepEqual(s.addPeer('a', none), [0, 1]);
      assert.deepEqual(s.seen('a', 4), []);
      assert.deepEqual(s.seen('stranger', 5), []);
      // But 4 and 5 are now seen: the next downloader gets 2 and 3 first.
      assert.deepEqual(s.addPeer('b', none), [2, 3]);
    });

    it('seen pieces are offered after unseen ones', () => {
      const s = new SeedOffers({ pieces: 6, perPeer: 3 });
      s.seen('z', 0);
      s.seen('z', 2);
      s.seen('z', 4);
      assert.deepEqual(s.addPeer('a', none), [1, 3, 5]);
      // Seen twice ranks after seen once.
      s.seen('z', 0);
      s.seen('z', 4);
      const b = s.addPeer('b', (i) => i % 2 === 1);
      assert.equal(b[0], 2);
      assert.deepEqual(sorted(b), [0, 2, 4]);
    });

    it('the ranking: never sent, seen nor offered; then offered elsewhere; then seen; then sent', () => {
      const s = new SeedOffers({ pieces: 4, perPeer: 4 });
      s.sent('ghost', 0);
      s.seen('ghost', 1);
      assert.deepEqual(s.addPeer('b', (i) => i !== 2), [2]);
      // The list comes out in the order picked.
      assert.deepEqual(s.addPeer('a', none), [3, 2, 1, 0]);
    });

    it('a piece outside the file is ignored', () => {
      const s = new SeedOffers({ pieces: 4, perPeer: 2 });
      assert.deepEqual(s.addPeer('a', none), [0, 1]);
      for (const i of [-1, 4, 100, NaN, 1.5, undefined]) assert.deepEqual(s.seen('a', i), []);
      // Nothing was counted: the next downloader is offered 2 and 3 as before, and a keeps 0 and 1.
      assert.deepEqual(s.addPeer('b', none), [2, 3]);
      assert.deepEqual(s.seen('a', 0), [2]);
    });

    it('after the opening, an announced offer is not replaced (everything is shown)', () => {
      const s = new SeedOffers({ pieces: 3, perPeer: 1 });
      assert.deepEqual(s.addPeer('a', none), [0]);
      s.sent('x', 0);
      s.sent('x', 1);
      assert.equal(s.sent('x', 2), null);
      assert.deepEqual(s.seen('a', 0), []);
    });
  });

  describe('the order holds whatever the counts', () => {
    it('a piece never sent is offered before one sent, however many downloaders hold an offer of it', () => {
      const o = new SeedOffers({ pieces: 2, perPeer: 1 });
      assert.deepEqual(o.addPeer('first', () => false), [0]);
      o.sent('first', 0); // piece 0 went out once
      for (let k = 0; k < 20; k++) assert.deepEqual(o.addPeer(`d${k}`, () => false), [1], `downloader ${k}`);
    });

  });

  describe('removePeer', () => {
    it('a departing downloader\'s offers go back to the pool and to the next newcomer', () => {
      const s = new SeedOffers({ pieces: 4, perPeer: 2 });
      assert.deepEqual(s.addPeer('a', none), [0, 1]);
      assert.deepEqual(s.addPeer('b', none), [2, 3]);
      s.removePeer('b');
      // 2 and 3 are offered to nobody again, so c gets them rather than a's 0 and 1 (the scan starts at 0).
      assert.deepEqual(s.addPeer('c', none), [2, 3]);
    });

    it('a departed downloader is unknown: its announcements and uploads to it replace nothing', () => {
      const s = new SeedOffers({ pieces: 4, perPeer: 2 });
      assert.deepEqual(s.addPeer('a', none), [0, 1]);
      s.removePeer('a');
      s.removePeer('a'); // twice, and an unknown one: no effect
      s.removePeer('nobody');
      assert.deepEqual(s.seen('a', 0), []);
      assert.deepEqual(s.sent('a', 1), []);
      assert.equal(s.open, false);
    });
  });

  describe('edge cases', () => {
    it('with no pieces it is open from the start and shows everything', () => {
      const s = new SeedOffers({ pieces: 0, perPeer: 2 });
      assert.equal(s.open, true);
      assert.equal(s.addPeer('a', none), null);
      assert.deepEqual(s.seen('a', 0), []);
    });

    it('a single piece: offered to everyone, and open once it went out', () => {
      const s = new SeedOffers({ pieces: 1, perPeer: 3 });
      assert.deepEqual(s.addPeer('a', none), [0]);
      assert.deepEqual(s.addPeer('b', none), [0]);
      assert.equal(s.sent('a', 0), null);
      assert.equal(s.open, true);
    });
  });

  describe('a whole run', () => {
    // One seeder (perPeer 2) and five downloaders that start empty. Each turn a random downloader takes one piece:
    // a piece the seeder shows it that it lacks, from a downloader that has it if any (trading, as the seeder counts
    // on), else from the seeder; with nothing shown left to take, any piece another downloader has. Announcements
    // arrive at once, to the other downloaders (who then know who has what) and to the seeder (seen).
    function run(seed, pieces) {
      const random = seeded(seed);
      const pick = (list) => list[Math.floor(random() * list.length)];
      const s = new SeedOffers({ pieces, perPeer: 2 });
      const downloaders = ['a', 'b', 'c', 'd', 'e'].map((id) => ({ id, ...holder(), shown: new Set() }));
      const uploads = new Uint32Array(pieces); // copies the seeder sent, before it opened
      let after = 0; // copies it sent after
      const all = Array.from({ length: pieces }, (_, i) => i);

      const show = (d, list) => {
        if (list === null) {
          // It opened: everything, to every downloader.
          for (const x of downloaders) for (const i of all) x.shown.add(i);
          return;
        }
        for (const i of list) {
          assert.ok(!d.has(i), `offered ${d.id} piece ${i}, which it has`);
          assert.ok(!d.shown.has(i), `offered ${d.id} piece ${i} twice`);
          // The super-seeding choice: an unsent piece while d lacks one, and of those one offered to the fewest.
          // (Nobody announces a piece before it left the seeder, so seen counts do not enter among unsent ones.)
          const offeredTo = (j) => downloaders.filter((x) => x.shown.has(j) && !x.has(j)).length;
          const unsent = all.filter((j) => !d.has(j) && !d.shown.has(j) && uploads[j] === 0);
          if (unsent.length) {
            assert.equal(uploads[i], 0, `offered ${d.id} piece ${i}, already sent, while ${unsent} were not`);
            assert.ok(unsent.every((j) => offeredTo(i) <= offeredTo(j)), `offered ${d.id} a piece offered more`);
          }
          d.shown.add(i);
        }
      };
      const announce = (d, i) => show(d, s.seen(d.id, i));

      for (const d of downloaders) show(d, s.addPeer(d.id, d.has));
      for (let turn = 0; downloaders.some((d) => d.have.size < pieces); turn++) {
        assert.ok(turn < 20 * pieces, 'the run does not finish');
        if (!s.open) {
          // Every offer the downloader lacks is still offered (taken ones were replaced), perPeer of them.
          for (const d of downloaders) {
            const outstanding = [...d.shown].filter((i) => !d.has(i));
            assert.equal(outstanding.length, Math.min(2, pieces - d.have.size), `${d.id} holds stale offers`);
          }
        }
        const d = pick(downloaders.filter((x) => x.have.size < pieces));
        const others = downloaders.filter((x) => x !== d);
        const shown = [...d.shown].filter((i) => !d.has(i));
        if (shown.length) {
          const i = pick(shown);
          if (!others.some((x) => x.has(i))) {
            // Nobody else has it: from the seeder.
            if (s.open) after++;
            else uploads[i]++;
            d.have.add(i);
            show(d, s.sent(d.id, i));
          } else d.have.add(i);
          announce(d, i);
        } else {
          const tradable = all.filter((i) => !d.has(i) && others.some((x) => x.has(i)));
          if (!tradable.length) continue; // waits for the seeder to show it something or for a neighbour
          const i = pick(tradable);
          d.have.add(i);
          announce(d, i);
        }
      }
      return { s, uploads, after };
    }

    for (const [seed, pieces] of [[1, 23], [2, 23], [3, 40], [4, 7], [5, 10], [6, 3]]) {
      it(`every piece leaves the seeder exactly once before it opens (seed ${seed}, ${pieces} pieces)`, () => {
        const { s, uploads, after } = run(seed, pieces);
        assert.equal(s.open, true);
        assert.deepEqual([...uploads], Array(pieces).fill(1));
        assert.equal(after, 0); // the downloaders finished among themselves
      });
    }
  });
});
