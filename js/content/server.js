// Serving shares (docs/PROTOCOL.md §9.4): manifests and verified ranges of leaves with their proofs, to any peer
// that names a complete share we hold (a share id is 256 bits from a link: knowing it is the capability).
// Requests of one connection are answered in order; beyond MAX_QUEUED waiting the asker gets `busy`. A peer that
// keeps asking while its answers cannot even leave (its channel is not drained) is not answered, then dropped:
// nothing a peer sends makes us hold more than a bounded amount for it. Ranges go out through `maxUploads` upload
// slots shared by all connections, taken in turn: however many peers ask, at most that many answers are being
// sent at once, and each asker gets its share (fair use; one downloader alone is not slowed).
//
// A share we are downloading is served too while its download runs here (track()): its manifest, and the pieces
// verified so far, each with the proof it came with. A peer can only ask by the share's id, which comes from its
// link: whoever holds the link can see that we are fetching it, as in any swarm. get-have is answered with the
// file's bitfield, then one have frame per piece verified after it (pieceAdded()), until the asker cancels.
//
// A site's files (a share the service worker keeps: js/site/site-files.js, docs/PROTOCOL.md §10.3) are served file
// by file, each once it is whole here (its tree is stored): a visitor asks for one file's pieces at a time.
import { emptyBitfield, fullBitfield } from './bitfield.js';
import { leafCount, PIECE_LEAVES, pieceCount } from './content-store.js';

const MAX_QUEUED = 64;
// Answers read from storage ahead of the one being sent (128 KiB each).
const READ_AHEAD = 4;
// `busy` answers not yet handed to the channel; beyond it requests are dropped unanswered, and after
// MAX_DROPPED of those the connection is closed.
const MAX_BUSY_PENDING = 16;
const MAX_DROPPED = 256;
const MAX_SHARES_CACHED = 64;
// Trees held in the Wasm heap for proving (64 bytes per leaf each); the least recently used one not in use goes.
const MAX_TREES = 4;
// Piece buffers kept for the next reads: a frame's buffer is read into again once the channel has taken (copied)
// the frame. New memory for every piece cost the sharing Chromium page more than all else it does per piece
// (bench/RESULTS.md, "Share by link").
const MAX_BUFFERS = 8;
/** Answers with bytes being sent at once, over all connections (PushPeer option maxUploads). */
export const MAX_UPLOADS = 4;
// How long one answer may hold its slot while its channel does not take it.
const SLOT_HOLD_MS = 5000;
// get-have subscriptions one connection may hold (a downloader holds one per file it is fetching).
const MAX_SUBSCRIPTIONS = 16;
// Peers share.stats() keeps figures for (the least recent go first).
const MAX_PEER_STATS = 256;

/** Slots taken in the order they were asked for. */
class Slots {
  constructor(size) {
    this.size = size;
    this.used = 0;
    this.waiting = [];
  }

  /** Resolves to a function that gives the slot back. */
  async take() {
    if (this.used < this.size) this.used++;
    else await new Promise((resolve) => this.waiting.push(resolve));
    let given = false;
    return () => {
      if (given) return;
      given = true;
      const next = this.waiting.shift();
      if (next) next(); // the slot passes on as it is
      else this.used--;
    };
  }
}

export class ContentServer {
  constructor({ core, store, log = () => {}, maxUploads = MAX_UPLOADS, maxUploadRate = Infinity }) {
    if (!(Number.isInteger(maxUploads) && maxUploads >= 1)) {
      throw new RangeError('maxUploads: a whole number, at least 1');
    }
    if (!(maxUploadRate > 0)) throw new RangeError('maxUploadRate: bytes per second, more than 0');
    this._maxUploadRate = maxUploadRate;
    /** Per peer (key id): { keyId, ranges, bytes }, most recent last. */
    this._perPeer = new Map();
    this.core = core;
    this.store = store;
    this._log = log;
    this._uploads = new Slots(maxUploads);
    this._trees = new Map(); // root (base64url) -> { tree, generation, pins, loading }, in use order
    this._buffers = []; // (_giveBack)
    this._queues = new WeakMap(); // ContentChannel -> { frames, running, ahead (request ids), cancelled, ... }
    this._shares = new Map(); // id -> a complete share's record
    this._live = new Map(); // id -> a download running here: { has(file, piece), bitfield(file), interested(channel) }
    this._subscribers = new Map(); // id -> Set of { channel, request, file, share }: get-have subscriptions
    /** Bytes and ranges served, for share.stats() and the tests. */
    this.served = { ranges: 0, bytes: 0, manifests: 0, refused: 0 };
  }

