// Persistent state of one peer, shared by its pages and its service worker: IndexedDB (same origin only; the
// identity's private key never leaves it). createMemoryStore() has the same API for tests and for Node.
//
// Object stores (database version 3):
//   kv       identity { privateKey, publicKey, created }, config { subject, name, relay, relayMode, appUrl,
//            allowPushHosts }, card { bytes, text, grantsUntil, endpoint }, replay (the core's replay-guard state),
//            rejections (the last refused pushes, for diagnostics)
//   peers    by keyId (base64url of the 8-byte key id): { keyId, identity, card, name, updated, gone }
//            Only peers we chose: the app accepted a connection with them, we called them, or it saved them.
//   inbox    by id (auto, so ids follow arrival order): { id, received, type, from, sessionId, sequence,
//            timestamp, body, bytes, card (offers: the caller's card), offerRef / ref, state, owner, notified,
//            opened (an answered offer whose connection opened: a retry of it is ignored) };
//            index 'call' on [from, sessionId] (a call's items without reading the inbox)
//            state: 'new' -> 'claimed' (one page took it) -> 'done'; or 'declined', 'expired', 'failed'.
//            Bounded: trimInbox() drops the oldest items beyond a count (which bounds the bytes, see trimStep).
//   sessions by key `${peer}:${sessionId}`: { key, peer, sessionId, role, answer (sealed, re-sent when the offer is
//            retried), at }: calls answered whose connection has not opened (deleted when it opens)
// Version 1 stores (cards and envelopes of format version 1, strangers kept as peers) are emptied on upgrade but
// for the identity and config: nothing in them can be used with version 2 cards and envelopes. Version 3 adds the
// index.
import { PushPeerError } from './errors.js';

const VERSION = 3;
const STORES = { kv: null, peers: 'keyId', inbox: 'id', sessions: 'key' };
export const DEFAULT_STORE_NAME = 'pushpeer';

/** The key of a session: the same session id from two peers is two sessions. */
export const sessionKey = (peer, sessionId) => `${peer}:${sessionId}`;

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

/**
 * Trimming the inbox walks from the oldest item (ids follow arrival). An item goes when it is older than its keep
 * time or there are more than maxItems; an unhandled request that stays is stepped over; the walk ends at the first
 * handled item that stays, since every later one is younger and handled ones are kept the shortest. So the work per
 * push follows the open requests, not the history. (Bytes follow from the count: an item is at most one push, ~4 KiB,
 * so maxItems items stay within maxBytes; INBOX_LIMITS in js/inbox.js holds both.)
 * Returns 'drop', 'skip' or 'stop'.
 */
function trimStep(item, count, { maxItems, keepMs, keepNewMs, now }) {
  const keep = item.state === 'new' ? keepNewMs : keepMs;
  if (count > maxItems || now - item.received > keep) return 'drop';
  return item.state === 'new' ? 'skip' : 'stop';
}

const claimable = (item, takeOver) => Boolean(item) &&
  (item.state === 'new' || (takeOver !== null && item.state === 'claimed' && item.owner === takeOver));

/** Opens (creating on first use) the IndexedDB database `name`. */
export async function openStore({ name = DEFAULT_STORE_NAME, indexedDB = globalThis.indexedDB } = {}) {
  if (!indexedDB) throw new PushPeerError('NOT_SUPPORTED', 'IndexedDB is not available here');
  let db;
  try {
    const open = indexedDB.open(name, VERSION);
    open.onupgradeneeded = (event) => {
      const d = open.result;
      if (event.oldVersion === 1) {
        for (const store of ['peers', 'inbox', 'sessions']) d.deleteObjectStore(store);
        const kv = open.transaction.objectStore('kv');
        for (const key of ['card', 'replay', 'rejections']) kv.delete(key);
      }
      for (const [store, keyPath] of Object.entries(STORES)) {
        if (d.objectStoreNames.contains(store)) continue;
        if (keyPath === 'id') d.createObjectStore(store, { keyPath, autoIncrement: true });
        else if (keyPath) d.createObjectStore(store, { keyPath });
        else d.createObjectStore(store);
      }
      const inbox = open.transaction.objectStore('inbox');
      if (!inbox.indexNames.contains('call')) inbox.createIndex('call', ['from', 'sessionId']);
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
    deletePeer: (keyId) => one('peers', 'readwrite', (s) => s.delete(keyId)),
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
    /**
     * Atomically moves an item from 'new' (or from 'claimed' by `takeOver`, a page that is gone) to 'claimed' by
     * `owner`, with `patch` and the time: true for exactly one caller.
     */
    claimInbox: (id, owner, { takeOver = null, ...patch } = {}) => run('inbox', 'readwrite', async (tx) => {
      const s = tx.objectStore('inbox');
      const item = await request(s.get(id));
      if (!claimable(item, takeOver)) return false;
      await request(s.put({ ...item, ...patch, state: 'claimed', owner, claimedAt: Date.now() }));
      return true;
    }),
    deleteInbox: (id) => one('inbox', 'readwrite', (s) => s.delete(id)),
    /** Drops the oldest items while they are expired or too many; resolves to the count dropped. */
    trimInbox: (limits) => run('inbox', 'readwrite', (tx) => new Promise((resolve, reject) => {
      const s = tx.objectStore('inbox');
      const counted = s.count();
      counted.onerror = () => reject(counted.error);
      counted.onsuccess = () => {
        let count = counted.result;
        let dropped = 0;
        const walk = s.openCursor(); // oldest first
        walk.onerror = () => reject(walk.error);
        walk.onsuccess = () => {
          const cursor = walk.result;
          const step = cursor ? trimStep(cursor.value, count, limits) : 'stop';
          if (step === 'stop') {
            resolve(dropped);
            return;
          }
          if (step === 'drop') {
            cursor.delete();
            count--;
            dropped++;
          }
          cursor.continue();
        };
      };
    })),
    /** The inbox items of one call (from, sessionId), oldest first. */
    callItems: (from, sessionId) => one('inbox', 'readonly', (s) => s.index('call').getAll([from, sessionId])),
    getSession: (key) => one('sessions', 'readonly', (s) => s.get(key)),
    putSession: (session) => one('sessions', 'readwrite', (s) => s.put(session)),
    sessions: () => one('sessions', 'readonly', (s) => s.getAll()),
    deleteSession: (key) => one('sessions', 'readwrite', (s) => s.delete(key)),
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
    deletePeer: async (keyId) => void peers.delete(keyId),
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
    claimInbox: async (id, owner, { takeOver = null, ...patch } = {}) => {
      const item = inbox.get(id);
      if (!claimable(item, takeOver)) return false;
      inbox.set(id, clone({ ...item, ...patch, state: 'claimed', owner, claimedAt: Date.now() }));
      return true;
    },
    deleteInbox: async (id) => void inbox.delete(id),
    trimInbox: async (limits) => {
      let dropped = 0;
      for (const item of inbox.values()) {
        const step = trimStep(item, inbox.size, limits);
        if (step === 'stop') break;
        if (step === 'drop') {
          inbox.delete(item.id);
          dropped++;
        }
      }
      return dropped;
    },
    callItems: async (from, sessionId) => [...inbox.values()].filter((i) => i.from === from && i.sessionId === sessionId)
      .map(clone),
    getSession: async (key) => clone(sessions.get(key)),
    putSession: async (session) => void sessions.set(session.key, clone(session)),
    sessions: async () => [...sessions.values()].map(clone),
    deleteSession: async (key) => void sessions.delete(key),
    clear: async () => {
      for (const m of [kv, peers, inbox, sessions]) m.clear();
    },
    close: () => {},
  };
}
