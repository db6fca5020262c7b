// Chat and files over a pushpeer Connection's app channel (id 1). Frames (docs/PROTOCOL.md §8):
//   text   {"t":"chat","text":…}
//   text   {"t":"file","id":n,"name":…,"type":…,"size":n,"chunk":65536,"hashes":[b64url SHA-256 per chunk],"root":b64url}
//   text   {"t":"file-ok","id":n} | {"t":"file-no","id":n}     the receiver takes the file, or declines it
//   binary [u32 BE file id][u32 BE chunk index][chunk bytes]   (chunks in order, after file-ok)
// root = SHA-256 of the concatenated chunk hashes. The receiver checks the root against the hashes, then every
// chunk against its hash as it arrives (SHA-256 by the Wasm core), and offers the file only when all of it
// matched; a mismatch fails the transfer. Received files are kept in IndexedDB so a reload does not lose them, and
// so is a note of a transfer in progress: a page that reloads mid-transfer says what it lost.
export const CHUNK_SIZE = 64 * 1024; // well under the 256 KiB message size Chromium and Firefox both accept
export const MAX_FILE_SIZE = 256 * 1024 * 1024; // the file frame (4096 hashes) stays under that message size too
const HEADER = 8;
const HIGH_WATER = 4 * 1024 * 1024; // bytes queued in the channel before connection.write waits
const UPDATE_MS = 100; // progress events at most this often while hashing
const NOTE_EVERY = 0.02; // the note of a transfer in progress is rewritten every 2% of the file
const DB = 'pushpeer-demo';