  /** Takes a request frame from a channel (ContentChannel's `serve`). */
  serve(channel, frame) {
    let q = this._queues.get(channel);
    if (!q) {
      q = { frames: [], running: false, ahead: new Set(), cancelled: new Set(), busyPending: 0, dropped: 0,
        subs: new Map() };
      this._queues.set(channel, q);
      channel.connection.addEventListener('close', () => {
        for (const request of [...q.subs.keys()]) this._unsubscribe(q, request);
      });
    }
    if (frame.type === 'get-have') {
      void this._subscribe(channel, q, frame).catch((error) => this._log(`content: get-have failed: ${error?.message ?? error}`));
      return;
    }
    if (frame.type === 'cancel') {
      if (q.subs.has(frame.request)) {
        this._unsubscribe(q, frame.request);
        return;
      }
      // Only a request we hold can be cancelled: ids never asked leave no trace.
      const before = q.frames.length;
      q.frames = q.frames.filter((f) => f.request !== frame.request);
      if (q.frames.length === before && q.ahead.has(frame.request)) q.cancelled.add(frame.request);
      return;
    }
    if (q.frames.length >= MAX_QUEUED) {
      this.served.refused++;
      if (q.busyPending < MAX_BUSY_PENDING) {
        q.busyPending++;
        void this._error(channel, frame.request, 'busy').finally(() => q.busyPending--);
      } else if (++q.dropped > MAX_DROPPED) {
        channel.connection.close('content: too many requests');
      }
      return;
    }
    q.frames.push(frame);
    if (!q.running) void this._run(channel, q);
  }

  /**
   * Answers a channel's requests in order. The next READ_AHEAD answers are read from storage while the current one
   * goes out: one storage read at a time was what bounded the rate (bench/RESULTS.md, "Share by link").
   */
  async _run(channel, q) {
    q.running = true;
    const ahead = [];
    try {
      while ((q.frames.length > 0 || ahead.length > 0) && !channel.connection.closed) {
        while (ahead.length < READ_AHEAD && q.frames.length > 0) {
          const frame = q.frames.shift();
          q.ahead.add(frame.request);
          ahead.push({ frame, answer: this._answer(frame).catch((error) => ({ error })) });
        }
        const { frame, answer } = ahead.shift();
        const a = await answer;
        if (a.error) {
          this._log(`content: serving ${frame.type} failed: ${a.error?.code ?? ''} ${a.error?.message ?? a.error}`);
        }
        // A range waits for its peer's pace (maxUploadRate), then for an upload slot (a cancel meanwhile still
        // counts); the rest goes at once.
        if (frame.type === 'get' && a.bytes) await this._pace(q);
        const give = frame.type === 'get' && a.bytes ? await this._uploads.take() : () => {};
        try {
          q.ahead.delete(frame.request);
          if (q.cancelled.delete(frame.request) || channel.connection.closed) continue;
          if (a.error) {
            await this._error(channel, frame.request, 'unavailable');
          } else if (a.code) {
            await this._error(channel, frame.request, a.code);
          } else {
            const sending = channel.send(a.bytes).catch(() => {});
            if (frame.type === 'get') this._paced(q, a.length);
            // A peer whose channel does not drain keeps its answer waiting, not the slot: others go on.
            let timer;
            await Promise.race([sending, new Promise((resolve) => { timer = setTimeout(resolve, SLOT_HOLD_MS); })]);
            clearTimeout(timer);
            give();
            await sending;
            if (frame.type === 'get') {
              this._giveBack(a.bytes.buffer);
              this.served.ranges++;
              this.served.bytes += a.length;
              this._count(channel.connection.remote?.keyId ?? null, a.length);
            } else {
              this.served.manifests++;
            }
          }
        } finally {
          give();
        }
      }
    } finally {
      q.running = false;
      q.ahead.clear();
      q.cancelled.clear();
    }
  }

  /**
   * A download of share `id` runs here: its pieces are served as they are verified. live: { has(file, piece),
   * bitfield(file), interested(channel) (a peer asked for its bitfield: it is in the swarm too) }.
   */
  track(id, live) {
    this._live.set(id, live);
  }

  /** The download ended (done, failed, cancelled): a complete share is served from its tree from now on. */
  untrack(id, live) {
    if (this._live.get(id) === live) this._live.delete(id);
  }

  /** A piece of a tracked download was verified: the peers that asked for that file's bitfield are told. */
  pieceAdded(id, file, piece) {
    for (const s of this._subscribers.get(id) ?? []) {
      if (s.file !== file) continue;
      const have = this.core.encodeContentFrame({ type: 'have', request: s.request, share: s.share, file, first: piece,
        count: 1, bits: Uint8Array.of(0x80) });
      s.channel.send(have).catch(() => {});
    }
  }

