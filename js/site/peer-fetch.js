// A site's listed file fetched from peers, in a page (docs/PROTOCOL.md §10.3): the service worker cannot hold an
// RTCPeerConnection, so when it lacks a listed file it asks a page that has live connections (js/site/page-requests.js
// is the worker's end), and the page fetches the file's pieces from its peers over their content channels, checks
// each against the listed root before it is stored, and stores the file's tree last. The worker answers the file
// once its tree is there, exactly as after an origin fetch; the page's peers serve it from then on too
// (js/content/server.js serves a site file once whole).
//
// A peer that does not have the file answers not-found and is not asked again for it; one that sends bytes that do
// not verify is blamed: never asked again by this page, and its connection closed. No source left: the page says so
// and the worker goes to the origin.
import { PushPeerError } from '../errors.js';
import { leafCount, PIECE_LEAVES, pieceCount } from '../content/content-store.js';
import { CLAIM_MS, MIN_RATE, STALL_MS } from './page-requests.js';

// Requests in flight for one file, all peers together, and per peer (128 KiB pieces: 2 MiB on the way, as a
// download's window: js/content/download.js).
const WINDOW = 16;
const PER_PEER = 4;
// A peer that answered busy is asked nothing for this long; one that answers busy this many times in a row (3 s
// without a piece) is not asked again for the file: the worker does better at the origin.
const BUSY_MS = 500;
const MAX_BUSY = 6;
// A piece not answered in this long goes to another peer, and the silent one is asked nothing for SILENT_MS: well
// within the worker's STALL_MS, so that its pieces can still come from the others.
const REQUEST_TIMEOUT_MS = 4_000;
const SILENT_MS = 60_000;
// While a file waits its turn, the worker hears that it is still wanted this often (its stall deadline is longer).
const WAITING_MS = 2_000;
// Files fetched at once (more wait their turn).
const MAX_FILES = 2;

export class SitePeerFetch {
  /**
   * core, store (the content store), connections () -> the page's live connections, channelOf (connection) -> its
   * content channel (js/content/channel.js).
   */
  constructor({ core, store, connections, channelOf }) {
    this.core = core;
    this.store = store;
    this._connections = connections;
    this._channelOf = channelOf;
    this._banned = new Set(); // key ids of peers that sent a site's bytes that did not verify
    this._silent = new Map(); // key id -> until when it is not asked (it let a request time out)
    this._running = new Map(); // root -> Promise of fetchFile's result
    this._active = 0;
    this._queue = [];
  }

  /** Live connections to peers not blamed: what fetchFile() can ask. */
  sourceCount() {
    let n = 0;
    for (const c of this._connections()) if (this._usable(c)) n++;
    return n;
  }

  _usable(connection) {
    const keyId = connection.remote?.keyId ?? null;
    return !connection.closed && typeof connection.writeContent === 'function' && !this._banned.has(keyId)
      && !((this._silent.get(keyId) ?? 0) > Date.now());
  }

  /**
   * Fetches listed file `file` of site share `id` (its root, size, and the store key of its pieces) from the live
   * connections. Resolves to { ok: true, from: { keyId: bytes } } once every piece and the tree are stored, or
   * { ok: false, code, message } (NOT_FOUND: no peer had it all; CANCELLED: `signal` aborted). onPiece() after each
   * verified piece. Never rejects.
   */
  fetchFile(want, { onPiece = () => {}, signal } = {}) {
    let running = this._running.get(want.root);
    if (!running) {
      running = this._turn(() => this._fetch(want, onPiece, signal), onPiece)
        .catch((error) => ({ ok: false, code: error?.code ?? 'INTERNAL', message: String(error?.message ?? error) }))
        .finally(() => this._running.delete(want.root));
      this._running.set(want.root, running);
    }
    return running;
  }

  async _turn(fn, waiting) {
    if (this._active >= MAX_FILES) {
      const alive = setInterval(waiting, WAITING_MS);
      await new Promise((resolve) => this._queue.push(resolve));
      clearInterval(alive);
    }
    this._active++;
    try {
      return await fn();
    } finally {
      this._active--;
      this._queue.shift()?.();
    }
  }

