// Which piece to ask which peer for, when several peers have a file (docs/PROTOCOL.md §9.5). Pure bookkeeping: no
// timers, no I/O, no frames; the caller passes `now` (ms) and sends what it is told to. A download will use one per
// file, and bench/sim/swarm.mjs runs this same module for a thousand simulated peers.
//
// Choices, in order, for a peer with a free request slot:
// 1. pieces someone waits for (prioritize(): a player's next bytes);
// 2. 'sequential': the first piece we lack that the peer has; 'rarest' (default): a random one while we hold fewer
//    than `randomFirst` pieces (something to trade soon), then the one the fewest of our peers have, ties broken by
//    a random starting point, so that downloaders spread over the pieces instead of all asking for the same;
// 3. endgame: once every missing piece is asked for, a piece already asked of another peer (at most
//    `endgameCopies` requests per piece); when it arrives, received() names the requests to cancel.
// Requests in flight per peer follow its measured rate: about `queueMs` of its transfer (between minDepth and
// maxDepth; maxInflight for all peers together). A peer that answers busy is left alone for a while and its piece
// asked elsewhere at once. A request unanswered for four times its expected time (at least minTimeoutMs) is taken
// back by expire() and the peer is held to one request until it delivers: a peer that announces pieces and does not
// serve them, or serves them slowly, loses its requests to the others. A peer blamed for bad bytes is banned: its
// requests go back, and it is never asked again.

import { emptyBitfield, hasBit, setBit } from '../content/bitfield.js';

export { emptyBitfield, setBit };

// A peer's rate is what it sent over about this long (docs above depth()).
const RATE_MS = 2000;
// A peer asked less than this long ago is measured over this long: a first piece that came at once (a sender that
// lets one go before it paces) read as 60 pieces a second and filled the peer's queue with the pieces every
// newcomer asked at the same moment, so that downloaders who met later held nothing to trade.
const MIN_RATE_SPAN_MS = 250;

export class PieceScheduler {
  /**
   * pieces: how many; pieceBytes: their size (the last may be shorter; used for rates); have: our bitfield (pieces
   * stored before, e.g. a download resumed). Options: strategy 'rarest' | 'sequential', randomFirst (4),
   * endgameCopies (2), queueMs (1000), minDepth (2), maxDepth (32), initialDepth (4), maxInflight (64: all peers
   * together), minTimeoutMs (5000), random.
   */
  constructor({ pieces, pieceBytes, have = null, strategy = 'rarest', randomFirst = 4, endgameCopies = 2,
    queueMs = 1000, minDepth = 2, maxDepth = 32, initialDepth = 4, maxInflight = 64, minTimeoutMs = 5000,
    random = Math.random }) {
    if (!Number.isSafeInteger(pieces) || pieces < 0) throw new RangeError('pieces: a count');
    if (!(pieceBytes > 0)) throw new RangeError('pieceBytes: a size');
    if (strategy !== 'rarest' && strategy !== 'sequential') throw new RangeError("strategy: 'rarest' or 'sequential'");
    Object.assign(this, { pieces, pieceBytes, strategy, randomFirst, endgameCopies, queueMs, minDepth, maxDepth,
      initialDepth, maxInflight, minTimeoutMs });
    this._random = random;
    this._have = emptyBitfield(pieces);
    this._held = 0;
    if (have) {
      for (let i = 0; i < pieces; i++) {
        if (hasBit(have, i)) {
          setBit(this._have, i);
          this._held++;
        }
      }
    }
    this._avail = new Uint32Array(pieces); // peers (seeders included) that have each piece
    this._asked = new Uint8Array(pieces); // requests in flight for each piece
    this._unasked = pieces - this._held; // missing pieces nobody is asked for: 0 means endgame
    this._peers = new Map();
    this._banned = new Set();
    this._priority = [];
    this._inflight = 0; // requests in flight, all peers
    this._now = 0;
  }

  /** Pieces we hold. */
  get held() {
    return this._held;
  }

  get complete() {
    return this._held === this.pieces;
  }

  /** Whether we hold piece i. */
  has(i) {
    return hasBit(this._have, i);
  }

  /** Our bitfield (a copy), for the have frame. */
  bitfield() {
    return this._have.slice();
  }

  isBanned(id) {
    return this._banned.has(id);
  }

