// A download of a share (docs/API.md, "Share by link"): the manifest, checked against the link's id and its
// signature, then every piece of every file, each checked against its file's root before it is stored or handed
// out. Pieces already stored (a download before a reload) are not asked again. Pieces come from every source at
// once (the link's sharer, and peers in the swarm: docs/PROTOCOL.md §9.5): which piece from whom is the swarm
// scheduler's choice; a source that sends bytes that do not verify is banned and dropped.
import { PushPeerError } from '../errors.js';
import { PieceScheduler } from '../swarm/scheduler.js';
import { emptyBitfield, hasBit, isFull, setBit } from './bitfield.js';
import { leafCount, PIECE_LEAVES, pieceCount } from './content-store.js';
import { safeType } from './serve-file.js';

/**
 * Requests in flight per download, all sources together (16 pieces of 128 KiB: 2 MiB on the way; bench/RESULTS.md,
 * "Share by link"); each source gets what its measured rate warrants (js/swarm/scheduler.js).
 */
const WINDOW = 16;
// Requests per source: what it sends in this long at its measured rate (docs/PROTOCOL.md §9.5). Half a second: a
// source slower than the others holds fewer pieces in its queue that a faster one could have sent.
const QUEUE_MS = 500;
// A source that answered busy is asked nothing for this long.
const BUSY_MS = 500;
// A download fails (TIMEOUT) after this long without a new piece while its sources answer busy or nothing.
const STALL_MS = 30_000;
// How often requests a source sits on are taken back (and the stall checked).
const TICK_MS = 1000;
const MAX_PRIORITY = 16;
// Sources fetched from at once (the link's sharer always among them): the maxPeers option.
const MAX_PEERS = 16;
// Sources gone that peers() still lists.
const MAX_GONE = 64;
const RATE_WINDOW_MS = 2000;
// Verified pieces are stored in groups: a write (an IndexedDB transaction, whatever it holds) costs Chromium 1-2 ms
// of CPU, as much as a piece's bytes cost the rest of the way (bench/RESULTS.md, "Share by link"). A group is
// written once it holds GROUP_PIECES, GATHER_MS after it began, or at once when it holds the first piece of this
// fetch, a piece a reader waits for, or nothing more is on its way.
const GROUP_PIECES = 16;
const GATHER_MS = 100;
// Verified pieces waiting to be written or being written (8 MiB): storage slower than the network stops the asking
// there, so that what waits in memory stays bounded.
const MAX_UNWRITTEN = 64;

const event = (type, fields) => Object.assign(new Event(type), fields);

/**
 * Events: 'manifest' ({ manifest }), 'progress' ({ bytes, totalBytes, pieces, totalPieces, rate, peers, sources:
 * peers() }), 'verified' ({ file, piece, first, count, bytes, from: the sender's key id }), 'error' ({ error }),
 * 'done'. `done` is also a promise.
 */
