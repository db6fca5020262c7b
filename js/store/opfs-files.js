// Piece bytes in the origin private file system (OPFS), read and deleted with the asynchronous API that every
// context has (pages, service workers): js/content/content-store.js uses this where it has no writer of its own
// (js/store/opfs-pieces.js, pages only). Files live at `pushpeer-content/<store name>/<file key>`.

/** The OPFS directory path of a content store's files. */
export const opfsDirectory = (name) => `pushpeer-content/${encodeURIComponent(name)}`;

/** The directory handle of an OPFS path (made when `create`: else NotFoundError when missing). */
export async function directoryHandle(dir, { create = false } = {}) {
  let d = await navigator.storage.getDirectory();
  for (const part of dir.split('/')) d = await d.getDirectoryHandle(part, { create });
  return d;
}

async function fileHandle(dir, file) {
  try {
    return await (await directoryHandle(dir)).getFileHandle(file);
  } catch (error) {
    if (error?.name === 'NotFoundError' || error?.name === 'TypeMismatchError') return null;
    throw error;
  }
}

/**
 * Bytes [at, at + length) of a stored file as a Blob part backed by the file (nothing read into memory), or null
 * when the file is missing or shorter.
 */
export async function opfsPart(dir, file, at, length) {
  const fh = await fileHandle(dir, file);
  if (!fh) return null;
  const f = await fh.getFile();
  return f.size >= at + length ? f.slice(at, at + length) : null;
}

/**
 * Bytes [at, at + length) of a stored file (Uint8Array), or null. A file written meanwhile (another piece of it)
 * makes the snapshot unreadable: read again from a new one.
 */
export async function opfsRead(dir, file, at, length) {
  for (let attempt = 0; ; attempt++) {
    const part = await opfsPart(dir, file, at, length);
    if (!part) return null;
    try {
      return new Uint8Array(await part.arrayBuffer());
    } catch (error) {
      if (error?.name !== 'NotReadableError' || attempt >= 4) throw error;
    }
  }
}

/** Deletes a stored file; a file another context holds open stays (its pieces' records are gone: unreferenced). */
export async function opfsRemove(dir, file) {
  try {
    await (await directoryHandle(dir)).removeEntry(file);
  } catch {
    // not there, or held open elsewhere
  }
}

/** Deletes a content store's directory (see opfsRemove). */
export async function opfsClear(dir) {
  const parts = dir.split('/');
  const last = parts.pop();
  try {
    await (await directoryHandle(parts.join('/'))).removeEntry(last, { recursive: true });
  } catch {
    // not there, or held open elsewhere
  }
}