  /** A peer that has `have` (its bitfield), or everything (null: a seeder). A banned peer is refused (false). */
  addPeer(id, have = null) {
    if (this._banned.has(id)) return false;
    if (this._peers.has(id)) this.removePeer(id);
    const bits = have ? emptyBitfield(this.pieces) : null;
    const peer = { id, bits, inflight: new Map(), decayed: 0, lastAt: 0, firstAt: null, snubbed: false, busyUntil: 0,
      pieces: 0, bytes: 0 };
    this._peers.set(id, peer);
    for (let i = 0; i < this.pieces; i++) {
      if (have && !hasBit(have, i)) continue;
      if (bits) setBit(bits, i);
      this._avail[i]++;
    }
    return true;
  }

  /**
   * The peer announced that it has piece i now. Returns true when that gives it something to be asked for (we lack
   * the piece and it is not asked for enough yet): the caller need not try next() for it otherwise, which matters
   * when every neighbour's every piece is announced.
   */
  peerHas(id, i) {
    const peer = this._peers.get(id);
    if (!peer?.bits || !(i >= 0 && i < this.pieces) || hasBit(peer.bits, i)) return false;
    setBit(peer.bits, i);
    this._avail[i]++;
    if (hasBit(this._have, i)) return false;
    return this._asked[i] === 0 || (this._unasked === 0 && this._asked[i] < this.endgameCopies);
  }

  /** The peer is gone: the pieces it was asked for, which are free again. */
  removePeer(id) {
    const peer = this._peers.get(id);
    if (!peer) return [];
    this._peers.delete(id);
    for (let i = 0; i < this.pieces; i++) {
      if (!peer.bits || hasBit(peer.bits, i)) this._avail[i]--;
    }
    const freed = [...peer.inflight.keys()];
    for (const i of freed) this._release(i);
    return freed;
  }

  /** Pieces to ask first (a player waits for them), in that order; replaces the previous list. */
  prioritize(pieces) {
    this._priority = pieces.filter((i) => i >= 0 && i < this.pieces);
  }

  /**
   * A peer's rate: bytes received, decaying with time constant RATE_MS, over how long it has been asked (so that
   * the first seconds are not underestimated). Not from the gap between two pieces: pieces a peer sends at once
   * arrive together, and their gap says nothing of its rate.
   */
  _count(peer, bytes, now) {
    peer.decayed = this._decayed(peer, now) + bytes;
    peer.lastAt = now;
  }

  _decayed(peer, now) {
    return peer.decayed * Math.exp(-(now - peer.lastAt) / RATE_MS);
  }

  /** Bytes per ms. */
  _rate(peer, now) {
    if (peer.firstAt === null || peer.decayed === 0) return 0;
    const span = 1 - Math.exp(-Math.max(MIN_RATE_SPAN_MS, now - peer.firstAt) / RATE_MS);
    return this._decayed(peer, now) / (RATE_MS * span);
  }

  /** Requests the peer should have in flight (at `now`), from its measured rate. */
  depth(id, now = this._now) {
    const peer = this._peers.get(id);
    if (!peer) return 0;
    if (peer.snubbed) return 1;
    const rate = this._rate(peer, now);
    if (rate === 0) return this.initialDepth;
    return Math.max(this.minDepth, Math.min(this.maxDepth, Math.ceil((rate * this.queueMs) / this.pieceBytes)));
  }

  /**
   * The next piece to ask this peer for, marked in flight (at `now`), or null: its slots are full, or it has
   * nothing we need that is not asked for enough already.
   */
  next(id, now) {
    this._now = now;
    const peer = this._peers.get(id);
    if (!peer || this.complete || peer.inflight.size >= this.depth(id, now) || this._inflight >= this.maxInflight ||
      now < peer.busyUntil) {
      return null;
    }
    const i = this._pick(peer);
    if (i === null) return null;
    peer.inflight.set(i, now);
    peer.firstAt ??= now;
    if (this._asked[i]++ === 0) this._unasked--;
    this._inflight++;
    return i;
  }

  _pick(peer) {
    const free = (i) => !hasBit(this._have, i) && this._asked[i] === 0 && (!peer.bits || hasBit(peer.bits, i));
    if (this._priority.length > 0) {
      this._priority = this._priority.filter((i) => !hasBit(this._have, i));
      for (const i of this._priority) if (free(i)) return i;
    }
    if (this._unasked > 0) {
      // Rarest: no peer has a piece less often than the one asked (1), so the scan can stop there.
      const i = this.strategy === 'sequential' ? this._first(free)
        : this._fromRandomStart(free, this._held >= this.randomFirst ? this._avail : null, 1);
      if (i !== null) return i;
    }
    // Endgame: every missing piece is asked of someone; ask this peer too, where copies are fewest. Before that, a
    // peer with nothing unasked waits (copies would only waste its upload and ours).
    if (this._unasked > 0) return null;
    const spare = (i) => !hasBit(this._have, i) && this._asked[i] < this.endgameCopies && !peer.inflight.has(i) &&
      (!peer.bits || hasBit(peer.bits, i));
    for (const i of this._priority) if (spare(i)) return i;
    return this._fromRandomStart(spare, this._asked);
  }

