// The dedicated worker behind js/store/opfs-pieces.js: writes and reads piece bytes in the origin private file
// system with FileSystemSyncAccessHandle, which only dedicated workers have. One file per stored file (its key), a
// piece at its offset. Requests run one at a time, in the order they came: { id, op, dir, ... } -> { id, result } or
// { id, error: { name, message } }. Access handles are opened in 'readwrite-unsafe' mode where the browser knows it
// (other tabs' workers may hold the same file) and closed when idle, so that other contexts can delete files.
import { directoryHandle, opfsClear, opfsRemove } from './opfs-files.js';

const IDLE_MS = 3000;
const handles = new Map(); // `${dir}/${file}` -> { handle }
let idleTimer = null;
let queue = Promise.resolve();

async function handleOf(dir, file, create) {
  const id = `${dir}/${file}`;
  const open = handles.get(id);
  if (open) return open.handle;
  let fh;
  try {
    fh = await (await directoryHandle(dir, { create })).getFileHandle(file, { create });
  } catch (error) {
    if (!create && error?.name === 'NotFoundError') return null;
    throw error;
  }
  let handle;
  try {
    handle = await fh.createSyncAccessHandle({ mode: 'readwrite-unsafe' });
  } catch (error) {
    if (error?.name !== 'TypeError') throw error;
    handle = await fh.createSyncAccessHandle();
  }
  handles.set(id, { handle });
  return handle;
}

function closeAll(which = () => true) {
  for (const [id, { handle }] of handles) {
    if (!which(id)) continue;
    try {
      handle.close();
    } catch {
      // closed already
    }
    handles.delete(id);
  }
}

const ops = {
  /** pieces: [{ file, at, bytes (Uint8Array) }]; every touched file flushed before the answer. */
  async write({ dir, pieces }) {
    const touched = new Set();
    for (const { file, at, bytes } of pieces) {
      const h = await handleOf(dir, file, true);
      const n = h.write(bytes, { at });
      if (n !== bytes.byteLength) {
        throw Object.assign(new Error(`wrote ${n} of ${bytes.byteLength} bytes`), { name: 'QuotaExceededError' });
      }
      touched.add(h);
    }
    for (const h of touched) h.flush();
    return null;
  },
  /**
   * The bytes [at, at + length) of a file, `room` bytes into a buffer of their own (room for a frame's head before
   * them), or null when the file is not there or shorter. Into `reuse` when it is an ArrayBuffer of that size (the
   * page's buffer of a piece it sent: js/content/server.js), else new memory.
   */
  async read({ dir, file, at, length, room = 0, reuse = null }) {
    const h = await handleOf(dir, file, false);
    if (!h) return null;
    const out = reuse && reuse.byteLength === room + length ? new Uint8Array(reuse) : new Uint8Array(room + length);
    const n = length === 0 ? 0 : h.read(out.subarray(room), { at });
    return n === length ? out.buffer : null;
  },
  // (Handles closed first: a file open here cannot be removed.)
  async remove({ dir, file }) {
    closeAll((id) => id === `${dir}/${file}`);
    await opfsRemove(dir, file);
    return null;
  },
  async clear({ dir }) {
    closeAll((id) => id.startsWith(`${dir}/`));
    await opfsClear(dir);
    return null;
  },
  async probe() {
    return typeof FileSystemSyncAccessHandle === 'function' && typeof navigator.storage?.getDirectory === 'function';
  },
};

self.onmessage = ({ data }) => {
  queue = queue.then(async () => {
    clearTimeout(idleTimer);
    try {
      const result = await ops[data.op](data);
      self.postMessage({ id: data.id, result }, result instanceof ArrayBuffer ? [result] : []);
    } catch (error) {
      self.postMessage({ id: data.id, error: { name: error?.name ?? 'Error', message: String(error?.message ?? error) } });
    }
    idleTimer = setTimeout(() => closeAll(), IDLE_MS);
  });
};
