// Which piece to ask which peer for (js/swarm/scheduler.js): rarest-first and sequential choices, request depth from
// the measured rate, the endgame and its cancels, failures and bans, departures, timeouts, priorities, a resumed
// download, and whole downloads driven to the end with a seeded random source. Pure bookkeeping, so no core and no
// connections; the simulated swarm of bench/swarm/simulate.mjs runs the same module at scale.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { emptyBitfield, PieceScheduler, setBit } from '../../js/swarm/scheduler.js';
import { seeded } from './helpers.mjs';

/** A bitfield of `pieces` with the listed pieces set. */
function bits(pieces, list) {
  const b = emptyBitfield(pieces);
  for (const i of list) setBit(b, i);
  return b;
}

/** Every piece next() gives the peer now, until it says null. */
function drain(s, id, now = 0) {
  const out = [];
  for (let i = s.next(id, now); i !== null; i = s.next(id, now)) out.push(i);
  return out;
}

const sorted = (list) => [...list].sort((a, b) => a - b);

describe('swarm scheduler', () => {
  describe('bitfields', () => {
    it('piece 0 is the high bit of byte 0, as the have frame carries it', () => {
      const b = emptyBitfield(9);
      assert.equal(b.length, 2);
      setBit(b, 0);
      setBit(b, 7);
      setBit(b, 8);
      assert.deepEqual([...b], [0x81, 0x80]);
      assert.equal(emptyBitfield(0).length, 0);
      assert.equal(emptyBitfield(8).length, 1);
    });
  });

  describe('rarest first', () => {
    // avail: pieces 0-3 by three peers, 4-5 by two, 6-7 by one (a).
    function swarm(options = {}) {
      const s = new PieceScheduler({ pieces: 8, pieceBytes: 1000, randomFirst: 2, initialDepth: 8, random: () => 0,
        ...options });
      s.addPeer('a', bits(8, [0, 1, 2, 3, 4, 5, 6, 7]));
      s.addPeer('b', bits(8, [0, 1, 2, 3, 4, 5]));
      s.addPeer('c', bits(8, [0, 1, 2, 3]));
      return s;
    }

    it('while we hold fewer than randomFirst pieces, it asks for some piece the peer has, not the rarest', () => {
      // random() = 0 starts the scan at piece 0: the first piece a has, although 6 and 7 are rarer.
      const s = swarm();
      assert.equal(s.next('a', 0), 0);
      // From another random start, another piece: the choice is the random start, not availability.
      const t = swarm({ random: () => 0.5 });
      assert.equal(t.next('a', 0), 4);
    });

    it('once randomFirst pieces are held, it asks for the piece the fewest peers have, of those the peer has', () => {
      const s = swarm();
      assert.equal(s.received('x', 0, 1000, 0).duplicate, false); // arrived without a request (e.g. from elsewhere)
      assert.equal(s.received('x', 1, 1000, 0).duplicate, false);
      assert.equal(s.held, 2);
      // a: 6 and 7 are the rarest (one peer); then 4 and 5 (two); then 2 and 3.
      assert.deepEqual(drain(s, 'a'), [6, 7, 4, 5, 2, 3]);
    });

    it('a peer is asked for the rarest of its own pieces, not the rarest overall', () => {
      const s = swarm({ have: bits(8, [0, 1]) });
      assert.equal(s.next('b', 0), 4); // b lacks 6 and 7; its rarest are 4 and 5
      assert.equal(s.next('c', 0), 2); // c has only 0-3, all equally common
    });

    it('equally rare pieces are chosen from a random starting point, so downloaders spread out', () => {
      // 6 and 7 tie; a start past 6 finds 7 first.
      const s = swarm({ have: bits(8, [0, 1]), random: () => 0.9 });
      assert.equal(s.next('a', 0), 7);
      assert.equal(s.next('a', 0), 6);
    });

    it('rarity counts announcements made after the peer joined', () => {
      const s = swarm({ have: bits(8, [0, 1]) });
      // b now also has 6: 7 is the only piece one peer has, and 6 is as common as 4 and 5.
      s.peerHas('b', 6);
      s.peerHas('b', 6); // said twice: counted once
      s.peerHas('seedless', 7); // an unknown peer: ignored
      assert.equal(s.next('a', 0), 7);
      assert.deepEqual(drain(s, 'a'), [4, 5, 6, 2, 3]);
    });
  });

  describe('sequential', () => {
    it('asks for the lowest missing piece the peer has, skipping pieces already asked of someone', () => {
      const s = new PieceScheduler({ pieces: 6, pieceBytes: 1000, strategy: 'sequential', random: () => 0.99 });
      s.addPeer('a', bits(6, [1, 2, 4, 5]));
      s.addPeer('b', null);
      assert.equal(s.next('a', 0), 1);
      assert.equal(s.next('a', 0), 2);
      assert.equal(s.next('b', 0), 0);
      assert.equal(s.next('b', 0), 3); // 1 and 2 are asked of a
      assert.equal(s.next('a', 0), 4);
      assert.equal(s.next('b', 0), 5);
    });

    it('skips pieces we hold, and takes a freed piece again in order', () => {
      const s = new PieceScheduler({ pieces: 5, pieceBytes: 1000, strategy: 'sequential', have: bits(5, [0, 2]) });
      s.addPeer('a', null);
      assert.deepEqual(drain(s, 'a'), [1, 3, 4]);
      s.failed('a', 3);
      assert.equal(s.next('a', 0), 3);
    });
  });

  describe('who has what', () => {
    it('a peer is never asked for a piece it does not have', () => {
      const random = seeded(7);
      for (const strategy of ['rarest', 'sequential']) {
        const s = new PieceScheduler({ pieces: 40, pieceBytes: 1000, strategy, randomFirst: 3, initialDepth: 40,
          random });
        const has = {};
        for (const id of ['a', 'b', 'c', 'd']) {
          has[id] = new Set([...Array(40).keys()].filter(() => random() < 0.3));
          s.addPeer(id, bits(40, has[id]));
        }
        let asked = 0;
        // Several passes, delivering between them, so that both the random and the rarest choices are exercised.
        for (let pass = 0; pass < 6; pass++) {
          for (const id of Object.keys(has)) {
            for (const i of drain(s, id, pass)) {
              assert.ok(has[id].has(i), `${strategy}: ${id} asked for ${i}, which it lacks`);
              asked++;
              if (random() < 0.5) s.received(id, i, 1000, pass + 1);
            }
          }
        }
        assert.ok(asked > 20, `${strategy}: only ${asked} requests`);
      }
    });

    it('a peer with nothing we need gets no request; peerHas() adds a piece to it', () => {
      const s = new PieceScheduler({ pieces: 6, pieceBytes: 1000, random: () => 0 });
      s.addPeer('a', emptyBitfield(6));
      assert.equal(s.next('a', 0), null);
      s.peerHas('a', 3);
      s.peerHas('a', 6); // out of range: ignored
      s.peerHas('a', -1);
      assert.equal(s.next('a', 0), 3);
      assert.equal(s.next('a', 0), null);
    });

    it('a seeder (addPeer(id, null)) has every piece', () => {
      const s = new PieceScheduler({ pieces: 10, pieceBytes: 1000, initialDepth: 10, random: seeded(1) });
      assert.equal(s.addPeer('seed', null), true);
      assert.deepEqual(sorted(drain(s, 'seed')), [...Array(10).keys()]);
    });

    it('an unknown peer gets nothing', () => {
      const s = new PieceScheduler({ pieces: 4, pieceBytes: 1000 });
      assert.equal(s.next('nobody', 0), null);
      assert.equal(s.depth('nobody'), 0);
      assert.deepEqual(s.removePeer('nobody'), []);
    });
  });

  describe('depth', () => {
    const options = { pieces: 1000, pieceBytes: 1000, queueMs: 1000, minDepth: 2, maxDepth: 8, initialDepth: 3,
      random: () => 0 };

    /**
     * The peer's slots are kept full and it delivers one piece every `everyMs` until `untilMs`. Returns the time and
     * its requests still in flight.
     */
    function stream(s, id, everyMs, untilMs) {
      const inflight = [];
      let now = 0;
      for (; now + everyMs <= untilMs;) {
        for (let i = s.next(id, now); i !== null; i = s.next(id, now)) inflight.push(i);
        now += everyMs;
        s.received(id, inflight.shift(), 1000, now);
      }
      return { now, inflight };
    }

    /** The depth its stats() rate calls for: rate × queueMs / pieceBytes, between minDepth and maxDepth. */
    const expectedDepth = (stats) => Math.max(options.minDepth, Math.min(options.maxDepth,
      Math.ceil(((stats.rate / 1000) * options.queueMs) / options.pieceBytes)));

    it('before any piece arrives, a peer gets initialDepth requests, then null', () => {
      const s = new PieceScheduler(options);
      s.addPeer('a', null);
      assert.equal(s.depth('a', 0), 3);
      assert.equal(drain(s, 'a').length, 3);
      assert.equal(s.next('a', 0), null);
      assert.equal(s.stats(0)[0].inflight, 3);
      assert.equal(s.stats(0)[0].rate, 0);
    });

    it('with pieces arriving, depth is rate × queueMs / pieceBytes, between minDepth and maxDepth', () => {
      const s = new PieceScheduler(options);
      for (const id of ['fast', 'mid', 'slow']) s.addPeer(id, null);
      // A piece every 50 ms: 20 pieces a second, clamped to maxDepth.
      const { now: end } = stream(s, 'fast', 50, 10000);
      // A piece every 280 ms: about 3.6 a second, so 4 requests cover a second.
      stream(s, 'mid', 280, 10000);
      // A piece every 5 s: a fifth of a piece a second, raised to minDepth.
      stream(s, 'slow', 5000, 10000);
      const stats = Object.fromEntries(s.stats(end).map((p) => [p.id, p]));
      assert.equal(s.depth('fast', end), 8);
      assert.equal(s.depth('mid', end), 4);
      assert.equal(s.depth('slow', end), 2);
      // The rate is bytes per second, near what the peer sent.
      assert.ok(Math.abs(stats.fast.rate - 20000) < 2000, `fast: ${stats.fast.rate} B/s`);
      assert.ok(Math.abs(stats.mid.rate - 3571) < 400, `mid: ${stats.mid.rate} B/s`);
      assert.ok(stats.slow.rate > 0 && stats.slow.rate < 1000, `slow: ${stats.slow.rate} B/s`); // 2 s window, 5 s gaps
      for (const id of ['fast', 'mid', 'slow']) assert.equal(stats[id].depth, expectedDepth(stats[id]), id);
      assert.equal(stats.mid.pieces, 35);
      assert.equal(stats.mid.bytes, 35000);
    });

    it('next() stops once the peer has depth() requests in flight, and one arrival frees one slot', () => {
      const s = new PieceScheduler(options);
      s.addPeer('mid', null);
      const { now: end, inflight } = stream(s, 'mid', 280, 5000);
      assert.equal(s.depth('mid', end), 4);
      inflight.push(...drain(s, 'mid', end));
      assert.equal(inflight.length, 4);
      assert.equal(s.stats(end)[0].inflight, 4);
      assert.equal(s.next('mid', end), null);
      s.received('mid', inflight[0], 1000, end + 280);
      assert.equal(s.depth('mid', end + 280), 4);
      assert.notEqual(s.next('mid', end + 280), null);
      assert.equal(s.next('mid', end + 280), null);
    });

    it('pieces that arrive together count as the bytes they are, not as an instant rate', () => {
      // Four requests at 0, all four answered at 1 s: about 4 KB/s, not 4 KB in the millisecond between them.
      const s = new PieceScheduler({ ...options, initialDepth: 4, maxDepth: 32 });
      s.addPeer('a', null);
      const asked = drain(s, 'a', 0);
      assert.equal(asked.length, 4);
      asked.forEach((i, k) => s.received('a', i, 1000, 1000 + k));
      const { rate, depth } = s.stats(1003)[0];
      assert.ok(rate > 3000 && rate < 6000, `${rate} B/s`);
      assert.ok(depth >= 4 && depth <= 6, `depth ${depth}`);
    });

    it('a first piece that comes at once (a sender lets one go before it paces) does not fill the peer\'s queue', () => {
      // Four asked at 0, the first back at 16 ms: over 16 ms that would read as 60 pieces a second and ask for the
      // whole maxDepth, the same pieces every newcomer asks at the same time (nothing to trade when they meet). The
      // first 250 ms (js/swarm/scheduler.js MIN_RATE_SPAN_MS) count as measured, however soon the piece came.
      const s = new PieceScheduler({ ...options, initialDepth: 4, maxDepth: 32 });
      s.addPeer('a', null);
      const asked = drain(s, 'a', 0);
      s.received('a', asked[0], 1000, 16);
      const { depth } = s.stats(16)[0];
      assert.ok(depth <= 6, `depth ${depth}`);
      assert.ok(drain(s, 'a', 16).length <= 3);
    });

    it('a peer that stops sending loses its depth as its rate fades', () => {
      const s = new PieceScheduler(options);
      s.addPeer('fast', null);
      const { now: end } = stream(s, 'fast', 50, 5000);
      assert.equal(s.depth('fast', end), 8);
      assert.equal(s.depth('fast', end + 30000), 2);
    });

    it('depth() and stats() without `now` use the latest time the scheduler was told of', () => {
      const s = new PieceScheduler(options);
      s.addPeer('a', null);
      const i = s.next('a', 0);
      // 1000 bytes 200 ms after the request: a few pieces a second, nowhere near maxDepth.
      s.received('a', i, 1000, 200);
      assert.equal(s.depth('a'), s.depth('a', 200));
      assert.deepEqual(s.stats(), s.stats(200));
      assert.ok(s.depth('a') < 8, `depth ${s.depth('a')}`);
    });
  });

  describe('all peers together', () => {
    it('no more than maxInflight requests are in flight over all peers; an answer frees a slot', () => {
      const s = new PieceScheduler({ pieces: 20, pieceBytes: 1000, initialDepth: 4, maxInflight: 6, random: () => 0 });
      for (const id of ['a', 'b', 'c']) s.addPeer(id, null);
      const a = drain(s, 'a');
      const b = drain(s, 'b');
      assert.deepEqual([a.length, b.length], [4, 2]);
      assert.equal(s.next('c', 0), null);
      // Each way a request ends gives its slot back: an answer, a failure, a departure, a timeout.
      s.received('a', a[0], 1000, 100);
      assert.notEqual(s.next('c', 100), null);
      assert.equal(s.next('c', 100), null);
      s.failed('a', a[1]);
      assert.notEqual(s.next('c', 100), null);
      assert.deepEqual(sorted(s.removePeer('b')), sorted(b));
      assert.equal(drain(s, 'c', 100).length, 2);
      assert.equal(s.next('a', 100), null);
      const t = new PieceScheduler({ pieces: 20, pieceBytes: 1000, initialDepth: 4, maxInflight: 2, random: () => 0 });
      t.addPeer('x', null);
      t.addPeer('y', null);
      assert.equal(drain(t, 'x', 0).length, 2);
      assert.equal(t.next('y', 0), null);
      assert.equal(t.expire(5000).length, 2);
      assert.equal(drain(t, 'y', 5000).length, 2);
    });
  });

  describe('endgame', () => {
    it('asks for no copy while some missing piece is unasked, then copies to other peers, at most endgameCopies',
      () => {
        const s = new PieceScheduler({ pieces: 3, pieceBytes: 1000, endgameCopies: 2, initialDepth: 8,
          random: () => 0 });
        s.addPeer('a', bits(3, [0, 1]));
        s.addPeer('b', null);
        s.addPeer('c', null);
        assert.deepEqual(drain(s, 'a'), [0, 1]);
        // a has nothing unasked; piece 2 is still unasked (a lacks it), so no copy yet.
        assert.equal(s.next('a', 0), null);
        assert.equal(s.next('b', 0), 2);
        // Every missing piece is asked now: b gets copies of a's pieces, never a second request for its own 2.
        assert.deepEqual(drain(s, 'b'), [0, 1]);
        // Pieces 0 and 1 have two requests each: c can only copy 2.
        assert.deepEqual(drain(s, 'c'), [2]);
        // a lacks 2, and is asked for 0 and 1 already: nothing.
        assert.equal(s.next('a', 0), null);
      });

    it('a peer that has only pieces already asked of others waits while other pieces are unasked', () => {
      const s = new PieceScheduler({ pieces: 3, pieceBytes: 1000, endgameCopies: 2, initialDepth: 8,
        random: () => 0 });
      s.addPeer('a', null);
      s.addPeer('d', bits(3, [0]));
      assert.equal(s.next('a', 0), 0);
      assert.equal(s.next('d', 0), null); // 1 and 2 are unasked: a copy of 0 would waste d's upload
      assert.deepEqual(drain(s, 'a'), [1, 2]);
      assert.equal(s.next('d', 0), 0); // now the endgame: d may copy
    });

    it('a piece arriving cancels its other requests; a second arrival is a duplicate', () => {
      const s = new PieceScheduler({ pieces: 2, pieceBytes: 1000, endgameCopies: 3, initialDepth: 8,
        random: () => 0 });
      for (const id of ['a', 'b', 'c']) s.addPeer(id, null);
      assert.deepEqual(drain(s, 'a'), [0, 1]);
      assert.deepEqual(drain(s, 'b'), [0, 1]);
      assert.deepEqual(drain(s, 'c'), [0, 1]);
      const first = s.received('b', 0, 1000, 50);
      assert.equal(first.duplicate, false);
      assert.deepEqual(sorted(first.cancel), ['a', 'c']);
      assert.ok(s.has(0));
      // The cancel raced: a's copy comes in anyway.
      assert.deepEqual(s.received('a', 0, 1000, 60), { duplicate: true, cancel: [] });
      assert.equal(s.held, 1);
      // The cancels freed their slots: each peer has one request left (piece 1).
      const inflight = Object.fromEntries(s.stats().map((p) => [p.id, p.inflight]));
      assert.deepEqual(inflight, { a: 1, b: 1, c: 1 });
      assert.deepEqual(sorted(s.received('c', 1, 1000, 70).cancel), ['a', 'b']);
      assert.equal(s.complete, true);
      assert.equal(s.next('a', 80), null);
    });

    it('a cancelled copy gives back its slot under maxInflight', () => {
      const s = new PieceScheduler({ pieces: 3, pieceBytes: 1000, endgameCopies: 2, initialDepth: 8, maxInflight: 4,
        random: () => 0 });
      s.addPeer('a', null);
      s.addPeer('b', null);
      assert.deepEqual(drain(s, 'a'), [0, 1, 2]);
      assert.deepEqual(drain(s, 'b'), [0]); // a copy, then the cap
      assert.deepEqual(s.received('a', 0, 1000, 100).cancel, ['b']);
      // Two slots free (a's answer, b's cancelled copy): b copies 1 and 2.
      assert.deepEqual(sorted(drain(s, 'b', 100)), [1, 2]);
    });

    it('in the endgame, copies go to the pieces with the fewest requests first', () => {
      const s = new PieceScheduler({ pieces: 3, pieceBytes: 1000, endgameCopies: 3, initialDepth: 8,
        random: () => 0 });
      for (const id of ['a', 'b', 'c']) s.addPeer(id, null);
      assert.deepEqual(drain(s, 'a'), [0, 1, 2]);
      assert.equal(s.received('x', 0, 1000, 0).cancel[0], 'a');
      s.addPeer('b', bits(3, [1]));
      assert.deepEqual(drain(s, 'b'), [1]); // 1 has two requests now, 2 has one
      assert.deepEqual(drain(s, 'c'), [2, 1]);
    });

    it('a failed request in the endgame makes its piece unasked again, so it is asked normally', () => {
      const s = new PieceScheduler({ pieces: 2, pieceBytes: 1000, endgameCopies: 1, initialDepth: 8,
        random: () => 0 });
      s.addPeer('a', null);
      s.addPeer('b', null);
      assert.deepEqual(drain(s, 'a'), [0, 1]);
      assert.equal(s.next('b', 0), null); // one request per piece allowed
      s.failed('a', 1);
      assert.equal(s.next('b', 0), 1);
    });
  });

  describe('failures and bans', () => {
    it('failed(id, i) frees the piece for another peer', () => {
      const s = new PieceScheduler({ pieces: 2, pieceBytes: 1000, endgameCopies: 1, random: () => 0 });
      s.addPeer('a', null);
      s.addPeer('b', null);
      assert.equal(s.next('a', 0), 0);
      assert.equal(s.next('b', 0), 1);
      assert.equal(s.next('b', 0), null); // 0 is asked of a (and no copies: endgameCopies 1)
      assert.deepEqual(s.failed('a', 0), { banned: false, freed: [0] });
      assert.equal(s.isBanned('a'), false);
      assert.equal(s.next('b', 0), 0);
    });

    it('failed of a request the peer does not have in flight leaves others\' requests alone', () => {
      const s = new PieceScheduler({ pieces: 2, pieceBytes: 1000, endgameCopies: 1, random: () => 0 });
      s.addPeer('a', null);
      s.addPeer('b', null);
      assert.equal(s.next('a', 0), 0);
      assert.equal(s.next('b', 0), 1);
      s.failed('b', 0); // b was never asked for 0
      assert.equal(s.next('b', 0), null); // 0 is still a's: not given again
      assert.equal(s.next('a', 0), null);
    });

    it('a peer that says it is busy is asked nothing for busyMs, and its piece goes to another peer at once', () => {
      const s = new PieceScheduler({ pieces: 4, pieceBytes: 1000, endgameCopies: 1, random: () => 0 });
      s.addPeer('busy', null);
      s.addPeer('b', null);
      assert.equal(s.next('busy', 0), 0);
      s.failed('busy', 0, { busyMs: 1000, now: 100 });
      assert.equal(s.next('busy', 500), null);
      assert.equal(s.next('busy', 1099), null);
      assert.equal(s.next('b', 500), 0);
      assert.equal(s.next('busy', 1100), 1);
    });

    it('failed with blame bans the peer: its requests go back, it is refused and never asked again', () => {
      const s = new PieceScheduler({ pieces: 4, pieceBytes: 1000, endgameCopies: 1, initialDepth: 8,
        random: () => 0 });
      s.addPeer('bad', null);
      s.addPeer('good', bits(4, [0, 1, 2]));
      assert.deepEqual(drain(s, 'bad'), [0, 1, 2, 3]);
      assert.equal(s.next('good', 0), null);
      const { banned, freed } = s.failed('bad', 1, { blame: true });
      assert.equal(banned, true);
      assert.deepEqual(sorted(freed), [0, 1, 2, 3]);
      assert.equal(s.isBanned('bad'), true);
      assert.equal(s.addPeer('bad', null), false);
      assert.equal(s.next('bad', 0), null);
      assert.ok(!s.stats().some((p) => p.id === 'bad'));
      // Its pieces are free for the others; 3, which only it had, is asked of nobody.
      assert.deepEqual(drain(s, 'good'), [0, 1, 2]);
      assert.deepEqual(s.failed('bad', 3), { banned: true, freed: [] });
      // A late piece from it changes nothing of what others are asked.
      s.peerHas('bad', 3);
      assert.equal(s.next('bad', 0), null);
    });
  });

  describe('departures', () => {
    it('removePeer frees its requests and lowers availability, which changes the rarest choice', () => {
      // avail: 0 and 1 by three, 2 and 3 by two. With c gone, 3 is the rarest.
      const make = () => {
        const s = new PieceScheduler({ pieces: 4, pieceBytes: 1000, randomFirst: 0, initialDepth: 8,
          random: () => 0 });
        s.addPeer('a', bits(4, [0, 1, 2, 3]));
        s.addPeer('b', bits(4, [0, 1, 2]));
        s.addPeer('c', bits(4, [0, 1, 3]));
        return s;
      };
      const stays = make();
      assert.equal(stays.next('a', 0), 2); // 2 and 3 tie; the scan starts at 0
      const leaves = make();
      assert.equal(leaves.next('c', 0), 3);
      assert.equal(leaves.next('c', 0), 0);
      assert.deepEqual(sorted(leaves.removePeer('c')), [0, 3]);
      assert.equal(leaves.next('a', 0), 3); // freed, and now only a has it
      assert.equal(leaves.next('a', 0), 0); // 0, 1 and 2 tie at two now
      assert.deepEqual(leaves.removePeer('c'), []);
    });

    it('when a seeder leaves, its requests go back, and pieces only it had are asked of nobody', () => {
      const s = new PieceScheduler({ pieces: 4, pieceBytes: 1000, initialDepth: 2, random: () => 0 });
      s.addPeer('seed', null);
      s.addPeer('a', bits(4, [0, 1]));
      assert.deepEqual(drain(s, 'seed'), [0, 1]);
      assert.equal(s.next('a', 0), null); // a has only pieces asked already, and 2 and 3 are unasked
      assert.deepEqual(sorted(s.removePeer('seed')), [0, 1]);
      assert.deepEqual(drain(s, 'a'), [0, 1]);
      // 2 and 3 are missing, unasked, and nobody has them: no endgame copies of 0 and 1 either.
      s.addPeer('b', bits(4, [0, 1]));
      assert.equal(s.next('b', 0), null);
    });

    it('adding a peer again replaces it: its requests are freed and its pieces counted once', () => {
      const s = new PieceScheduler({ pieces: 3, pieceBytes: 1000, randomFirst: 0, initialDepth: 8,
        random: () => 0 });
      s.addPeer('a', bits(3, [0, 1, 2]));
      s.addPeer('b', bits(3, [0, 2]));
      assert.equal(s.next('b', 0), 0);
      s.addPeer('b', bits(3, [0, 2])); // reconnected
      assert.equal(s.stats().find((p) => p.id === 'b').inflight, 0);
      // Had b been counted twice, 1 would not be the rarest.
      s.addPeer('c', bits(3, [1]));
      s.addPeer('c', bits(3, [1]));
      assert.equal(s.next('a', 0), 0); // 0: a, b; 1: a, c; 2: a, b: tie from the start
      s.removePeer('c');
      assert.equal(s.next('a', 0), 1); // only a has 1 now
    });
  });

  describe('timeouts', () => {
    it('expire() takes back a request older than minTimeoutMs and holds the peer to one request', () => {
      const s = new PieceScheduler({ pieces: 10, pieceBytes: 1000, minTimeoutMs: 5000, initialDepth: 4,
        endgameCopies: 1, random: () => 0 });
      s.addPeer('slow', null);
      s.addPeer('other', null);
      const p = s.next('slow', 0);
      const q = s.next('slow', 1000);
      assert.deepEqual(s.expire(4999), []);
      assert.deepEqual(s.expire(5000), [{ peer: 'slow', piece: p }]);
      assert.equal(s.depth('slow'), 1);
      assert.equal(s.stats().find((x) => x.id === 'slow').snubbed, true);
      assert.equal(s.next('slow', 5000), null); // q is still in flight: its one request
      // p is free again, and goes to the other peer first.
      assert.equal(s.next('other', 5000), p);
      assert.deepEqual(s.expire(6000), [{ peer: 'slow', piece: q }]);
      const r = s.next('slow', 6000);
      assert.notEqual(r, null);
      assert.equal(s.next('slow', 6000), null);
      // It delivers: back to its measured depth (1000 bytes in 1 s: 1 piece a second, raised to minDepth 2).
      s.received('slow', r, 1000, 7000);
      assert.equal(s.stats().find((x) => x.id === 'slow').snubbed, false);
      assert.equal(s.depth('slow'), 2);
      assert.notEqual(s.next('slow', 7000), null);
      assert.notEqual(s.next('slow', 7000), null);
      assert.equal(s.next('slow', 7000), null);
    });

    it('a late piece from an expired request is stored, and cancels whoever was asked for it since', () => {
      const s = new PieceScheduler({ pieces: 2, pieceBytes: 1000, minTimeoutMs: 100, random: () => 0 });
      s.addPeer('slow', null);
      s.addPeer('other', null);
      assert.equal(s.next('slow', 0), 0);
      s.expire(100);
      assert.equal(s.next('other', 100), 0);
      const late = s.received('slow', 0, 1000, 150);
      assert.deepEqual(late, { duplicate: false, cancel: ['other'] });
      assert.equal(s.complete, false);
      assert.equal(s.next('other', 150), 1);
      // It delivers after all: no longer held to one request.
      assert.equal(s.depth('slow', 150) > 1, true);
    });

    it('with a measured rate, a request expires after about four times its expected time, when that is longer', () => {
      const s = new PieceScheduler({ pieces: 10, pieceBytes: 1000, minTimeoutMs: 100, random: () => 0 });
      s.addPeer('a', null);
      s.received('a', s.next('a', 0), 1000, 1000); // about a piece a second
      const q = s.next('a', 1000);
      // Its next piece is due about a second later: not taken back after 2 s, taken back well before 9 s.
      assert.deepEqual(s.expire(3000), []);
      assert.deepEqual(s.expire(10000), [{ peer: 'a', piece: q }]);
    });

    it('a peer that served at a good rate and then goes silent loses its requests within seconds', () => {
      // Its rate fades while it sends nothing; that must not stretch the timeout of the requests it sits on.
      const s = new PieceScheduler({ pieces: 100, pieceBytes: 1000, minTimeoutMs: 5000, random: () => 0 });
      s.addPeer('a', null);
      let now = 0;
      for (; now < 3000; now += 100) s.received('a', s.next('a', now), 1000, now + 100); // 10 pieces a second
      const held = drain(s, 'a', now);
      assert.ok(held.length > 1);
      assert.deepEqual(s.expire(now + 4999), []); // at least minTimeoutMs
      assert.deepEqual(sorted(s.expire(now + 20000).map((e) => e.piece)), sorted(held));
    });
  });

  describe('priorities', () => {
    it('prioritized pieces come first, in their order, when the peer has them', () => {
      const s = new PieceScheduler({ pieces: 10, pieceBytes: 1000, initialDepth: 8, random: () => 0 });
      s.addPeer('a', bits(10, [3, 5, 7]));
      s.addPeer('b', null);
      s.prioritize([7, 9, 5, 12, -1]);
      assert.equal(s.next('a', 0), 7);
      assert.equal(s.next('a', 0), 5); // a lacks 9
      assert.equal(s.next('a', 0), 3);
      assert.equal(s.next('b', 0), 9);
      assert.equal(s.next('b', 0), 0);
    });

    it('a new list replaces the old one, and pieces held drop out of it', () => {
      const s = new PieceScheduler({ pieces: 10, pieceBytes: 1000, initialDepth: 8, strategy: 'sequential' });
      s.addPeer('a', null);
      s.prioritize([8, 6]);
      s.received('x', 8, 1000, 0);
      assert.equal(s.next('a', 0), 6);
      s.prioritize([4]);
      assert.equal(s.next('a', 0), 4);
      assert.equal(s.next('a', 0), 0);
    });

    it('also applies to sequential downloads', () => {
      const s = new PieceScheduler({ pieces: 10, pieceBytes: 1000, strategy: 'sequential' });
      s.addPeer('a', null);
      s.prioritize([9]);
      assert.deepEqual(drain(s, 'a'), [9, 0, 1, 2]);
    });
  });

  describe('resume', () => {
    it('pieces in the have bitfield are held and never asked for; bitfield() round-trips', () => {
      const have = bits(12, [0, 2, 5, 11]);
      const s = new PieceScheduler({ pieces: 12, pieceBytes: 1000, have, initialDepth: 32, random: seeded(3) });
      assert.equal(s.held, 4);
      assert.ok(s.has(0) && s.has(11) && !s.has(1));
      assert.deepEqual(s.bitfield(), have);
      s.addPeer('seed', null);
      const asked = drain(s, 'seed');
      assert.deepEqual(sorted(asked), [1, 3, 4, 6, 7, 8, 9, 10]);
      for (const i of asked) assert.equal(s.received('seed', i, 1000, 10).duplicate, false);
      assert.equal(s.complete, true);
      assert.equal(s.next('seed', 10), null);
      assert.deepEqual(s.bitfield(), bits(12, [...Array(12).keys()]));
      assert.deepEqual(s.received('seed', 5, 1000, 20), { duplicate: true, cancel: [] });
    });

    it('bitfield() is a copy', () => {
      const s = new PieceScheduler({ pieces: 8, pieceBytes: 1000 });
      s.bitfield()[0] = 0xff;
      assert.equal(s.held, 0);
      assert.equal(s.has(0), false);
    });

    it('a download resumed with every piece, or of no pieces, is complete and asks nothing', () => {
      const all = new PieceScheduler({ pieces: 5, pieceBytes: 1000, have: bits(5, [0, 1, 2, 3, 4]) });
      all.addPeer('seed', null);
      assert.equal(all.complete, true);
      assert.equal(all.next('seed', 0), null);
      const none = new PieceScheduler({ pieces: 0, pieceBytes: 1000 });
      none.addPeer('seed', null);
      assert.equal(none.complete, true);
      assert.equal(none.next('seed', 0), null);
    });

    it('bits past the last piece in a have bitfield are ignored', () => {
      const s = new PieceScheduler({ pieces: 3, pieceBytes: 1000, have: new Uint8Array([0xff]) });
      assert.equal(s.held, 3);
      assert.equal(s.complete, true);
    });
  });

  describe('whole downloads', () => {
    /**
     * Three peers with random partial bitfields and one seeder; every round each peer is given all the requests it
     * will take, then some deliver their oldest, some of those that were cancelled arrive anyway (the cancel raced),
     * now and then a request fails; with `timeoutMs`, slow requests expire (and some arrive late all the same).
     * Returns what was stored and what happened.
     */
    function download({ seed, strategy, pieces = 64, timeoutMs = 1e9, maxInflight = 64 }) {
      const random = seeded(seed);
      const s = new PieceScheduler({ pieces, pieceBytes: 1000, strategy, random, minTimeoutMs: timeoutMs,
        maxInflight });
      const has = { seed: null };
      for (const id of ['a', 'b', 'c']) {
        has[id] = new Set([...Array(pieces).keys()].filter(() => random() < 0.4));
        s.addPeer(id, bits(pieces, has[id]));
      }
      s.addPeer('seed', null);
      const queue = Object.fromEntries(Object.keys(has).map((id) => [id, []]));
      const raced = [];
      const stored = new Array(pieces).fill(0);
      const seen = { requests: 0, cancels: 0, duplicates: 0, failures: 0, expired: 0 };
      const deliver = (id, i, now) => {
        const r = s.received(id, i, 1000, now);
        // A late piece whose request expired answers the peer's new request for it, if it was asked again since.
        const again = queue[id].indexOf(i);
        if (again >= 0) queue[id].splice(again, 1);
        if (r.duplicate) {
          seen.duplicates++;
          return;
        }
        stored[i]++;
        for (const other of r.cancel) {
          assert.notEqual(other, id);
          const at = queue[other].indexOf(i);
          assert.ok(at >= 0, `cancel names ${other}, which was not asked for ${i}`);
          queue[other].splice(at, 1);
          seen.cancels++;
          if (random() < 0.5) raced.push([other, i]);
        }
      };
      let now = 0;
      for (let round = 0; round < 10000 && !s.complete; round++) {
        now += 10;
        for (const id of Object.keys(has)) {
          for (let i = s.next(id, now); i !== null; i = s.next(id, now)) {
            assert.ok(has[id] === null || has[id].has(i), `${id} asked for ${i}, which it lacks`);
            assert.ok(!s.has(i), `asked for ${i}, which we hold`);
            assert.ok(!queue[id].includes(i), `${id} asked twice for ${i}`);
            assert.ok(queue[id].length < s.depth(id, now), `${id} asked beyond its depth`);
            queue[id].push(i);
            seen.requests++;
          }
        }
        for (const id of Object.keys(has)) {
          // The seeder is slow, so that the partial peers' pieces run out first and the endgame gets a chance.
          if (random() >= (id === 'seed' ? 0.2 : 0.6) || queue[id].length === 0) continue;
          const i = queue[id].shift();
          if (random() < 0.03) {
            s.failed(id, i);
            seen.failures++;
          } else {
            deliver(id, i, now);
          }
        }
        while (raced.length > 0 && random() < 0.5) deliver(...raced.shift(), now);
        for (const { peer, piece } of s.expire(now)) {
          const at = queue[peer].indexOf(piece);
          assert.ok(at >= 0, `expired ${piece} of ${peer}, which was not asked for it`);
          queue[peer].splice(at, 1);
          seen.expired++;
          if (random() < 0.3) raced.push([peer, piece]);
        }
      }
      for (const [id, i] of raced) deliver(id, i, now); // stragglers: all duplicates by now
      return { s, stored, seen, queue };
    }

    for (const strategy of ['rarest', 'sequential']) {
      it(`${strategy}: every piece is stored exactly once and the download ends complete`, () => {
        let expired = 0;
        // Some with a tight cap on requests over all peers: a slot that leaked would stall those.
        for (const [seed, timeoutMs, maxInflight] of [[1, 1e9, 64], [2, 1e9, 10], [3, 1e9, 6], [4, 200, 64],
          [5, 200, 10], [6, 100, 6]]) {
          const { s, stored, seen, queue } = download({ seed, strategy, timeoutMs, maxInflight });
          expired += seen.expired;
          assert.equal(s.complete, true, `seed ${seed}: incomplete, ${s.held} held`);
          assert.equal(s.held, stored.length);
          assert.deepEqual(stored, new Array(stored.length).fill(1), `seed ${seed}`);
          // No request left hanging: each was delivered, failed, or cancelled.
          for (const [id, q] of Object.entries(queue)) assert.deepEqual(q, [], `seed ${seed}: ${id} still asked`);
          assert.ok(s.stats().every((p) => p.inflight === 0), `seed ${seed}`);
          for (const id of Object.keys(queue)) assert.equal(s.next(id, 1e9), null);
          assert.ok(seen.requests >= stored.length);
        }
        assert.ok(expired > 0, 'no request expired'); // the timeout path was exercised
      });
    }

    it('the endgame is reached in these downloads: copies are asked, cancelled and arrive as duplicates', () => {
      let cancels = 0;
      let duplicates = 0;
      for (const seed of [1, 2, 3, 4, 5]) {
        const { seen } = download({ seed, strategy: 'rarest' });
        cancels += seen.cancels;
        duplicates += seen.duplicates;
      }
      assert.ok(cancels > 0, 'no endgame cancel in five downloads');
      assert.ok(duplicates > 0, 'no duplicate in five downloads');
    });
  });

  describe('arguments', () => {
    it('bad constructor arguments throw RangeError', () => {
      for (const bad of [{ pieces: -1 }, { pieces: 1.5 }, { pieces: '3' }, { pieces: NaN }, { pieces: 2 ** 53 },
        {}, { pieces: 4, pieceBytes: 0 }, { pieces: 4, pieceBytes: -1 }, { pieces: 4, pieceBytes: NaN },
        { pieces: 4, pieceBytes: undefined }, { pieces: 4, strategy: 'random' }]) {
        const args = { pieceBytes: 1000, ...bad };
        if (!('pieces' in bad)) delete args.pieces;
        assert.throws(() => new PieceScheduler(args), RangeError, JSON.stringify(bad));
      }
      assert.doesNotThrow(() => new PieceScheduler({ pieces: 0, pieceBytes: 1 }));
    });

    it('a piece number out of range is refused (a padding bit must not count as a piece held)', () => {
      const s = new PieceScheduler({ pieces: 2, pieceBytes: 1000 });
      s.addPeer('a', null);
      for (const bad of [2, 5, -1, 0.5, NaN]) assert.throws(() => s.received('a', bad, 1000, 0), RangeError);
      assert.equal(s.held, 0);
    });
  });
});
