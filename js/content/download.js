// A download of a share (docs/API.md, "Share by link"): the manifest, checked against the link's id and its
// signature, then every piece of every file, each checked against its file's root before it is stored or handed
// out. Pieces already stored (a download before a reload) are not asked again.
import { PushPeerError } from '../errors.js';
import { PIECE_LEAVES } from './content-store.js';
import { safeType } from './serve-file.js';

/** Requests in flight per download (16 pieces of 128 KiB: 2 MiB on the way; bench/RESULTS.md, "Share by link"). */
const WINDOW = 16;
const BUSY_RETRY_MS = 500;
// A download fails (TIMEOUT) after this long without a new piece while its sharer answers busy or nothing.
const STALL_MS = 30_000;
const MAX_PRIORITY = 16;
const RATE_WINDOW_MS = 2000;
// Codes that blame the peer that sent the bytes: it is dropped.
const BLAME = new Set(['CHUNK_MISMATCH', 'BAD_PROOF', 'BAD_FRAME', 'BAD_MANIFEST', 'UNSUPPORTED_VERSION']);

const event = (type, fields) => Object.assign(new Event(type), fields);

/**
 * Events: 'manifest' ({ manifest }), 'progress' ({ bytes, totalBytes, pieces, totalPieces, rate, peers }),
 * 'verified' ({ file, piece, first, count, bytes }), 'error' ({ error }), 'done'. `done` is also a promise.
 */
export class Download extends EventTarget {
  constructor({ core, store, link, connectTo, seed, urlFor = () => null, reconnects = 2, window = WINDOW,
    stallMs = STALL_MS }) {
    super();
    this._stallMs = stallMs;
    this._urlFor = urlFor;
    this.core = core;
    this._store = store;
    this._connectTo = connectTo;
    this._seed = seed;
    this._reconnects = reconnects;
    this._window = window;
    const { id, card } = parseShareLink(link, core);
    this._link = link;
    /** Bytes per piece (the last piece of a file may be shorter): what 'verified' and pieces() count in. */
    this.pieceSize = PIECE_LEAVES * core.limits.content.leafSize;
    this.id = core.base64urlEncode(id);
    this._idBytes = id;
    this._card = card;
    /** 'connecting' | 'downloading' | 'paused' | 'done' | 'failed' | 'cancelled' */
    this.state = 'connecting';
    this.manifest = null;
    this.error = null;
    this._have = []; // per file: Set of stored piece indexes
    this._waiters = new Map(); // `${file}:${piece}` -> [resolve]
    this._inFlight = new Map(); // request id -> { channel, file, piece }
    this._asked = new Set(); // `${file}:${piece}` asked and not answered yet
    this._bytes = 0;
    this._samples = [];
    this._paused = false;
    this.done = new Promise((resolve, reject) => {
      this._finish = { resolve, reject };
    });
    this.done.catch(() => {});
    void this._run();
  }

  /** { bytes, totalBytes, pieces, totalPieces, rate (bytes/s over the last 2 s), peers } */
  progress() {
    const files = this.manifest?.files ?? [];
    const totalBytes = files.reduce((n, f) => n + f.size, 0);
    const totalPieces = files.reduce((n, f) => n + pieceCount(f.size, this.core), 0);
    const pieces = this._have.reduce((n, s) => n + s.size, 0);
    const now = Date.now();
    this._samples = this._samples.filter((s) => now - s.at <= RATE_WINDOW_MS);
    const recent = this._samples.reduce((n, s) => n + s.bytes, 0);
    const span = this._samples.length > 0 ? Math.max(250, now - this._samples[0].at) : RATE_WINDOW_MS;
    return { bytes: this._bytes, totalBytes, pieces, totalPieces, rate: Math.round((recent * 1000) / span),
      peers: this._channel && !this._channel.connection.closed ? 1 : 0 };
  }

  /** The pieces of file `file` verified and stored so far (indexes, ascending): a map of what arrived. */
  pieces(file = 0) {
    return [...(this._have[file] ?? [])].sort((a, b) => a - b);
  }

