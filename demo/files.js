// Chat and files over a pushpeer Connection's data channel (the app channel, id 1). Frames (docs/PROTOCOL.md §8):
//   text   {"t":"chat","text":…}
//   text   {"t":"file","id":n,"name":…,"type":…,"size":n,"chunk":65536,"hashes":[b64url SHA-256 per chunk],"root":b64url}
//   binary [u32 BE file id][u32 BE chunk index][chunk bytes]   (chunks in order, after their file frame)
// root = SHA-256 of the concatenated chunk hashes. The receiver checks the root against the hashes, then every
// chunk against its hash as it arrives (SHA-256 by the Wasm core), and offers the file only when all of it
// matched; a mismatch fails the transfer. Received files are kept in IndexedDB so a reload does not lose them.
export const CHUNK_SIZE = 64 * 1024; // well under the 256 KiB message size Chromium and Firefox both accept
export const MAX_FILE_SIZE = 256 * 1024 * 1024; // the file frame (4096 hashes) stays under that message size too
const HEADER = 8;
const HIGH_WATER = 4 * 1024 * 1024; // bytes queued in the channel before we wait for bufferedamountlow
const DB = 'pushpeer-demo';

let dbPromise = null;
function db() {
  dbPromise ??= new Promise((resolve, reject) => {
    const open = indexedDB.open(DB, 1);
    open.onupgradeneeded = () => open.result.createObjectStore('files', { keyPath: 'key' });
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
  return dbPromise;
}

function request(mode, fn) {
  return db().then((d) => new Promise((resolve, reject) => {
    const tx = d.transaction('files', mode);
    const req = fn(tx.objectStore('files'));
    tx.oncomplete = () => resolve(req.result);
    tx.onerror = () => reject(tx.error);
  }));
}

/** Files received earlier: [{ key, name, type, size, root, from, at, blob }], newest first. */
export async function savedFiles() {
  const all = await request('readonly', (s) => s.getAll());
  return all.sort((a, b) => b.at - a.at);
}

export function deleteSavedFiles() {
  return request('readwrite', (s) => s.clear());
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

/**
 * Chat and file transfer on one connection. Events: 'chat' ({ text, mine }), 'transfer' ({ transfer }) whenever a
 * transfer changes: { id, direction, name, size, done, state: 'hashing' | 'sending' | 'receiving' | 'verified' |
 * 'sent' | 'failed', error, startedAt, blob, root }.
 */
export class Exchange extends EventTarget {
  constructor(connection, core, { peerName = '' } = {}) {
    super();
    this.connection = connection;
    this.core = core;
    this.peerName = peerName;
    this.nextId = 1;
    this.incoming = new Map();
    this.channel = connection.channel;
    this.channel.bufferedAmountLowThreshold = 1024 * 1024;
    connection.addEventListener('message', (e) => this._onMessage(e.data));
  }

  _emit(type, fields) {
    this.dispatchEvent(Object.assign(new Event(type), fields));
  }

  sendChat(text) {
    this.connection.send(JSON.stringify({ t: 'chat', text }));
    this._emit('chat', { text, mine: true });
  }

  async sendFile(file) {
    const transfer = { id: this.nextId++, direction: 'out', name: file.name, size: file.size, done: 0,
      state: 'hashing', startedAt: performance.now() };
    const update = () => this._emit('transfer', { transfer });
    if (file.size > MAX_FILE_SIZE) {
      Object.assign(transfer, { state: 'failed', error: `larger than ${MAX_FILE_SIZE / 2 ** 20} MiB` });
      update();
      return transfer;
    }
    update();
    try {
      // One hash per chunk; an empty file has one (empty) chunk, as the receiver expects.
      const hashes = [];
      for (let i = 0; i < Math.max(1, Math.ceil(file.size / CHUNK_SIZE)); i++) {
        const chunk = await file.slice(i * CHUNK_SIZE, (i + 1) * CHUNK_SIZE).arrayBuffer();
        hashes.push(this.core.sha256(new Uint8Array(chunk)));
      }
      const root = this.core.sha256(concat(hashes));
      transfer.root = this.core.base64urlEncode(root);
      this.connection.send(JSON.stringify({ t: 'file', id: transfer.id, name: file.name, type: file.type,
        size: file.size, chunk: CHUNK_SIZE, hashes: hashes.map((h) => this.core.base64urlEncode(h)), root: transfer.root }));
      Object.assign(transfer, { state: 'sending', startedAt: performance.now() });
      update();
      for (let index = 0; index * CHUNK_SIZE < file.size; index++) {
        const data = new Uint8Array(await file.slice(index * CHUNK_SIZE, (index + 1) * CHUNK_SIZE).arrayBuffer());
        const frame = new Uint8Array(HEADER + data.length);
        const view = new DataView(frame.buffer);
        view.setUint32(0, transfer.id);
        view.setUint32(4, index);
        frame.set(data, HEADER);
        // Back-pressure: never queue more than HIGH_WATER in the channel.
        while (this.channel.bufferedAmount > HIGH_WATER) {
          await new Promise((resolve) => this.channel.addEventListener('bufferedamountlow', resolve, { once: true }));
        }
        this.connection.send(frame);
        transfer.done += data.length;
        update();
      }
      transfer.state = 'sent';
    } catch (error) {
      Object.assign(transfer, { state: 'failed', error: String(error?.message ?? error) });
    }
    update();
    return transfer;
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
      return;
    }
    this._chunk(new Uint8Array(data));
  }

  _startIncoming(frame) {
    const ok = Number.isInteger(frame.id) && typeof frame.name === 'string' && Number.isInteger(frame.size) &&
      frame.size >= 0 && frame.size <= MAX_FILE_SIZE && frame.chunk === CHUNK_SIZE && Array.isArray(frame.hashes) &&
      frame.hashes.length === Math.max(1, Math.ceil(frame.size / CHUNK_SIZE));
    const transfer = { id: frame.id, direction: 'in', name: String(frame.name ?? '?').slice(0, 200),
      size: frame.size, done: 0, state: 'receiving', startedAt: performance.now(), root: frame.root,
      type: typeof frame.type === 'string' ? frame.type : '' };
    try {
      if (!ok) throw new Error('malformed file announcement');
      transfer.hashes = frame.hashes.map((h) => this.core.base64urlDecode(h));
      // The root binds the list of hashes: a reordered or altered list fails here.
      if (this.core.base64urlEncode(this.core.sha256(concat(transfer.hashes))) !== frame.root) throw new Error('root hash mismatch');
      transfer.chunks = [];
    } catch (error) {
      Object.assign(transfer, { state: 'failed', error: String(error?.message ?? error) });
    }
    this.incoming.set(frame.id, transfer);
    this._emit('transfer', { transfer });
    if (transfer.state === 'receiving' && frame.size === 0) void this._finish(transfer);
  }

  _chunk(frame) {
    if (frame.length < HEADER) return;
    const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
    const transfer = this.incoming.get(view.getUint32(0));
    if (!transfer || transfer.state !== 'receiving') return;
    const index = view.getUint32(4);
    const data = frame.subarray(HEADER);
    const expected = transfer.hashes[index];
    if (index !== transfer.chunks.length || !expected ||
        this.core.base64urlEncode(this.core.sha256(data)) !== this.core.base64urlEncode(expected)) {
      Object.assign(transfer, { state: 'failed', error: `chunk ${index} does not match its hash`, chunks: null });
      this._emit('transfer', { transfer });
      return;
    }
    transfer.chunks.push(data.slice());
    transfer.done += data.length;
    if (transfer.done >= transfer.size) void this._finish(transfer);
    else this._emit('transfer', { transfer });
  }

  async _finish(transfer) {
    if (transfer.done !== transfer.size || transfer.chunks.length !== transfer.hashes.length &&
        !(transfer.size === 0 && transfer.chunks.length === 0)) {
      Object.assign(transfer, { state: 'failed', error: 'size does not match' });
    } else {
      transfer.blob = new Blob(transfer.chunks, { type: transfer.type || 'application/octet-stream' });
      transfer.chunks = null;
      transfer.state = 'verified';
      try {
        await request('readwrite', (s) => s.put({ key: `${Date.now()}-${transfer.id}`, name: transfer.name,
          type: transfer.type, size: transfer.size, root: transfer.root, from: this.peerName, at: Date.now(),
          blob: transfer.blob }));
        transfer.saved = true;
      } catch (error) {
        transfer.saved = false;
        transfer.saveError = String(error?.message ?? error);
      }
    }
    this._emit('transfer', { transfer });
  }
}