  async _subscribe(channel, q, frame) {
    const id = this.core.base64urlEncode(frame.share);
    const share = await this._share(id);
    const live = this._live.get(id);
    const file = share?.files[frame.file];
    if (!file || (!share.complete && !live) || channel.connection.closed) {
      this.served.refused++;
      await this._error(channel, frame.request, 'not-found');
      return;
    }
    if (q.subs.size >= MAX_SUBSCRIPTIONS || q.subs.has(frame.request)) {
      this.served.refused++;
      await this._error(channel, frame.request, 'busy');
      return;
    }
    const pieces = pieceCount(file.size, this.core);
    // The bitfield and the subscription in one step: a piece verified after it is announced after it.
    // A download that has just stored its manifest holds nothing yet: an empty bitfield, and each piece as it comes.
    const bits = share.complete ? fullBitfield(pieces) : live.bitfield(frame.file) ?? emptyBitfield(pieces);
    const sub = { channel, request: frame.request, file: frame.file, share: frame.share, id };
    q.subs.set(frame.request, sub);
    if (!this._subscribers.has(id)) this._subscribers.set(id, new Set());
    this._subscribers.get(id).add(sub);
    channel.send(this.core.encodeContentFrame({ type: 'have', request: frame.request, share: frame.share,
      file: frame.file, first: 0, count: pieces, bits })).catch(() => {});
    if (!share.complete) live.interested(channel);
  }

  _unsubscribe(q, request) {
    const sub = q.subs.get(request);
    if (!sub) return;
    q.subs.delete(request);
    const set = this._subscribers.get(sub.id);
    set?.delete(sub);
    if (set?.size === 0) this._subscribers.delete(sub.id);
  }

  /**
   * maxUploadRate: one peer's ranges leave no faster than that many bytes per second (all its requests on this
   * connection): each range is handed to the channel no sooner than the previous one's length at that rate after it.
   */
  async _pace(q) {
    const wait = (q.paceAt ?? 0) - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }

  _paced(q, bytes) {
    if (Number.isFinite(this._maxUploadRate)) q.paceAt = Date.now() + (bytes / this._maxUploadRate) * 1000;
  }

  _count(keyId, bytes) {
    if (keyId === null) return;
    const entry = this._perPeer.get(keyId) ?? { keyId, ranges: 0, bytes: 0 };
    entry.ranges++;
    entry.bytes += bytes;
    this._perPeer.delete(keyId);
    this._perPeer.set(keyId, entry);
    if (this._perPeer.size > MAX_PEER_STATS) this._perPeer.delete(this._perPeer.keys().next().value);
  }

  /** Who we sent what: [{ keyId, ranges, bytes }] (the most recent MAX_PEER_STATS peers). */
  perPeer() {
    return [...this._perPeer.values()].map((e) => ({ ...e }));
  }

  /**
   * A sent data frame's buffer, for the next piece read into it. Only once the channel took the frame: send()
   * copies what it is given (RTCDataChannel in both browsers, and any connection's writeContent once resolved).
   */
  _giveBack(buffer) {
    const size = this.core.limits.content.maxDataHeadLength + PIECE_LEAVES * this.core.limits.content.leafSize;
    if (buffer.byteLength === size && this._buffers.length < MAX_BUFFERS) this._buffers.push(buffer);
  }

  /** The answer to a request: { bytes } (the frame), { code } (an error frame's), or a rejection. */
  async _answer(frame) {
    const id = this.core.base64urlEncode(frame.share);
    const share = await this._share(id);
    // A share is served when it is complete, or while its download runs here (see the top of this file).
    const live = share && !share.complete ? this._live.get(id) : null;
    if (!share || (!share.complete && !live && !share.site)) return { code: 'not-found' };
    if (frame.type === 'get-manifest') return { bytes: this.core.encodeManifestFrame(frame.request, share.manifest) };
    const file = share.files[frame.file];
    const leaves = file ? leafCount(file.size, this.core) : 0;
    if (!file || frame.first + frame.count > leaves) return { code: 'not-found' };
    if (live) return this._answerPiece(live, file, frame, leaves);
    // (A site's file is answered only once whole: without its tree, stored last, _withTree finds nothing.)
    const bytes = await this._read(file, frame.first, frame.count);
    if (!bytes) return { code: share.site ? 'not-found' : 'unavailable' }; // (a site's file we do not hold)
    // The frame is the core's head followed by the bytes: the head goes in the room _read left before them.
    const data = await this._withTree(file, (tree) => {
      const head = tree.encodeDataHead(frame.request, frame.file, frame.first, frame.count, bytes.length);
      const out = new Uint8Array(bytes.buffer, bytes.byteOffset - head.length, head.length + bytes.length);
      out.set(head);
      return out;
    });
    return data ? { bytes: data, length: bytes.length } : { code: 'not-found' };
  }

