// What a seeder that holds pieces nobody else has tells each neighbour it has (docs/PROTOCOL.md §9.5): while some
// piece has not gone out once, each downloader is offered only a few pieces, the ones sent least so far and seen
// least among the neighbours, and a new one each time it takes one. So the seeder's upload, which bounds how soon the
// swarm can finish (every piece must leave it once), is not spent on two copies of a piece while another piece has
// none: downloaders trade the pieces among themselves. Once every piece has gone out, the seeder shows everything.
// (BitTorrent calls this super-seeding.) Pure bookkeeping like the scheduler: the caller sends the have frames.
// bench/sim/swarm.mjs measures what it changes.

export class SeedOffers {
  /** pieces: how many; perPeer: pieces offered to a downloader at a time (about its requests in flight). */
  constructor({ pieces, perPeer = 4 }) {
    this.pieces = pieces;
    this.perPeer = perPeer;
    this._sent = new Uint32Array(pieces); // copies uploaded by us
    this._seen = new Uint32Array(pieces); // neighbours that announced it
    this._offered = new Uint32Array(pieces); // downloaders it is offered to now
    this._gone = 0; // pieces sent at least once
    this._cursor = 0;
    this._peers = new Map(); // id -> { offers: Set, has: (i) => boolean }
  }

  /** Every piece went out once: show everything (have all) to every neighbour from now on. */
  get open() {
    return this._gone === this.pieces;
  }

  /**
   * A downloader: has(i) tells whether it holds piece i. Returns the pieces to announce to it (all of them, as
   * null, once open).
   */
  addPeer(id, has) {
    this.removePeer(id); // the same id again: its earlier offers go back first
    const peer = { offers: new Set(), has };
    this._peers.set(id, peer);
    return this.open ? null : this._topUp(peer);
  }

  removePeer(id) {
    const peer = this._peers.get(id);
    if (!peer) return;
    for (const i of peer.offers) this._offered[i]--;
    this._peers.delete(id);
  }

  /**
   * Neighbour `id` announced piece i (it spread). Returns what to announce to it next: if we had offered it that
   * piece (it got it elsewhere), another one in its place.
   */
  seen(id, i) {
    if (!(i >= 0 && i < this.pieces)) return [];
    this._seen[i]++;
    const peer = this._peers.get(id);
    if (!peer?.offers.delete(i)) return [];
    this._offered[i]--;
    return this.open ? [] : this._topUp(peer);
  }

  /**
   * We sent piece i to the downloader. Returns what to announce to it next: new pieces, or null when we just
   * opened (announce everything, to every neighbour: `open` tells).
   */
  sent(id, i) {
    const wasOpen = this.open; // after the opening, nothing new to announce: null only the once
    if (this._sent[i]++ === 0) this._gone++;
    const peer = this._peers.get(id);
    if (peer?.offers.delete(i)) this._offered[i]--;
    if (this.open) return wasOpen ? [] : null;
    return peer ? this._topUp(peer) : [];
  }

  _topUp(peer) {
    const added = [];
    while (peer.offers.size < this.perPeer) {
      const i = this._pick(peer);
      if (i === null) break;
      peer.offers.add(i);
      this._offered[i]++;
      added.push(i);
    }
    return added;
  }

  /** The piece the downloader lacks that went out least (ours, then seen, then offered), from a moving start. */
  _pick(peer) {
    let best = null;
    // Least sent, then least seen, then least offered (compared in that order, whatever the counts).
    const better = (i, j) => this._sent[i] !== this._sent[j] ? this._sent[i] < this._sent[j]
      : this._seen[i] !== this._seen[j] ? this._seen[i] < this._seen[j] : this._offered[i] < this._offered[j];
    for (let k = 0; k < this.pieces; k++) {
      const i = (this._cursor + k) % this.pieces;
      if (peer.offers.has(i) || peer.has(i)) continue;
      if (best === null || better(i, best)) {
        best = i;
        if (this._sent[i] === 0 && this._seen[i] === 0 && this._offered[i] === 0) break;
      }
    }
    if (best !== null) this._cursor = (best + 1) % this.pieces;
    return best;
  }
}
