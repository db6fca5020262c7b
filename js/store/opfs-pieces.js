// The page's writer of piece bytes in the origin private file system: a dedicated worker (js/store/opfs-worker.js)
// with synchronous access handles. Storing a piece this way costs a tenth of the CPU of a Blob in IndexedDB and
// reading it far less (bench/browser/idb-pieces.mjs, bench/RESULTS.md "Share by link"), which on a busy host is what
// sets a fetch's rate. js/content/content-store.js keeps the record that a piece is verified in IndexedDB and writes
// it only once the bytes are flushed here.
import { PushPeerError } from '../errors.js';
import { opfsDirectory } from './opfs-files.js';

const START_MS = 5000;

/**
 * Starts the writer for the content store `name`: { write, read, remove, clear, close }, or null where a page
 * cannot have one (no Worker, no OPFS, no synchronous access handles: e.g. a private window).
 */
export async function openOpfsPieces({ name }) {
  if (typeof Worker !== 'function' || typeof navigator === 'undefined' || typeof navigator.storage?.getDirectory !== 'function') {
    return null;
  }
  let worker;
  try {
    worker = new Worker(new URL('./opfs-worker.js', import.meta.url), { type: 'module', name: 'pushpeer-pieces' });
  } catch {
    return null;
  }
  const dir = opfsDirectory(name);
  const pending = new Map();
  let next = 1;
  let broken = null;
  const fail = (error) => {
    broken ??= error;
    for (const { reject } of pending.values()) reject(error);
    pending.clear();
  };
  worker.onmessage = ({ data }) => {
    const p = pending.get(data.id);
    if (!p) return;
    pending.delete(data.id);
    if (data.error) {
      p.reject(Object.assign(new Error(data.error.message), { name: data.error.name }));
    } else {
      p.resolve(data.result);
    }
  };
  worker.onerror = (event) => {
    event.preventDefault?.();
    fail(new PushPeerError('STORE_FAILED', `the storage worker failed: ${event.message ?? 'no reason given'}`));
  };
  const call = (op, args = {}, transfer = []) => new Promise((resolve, reject) => {
    if (broken) {
      reject(broken);
      return;
    }
    const id = next++;
    pending.set(id, { resolve, reject });
    worker.postMessage({ id, op, dir, ...args }, transfer);
  });
  let timer;
  const ok = await Promise.race([call('probe').catch(() => false),
    new Promise((resolve) => { timer = setTimeout(() => resolve(false), START_MS); })]);
  clearTimeout(timer);
  if (!ok) {
    worker.terminate();
    return null;
  }
  return {
    /**
     * Writes and flushes [{ file, at, bytes }]; rejects (QuotaExceededError when storage is full) with none promised.
     * The bytes' buffers are handed to the worker, not copied (detached here): a copy of each piece, new memory each
     * time, cost the page as much as the rest of storing it (bench/RESULTS.md, "Share by link").
     */
    write: (pieces) => call('write', { pieces }, [...new Set(pieces.map(({ bytes }) => bytes.buffer))]),
    /**
     * Bytes [at, at + length) of a file (Uint8Array), or null; `room` bytes free before them in their buffer: `reuse`
     * (an ArrayBuffer of room + length bytes, handed to the worker) or new memory.
     */
    read: async (file, at, length, room = 0, reuse = null) => {
      const buffer = await call('read', { file, at, length, room, reuse }, reuse ? [reuse] : []);
      return buffer ? new Uint8Array(buffer, room, length) : null;
    },
    remove: (file) => call('remove', { file }),
    clear: () => call('clear'),
    close() {
      fail(new PushPeerError('STORE_FAILED', 'the content store was closed'));
      worker.terminate();
    },
  };
}
