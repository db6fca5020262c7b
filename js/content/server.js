// Serving shares (docs/PROTOCOL.md §9.4): manifests and verified ranges of leaves with their proofs, to any peer
// that names a share we hold (a share id is 256 bits from a link: knowing it is the capability). Requests of one
// connection are answered one at a time, in order, so a peer cannot make us read more than one range ahead of its
// channel; beyond MAX_QUEUED waiting requests it gets `busy`.
import { PIECE_LEAVES } from './content-store.js';

const MAX_QUEUED = 64;
// Answers read from storage ahead of the one being sent (128 KiB each).
const READ_AHEAD = 4;
const MAX_SHARES_CACHED = 64;
// Trees held in the Wasm heap for proving (64 bytes per leaf each); the least recently used one goes.
const MAX_TREES = 4;

export class ContentServer {
  constructor({ core, store, log = () => {} }) {
    this.core = core;
    this.store = store;
    this._log = log;
    this._trees = new Map(); // root (base64url) -> tree handle, in use order
    this._queues = new WeakMap(); // ContentChannel -> { frames, running, cancelled }
    this._shares = new Map(); // id -> a complete share's record
    /** Bytes and ranges served, for share.stats() and the tests. */
    this.served = { ranges: 0, bytes: 0, manifests: 0, refused: 0 };
  }

  /** Takes a request frame from a channel (ContentChannel's `serve`). */
  serve(channel, frame) {
    let q = this._queues.get(channel);
    if (!q) this._queues.set(channel, q = { frames: [], running: false, cancelled: new Set() });
    if (frame.type === 'cancel') {
      q.frames = q.frames.filter((f) => f.request !== frame.request);
      q.cancelled.add(frame.request);
      return;
    }
    if (q.frames.length >= MAX_QUEUED) {
      this.served.refused++;
      void this._error(channel, frame.request, 'busy');
      return;
    }
    q.cancelled.delete(frame.request);
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
          ahead.push({ frame, answer: this._answer(frame).catch((error) => ({ error })) });
        }
        const { frame, answer } = ahead.shift();
        const a = await answer;
        if (q.cancelled.delete(frame.request)) continue;
        if (a.error) {
          this._log(`content: serving ${frame.type} failed: ${a.error?.code ?? ''} ${a.error?.message ?? a.error}`);
          await this._error(channel, frame.request, 'unavailable');
        } else if (a.code) {
          await this._error(channel, frame.request, a.code);
        } else {
          await channel.send(a.bytes).catch(() => {});
          if (frame.type === 'get') {
            this.served.ranges++;
            this.served.bytes += a.length;
          } else {
            this.served.manifests++;
          }
        }
      }
    } finally {
      q.running = false;
    }
  }

  /** The answer to a request: { bytes } (the frame), { code } (an error frame's), or a rejection. */
  async _answer(frame) {
    const share = await this._share(this.core.base64urlEncode(frame.share));
    if (frame.type === 'get-manifest') {
      return share ? { bytes: this.core.encodeManifestFrame(frame.request, share.manifest) } : { code: 'not-found' };
    }
    const file = share?.files[frame.file];
    const leaves = file ? Math.max(1, Math.ceil(file.size / this.core.limits.content.leafSize)) : 0;
    if (!share?.complete || !file || frame.first + frame.count > leaves) return { code: 'not-found' };
    const tree = await this._tree(file);
    if (!tree) return { code: 'not-found' };
    const bytes = await this._read(file, frame.first, frame.count);
    if (!bytes) return { code: 'unavailable' };
    return { bytes: tree.encodeData(frame.request, frame.file, frame.first, frame.count, bytes), length: bytes.length };
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

  /** The bytes of leaves [first, first + count) from the pieces that hold them. */
  async _read(file, first, count) {
    const leafSize = this.core.limits.content.leafSize;
    const pieceBytes = PIECE_LEAVES * leafSize;
    const start = first * leafSize;
    const end = Math.min(file.size, (first + count) * leafSize);
    const out = new Uint8Array(end - start);
    for (let p = Math.floor(start / pieceBytes); p * pieceBytes < Math.max(end, 1); p++) {
      const piece = await this.store.pieceBytes(file.key, p);
      if (!piece) return null;
      const from = Math.max(start, p * pieceBytes);
      const to = Math.min(end, p * pieceBytes + piece.length);
      if (to > from) out.set(piece.subarray(from - p * pieceBytes, to - p * pieceBytes), from - start);
    }
    return out;
  }

  async _tree(file) {
    const held = this._trees.get(file.root);
    if (held) {
      this._trees.delete(file.root);
      // Most recently used last; a handle from before a reload of the core is gone.
      if (held.generation === this.core.generation) {
        this._trees.set(file.root, held);
        return held.tree;
      }
    }
    const stored = await this.store.getTree(file.root);
    if (!stored) return null;
    const tree = this.core.contentTree({ size: stored.size, nodes: stored.nodes, root: this.core.base64urlDecode(file.root) });
    this._trees.set(file.root, { tree, generation: this.core.generation });
    while (this._trees.size > MAX_TREES) {
      const [oldest, entry] = this._trees.entries().next().value;
      this._trees.delete(oldest);
      entry.tree.release();
    }
    return tree;
  }

  /** Forgets a tree (its share was removed). */
  drop(root) {
    const held = this._trees.get(root);
    if (!held) return;
    this._trees.delete(root);
    held.tree.release();
  }

  _error(channel, request, code) {
    return channel.send(this.core.encodeContentFrame({ type: 'error', request, code })).catch(() => {});
  }
}