  async _fetch({ id, file, root, size, key }, onPiece, signal) {
    const b64 = (b) => this.core.base64urlEncode(b);
    const share = this.core.base64urlDecode(id);
    const rootBytes = this.core.base64urlDecode(root);
    if (rootBytes.length !== 32 || share.length !== 32 || !Number.isSafeInteger(size) || size < 0) {
      throw new PushPeerError('BAD_ARGUMENT', 'a listed file: id, root, size');
    }
    const total = pieceCount(size, this.core);
    const leaves = leafCount(size, this.core);
    // Pieces stored before by an earlier try are not asked again (those with their leaf hashes: the tree needs them).
    const have = new Map([...await this.store.pieceLeaves(key)].filter(([, hashes]) => hashes));
    const queue = [];
    for (let piece = 0; piece < total; piece++) if (!have.has(piece)) queue.push(piece);
    const sources = [...this._connections()].filter((c) => this._usable(c))
      .map((connection) => ({ connection, channel: this._channelOf(connection), keyId: connection.remote?.keyId ?? null,
        inflight: 0, until: 0, busy: 0, bytes: 0, requests: new Set() }));
    const from = {};
    let inflight = 0;
    let lastError = null;
    // Pieces verified while a write runs go together in the next one (IndexedDB runs one write transaction at a
    // time: one per piece is what bounded a download's rate, js/content/download.js).
    const writes = [];
    let writing = null;
    const flush = async () => {
      while (writes.length > 0) {
        const batch = writes.splice(0);
        try {
          await this.store.putPieces(batch.map((w) => w.piece));
          for (const w of batch) w.resolve();
        } catch (error) {
          for (const w of batch) w.reject(error);
        }
      }
      writing = null;
    };
    const write = (piece) => new Promise((resolve, reject) => {
      writes.push({ piece, resolve, reject });
      writing ??= flush();
    });

    await new Promise((resolve, reject) => {
      let ended = false;
      // The worker's deadline, kept here too: a worker that restarted sends no site-cancel.
      const deadline = setTimeout(() => end(new PushPeerError('TIMEOUT', 'the file took longer than the worker waits')),
        CLAIM_MS + STALL_MS + (size / MIN_RATE) * 1000);
      const end = (error) => {
        if (ended) return;
        ended = true;
        clearTimeout(deadline);
        for (const s of sources) for (const request of s.requests) s.channel.cancel(request);
        if (error) reject(error);
        else resolve();
      };
      signal?.addEventListener('abort', () => end(new PushPeerError('CANCELLED', 'the worker no longer wants it')), { once: true });
      if (signal?.aborted) end(new PushPeerError('CANCELLED', 'the worker no longer wants it'));

      const drop = (source) => {
        const at = sources.indexOf(source);
        if (at >= 0) sources.splice(at, 1);
      };
      const check = () => {
        if (ended) return;
        if (have.size === total) end();
        else if (inflight === 0 && queue.length > 0 && sources.length === 0) {
          end(lastError ?? new PushPeerError('NOT_FOUND', 'no connected peer has this file'));
        } else pump();
      };
      const answered = async (source, piece, first, count, answer) => {
        if (answer.frame.type === 'error') {
          queue.unshift(piece);
          if (answer.frame.code === 'busy' && ++source.busy < MAX_BUSY) {
            source.until = Date.now() + BUSY_MS;
            setTimeout(check, BUSY_MS);
          } else {
            drop(source); // it does not have the file (yet): not asked again for it
          }
          return;
        }
        let opened;
        try {
          opened = this.core.openContentData({ frame: answer.bytes, root: rootBytes, size, file, first, count });
        } catch (error) {
          // Bytes that do not lead to the listed root: this peer is done with, for every file.
          lastError = error;
          queue.unshift(piece);
          drop(source);
          if (source.keyId !== null) this._banned.add(source.keyId);
          source.connection.close(`content: ${error.code ?? 'bad data'}`);
          return;
        }
        if (ended) return; // given up (the worker's deadline, or cancelled): nothing more is written for it
        const length = opened.data.length; // (the store takes the bytes: js/content/content-store.js putPieces)
        await write({ file: key, index: piece, bytes: opened.data, leaves: opened.leaves, proof: opened.proof });
        have.set(piece, opened.leaves);
        source.busy = 0;
        source.bytes += length;
        if (source.keyId !== null) from[source.keyId] = (from[source.keyId] ?? 0) + length;
        onPiece(piece);
      };
      const ask = (source, piece) => {
        const first = piece * PIECE_LEAVES;
        const count = Math.min(PIECE_LEAVES, leaves - first);
        const request = source.channel.nextRequest();
        source.requests.add(request);
        source.inflight++;
        inflight++;
        source.channel.request(request, this.core.encodeContentFrame({ type: 'get', request, share, file, first, count }),
          { timeoutMs: REQUEST_TIMEOUT_MS })
          .then((answer) => answered(source, piece, first, count, answer), (error) => {
            // Gone or too slow: the piece goes to another peer; a silent one is left alone a while.
            lastError = error;
            if (error?.code === 'TIMEOUT' && source.keyId !== null) this._silent.set(source.keyId, Date.now() + SILENT_MS);
            queue.unshift(piece);
            drop(source);
          })
          .catch((error) => end(error)) // storing failed (QUOTA_EXCEEDED): the worker goes to the origin
          .finally(() => {
            source.requests.delete(request);
            source.inflight--;
            inflight--;
            check();
          });
      };
      const pump = () => {
        const now = Date.now();
        while (!ended && inflight < WINDOW && queue.length > 0) {
          let best = null;
          for (const s of sources) {
            if (s.inflight >= PER_PEER || s.until > now) continue;
            if (!best || s.inflight < best.inflight) best = s;
          }
          if (!best) return;
          ask(best, queue.shift());
        }
      };
      check();
    });

    // Every piece is here and verified: the tree from their leaf hashes (checked against the root once more).
    const all = new Uint8Array(32 * leaves);
    for (const [index, hashes] of have) all.set(hashes, 32 * PIECE_LEAVES * index);
    const tree = this.core.contentTreeFromLeaves({ size, leaves: all, root: rootBytes });
    await this.store.putTree({ root: b64(rootBytes), size, nodes: tree.nodes });
    return { ok: true, from };
  }
}