export class Download extends EventTarget {
  constructor({ core, store, link, connectTo, seed, urlFor = () => null, reconnects = 2, window = WINDOW,
    stallMs = STALL_MS, strategy = 'auto', maxPeers = MAX_PEERS, channelOf = null, onPiece = null, onLink = null }) {
    super();
    if (strategy !== 'auto' && strategy !== 'rarest' && strategy !== 'sequential') {
      throw new PushPeerError('BAD_ARGUMENT', "strategy: 'auto', 'rarest' or 'sequential'");
    }
    if (!(Number.isInteger(window) && window >= 1)) throw new PushPeerError('BAD_ARGUMENT', 'window: a whole number, at least 1');
    if (!(Number.isInteger(maxPeers) && maxPeers >= 1)) throw new PushPeerError('BAD_ARGUMENT', 'maxPeers: a whole number, at least 1');
    this._maxPeers = maxPeers;
    this._stallMs = stallMs;
    this._strategy = strategy;
    this._channelOf = channelOf;
    this._onPiece = onPiece;
    this._onLink = onLink; // (connection): the link's sharer is connected and the manifest known (the swarm joins)
    this._urlFor = urlFor;
    this.core = core;
    this._store = store;
    this._connectTo = connectTo;
    this._seed = seed;
    this._reconnectsLeft = reconnects;
    this._window = window;
    const { id, card } = parseShareLink(link, core);
    this._linkText = link;
    this._link = null; // the link's sharer as a source
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
    this._unwritten = 0; // verified pieces queued for or in a write (MAX_UNWRITTEN)
    this._sources = new Map(); // key -> { key, channel, keyId, name, link, subs, requests, pieces, bytes, blamed }
    this._sourceCount = 0;
    this._rotation = 0;
    this._banned = new Set(); // key ids of peers that sent bytes that did not verify
    this._active = new Map(); // file -> PieceScheduler, for the files being fetched
    this._priority = new Map(); // file -> pieces a player waits for, first first
    this._fetching = null;
    this._lastError = null;
    this._gone = []; // sources that went away, for peers()
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
      peers: this._sources.size };
  }

  /**
   * The sources fetched from since this download started: [{ keyId, name, pieces, bytes, rate (bytes/s, the last
   * seconds), inflight, link (the link's sharer), connected, banned (it sent bytes that did not verify) }], sources
   * gone included.
   */
  peers() {
    const now = Date.now();
    return [...this._everSources()].map((s) => {
      let rate = 0;
      let inflight = 0;
      for (const scheduler of this._active.values()) {
        const st = scheduler.stats(now).find((x) => x.id === s.key);
        if (st) {
          rate += st.rate;
          inflight += st.inflight;
        }
      }
      return { keyId: s.keyId, name: s.name, pieces: s.pieces, bytes: s.bytes, rate, inflight, link: s.link,
        connected: this._sources.has(s.key), banned: s.blamed !== null };
    });
  }

  *_everSources() {
    yield* this._gone;
    yield* this._sources.values();
  }

  /** The pieces of file `file` verified and stored so far (indexes, ascending): a map of what arrived. */
  pieces(file = 0) {
    return [...(this._have[file] ?? [])].sort((a, b) => a - b);
  }

  /** Asks for piece `piece` of file `file` next (a player waits for it: serve-file.js), if it is still to come. */
  prioritize(file, piece) {
    if (!this.manifest?.files[file] || !Number.isInteger(piece) || piece < 0 ||
        piece >= pieceCount(this.manifest.files[file].size, this.core) || this._have[file].has(piece)) return;
    // Bounded: a player waits for a few pieces at a time; the newest first.
    const list = [piece, ...(this._priority.get(file) ?? []).filter((p) => p !== piece && !this._have[file].has(p))];
    this._priority.set(file, list.slice(0, MAX_PRIORITY));
    if (!this._fetching || this._ended()) return;
    this._activate();
    this._active.get(file)?.prioritize(this._priority.get(file));
    this._pump();
  }

  /** Stops asking for more (what is on the way still arrives and is kept). */
  pause() {
    if (this.state !== 'downloading' && this.state !== 'connecting') return;
    this._paused = true;
    if (this.state === 'downloading') this.state = 'paused';
    this._tick?.unref?.();
    this._wake?.();
  }

  resume() {
    if (!this._paused) return;
    this._paused = false;
    if (this.state === 'paused') this.state = 'downloading';
    this._tick?.ref?.();
    this._lastProgress = Date.now(); // the time paused is no stall
    this._pump();
  }

  /** Stops, forgets what was stored, and fails `done` and every stream with CANCELLED. */
  async cancel() {
    if (this.state === 'done' || this.state === 'failed' || this.state === 'cancelled') return;
    this._fail(new PushPeerError('CANCELLED', 'the download was cancelled'), 'cancelled');
    this._stop();
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
        // What is read in order is fetched first (a player, or whoever reads the stream).
        this.prioritize(file, piece);
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
      this._wake?.(); // a piece waiting in a group to be written is written now
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
        if (!this._link) await this._connect();
        if (this.error) throw this.error;
        this._linked();
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
    } finally {
      this._stop();
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
    this._wake?.(); // a group being gathered is written (or, cancelled, dropped) now
    this._fetching?.reject(error);
    if (state === 'failed') this.dispatchEvent(event('error', { error }));
    this._finish.reject(error);
  }

  /** Calls the sharer named in the link (or takes the connection we hold to it): the first source. */
  async _connect() {
    const channel = await this._connectTo(this._card);
    this._link = this._addSource(channel, { link: true }) ?? this._link;
  }

  /** The link's sharer is (again) a source and the manifest is known: onLink (the swarm: js/swarm/introductions.js). */
  _linked() {
    const connection = this._link?.channel.connection;
    if (!connection || connection.closed || !this.manifest || this._ended()) return;
    try {
      this._onLink?.(connection);
    } catch {
      // the swarm is extra sources: the link's sharer alone still serves the download
    }
  }

  async _fetchManifest() {
    const channel = this._link.channel;
    const request = channel.nextRequest();
    const { frame } = await channel.request(request,
      this.core.encodeContentFrame({ type: 'get-manifest', request, share: this._idBytes }));
    if (frame.type === 'error') throw this._refused(frame.code, 'the manifest');
    if (frame.type !== 'manifest') throw this._blame(this._link, new PushPeerError('BAD_FRAME', `a ${frame.type} frame answered get-manifest`));
    let opened;
    try {
      opened = this.core.openManifest(frame.manifest, { id: this._idBytes });
    } catch (error) {
      throw this._blame(this._link, error);
    }
    const share = {
      id: this.id, manifest: frame.manifest, title: opened.title, created: opened.created, complete: false,
      from: this.core.base64urlEncode(opened.sharerKeyId), link: this._linkText,
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

  // --- many sources (docs/PROTOCOL.md §9.5) ---------------------------------------------------------------------

  /**
   * A peer to fetch from, over its content channel (the link's sharer, a peer given to addSource(), or one that
   * asked us for this share's pieces: it is in the swarm too). Returns the source, or null: banned, gone, or
   * already a source.
   */
  _addSource(channel, { link = false } = {}) {
    const connection = channel.connection;
    if (connection.closed || this._ended()) return null;
    const keyId = connection.remote?.keyId ?? null;
    if (keyId !== null && this._banned.has(keyId)) return null;
    for (const s of this._sources.values()) if (s.channel === channel) return s;
    // Full: one more would only split the same window thinner (the link's sharer is taken whatever the count).
    if (!link && this._sources.size >= this._maxPeers) return null;
    const source = { key: `s${++this._sourceCount}`, channel, keyId, name: connection.remote?.name ?? '', link,
      subs: new Map(), requests: new Map(), pieces: 0, bytes: 0, blamed: null };
    this._sources.set(source.key, source);
    const onClose = () => this._removeSource(source);
    connection.addEventListener('close', onClose, { once: true });
    source.detach = () => connection.removeEventListener('close', onClose);
    for (const file of this._active.keys()) this._subscribe(source, file);
    return source;
  }

  /**
   * Fetches from this peer too (a Connection, or its content channel): it is sent this share's id, so it learns
   * that we fetch this share (docs/API.md, "Many sources"). False when it cannot be a source (closed, banned, the
   * download ended, maxPeers sources already); true when it is one.
   */
  addSource(connection) {
    const channel = typeof connection?.subscribe === 'function' ? connection : this._channelOf?.(connection);
    if (!channel) throw new PushPeerError('BAD_ARGUMENT', 'addSource(): a Connection');
    return this._addSource(channel) !== null;
  }

  /** Whether piece `piece` of file `file` is verified and stored here. */
  has(file, piece) {
    return this._have[file]?.has(piece) ?? false;
  }

  /** The pieces of file `file` stored here as a have bitfield (docs/PROTOCOL.md §9.4); null before the manifest. */
  bitfield(file) {
    if (!this.manifest || !this._have[file]) return null;
    const bits = emptyBitfield(pieceCount(this.manifest.files[file].size, this.core));
    for (const piece of this._have[file]) setBit(bits, piece);
    return bits;
  }

  _removeSource(source) {
    if (!this._sources.delete(source.key)) return;
    this._gone.push(source);
    if (this._gone.length > MAX_GONE) this._gone.shift();
    source.detach();
    for (const unsubscribe of source.subs.values()) unsubscribe();
    source.subs.clear();
    for (const [request, { file, piece }] of source.requests) {
      source.channel.cancel(request);
      this._active.get(file)?.failed(source.key, piece);
    }
    source.requests.clear();
    for (const scheduler of this._active.values()) scheduler.removePeer(source.key);
    if (source.link && !source.blamed && !source.lacks && this._fetching && !this._ended()) void this._reconnect();
    this._checkSources();
    this._pump();
  }

  /** The sharer went away (a reload): call it again, `reconnects` times in all. */
  async _reconnect() {
    if (this._reconnecting || this._reconnectsLeft <= 0 || this._allStored()) return;
    this._reconnectsLeft--;
    this._reconnecting = true;
    try {
      await this._connect();
      this._linked();
    } catch (error) {
      this._lastError = error;
    } finally {
      this._reconnecting = false;
    }
    this._checkSources();
    this._pump();
  }

  /**
   * No source left and none coming: the download fails with what went wrong last, once the pieces verified before
   * have been written (they are stored, so they count: a source dropped for a lie right after them cannot undo them).
   */
  _checkSources() {
    if (this._ended() || !this._fetching || this._reconnecting || this._sources.size > 0) return;
    if (this._writing) {
      this._wake?.();
      this._settling ??= this._flushing.then(() => {
        this._settling = null;
        this._checkSources();
      });
      return;
    }
    this._fail(this._lastError ?? new PushPeerError('NOT_CONNECTED', 'the sharer is gone'), 'failed');
  }

  _ended() {
    return this.state === 'done' || this.state === 'failed' || this.state === 'cancelled';
  }

  /** Every piece of every file is stored. */
  _allStored() {
    return this.manifest !== null && this.manifest.files.every((f, i) => this._have[i].size === pieceCount(f.size, this.core));
  }

  /** Asks the source which pieces of `file` it holds, and to be told of new ones. */
  _subscribe(source, file) {
    const channel = source.channel;
    const request = channel.nextRequest();
    let known = false;
    const unsubscribe = channel.subscribe(request, this.core.encodeContentFrame({ type: 'get-have', request,
      share: this._idBytes, file }), {
      onHave: (frame) => {
        const scheduler = this._active.get(file);
        if (!scheduler || frame.file !== file || !this._sources.has(source.key)) return;
        const pieces = scheduler.pieces;
        let wake = false;
        if (!known) {
          known = true;
          const whole = frame.first === 0 && frame.count === pieces;
          // A bitfield naming every piece: a seeder (no bitfield kept for it).
          if (!scheduler.addPeer(source.key, whole && isFull(frame.bits, pieces) ? null : emptyBitfield(pieces))) return;
          wake = true;
          if (whole && isFull(frame.bits, pieces)) {
            this._pump();
            return;
          }
        }
        for (let i = 0; i < frame.count && frame.first + i < pieces; i++) {
          if (hasBit(frame.bits, i) && scheduler.peerHas(source.key, frame.first + i)) wake = true;
        }
        if (wake) this._pump();
      },
      onEnd: (error) => {
        source.subs.delete(file);
        // It does not have this share (any more): it is of no use, and not called again.
        if (error?.code === 'NOT_FOUND' && !known && this._sources.has(source.key)) {
          source.lacks = true;
          this._lastError = error;
          this._removeSource(source);
        }
      },
    });
    source.subs.set(file, unsubscribe);
  }

  /**
   * The files being fetched: the first one not complete, and those with pieces a player waits for. A scheduler
   * (js/swarm/scheduler.js) for each, made when the file starts and dropped when it is complete, so that what we
   * hold follows what is being fetched (a manifest may list 1024 files of 64 GiB).
   */
  _activate() {
    for (const [file, scheduler] of this._active) {
      if (!scheduler.complete) continue;
      this._active.delete(file);
      for (const source of this._sources.values()) {
        source.subs.get(file)?.();
        source.subs.delete(file);
      }
    }
    const wanted = new Set(this._priority.keys());
    const next = this.manifest.files.findIndex((f, i) => this._have[i].size < pieceCount(f.size, this.core));
    if (next >= 0) wanted.add(next);
    for (const file of wanted) {
      if (this._active.has(file)) continue;
      const pieces = pieceCount(this.manifest.files[file].size, this.core);
      if (this._have[file].size >= pieces) continue;
      const have = emptyBitfield(pieces);
      for (const piece of this._have[file]) setBit(have, piece);
      const w = this._window;
      const scheduler = new PieceScheduler({ pieces, pieceBytes: this.pieceSize, have, strategy: this._strategyNow(),
        maxInflight: w, maxDepth: Math.min(32, w), minDepth: Math.min(2, w), initialDepth: Math.min(4, w), queueMs: QUEUE_MS });
      scheduler.prioritize(this._priority.get(file) ?? []);
      this._active.set(file, scheduler);
      for (const source of this._sources.values()) this._subscribe(source, file);
    }
  }

  /**
   * Asks for every missing piece of every file, from every source that has it, as the scheduler chooses. Resolves
   * when all are stored; rejects with the download's error.
   */
  _fetchPieces() {
    const fetched = new Promise((resolve, reject) => {
      this._fetching = { resolve, reject };
    });
    this._lastProgress = Date.now();
    this._tick = setInterval(() => this._onTick(), TICK_MS);
    // In Node, a running download keeps the process alive (its tick retries busy sources and ends a stall); one left
    // paused does not.
    if (this._paused) this._tick.unref?.();
    this._activate();
    if (this._active.size === 0) this._fetching.resolve();
    this._checkSources();
    this._pump();
    return fetched;
  }

  _onTick() {
    if (this._ended()) return;
    const now = Date.now();
    for (const [file, scheduler] of this._active) {
      for (const { peer, piece } of scheduler.expire(now)) this._forget(this._sources.get(peer), file, piece);
    }
    // A sharer that keeps answering busy (or nothing) gets no more of our time than stallMs without progress.
    if (!this._paused && now - this._lastProgress > this._stallMs) {
      this._fail(new PushPeerError('TIMEOUT', `no piece came for ${this._stallMs / 1000} s (the peers are busy or silent)`), 'failed');
      return;
    }
    this._pump();
  }

  /** A request taken back (expired, or answered by another peer first): cancelled at its peer. */
  _forget(source, file, piece) {
    if (!source) return;
    for (const [request, r] of source.requests) {
      if (r.file !== file || r.piece !== piece) continue;
      source.requests.delete(request);
      source.channel.cancel(request);
    }
  }

  /**
   * 'auto': in order while there is one source (nothing to trade, and a player gets its bytes in order), rarest
   * first once there are several (so that downloaders hold different pieces to trade).
   */
  _strategyNow() {
    if (this._strategy !== 'auto') return this._strategy;
    return this._sources.size > 1 ? 'rarest' : 'sequential';
  }

  /** Fills every source's free request slots. */
  _pump() {
    if (this._pumping || this._paused || this._ended() || !this._fetching) return;
    if (this._unwritten >= MAX_UNWRITTEN) return; // (the writes call it again)
    this._pumping = true;
    try {
      const now = Date.now();
      const strategy = this._strategyNow();
      for (const scheduler of this._active.values()) scheduler.strategy = strategy;
      // Priority files first (a player waits), then in order; sources from a rotating start, so that the first one
      // does not always take the scarce pieces.
      const files = [...this._active.keys()].sort((a, b) => (this._priority.has(b) - this._priority.has(a)) || a - b);
      const sources = [...this._sources.values()];
      const start = sources.length > 0 ? this._rotation++ % sources.length : 0;
      for (const file of files) {
        const scheduler = this._active.get(file);
        for (let k = 0; k < sources.length; k++) {
          const source = sources[(start + k) % sources.length];
          for (let piece = scheduler.next(source.key, now); piece !== null; piece = scheduler.next(source.key, now)) {
            this._ask(source, file, piece);
          }
        }
      }
    } finally {
      this._pumping = false;
    }
  }

  _ask(source, file, piece) {
    const f = this.manifest.files[file];
    const first = piece * PIECE_LEAVES;
    const count = Math.min(PIECE_LEAVES, leafCount(f.size, this.core) - first);
    const channel = source.channel;
    const request = channel.nextRequest();
    source.requests.set(request, { file, piece });
    channel.request(request, this.core.encodeContentFrame({ type: 'get', request, share: this._idBytes, file, first, count }))
      .then((answer) => this._answered(source, request, { file, piece, first, count }, answer),
        (error) => this._unanswered(source, request, file, piece, error))
      .catch((error) => this._fail(error, 'failed'));
  }

  _unanswered(source, request, file, piece, error) {
    // Taken back already (cancelled by us, or the source is gone): the scheduler knows.
    if (!source.requests.delete(request)) return;
    this._active.get(file)?.failed(source.key, piece);
    if (error?.code !== 'NOT_CONNECTED') this._lastError = error;
    this._pump();
  }

  async _answered(source, request, { file, piece, first, count }, answer) {
    source.requests.delete(request);
    if (this._ended()) return;
    const scheduler = this._active.get(file);
    if (answer.frame.type === 'error' && answer.frame.code === 'busy') {
      // Its queue is full: the piece goes to another source at once, and this one is left alone a while.
      scheduler?.failed(source.key, piece, { busyMs: BUSY_MS, now: Date.now() });
      // (Not unref'd: a download waiting out busy sources is running, and in Node it must keep the process alive
      // until it goes on or stalls out; only a paused one does not.)
      setTimeout(() => this._pump(), BUSY_MS);
      this._pump();
      return;
    }
    if (answer.frame.type === 'error') {
      // It announced a piece it cannot serve (gone, or its storage fails it): of no use, dropped (not banned).
      source.lacks = true;
      this._lastError = this._refused(answer.frame.code, `piece ${piece} of file ${file}`);
      this._removeSource(source);
      return;
    }
    const f = this.manifest.files[file];
    let opened;
    try {
      opened = this.core.openContentData({ frame: answer.bytes, root: this.core.base64urlDecode(f.root), size: f.size,
        file, first, count });
    } catch (error) {
      this._blame(source, error, { file, piece });
      return;
    }
    const now = Date.now();
    const length = opened.data.length; // (the store takes the bytes: js/content/content-store.js putPieces)
    this._lastProgress = now;
    source.pieces++;
    source.bytes += length;
    if (this._have[file].has(piece)) {
      scheduler?.received(source.key, piece, length, now); // an endgame copy
      return;
    }
    const { cancel } = scheduler?.received(source.key, piece, length, now) ?? { cancel: [] };
    for (const key of cancel) this._forget(this._sources.get(key), file, piece);
    this._pump();
    await this._write({ file: f.key, index: piece, bytes: opened.data, leaves: opened.leaves, proof: opened.proof }, file);
    if (this._ended()) return;
    this._have[file].add(piece);
    this._bytes += length;
    this._samples.push({ at: now, bytes: length });
    for (const resolve of this._waiters.get(`${file}:${piece}`) ?? []) resolve();
    this._waiters.delete(`${file}:${piece}`);
    this._onPiece?.(file, piece);
    this.dispatchEvent(event('verified', { file, piece, first, count, bytes: length, from: source.keyId }));
    this._announce();
    if (this._have[file].size === pieceCount(f.size, this.core)) {
      this._activate();
      if (this._allStored()) {
        this._fetching.resolve();
        return;
      }
    }
    this._pump();
  }

  /** Stops the loop: requests cancelled, bitfields unsubscribed, sources let go. */
  _stop() {
    clearInterval(this._tick);
    for (const source of [...this._sources.values()]) {
      for (const request of source.requests.keys()) source.channel.cancel(request);
      source.requests.clear();
      for (const unsubscribe of source.subs.values()) unsubscribe();
      source.subs.clear();
      source.detach();
      this._gone.push(source);
    }
    this._sources.clear();
    this._active.clear();
  }

  /**
   * Stores a verified piece (of file number `file`); resolves once it is committed. Pieces go in groups (one
   * transaction: GROUP_PIECES); a failed write fails every piece in it (none of them is stored).
   */
  _write(piece, file) {
    return new Promise((resolve, reject) => {
      (this._writeQueue ??= []).push({ piece, file, resolve, reject });
      this._unwritten++;
      if (!this._writing) this._flushing = this._flush();
      else this._wake?.();
    });
  }

  async _flush() {
    this._writing = true;
    while (this._writeQueue.length > 0) {
      await this._gather();
      const batch = this._writeQueue.splice(0);
      if (this.state === 'cancelled') {
        this._unwritten -= batch.length;
        for (const w of batch) w.reject(this.error);
        continue;
      }
      try {
        await this._store.putPieces(batch.map((w) => w.piece));
        this._wroteOnce = true;
        for (const w of batch) w.resolve();
      } catch (error) {
        for (const w of batch) w.reject(error);
      }
      this._unwritten -= batch.length;
      this._pump();
    }
    this._writing = false;
  }

  /** Waits until the queued pieces are to be written (GROUP_PIECES): at most GATHER_MS. */
  async _gather() {
    const until = Date.now() + GATHER_MS;
    while (!this._writeNow() && Date.now() < until) {
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, until - Date.now());
        this._wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this._wake = null;
    }
  }

  _writeNow() {
    const queue = this._writeQueue;
    if (!this._wroteOnce || queue.length >= GROUP_PIECES || this._ended() || this._paused) return true;
    if (queue.some((w) => this._waiters.has(`${w.file}:${w.piece.index}`))) return true;
    for (const source of this._sources.values()) if (source.requests.size > 0) return false;
    return true; // nothing more is on its way
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
    // With the per-peer figures (who sent what, at what rate): a download view can draw each source.
    this.dispatchEvent(event('progress', { ...this.progress(), sources: this.peers() }));
  }

  /**
   * A source that sent bytes that do not check is banned for this share (never asked again, whichever connection
   * it comes back on) and its connection closed: the error says why. Its requests go to the other sources.
   */
  _blame(source, error, { file, piece } = {}) {
    if (!source) return error;
    // Recorded before the close: the source is not called again (_removeSource).
    source.blamed = error;
    this._lastError = error;
    if (source.keyId !== null) this._banned.add(source.keyId);
    if (file !== undefined) this._active.get(file)?.failed(source.key, piece, { blame: true });
    source.channel.connection.close(`content: ${error.code ?? 'bad data'}`);
    this._removeSource(source);
    return error;
  }

  _refused(code, what) {
    if (code === 'not-found') return new PushPeerError('NOT_FOUND', `the sharer does not have ${what}`);
    return new PushPeerError('NOT_FOUND', `the sharer cannot serve ${what} (${code})`);
  }
}


/** `…#share=<id>.<card>` (or just `<id>.<card>`): the 32-byte id and the card's bytes. BAD_ARGUMENT otherwise. */
export function parseShareLink(link, core) {
  const text = typeof link === 'string' ? (/[#&]share=([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)/.exec(link)?.[1] ?? link) : '';
  const m = /^([A-Za-z0-9_-]{43})\.([A-Za-z0-9_-]+)$/.exec(text);
  if (!m) throw new PushPeerError('BAD_ARGUMENT', 'not a share link (…#share=<id>.<card>)');
  return { id: core.base64urlDecode(m[1]), card: core.base64urlDecode(m[2]) };
}
