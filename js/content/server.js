// Serving shares (docs/PROTOCOL.md §9.4): manifests and verified ranges of leaves with their proofs, to any peer
// that names a share we hold (a share id is 256 bits from a link: knowing it is the capability). Requests of one
// connection are answered one at a time, in order, so a peer cannot make us read more than one range ahead of its
// channel; beyond MAX_QUEUED waiting requests it gets `busy`.
import { PIECE_LEAVES } from './content-store.js';

const MAX_QUEUED = 64;
// Trees held in the Wasm heap for proving (64 bytes per leaf each); the least recently used one goes.
const MAX_TREES = 4;

export class ContentServer {
  constructor({ core, store, log = () => {} }) {
    this.core = core;
    this.store = store;
    this._log = log;
    this._trees = new Map(); // root (base64url) -> tree handle, in use order
    this._queues = new WeakMap(); // ContentChannel -> { frames, running }
    /** Bytes and ranges served, for share.stats() and the tests. */
    this.served = { ranges: 0, bytes: 0, manifests: 0, refused: 0 };
  }

  /** Takes a request frame from a channel (ContentChannel's `serve`). */
  serve(channel, frame) {
    let q = this._queues.get(channel);
    if (!q) this._queues.set(channel, q = { frames: [], running: false });
    if (frame.type === 'cancel') {
      q.frames = q.frames.filter((f) => f.request !== frame.request);
      return;
    }
    if (q.frames.length >= MAX_QUEUED) {
      this.served.refused++;
      void this._error(channel, frame.request, 'busy');
      return;
    }
    q.frames.push(frame);
    if (!q.running) void this._run(channel, q);
  }

  async _run(channel, q) {
    q.running = true;
    try {
      while (q.frames.length > 0 && !channel.connection.closed) {
        const frame = q.frames.shift();
        try {
          if (frame.type === 'get-manifest') await this._manifest(channel, frame);
          else await this._range(channel, frame);
        } catch (error) {
          this._log(`content: serving ${frame.type} failed: ${error?.code ?? ''} ${error?.message ?? error}`);
          if (error?.code !== 'NOT_CONNECTED') await this._error(channel, frame.request, 'unavailable');
        }
      }
    } finally {
      q.running = false;
    }
  }

  async _manifest(channel, frame) {
    const share = await this.store.getShare(this.core.base64urlEncode(frame.share));
    if (!share) return this._error(channel, frame.request, 'not-found');
    this.served.manifests++;
    return channel.send(this.core.encodeManifestFrame(frame.request, share.manifest));
  }

  async _range(channel, frame) {
    const share = await this.store.getShare(this.core.base64urlEncode(frame.share));
    const file = share?.files[frame.file];
    const leaves = file ? Math.max(1, Math.ceil(file.size / this.core.limits.content.leafSize)) : 0;
    if (!share?.complete || !file || frame.first + frame.count > leaves) return this._error(channel, frame.request, 'not-found');
    const tree = await this._tree(file);
    if (!tree) return this._error(channel, frame.request, 'not-found');
    const bytes = await this._read(file, frame.first, frame.count);
    if (!bytes) return this._error(channel, frame.request, 'unavailable');
    const data = tree.encodeData(frame.request, frame.file, frame.first, frame.count, bytes);
    this.served.ranges++;
    this.served.bytes += bytes.length;
    return channel.send(data);
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