  /**
   * A piece of a file still downloading, with the proof it came with: only whole pieces (what downloaders ask
   * for), and only those verified here.
   */
  async _answerPiece(live, file, frame, leaves) {
    const piece = frame.first / PIECE_LEAVES;
    const whole = Number.isInteger(piece) && frame.count === Math.min(PIECE_LEAVES, leaves - frame.first);
    if (!whole || !live.has(frame.file, piece)) return { code: 'not-found' };
    const stored = await this.store.pieceWithProof(file.key, piece);
    if (!stored) return { code: 'not-found' };
    const bytes = this.core.encodeDataWithProof({ request: frame.request, file: frame.file, first: frame.first,
      count: frame.count, proof: stored.proof, bytes: stored.bytes });
    return { bytes, length: stored.bytes.length };
  }

  /** A share record; complete ones do not change and are kept (forget() drops one that is removed). */
  async _share(id) {
    const cached = this._shares.get(id);
    if (cached) return cached;
    const share = await this.store.getShare(id);
    if (share?.complete) {
      this._shares.set(id, share);
      if (this._shares.size > MAX_SHARES_CACHED) this._shares.delete(this._shares.keys().next().value);
    }
    return share;
  }

  /** Forgets what is cached of a share that was removed. */
  forget(id) {
    this._shares.delete(id);
  }

  /**
   * The bytes of leaves [first, first + count) from the pieces that hold them, with limits.content.maxDataHeadLength
   * bytes free before them in their buffer (for the frame's head), or null.
   */
  async _read(file, first, count) {
    const leafSize = this.core.limits.content.leafSize;
    const room = this.core.limits.content.maxDataHeadLength;
    const pieceBytes = PIECE_LEAVES * leafSize;
    const start = first * leafSize;
    const end = Math.min(file.size, (first + count) * leafSize);
    // One whole piece (what downloaders ask for): read into a buffer of its own with the room, not copied (a copy of
    // 128 KiB in new memory is not free: on a busy host it cost as much as hashing it, bench/RESULTS.md).
    if (start % pieceBytes === 0 && (end - start === pieceBytes || (end === file.size && end - start <= pieceBytes))) {
      const piece = await this.store.pieceWithRoom(file.key, start / pieceBytes, room, this._buffers.pop() ?? null);
      return piece && piece.length === end - start ? piece : null;
    }
    const out = new Uint8Array(room + end - start).subarray(room);
    for (let p = Math.floor(start / pieceBytes); p * pieceBytes < Math.max(end, 1); p++) {
      const piece = await this.store.pieceBytes(file.key, p);
      if (!piece) return null;
      const from = Math.max(start, p * pieceBytes);
      const to = Math.min(end, p * pieceBytes + piece.length);
      if (to > from) out.set(piece.subarray(from - p * pieceBytes, to - p * pieceBytes), from - start);
    }
    return out;
  }

  /**
   * Runs fn(tree) with the file's tree loaded and pinned (it is not released while fn runs); null when the tree is
   * not stored. Concurrent requests for a root not loaded yet share one load.
   */
  async _withTree(file, fn) {
    let entry = this._trees.get(file.root);
    if (entry && !entry.loading && entry.generation !== this.core.generation) {
      this._trees.delete(file.root); // the core was reloaded: the handle is gone
      entry = null;
    }
    if (!entry) {
      entry = { tree: null, generation: this.core.generation, pins: 0, loading: null };
      entry.loading = this._load(file).then((tree) => {
        entry.tree = tree;
        entry.loading = null;
        if (!tree) this._trees.delete(file.root);
      }, (error) => {
        this._trees.delete(file.root);
        throw error;
      });
      this._trees.set(file.root, entry);
    }
    entry.pins++;
    try {
      if (entry.loading) await entry.loading;
      if (!entry.tree) return null;
      // Most recently used last (a dropped entry stays out).
      if (!entry.dropped) {
        this._trees.delete(file.root);
        this._trees.set(file.root, entry);
      }
      return fn(entry.tree);
    } finally {
      entry.pins--;
      if (entry.dropped && entry.pins === 0) entry.tree?.release();
      this._evict();
    }
  }

  async _load(file) {
    const stored = await this.store.getTree(file.root);
    if (!stored) return null;
    return this.core.contentTree({ size: stored.size, nodes: stored.nodes, root: this.core.base64urlDecode(file.root) });
  }

  _evict() {
    for (const [root, entry] of this._trees) {
      if (this._trees.size <= MAX_TREES) return;
      if (entry.pins > 0 || entry.loading) continue;
      this._trees.delete(root);
      entry.tree?.release();
    }
  }

  /** Forgets a tree (its share was removed); one in use is released once it is no longer. */
  drop(root) {
    const entry = this._trees.get(root);
    if (!entry) return;
    this._trees.delete(root);
    entry.dropped = true;
    if (entry.pins === 0 && !entry.loading) entry.tree?.release();
  }

  _error(channel, request, code) {
    return channel.send(this.core.encodeContentFrame({ type: 'error', request, code })).catch(() => {});
  }
}
