// Persistent state of one peer, shared by its pages and its service worker: IndexedDB (same origin only; the
// identity's private key never leaves it). createMemoryStore() has the same API for tests and for Node.
//
// Object stores (database version 1):
//   kv       identity { privateKey, publicKey, created }, config { subject, name, relay, relayMode, appUrl },
//            card { bytes, text, grantsUntil, endpoint }, replay (the core's replay-guard state, bytes)
//   peers    by keyId (base64url of the 8-byte key id): { keyId, identity, card, name, updated }
//   inbox    by id (auto): { id, received, type, from, sessionId, sequence, timestamp, body, card, state, owner }
//            state: 'new' -> 'claimed' (one page took it) -> 'done'; or 'declined'
//   sessions by sessionId: { sessionId, peer, role, answer (the sealed answer, re-sent when an offer is retried) }
import { PushPeerError } from './errors.js';

const VERSION = 1;
const STORES = { kv: null, peers: 'keyId', inbox: 'id', sessions: 'sessionId' };
export const DEFAULT_STORE_NAME = 'pushpeer';

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function storeError(error, what) {
  if (error instanceof PushPeerError) return error;
  return new PushPeerError('STORE_FAILED', `IndexedDB ${what} failed: ${error?.name ?? ''} ${error?.message ?? error}`,
    { cause: error });
}

/** Opens (creating on first use) the IndexedDB database `name`. */
export async function openStore({ name = DEFAULT_STORE_NAME, indexedDB = globalThis.indexedDB } = {}) {
  if (!indexedDB) throw new PushPeerError('NOT_SUPPORTED', 'IndexedDB is not available here');
  let db;
  try {
    const open = indexedDB.open(name, VERSION);
    open.onupgradeneeded = () => {
      const d = open.result;
      for (const [store, keyPath] of Object.entries(STORES)) {
        if (d.objectStoreNames.contains(store)) continue;
        if (keyPath === 'id') d.createObjectStore(store, { keyPath, autoIncrement: true });
        else if (keyPath) d.createObjectStore(store, { keyPath });
        else d.createObjectStore(store);
      }
    };
    db = await request(open);
  } catch (error) {
    throw storeError(error, `open(${name})`);
  }
  // Another context deleting or upgrading the database: let it.
  db.onversionchange = () => db.close();

  async function run(stores, mode, body) {
    try {
      const tx = db.transaction(stores, mode);
      const done = new Promise((resolve, reject) => {
        tx.oncomplete = resolve;
        tx.onerror = () => reject(tx.error);
        tx.onabort = () => reject(tx.error ?? new Error('transaction aborted'));
      });
      const result = await body(tx);
      await done;
      return result;
    } catch (error) {
      throw storeError(error, `${mode} ${[].concat(stores).join(',')}`);
    }
  }
  const one = (store, mode, fn) => run(store, mode, (tx) => request(fn(tx.objectStore(store))));

  return {
    name,
    get: (key) => one('kv', 'readonly', (s) => s.get(key)),
    set: (key, value) => one('kv', 'readwrite', (s) => s.put(value, key)),
    delete: (key) => one('kv', 'readwrite', (s) => s.delete(key)),
    getPeer: (keyId) => one('peers', 'readonly', (s) => s.get(keyId)),
    putPeer: (peer) => one('peers', 'readwrite', (s) => s.put(peer)),
    peers: () => one('peers', 'readonly', (s) => s.getAll()),
    addInbox: (item) => one('inbox', 'readwrite', (s) => s.add({ state: 'new', owner: null, ...item })),
    getInbox: (id) => one('inbox', 'readonly', (s) => s.get(id)),
    inbox: () => one('inbox', 'readonly', (s) => s.getAll()),
    updateInbox: (id, patch) => run('inbox', 'readwrite', async (tx) => {
      const s = tx.objectStore('inbox');
      const item = await request(s.get(id));
      if (!item) return null;
      const next = { ...item, ...patch };
      await request(s.put(next));
      return next;
    }),
    /** Atomically moves an item from 'new' to 'claimed' by `owner`: true for exactly one caller. */
    claimInbox: (id, owner) => run('inbox', 'readwrite', async (tx) => {
      const s = tx.objectStore('inbox');
      const item = await request(s.get(id));
      if (!item || item.state !== 'new') return false;
      await request(s.put({ ...item, state: 'claimed', owner }));
      return true;
    }),
    deleteInbox: (id) => one('inbox', 'readwrite', (s) => s.delete(id)),
    getSession: (sessionId) => one('sessions', 'readonly', (s) => s.get(sessionId)),
    putSession: (session) => one('sessions', 'readwrite', (s) => s.put(session)),
    sessions: () => one('sessions', 'readonly', (s) => s.getAll()),
    deleteSession: (sessionId) => one('sessions', 'readwrite', (s) => s.delete(sessionId)),
    /** Forgets everything: identity, peers, inbox (the "forget me" button). */
    clear: () => run(Object.keys(STORES), 'readwrite', async (tx) => {
      for (const store of Object.keys(STORES)) await request(tx.objectStore(store).clear());
    }),
    close: () => db.close(),
  };
}

/** The same API in memory (tests, Node). Values are structured-cloned like IndexedDB does. */
export function createMemoryStore({ name = 'memory' } = {}) {
  const kv = new Map();
  const peers = new Map();
  const inbox = new Map();
  const sessions = new Map();
  let nextId = 1;
  const clone = (v) => (v === undefined ? undefined : structuredClone(v));
  return {
    name,
    get: async (key) => clone(kv.get(key)),
    set: async (key, value) => void kv.set(key, clone(value)),
    delete: async (key) => void kv.delete(key),
    getPeer: async (keyId) => clone(peers.get(keyId)),
    putPeer: async (peer) => void peers.set(peer.keyId, clone(peer)),
    peers: async () => [...peers.values()].map(clone),
    addInbox: async (item) => {
      const id = nextId++;
      inbox.set(id, clone({ state: 'new', owner: null, ...item, id }));
      return id;
    },
    getInbox: async (id) => clone(inbox.get(id)),
    inbox: async () => [...inbox.values()].map(clone),
    updateInbox: async (id, patch) => {
      const item = inbox.get(id);
      if (!item) return null;
      inbox.set(id, clone({ ...item, ...patch }));
      return clone(inbox.get(id));
    },
    claimInbox: async (id, owner) => {
      const item = inbox.get(id);
      if (!item || item.state !== 'new') return false;
      inbox.set(id, { ...item, state: 'claimed', owner });
      return true;
    },
    deleteInbox: async (id) => void inbox.delete(id),
    getSession: async (sessionId) => clone(sessions.get(sessionId)),
    putSession: async (session) => void sessions.set(session.sessionId, clone(session)),
    sessions: async () => [...sessions.values()].map(clone),
    deleteSession: async (sessionId) => void sessions.delete(sessionId),
    clear: async () => {
      for (const m of [kv, peers, inbox, sessions]) m.clear();
    },
    close: () => {},
  };
}