let dbPromise = null;
function db() {
  dbPromise ??= new Promise((resolve, reject) => {
    const open = indexedDB.open(DB, 2);
    open.onupgradeneeded = () => {
      const names = open.result.objectStoreNames;
      if (!names.contains('files')) open.result.createObjectStore('files', { keyPath: 'key' });
      if (!names.contains('partial')) open.result.createObjectStore('partial', { keyPath: 'key' });
    };
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
  return dbPromise;
}

function request(table, mode, fn) {
  return db().then((d) => new Promise((resolve, reject) => {
    const tx = d.transaction(table, mode);
    const req = fn(tx.objectStore(table));
    tx.oncomplete = () => resolve(req.result);
    tx.onerror = () => reject(tx.error);
  }));
}

/** Files received earlier: [{ key, name, type, size, root, from, at, ms, blob }], newest first. */
export async function savedFiles() {
  const all = await request('files', 'readonly', (s) => s.getAll());
  return all.sort((a, b) => b.at - a.at);
}

/**
 * Transfers a page was receiving when it went away (a reload, a closed tab): [{ key, name, size, done, from, at }].
 * Read once: they are reported, then forgotten.
 */
export async function interruptedFiles() {
  const all = await request('partial', 'readonly', (s) => s.getAll());
  await request('partial', 'readwrite', (s) => s.clear());
  return all.sort((a, b) => b.at - a.at);
}

export async function deleteSavedFiles() {
  await request('files', 'readwrite', (s) => s.clear());
  await request('partial', 'readwrite', (s) => s.clear());
}

function concat(chunks) {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

const chunkCount = (size) => Math.max(1, Math.ceil(size / CHUNK_SIZE));
const percent = (t) => Math.floor((100 * t.done) / Math.max(1, t.size));

/**
 * Chat and file transfer on one connection. Events: 'chat' ({ text, mine }), 'transfer' ({ transfer }) whenever a
 * transfer changes: { id, direction, name, size, done, state, error, startedAt, finishedAt, blob, root, chunks }.
 * States: out 'hashing' → 'waiting' (for the receiver) → 'sending' → 'sent'; in 'asking' (files larger than
 * askAbove wait for acceptFile/declineFile) → 'receiving' → 'verified'; either side 'declined' or 'failed'.
 */
export class Exchange extends EventTarget {
  constructor(connection, core, { peerName = '', askAbove = Infinity } = {}) {
    super();
    this.connection = connection;
    this.core = core;
    this.peerName = peerName;
    this.askAbove = askAbove;
    this.nextId = 1;
    this.incoming = new Map();
    this.outgoing = new Map();
    this.replies = new Map(); // outgoing id -> resolve(file-ok | file-no)
    this.ended = null;
    connection.addEventListener('message', (e) => this._onMessage(e.data));
  }

  _emit(type, fields) {
    this.dispatchEvent(Object.assign(new Event(type), fields));
  }

  _update(transfer) {
    this._emit('transfer', { transfer });
  }

  sendChat(text) {
    this.connection.send(JSON.stringify({ t: 'chat', text }));
    this._emit('chat', { text, mine: true });
  }

  async sendFile(file) {
    const transfer = { id: this.nextId++, direction: 'out', name: file.name, size: file.size, done: 0,
      state: 'hashing', startedAt: performance.now(), chunks: chunkCount(file.size) };
    this.outgoing.set(transfer.id, transfer);
    if (file.size > MAX_FILE_SIZE) {
      this._fail(transfer, `it is larger than ${MAX_FILE_SIZE / 2 ** 20} MiB`);
      return transfer;
    }
    this._update(transfer);
    try {
      // One hash per chunk; an empty file has one (empty) chunk, as the receiver expects.
      const hashes = [];
      let shown = performance.now();
      for (let i = 0; i < transfer.chunks; i++) {
        const chunk = await file.slice(i * CHUNK_SIZE, (i + 1) * CHUNK_SIZE).arrayBuffer();
        hashes.push(this.core.sha256(new Uint8Array(chunk)));
        transfer.done += chunk.byteLength;
        if (this.ended) throw new Error(this.ended);
        if (performance.now() - shown > UPDATE_MS) {
          shown = performance.now();
          this._update(transfer);
        }
      }
      transfer.root = this.core.base64urlEncode(this.core.sha256(concat(hashes)));
      const reply = new Promise((resolve) => this.replies.set(transfer.id, resolve));
      this.connection.send(JSON.stringify({ t: 'file', id: transfer.id, name: file.name, type: file.type,
        size: file.size, chunk: CHUNK_SIZE, hashes: hashes.map((h) => this.core.base64urlEncode(h)), root: transfer.root }));
      Object.assign(transfer, { state: 'waiting', done: 0 });
      this._update(transfer);
      if ((await reply) !== 'file-ok') {
        if (transfer.state === 'waiting') Object.assign(transfer, { state: 'declined' });
        this._update(transfer);
        return transfer;
      }
      Object.assign(transfer, { state: 'sending', startedAt: performance.now() });
      this._update(transfer);
      for (let index = 0; index * CHUNK_SIZE < file.size; index++) {
        const data = new Uint8Array(await file.slice(index * CHUNK_SIZE, (index + 1) * CHUNK_SIZE).arrayBuffer());
        const frame = new Uint8Array(HEADER + data.length);
        const view = new DataView(frame.buffer);
        view.setUint32(0, transfer.id);
        view.setUint32(4, index);
        frame.set(data, HEADER);
        await this.connection.write(frame, { highWater: HIGH_WATER }); // rejects once the connection is gone
        transfer.done += data.length;
        this._update(transfer);
      }
      Object.assign(transfer, { state: 'sent', finishedAt: performance.now() });
      this._update(transfer);
    } catch (error) {
      this._fail(transfer, this.ended ?? String(error?.message ?? error));
    }
    return transfer;
  }

  /** Takes a file that waits in 'asking'. */
  acceptFile(id) {
    const transfer = this.incoming.get(id);
    if (transfer?.state !== 'asking') return;
    this._take(transfer);
  }

  /** Declines a file that waits in 'asking': the sender is told. */
  declineFile(id) {
    const transfer = this.incoming.get(id);
    if (transfer?.state !== 'asking') return;
    transfer.state = 'declined';
    this._reply('file-no', id);
    this._update(transfer);
  }

  /** The connection closed: every transfer still under way fails with the reason and how far it got. */
  end(reason) {
    this.ended = reason;
    for (const transfer of [...this.outgoing.values(), ...this.incoming.values()]) {
      if (['hashing', 'waiting', 'sending', 'asking', 'receiving'].includes(transfer.state)) {
        this._fail(transfer, transfer.state === 'hashing' || transfer.state === 'waiting' || transfer.state === 'asking'
          ? reason : `${reason} at ${percent(transfer)}%`);
      }
    }
    for (const resolve of this.replies.values()) resolve('ended');
    this.replies.clear();
  }

  _fail(transfer, error) {
    if (transfer.state === 'failed') return;
    Object.assign(transfer, { state: 'failed', error, finishedAt: performance.now() });
    transfer.parts = null;
    if (transfer.direction === 'in') void this._forgetNote(transfer);
    this._update(transfer);
  }

  _reply(t, id) {
    try {
      this.connection.send(JSON.stringify({ t, id }));
    } catch {
      // the connection went: end() reports it
    }
  }

  _onMessage(data) {
    if (typeof data === 'string') {
      let frame;
      try {
        frame = JSON.parse(data);
      } catch {
        return;
      }
      if (frame.t === 'chat' && typeof frame.text === 'string') this._emit('chat', { text: frame.text, mine: false });
      else if (frame.t === 'file') this._startIncoming(frame);
      else if ((frame.t === 'file-ok' || frame.t === 'file-no') && this.replies.has(frame.id)) {
        this.replies.get(frame.id)(frame.t);
        this.replies.delete(frame.id);
      }
      return;
    }
    this._chunk(new Uint8Array(data));
  }

  _startIncoming(frame) {
    const ok = Number.isInteger(frame.id) && typeof frame.name === 'string' &&
      Number.isInteger(frame.size) && frame.size >= 0 && frame.size <= MAX_FILE_SIZE && frame.chunk === CHUNK_SIZE &&
      Array.isArray(frame.hashes) && frame.hashes.length === chunkCount(frame.size);
    const transfer = { id: frame.id, direction: 'in', name: String(frame.name ?? '?').slice(0, 200),
      size: Number.isInteger(frame.size) ? frame.size : 0, done: 0, state: 'asking', startedAt: performance.now(),
      root: frame.root, type: typeof frame.type === 'string' ? frame.type : '', chunks: 0, key: `${Date.now()}-${frame.id}` };
    if (Number.isInteger(frame.id) && this.incoming.has(frame.id)) return; // an id is announced once
    this.incoming.set(frame.id, transfer);
    try {
      if (!ok) throw new Error('the announcement is malformed');
      transfer.chunks = frame.hashes.length;
      transfer.hashes = frame.hashes.map((h) => this.core.base64urlDecode(h));
      // The root binds the list of hashes: a reordered or altered list fails here.
      if (this.core.base64urlEncode(this.core.sha256(concat(transfer.hashes))) !== frame.root) {
        throw new Error('its list of chunk hashes does not match its root');
      }
      transfer.parts = [];
    } catch (error) {
      this._fail(transfer, String(error?.message ?? error));
      this._reply('file-no', frame.id);
      return;
    }
    const askAbove = typeof this.askAbove === 'function' ? this.askAbove() : this.askAbove;
    if (transfer.size > askAbove) this._update(transfer); // the person decides (acceptFile / declineFile)
    else this._take(transfer);
  }

  _take(transfer) {
    Object.assign(transfer, { state: 'receiving', startedAt: performance.now(), noted: 0 });
    void this._note(transfer);
    this._reply('file-ok', transfer.id);
    this._update(transfer);
    if (transfer.size === 0) void this._finish(transfer);
  }

  /** A note of the transfer in progress, so that a page that goes away mid-transfer can say what it lost. */
  _note(transfer) {
    transfer.noted = transfer.done;
    return request('partial', 'readwrite', (s) => s.put({ key: transfer.key, name: transfer.name, size: transfer.size,
      done: transfer.done, from: this.peerName, at: Date.now() })).catch(() => {});
  }

  _forgetNote(transfer) {
    return request('partial', 'readwrite', (s) => s.delete(transfer.key)).catch(() => {});
  }

  _chunk(frame) {
    if (frame.length < HEADER) return;
    const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
    const transfer = this.incoming.get(view.getUint32(0));
    if (!transfer || transfer.state !== 'receiving') return;
    const index = view.getUint32(4);
    const data = frame.subarray(HEADER);
    const expected = transfer.hashes[index];
    if (index !== transfer.parts.length || !expected ||
        this.core.base64urlEncode(this.core.sha256(data)) !== this.core.base64urlEncode(expected)) {
      this._fail(transfer, `chunk ${index} does not match its hash`);
      return;
    }
    transfer.parts.push(data.slice());
    transfer.done += data.length;
    if (transfer.done >= transfer.size) {
      void this._finish(transfer);
      return;
    }
    if (transfer.done - transfer.noted >= NOTE_EVERY * transfer.size) void this._note(transfer);
    this._update(transfer);
  }

  async _finish(transfer) {
    if (transfer.done !== transfer.size || transfer.parts.length !== transfer.hashes.length &&
        !(transfer.size === 0 && transfer.parts.length === 0)) {
      this._fail(transfer, 'its size does not match');
      return;
    }
    transfer.blob = new Blob(transfer.parts, { type: transfer.type || 'application/octet-stream' });
    transfer.parts = null;
    Object.assign(transfer, { state: 'verified', finishedAt: performance.now() });
    try {
      await request('files', 'readwrite', (s) => s.put({ key: transfer.key, name: transfer.name, type: transfer.type,
        size: transfer.size, root: transfer.root, from: this.peerName, at: Date.now(),
        ms: transfer.finishedAt - transfer.startedAt, blob: transfer.blob }));
      transfer.saved = true;
    } catch (error) {
      transfer.saved = false;
      transfer.saveError = String(error?.message ?? error);
    }
    await this._forgetNote(transfer);
    this._update(transfer);
  }
}