  /** Asks for piece `piece` of file `file` next (a player waits for it: serve-file.js), if it is still to come. */
  prioritize(file, piece) {
    if (!this._again || !this.manifest?.files[file] || !Number.isInteger(piece) || piece < 0 ||
        piece >= pieceCount(this.manifest.files[file].size, this.core) || this._have[file].has(piece)) return;
    // Bounded: a player waits for a few pieces at a time.
    if (this._again.length >= MAX_PRIORITY) this._again.pop();
    this._again.unshift({ file, piece });
    this._wake?.();
  }

  /** Stops asking for more (what is on the way still arrives and is kept). */
  pause() {
    if (this.state !== 'downloading' && this.state !== 'connecting') return;
    this._paused = true;
    if (this.state === 'downloading') this.state = 'paused';
  }

  resume() {
    if (!this._paused) return;
    this._paused = false;
    if (this.state === 'paused') this.state = 'downloading';
    this._wake?.();
  }

  /** Stops, forgets what was stored, and fails `done` and every stream with CANCELLED. */
  async cancel() {
    if (this.state === 'done' || this.state === 'failed' || this.state === 'cancelled') return;
    this._fail(new PushPeerError('CANCELLED', 'the download was cancelled'), 'cancelled');
    for (const [request, { channel }] of this._inFlight) channel.cancel(request);
    // A write under way finishes first (later ones are dropped: _flush), so nothing lands after the deletion.
    await this._flushing;
    const share = await this._store.getShare(this.id);
    if (share && !share.complete) {
      await this._store.deleteShare(this.id);
      const others = await this._store.shares();
      for (const f of share.files) {
        // Pieces are kept by file root: another share of the same file keeps them.
        if (!others.some((s) => s.files.some((g) => g.key === f.key))) {
          await this._store.deletePieces(f.key);
        }
      }
    }
  }

  /** The file's bytes in order, each piece as soon as it is verified. */
  stream(file = 0) {
    let piece = 0;
    return new ReadableStream({
      pull: async (controller) => {
        await this._manifestKnown();
        const f = this._fileAt(file);
        if (piece >= pieceCount(f.size, this.core)) {
          controller.close();
          return;
        }
        await this._pieceStored(file, piece);
        const bytes = await this._store.pieceBytes(f.key, piece);
        if (!bytes) throw new PushPeerError('NOT_FOUND', `piece ${piece} of file ${file} is no longer stored`);
        piece++;
        if (bytes.length > 0) controller.enqueue(bytes);
        if (piece >= pieceCount(f.size, this.core)) controller.close();
      },
    }, { highWaterMark: 0 });
  }

  /**
   * A URL for file `file` that our service worker answers from the verified pieces as they arrive, with range
   * requests (null without a worker): `video.src = dl.url(0)` plays while it downloads.
   */
  url(file = 0) {
    return this._urlFor(file);
  }

  /** The whole file as a Blob, once every piece of it is verified. */
  async blob(file = 0) {
    await this._manifestKnown();
    const f = this._fileAt(file);
    const parts = [];
    for (let p = 0; p < pieceCount(f.size, this.core); p++) {
      await this._pieceStored(file, p);
      const part = await this._store.piecePart(f.key, p);
      if (!part) throw new PushPeerError('NOT_FOUND', `piece ${p} of file ${file} is no longer stored`);
      parts.push(part);
    }
    // The sharer's type only when it cannot run in our origin (a blob: URL opened as a page would): serve-file.js.
    return new Blob(parts, { type: safeType(f.type) ?? '' });
  }

  _fileAt(file) {
    const f = this.manifest.files[file];
    if (!Number.isInteger(file) || !f) throw new PushPeerError('BAD_ARGUMENT', `no file ${file} in this share`);
    return f;
  }

