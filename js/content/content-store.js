// Where shares live (docs/API.md, "Share by link"): an IndexedDB database of its own beside the peer's store
// (`<store name>-content`), or the same in memory for tests and Node. Written once over the store backends'
// primitives (js/store/indexeddb.js, js/store/memory.js).
//
// Object stores (database version 1):
//   shares  by id (base64url of the manifest id): { id, manifest (bytes), title, files: [{ name, size, type, root
//           (base64url), key }], complete, created, link, from }. `key` names the file's pieces; complete: every
//           piece is here and verified (we seed it).
//   trees   by root (base64url): { root, size, nodes }: a complete file's merkle tree, to prove ranges of it
//   pieces  by key `${file key}:${index}`: { key, file, index, leaves, proof, and where the bytes are: data (bytes,
//           or a Blob) or opfs (their length, at index × 128 KiB of the file's OPFS file) }: 8 leaves (128 KiB, the
//           last piece shorter) of a file, their 32-byte leaf hashes and, for a downloaded piece, the proof it came
//           with (to serve it on before the file is complete); index 'file' on [file]. A record is written only
//           after its piece was verified and its bytes stored: a piece that has a record is verified, and storage
//           that runs out leaves no record (bytes it wrote without one are never read).
//
// Where the bytes go: a page writes them to the origin private file system through a worker with synchronous
// access handles (js/store/opfs-pieces.js: one file per stored file), a tenth of the CPU of a Blob in IndexedDB
// and far less to read back (bench/RESULTS.md, "Share by link"); contexts without one (service workers, a page
// where OPFS is missing) put them in the record, as a Blob, which IndexedDB keeps on disk. Every context reads both
// (js/store/opfs-files.js for OPFS files).
import { PushPeerError } from '../errors.js';
import { openIndexedDbBackend } from '../store/indexeddb.js';
import { createMemoryBackend } from '../store/memory.js';
import { opfsClear, opfsDirectory, opfsPart, opfsRead, opfsRemove } from '../store/opfs-files.js';

const VERSION = 1;
const TABLES = {
  shares: { key: 'id' },
  trees: { key: 'root' },
  pieces: { key: 'key', indexes: { file: ['file'] } },
};

/** Leaves per piece: what a request asks for and a record holds (128 KiB; docs/PROTOCOL.md §9.2). */
export const PIECE_LEAVES = 8;

/** A file's leaves (an empty file has one) and pieces. */
export const leafCount = (size, core) => Math.max(1, Math.ceil(size / core.limits.content.leafSize));
export const pieceCount = (size, core) => Math.ceil(leafCount(size, core) / PIECE_LEAVES);

function quotaOrStore(error) {
  const cause = error?.cause ?? error;
  if (cause?.name === 'QuotaExceededError' || /quota/i.test(String(cause?.message ?? ''))) {
    return new PushPeerError('QUOTA_EXCEEDED', 'storage is full: the piece was not stored', { cause: error });
  }
  return error;
}

/** Bytes per piece (leaves are 16 KiB: docs/PROTOCOL.md §9.2): piece i of a file is at i × PIECE_BYTES of its OPFS file. */
export const PIECE_BYTES = PIECE_LEAVES * 16384;
// Files whose piece locations a store keeps (the files being served: a few).
const MAX_LOCATED_FILES = 16;