/**
 * The page's end of the worker's requests (js/site/page-requests.js): it says how many peers it can fetch from
 * (announce(), on every connection change; and always when the worker asks), and fetches what the worker wants of
 * it. post(message): to the worker.
 */
export class SiteRequestAnswers {
  constructor({ fetcher, post }) {
    this._fetcher = fetcher;
    this._post = post;
    this.page = crypto.randomUUID();
    this._said = 0;
    this._taken = new Map(); // request -> AbortController
  }

  /** Tells the worker how many peers this page can fetch from, when that changed (or `force`). 0 when it goes. */
  announce({ peers = this._fetcher.sourceCount(), force = false } = {}) {
    if (peers === this._said && !force) return;
    this._said = peers;
    this._post({ pushpeer: 'site-sources', page: this.page, peers });
  }

  /** A message on the pages' channel. */
  receive(message) {
    if (message?.pushpeer === 'site-who') this.announce({ force: true });
    else if (message?.pushpeer === 'site-cancel') this._taken.get(message.request)?.abort();
    else if (message?.pushpeer === 'site-want' && message.page === this.page) void this._take(message);
  }

  async _take({ request, id, file, root, size, key }) {
    if (typeof request !== 'string' || this._taken.has(request)) return;
    const abort = new AbortController();
    this._taken.set(request, abort);
    this._post({ pushpeer: 'site-taking', request });
    const result = await this._fetcher.fetchFile({ id, file, root, size, key }, { signal: abort.signal,
      onPiece: () => this._post({ pushpeer: 'site-progress', request }) });
    this._taken.delete(request);
    this._post({ pushpeer: 'site-done', request, ...result });
  }
}