  _manifestKnown() {
    if (this.manifest) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.addEventListener('manifest', () => resolve(), { once: true });
      this.done.catch(reject);
    });
  }

  _pieceStored(file, piece) {
    if (this._have[file]?.has(piece)) return Promise.resolve();
    if (this.error) return Promise.reject(this.error);
    return new Promise((resolve, reject) => {
      const key = `${file}:${piece}`;
      if (!this._waiters.has(key)) this._waiters.set(key, []);
      this._waiters.get(key).push(resolve);
      this.done.catch(reject);
    });
  }

  async _run() {
    try {
      let share = await this._store.getShare(this.id);
      if (!share) {
        await this._connect();
        share = await this._fetchManifest();
      }
      // What is stored already (a resume) is known before 'manifest' fires: pieces() maps it from the start.
      for (let i = 0; i < share.files.length; i++) {
        this._have[i] = new Set((await this._store.pieceLeaves(share.files[i].key)).keys());
      }
      if (!this.manifest) this._useManifest(share);
      this._announce();
      if (!share.complete) {
        await this._checkRoom();
        if (!this._channel) await this._connect();
        if (this.error) throw this.error;
        this.state = this._paused ? 'paused' : 'downloading';
        await this._fetchPieces();
        await this._complete();
      }
      if (this.error) throw this.error;
      this.state = 'done';
      this.dispatchEvent(event('done'));
      this._finish.resolve(this);
    } catch (error) {
      this._fail(error, 'failed');
    }
  }

  /**
   * QUOTA_EXCEEDED before anything is asked when the browser says the rest cannot fit (a manifest may announce up
   * to 64 TiB): storage running full midway fails the same way, with nothing half written.
   */
  async _checkRoom() {
    const estimate = await globalThis.navigator?.storage?.estimate?.().catch(() => null);
    if (!estimate?.quota) return;
    const pieceBytes = PIECE_LEAVES * this.core.limits.content.leafSize;
    const needed = this.manifest.files.reduce((n, f, i) => n + Math.max(0, f.size - this._have[i].size * pieceBytes), 0);
    const room = estimate.quota - (estimate.usage ?? 0);
    if (needed > room) {
      throw new PushPeerError('QUOTA_EXCEEDED', `the share needs ${needed} more bytes; this browser has room for ${room}`);
    }
  }

  _fail(error, state) {
    if (this.state === 'done' || this.state === 'failed' || this.state === 'cancelled') return;
    this.state = state;
    this.error = error;
    this._wake?.();
    if (state === 'failed') this.dispatchEvent(event('error', { error }));
    this._finish.reject(error);
  }

  async _connect() {
    this._channel = await this._connectTo(this._card);
    this._channel.connection.addEventListener('close', () => this._wake?.());
  }

  async _fetchManifest() {
    const request = this._channel.nextRequest();
    const { frame } = await this._channel.request(request,
      this.core.encodeContentFrame({ type: 'get-manifest', request, share: this._idBytes }));
    if (frame.type === 'error') throw this._refused(frame.code, 'the manifest');
    if (frame.type !== 'manifest') throw this._blame(new PushPeerError('BAD_FRAME', `a ${frame.type} frame answered get-manifest`));
    let opened;
    try {
      opened = this.core.openManifest(frame.manifest, { id: this._idBytes });
    } catch (error) {
      throw this._blame(error);
    }
    const share = {
      id: this.id, manifest: frame.manifest, title: opened.title, created: opened.created, complete: false,
      from: this.core.base64urlEncode(opened.sharerKeyId), link: this._link,
      files: opened.files.map((f) => {
        const root = this.core.base64urlEncode(f.root);
        return { name: f.name, size: f.size, type: f.type, root, key: root };
      }),
    };
    // Cancelled while the manifest was on its way: nothing of it is kept.
    if (this.error) throw this.error;
    await this._store.putShare(share);
    return share;
  }

  _useManifest(share) {
    this.manifest = { id: share.id, title: share.title, created: share.created, from: share.from, files: share.files };
    this.dispatchEvent(event('manifest', { manifest: this.manifest }));
  }

  /**
   * Asks for every missing piece, WINDOW at a time, in order (streaming wants the first ones first), with pieces a
   * player waits for (prioritize) and pieces to ask again first. The order is a cursor per file, not a list: a
   * manifest may announce up to 1024 files of 64 GiB, and what we keep for it must not grow with that.
   */
  async _fetchPieces() {
    this._cursor = { file: 0, piece: 0 };
    this._again = []; // pieces to ask first: a player waits for them, or they were not answered
    let reconnects = this._reconnects;
    const running = new Set();
    this._lastProgress = Date.now();
    while (!this.error) {
      if (this._blamed) throw this._blamed;
      if (this._channel.connection.closed) {
        // The sharer went away (a reload): call again and ask for what did not come.
        if (reconnects-- <= 0) throw new PushPeerError('NOT_CONNECTED', 'the sharer is gone');
        await Promise.allSettled(running);
        await this._connect();
        continue;
      }
      while (!this._paused && running.size < this._window) {
        const next = this._nextPiece();
        if (!next) break;
        this._asked.add(`${next.file}:${next.piece}`);
        const task = this._fetchPiece(next).catch((error) => {
          if (error?.code !== 'NOT_CONNECTED' && error?.code !== 'BUSY') throw error;
          this._again.push(next);
          // A sharer that keeps answering busy (or nothing) gets no more of our time than STALL_MS without progress.
          if (Date.now() - this._lastProgress > this._stallMs) {
            throw new PushPeerError('TIMEOUT', `no piece came for ${this._stallMs / 1000} s (the sharer is busy)`);
          }
        }).finally(() => {
          this._asked.delete(`${next.file}:${next.piece}`);
          running.delete(task);
        });
        running.add(task);
      }
      if (running.size === 0) {
        if (!this._paused && !this._nextPiece({ peek: true })) break;
        await new Promise((resolve) => { this._wake = resolve; });
        continue;
      }
      await Promise.race([...running, new Promise((resolve) => { this._wake = resolve; })]);
    }
    if (this.error) throw this.error;
  }

  /** The next piece to ask for (not stored, not asked): pieces to ask again first, then in order. */
  _nextPiece({ peek = false } = {}) {
    const free = (t) => !this._have[t.file].has(t.piece) && !this._asked.has(`${t.file}:${t.piece}`);
    while (this._again.length > 0) {
      if (free(this._again[0])) return peek ? this._again[0] : this._again.shift();
      this._again.shift();
    }
    const c = this._cursor;
    while (c.file < this.manifest.files.length) {
      const count = pieceCount(this.manifest.files[c.file].size, this.core);
      while (c.piece < count) {
        const t = { file: c.file, piece: c.piece };
        if (free(t)) {
          if (!peek) c.piece++;
          return t;
        }
        c.piece++;
      }
      c.file++;
      c.piece = 0;
    }
    return null;
  }

  async _fetchPiece({ file, piece }) {
    const f = this.manifest.files[file];
    const first = piece * PIECE_LEAVES;
    const count = Math.min(PIECE_LEAVES, leafCount(f.size, this.core) - first);
    const channel = this._channel;
    const request = channel.nextRequest();
    this._inFlight.set(request, { channel, file, piece });
    let answer;
    try {
      answer = await channel.request(request, this.core.encodeContentFrame({ type: 'get', request,
        share: this._idBytes, file, first, count }));
    } finally {
      this._inFlight.delete(request);
    }
    if (this.error) return;
    if (answer.frame.type === 'error') {
      if (answer.frame.code === 'busy') {
        await new Promise((resolve) => setTimeout(resolve, BUSY_RETRY_MS));
        throw new PushPeerError('BUSY', 'the sharer is busy');
      }
      throw this._refused(answer.frame.code, `piece ${piece} of file ${file}`);
    }
    let opened;
    try {
      opened = this.core.openContentData({ frame: answer.bytes, root: this.core.base64urlDecode(f.root), size: f.size,
        file, first, count });
    } catch (error) {
      throw this._blame(error);
    }
    await this._write({ file: f.key, index: piece, bytes: opened.data, leaves: opened.leaves });
    this._have[file].add(piece);
    this._lastProgress = Date.now();
    this._bytes += opened.data.length;
    this._samples.push({ at: Date.now(), bytes: opened.data.length });
    for (const resolve of this._waiters.get(`${file}:${piece}`) ?? []) resolve();
    this._waiters.delete(`${file}:${piece}`);
    this.dispatchEvent(event('verified', { file, piece, first, count, bytes: opened.data.length }));
    this._announce();
  }

  /**
   * Stores a verified piece; resolves once it is committed. Pieces verified while a write is under way go together
   * in the next transaction (group commit): IndexedDB runs one write transaction at a time, and one per piece was
   * what bounded the rate. A failed transaction fails every piece in it (none of them is stored).
   */
  _write(piece) {
    return new Promise((resolve, reject) => {
      (this._writeQueue ??= []).push({ piece, resolve, reject });
      if (!this._writing) this._flushing = this._flush();
    });
  }

  async _flush() {
    this._writing = true;
    while (this._writeQueue.length > 0) {
      const batch = this._writeQueue.splice(0);
      if (this.state === 'cancelled') {
        for (const w of batch) w.reject(this.error);
        continue;
      }
      try {
        await this._store.putPieces(batch.map((w) => w.piece));
        for (const w of batch) w.resolve();
      } catch (error) {
        for (const w of batch) w.reject(error);
      }
    }
    this._writing = false;
  }

  /** Every file complete: its tree from the stored leaf hashes, and the share is ours to seed. */
  async _complete() {
    if (this.state === 'cancelled') throw this.error;
    for (const f of this.manifest.files) {
      const leaves = await this._store.pieceLeaves(f.key);
      const all = new Uint8Array(32 * leafCount(f.size, this.core));
      for (const [index, hashes] of leaves) all.set(hashes, 32 * PIECE_LEAVES * index);
      const tree = this.core.contentTreeFromLeaves({ size: f.size, leaves: all, root: this.core.base64urlDecode(f.root) });
      await this._store.putTree({ root: f.root, size: f.size, nodes: tree.nodes });
    }
    const share = await this._store.getShare(this.id);
    if (!share || this.state === 'cancelled') throw this.error ?? new PushPeerError('CANCELLED', 'the share was removed');
    await this._store.putShare({ ...share, complete: true });
    this._seed?.(this.id);
  }

  _announce() {
    this.dispatchEvent(event('progress', this.progress()));
  }

  /** A peer that sent bytes that do not check is dropped: the error says why. */
  _blame(error) {
    // Recorded before the close: the close wakes the loop, which must not call the same peer again.
    this._blamed = error;
    this._channel?.connection.close(`content: ${error.code ?? 'bad data'}`);
    return error;
  }

  _refused(code, what) {
    if (code === 'not-found') return new PushPeerError('NOT_FOUND', `the sharer does not have ${what}`);
    return new PushPeerError('NOT_FOUND', `the sharer cannot serve ${what} (${code})`);
  }
}

const leafCount = (size, core) => Math.max(1, Math.ceil(size / core.limits.content.leafSize));
const pieceCount = (size, core) => Math.ceil(leafCount(size, core) / PIECE_LEAVES);

/** `…#share=<id>.<card>` (or just `<id>.<card>`): the 32-byte id and the card's bytes. BAD_ARGUMENT otherwise. */
export function parseShareLink(link, core) {
  const text = typeof link === 'string' ? (/[#&]share=([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)/.exec(link)?.[1] ?? link) : '';
  const m = /^([A-Za-z0-9_-]{43})\.([A-Za-z0-9_-]+)$/.exec(text);
  if (!m) throw new PushPeerError('BAD_ARGUMENT', 'not a share link (…#share=<id>.<card>)');
  return { id: core.base64urlDecode(m[1]), card: core.base64urlDecode(m[2]) };
}