function contentStoreOver(db, { blobs, files = null, dir = null }) {
  const pieceKey = (file, index) => `${file}:${index}`;
  const at = (index) => index * PIECE_BYTES;
  // Where the pieces of a file being served are: index -> length of the bytes in its OPFS file, learned from its
  // records in one read (a record per piece read, one transaction each, cost a sharer as much as the bytes did).
  // Only what a record said is kept, and a file's bytes are only ever its own (keys name content): an entry that
  // outlives its record (deleted from another context) finds the same bytes or none.
  const located = new Map(); // file -> Map index -> length
  const learning = new Set(); // files whose records are being read
  // The length of a piece's bytes in its file's OPFS file, if known; undefined otherwise (the caller reads the
  // record), and then the file's records are read once in the background (not on the way of a first piece).
  const locate = (file, index) => {
    const known = located.get(file);
    if (known) return known.get(index);
    if (!learning.has(file)) {
      learning.add(file);
      db.getAllByIndex('pieces', 'file', [file]).then((records) => {
        if (!learning.has(file)) return; // deleted meanwhile
        const map = new Map();
        for (const p of records) if (p.opfs !== undefined) map.set(p.index, p.opfs);
        if (located.size >= MAX_LOCATED_FILES) located.delete(located.keys().next().value);
        located.set(file, map);
      }, () => {}).finally(() => learning.delete(file));
    }
    return undefined;
  };
  // A record's bytes: from the record, or from the file's OPFS file (through the page's worker when it has one).
  const bytesOf = async (piece) => {
    if (piece.opfs === undefined) {
      return piece.data instanceof Blob ? new Uint8Array(await piece.data.arrayBuffer()) : piece.data;
    }
    return files ? files.read(piece.file, at(piece.index), piece.opfs) : opfsRead(dir, piece.file, at(piece.index), piece.opfs);
  };
  return {
    getShare: (id) => db.get('shares', id),
    putShare: (share) => db.put('shares', share),
    shares: () => db.getAll('shares'),
    deleteShare: (id) => db.delete('shares', id),
    getTree: (root) => db.get('trees', root),
    putTree: (tree) => db.put('trees', tree),
    deleteTree: (root) => db.delete('trees', root),
    /** Stores a verified piece (bytes and leaf hashes) at once; QUOTA_EXCEEDED when storage is full. */
    putPiece(file, index, bytes, leaves) {
      return this.putPieces([{ file, index, bytes, leaves }]);
    },
    /**
     * Several verified pieces in one transaction (all or none): [{ file, index, bytes, leaves, proof }]. The store
     * takes the bytes: a page hands their buffers to its storage worker (they are detached), so keep nothing of them.
     */
    async putPieces(pieces) {
      try {
        // (Made before the write, which takes the bytes.)
        const records = pieces.map(({ file, index, bytes, leaves, proof = null }) => {
          const where = files ? { opfs: bytes.length } : { data: blobs ? new Blob([bytes]) : bytes };
          return { key: pieceKey(file, index), file, index, leaves, proof, ...where };
        });
        // The bytes first (flushed), then the records that say they are here.
        if (files) await files.write(pieces.map(({ file, index, bytes }) => ({ file, at: at(index), bytes })));
        await db.putAll('pieces', records);
        for (const r of records) if (r.opfs !== undefined) located.get(r.file)?.set(r.index, r.opfs);
      } catch (error) {
        throw quotaOrStore(error);
      }
    },
    /** A piece's bytes (Uint8Array), or null when it is not here. */
    async pieceBytes(file, index) {
      const length = files ? locate(file, index) : undefined;
      if (length !== undefined) return files.read(file, at(index), length);
      const piece = await db.get('pieces', pieceKey(file, index));
      return piece ? bytesOf(piece) : null;
    },
    /**
     * The same with `room` bytes before them in a buffer of their own, the caller's to write (a data frame's head:
     * js/content/server.js sends head and bytes without copying the bytes), or null. `reuse`: an ArrayBuffer of
     * room + the piece's length to read into instead of new memory (handed over: not the caller's any more).
     */
    async pieceWithRoom(file, index, room, reuse) {
      const length = files ? locate(file, index) : undefined;
      if (length !== undefined) return files.read(file, at(index), length, room, reuse);
      const bytes = await this.pieceBytes(file, index);
      if (!bytes) return null;
      const fits = reuse?.byteLength === room + bytes.length;
      const out = (fits ? new Uint8Array(reuse) : new Uint8Array(room + bytes.length)).subarray(room);
      out.set(bytes);
      return out;
    },
    /** A downloaded piece's bytes and the proof it came with ({ bytes, proof }), or null without either. */
    async pieceWithProof(file, index) {
      const piece = await db.get('pieces', pieceKey(file, index));
      if (!piece?.proof) return null;
      const bytes = await bytesOf(piece);
      return bytes ? { bytes, proof: piece.proof } : null;
    },
    /** A piece as a Blob part (no copy into memory in browsers), or null. */
    async piecePart(file, index) {
      const piece = await db.get('pieces', pieceKey(file, index));
      if (!piece) return null;
      return piece.opfs === undefined ? piece.data : opfsPart(dir, file, at(index), piece.opfs);
    },
    /** The pieces of a file that are here: Map index -> leaf hashes. */
    async pieceLeaves(file) {
      const list = await db.getAllByIndex('pieces', 'file', [file]);
      return new Map(list.map((p) => [p.index, p.leaves]));
    },
    /** Deletes every piece of a file, in one operation whatever their number (the records, then the bytes). */
    async deletePieces(file) {
      located.delete(file);
      learning.delete(file);
      await db.deleteRange('pieces', `${file}:`, `${file}:\uffff`);
      if (files) await files.remove(file).catch(() => {});
      else if (dir) await opfsRemove(dir, file);
    },
    async clear() {
      located.clear();
      learning.clear();
      await db.clear(Object.keys(TABLES));
      if (files) await files.clear().catch(() => {});
      else if (dir) await opfsClear(dir);
    },
    close() {
      files?.close();
      return db.close();
    },
  };
}

/**
 * Deletes the stored files `files` ({ root, key } each: a share's, or a site version's) but what a share in `others`
 * lists too: the pieces go unless another file has the same key, the tree unless another has the same root (trees
 * are kept by root for every share). Resolves to the roots whose tree went.
 */
export async function dropFiles(store, files, others) {
  const gone = [];
  for (const f of files) {
    if (!others.some((s) => s.files.some((g) => g.root === f.root))) {
      await store.deleteTree(f.root);
      gone.push(f.root);
    }
    if (!others.some((s) => s.files.some((g) => g.key === f.key))) await store.deletePieces(f.key);
  }
  return gone;
}

/**
 * Opens (creating on first use) the content database beside the peer's store `name`. `files`: the page's writer of
 * piece bytes (js/store/opfs-pieces.js), or null to keep them in IndexedDB.
 */
export async function openContentStore({ name, indexedDB = globalThis.indexedDB, files = null } = {}) {
  const db = await openIndexedDbBackend({ name: `${name}-content`, version: VERSION, tables: TABLES, indexedDB });
  const dir = typeof navigator !== 'undefined' && typeof navigator.storage?.getDirectory === 'function'
    ? opfsDirectory(name) : null;
  return contentStoreOver(db, { blobs: true, files, dir });
}

/** The same in memory (tests, Node). */
export function createMemoryContentStore({ name = 'memory' } = {}) {
  return contentStoreOver(createMemoryBackend({ name: `${name}-content`, tables: TABLES }), { blobs: false });
}