  _first(ok) {
    for (let i = 0; i < this.pieces; i++) if (ok(i)) return i;
    return null;
  }

  /**
   * Scans every piece once from a random start (so that peers spread over equal choices): the first that is ok, or
   * with `key`, the ok one of least key (the first found among equals), stopping early at `floor`.
   */
  _fromRandomStart(ok, key = null, floor = -Infinity) {
    const n = this.pieces;
    const start = Math.floor(this._random() * n);
    let best = null;
    for (let k = 0; k < n; k++) {
      const i = start + k < n ? start + k : start + k - n;
      if (!ok(i)) continue;
      if (key === null) return i;
      if (best === null || key[i] < key[best]) {
        best = i;
        if (key[i] <= floor) break;
      }
    }
    return best;
  }

  _release(i) {
    this._inflight--;
    if (--this._asked[i] === 0 && !hasBit(this._have, i)) this._unasked++;
  }

  /**
   * Piece i arrived from the peer, verified, at `now` (`bytes` long). Returns { duplicate, cancel }: duplicate when
   * we held it already (an endgame copy), cancel the peers still asked for it (send them a cancel).
   */
  received(id, i, bytes, now) {
    if (!(Number.isInteger(i) && i >= 0 && i < this.pieces)) throw new RangeError('piece: out of range');
    this._now = now;
    const peer = this._peers.get(id);
    if (peer) {
      // Also an answer to a request expire() took back: late, but the peer is alive and delivers.
      if (peer.inflight.delete(i)) this._release(i);
      this._count(peer, bytes, now);
      peer.snubbed = false;
      peer.pieces++;
      peer.bytes += bytes;
    }
    if (hasBit(this._have, i)) return { duplicate: true, cancel: [] };
    setBit(this._have, i);
    this._held++;
    if (this._asked[i] === 0) this._unasked--;
    const cancel = [];
    for (const other of this._peers.values()) {
      if (other.inflight.delete(i)) {
        cancel.push(other.id);
        this._release(i);
      }
    }
    return { duplicate: false, cancel };
  }

  /**
   * A request failed (the peer answered it with an error, or the bytes did not verify). blame: the peer sent bad
   * data and is banned (its requests go back; it is never asked again). busyMs: the peer said it is busy (its
   * upload slots and queue are full): it is asked nothing for that long, from `now`, and the piece goes to others
   * at once rather than waiting in its queue. Returns { banned, freed }.
   */
  failed(id, i, { blame = false, busyMs = 0, now = this._now } = {}) {
    const peer = this._peers.get(id);
    if (!peer) return { banned: this._banned.has(id), freed: [] };
    if (peer.inflight.delete(i)) this._release(i);
    if (busyMs > 0) peer.busyUntil = Math.max(peer.busyUntil, now + busyMs);
    if (!blame) return { banned: false, freed: [i] };
    this._banned.add(id);
    return { banned: true, freed: [i, ...this.removePeer(id)] };
  }

  /**
   * Requests unanswered for too long (four times what the peer's rate says, at least minTimeoutMs) are taken back:
   * [{ peer, piece }] to cancel; such a peer gets one request at a time until it delivers.
   */
  expire(now) {
    this._now = now;
    const out = [];
    for (const peer of this._peers.values()) {
      // Its rate when it last delivered: the rate fades while it sends nothing, which must not stretch the wait.
      const rate = this._rate(peer, Math.min(now, peer.lastAt));
      const expected = rate > 0 ? this.pieceBytes / rate : 0;
      const limit = Math.max(this.minTimeoutMs, 4 * expected * Math.max(1, peer.inflight.size));
      for (const [i, at] of peer.inflight) {
        if (now - at < limit) continue;
        peer.inflight.delete(i);
        this._release(i);
        peer.snubbed = true;
        out.push({ peer: peer.id, piece: i });
      }
    }
    return out;
  }

  /** Who is asked for what: [{ id, pieces, bytes, rate (bytes/s), inflight, depth, snubbed }]. */
  stats(now = this._now) {
    return [...this._peers.values()].map((p) => ({ id: p.id, pieces: p.pieces, bytes: p.bytes,
      rate: Math.round(this._rate(p, now) * 1000), inflight: p.inflight.size, depth: this.depth(p.id, now),
      snubbed: p.snubbed }));
  }
}
