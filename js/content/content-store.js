// Where shares live (docs/API.md, "Share by link"): an IndexedDB database of its own beside the peer's store
// (`<store name>-content`), or the same in memory for tests and Node. Written once over the store backends'
// primitives (js/store/indexeddb.js, js/store/memory.js).
//
// Object stores (database version 1):
//   shares  by id (base64url of the manifest id): { id, manifest (bytes), title, files: [{ name, size, type, root
//           (base64url), key }], complete, created, link, from }. `key` names the file's pieces; complete: every
//           piece is here and verified (we seed it).
//   trees   by root (base64url): { root, size, nodes }: a complete file's merkle tree, to prove ranges of it
//   pieces  by key `${file key}:${index}`: { key, file, index, data, leaves, proof }: 8 leaves (128 KiB, the last
//           piece shorter) of a file, their 32-byte leaf hashes and, for a downloaded piece, the proof it came with
//           (to serve it on before the file is complete); index 'file' on [file]. A piece is written only
//           after it was verified, in one transaction with its leaf hashes: a piece that is here is verified, and a
//           write that fails (storage full) leaves nothing.
//
// Why IndexedDB for the bytes, not OPFS: a piece and the record that it is verified must land together (or not at
// all) when storage runs out, which one IndexedDB put gives; it works the same in pages and service workers of
// both browsers; and Blobs stored in it are kept on disk (a page holds handles, not bytes).
import { PushPeerError } from '../errors.js';
import { openIndexedDbBackend } from '../store/indexeddb.js';
import { createMemoryBackend } from '../store/memory.js';

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

function contentStoreOver(db, { blobs }) {
  const pieceKey = (file, index) => `${file}:${index}`;
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
    /** Several verified pieces in one transaction (all or none): [{ file, index, bytes, leaves, proof }]. */
    async putPieces(pieces) {
      // In browsers the bytes go in as a Blob, which IndexedDB keeps on disk rather than in the page's memory.
      const records = pieces.map(({ file, index, bytes, leaves, proof = null }) => ({ key: pieceKey(file, index), file,
        index, data: blobs ? new Blob([bytes]) : bytes, leaves, proof }));
      try {
        await db.putAll('pieces', records);
      } catch (error) {
        throw quotaOrStore(error);
      }
    },
    /** A piece's bytes (Uint8Array), or null when it is not here. */
    async pieceBytes(file, index) {
      const piece = await db.get('pieces', pieceKey(file, index));
      if (!piece) return null;
      return piece.data instanceof Blob ? new Uint8Array(await piece.data.arrayBuffer()) : piece.data;
    },
    /** A downloaded piece's bytes and the proof it came with ({ bytes, proof }), or null without either. */
    async pieceWithProof(file, index) {
      const piece = await db.get('pieces', pieceKey(file, index));
      if (!piece?.proof) return null;
      const bytes = piece.data instanceof Blob ? new Uint8Array(await piece.data.arrayBuffer()) : piece.data;
      return { bytes, proof: piece.proof };
    },
    /** A piece as a Blob part (no copy into memory in browsers), or null. */
    async piecePart(file, index) {
      const piece = await db.get('pieces', pieceKey(file, index));
      return piece ? piece.data : null;
    },
    /** The pieces of a file that are here: Map index -> leaf hashes. */
    async pieceLeaves(file) {
      const list = await db.getAllByIndex('pieces', 'file', [file]);
      return new Map(list.map((p) => [p.index, p.leaves]));
    },
    /** Deletes every piece of a file, in one operation whatever their number. */
    deletePieces: (file) => db.deleteRange('pieces', `${file}:`, `${file}:\uffff`),
    clear: () => db.clear(Object.keys(TABLES)),
    close: () => db.close(),
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

/** Opens (creating on first use) the content database beside the peer's store `name`. */
export async function openContentStore({ name, indexedDB = globalThis.indexedDB } = {}) {
  const db = await openIndexedDbBackend({ name: `${name}-content`, version: VERSION, tables: TABLES, indexedDB });
  return contentStoreOver(db, { blobs: true });
}

/** The same in memory (tests, Node). */
export function createMemoryContentStore({ name = 'memory' } = {}) {
  return contentStoreOver(createMemoryBackend({ name: `${name}-content`, tables: TABLES }), { blobs: false });
}
