// Persistent state of one peer, shared by its pages and its service worker: IndexedDB (same origin only; the
// identity's private key never leaves it). createMemoryStore() has the same API for tests and for Node. The
// methods below are written once, over a backend's primitives (js/store/indexeddb.js, js/store/memory.js): get, put,
// add, delete, getAll, getAllByIndex, update (a read-modify-write in one transaction), walk (in key order, dropping
// as it goes) and clear.
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
import { openIndexedDbBackend } from './indexeddb.js';
import { createMemoryBackend } from './memory.js';

const VERSION = 3;
const TABLES = {
  kv: { key: null },
  peers: { key: 'keyId' },
  inbox: { key: 'id', autoIncrement: true, indexes: { call: ['from', 'sessionId'] } },
  sessions: { key: 'key' },
};
export const DEFAULT_STORE_NAME = 'pushpeer';

/** The key of a session: the same session id from two peers is two sessions. */
export const sessionKey = (peer, sessionId) => `${peer}:${sessionId}`;

/** Version 1 held nothing usable with version 2 cards and envelopes but for the identity and config. */
function upgrade(db, tx, oldVersion) {
  if (oldVersion !== 1) return;
  for (const table of ['peers', 'inbox', 'sessions']) db.deleteObjectStore(table);
  const kv = tx.objectStore('kv');
  for (const key of ['card', 'replay', 'rejections']) kv.delete(key);
}

/**
 * Trimming the inbox walks from the oldest item (ids follow arrival). An item goes when it is older than its keep
 * time or there are more than maxItems; an unhandled request that stays is stepped over; the walk ends at the first
 * handled item that stays, since every later one is younger and handled ones are kept the shortest. So the work per
 * push follows the open requests, not the history. (Bytes follow from the count: an item is at most one push, ~4 KiB,
 * so maxItems items stay within maxBytes; INBOX_LIMITS in js/push/reception.js holds both.)
 * Returns 'drop', 'skip' or 'stop'.
 */
function trimStep(item, count, { maxItems, keepMs, keepNewMs, now }) {
  const keep = item.state === 'new' ? keepNewMs : keepMs;
  if (count > maxItems || now - item.received > keep) return 'drop';
  return item.state === 'new' ? 'skip' : 'stop';
}

const claimable = (item, takeOver) => Boolean(item) &&
  (item.state === 'new' || (takeOver !== null && item.state === 'claimed' && item.owner === takeOver));

/** The store's methods over a backend's primitives. */
function storeOver(db) {
  return {
    name: db.name,
    get: (key) => db.get('kv', key),
    set: (key, value) => db.put('kv', value, key),
    delete: (key) => db.delete('kv', key),
    getPeer: (keyId) => db.get('peers', keyId),
    putPeer: (peer) => db.put('peers', peer),
    deletePeer: (keyId) => db.delete('peers', keyId),
    peers: () => db.getAll('peers'),
    addInbox: (item) => db.add('inbox', { state: 'new', owner: null, ...item }),
    getInbox: (id) => db.get('inbox', id),
    inbox: () => db.getAll('inbox'),
    updateInbox: async (id, patch) => (await db.update('inbox', id, (item) => (item ? { ...item, ...patch } : undefined))) ?? null,
    /**
     * Atomically moves an item from 'new' (or from 'claimed' by `takeOver`, a page that is gone) to 'claimed' by
     * `owner`, with `patch` and the time: true for exactly one caller.
     */
    claimInbox: async (id, owner, { takeOver = null, ...patch } = {}) => Boolean(await db.update('inbox', id, (item) =>
      (claimable(item, takeOver) ? { ...item, ...patch, state: 'claimed', owner, claimedAt: Date.now() } : undefined))),
    deleteInbox: (id) => db.delete('inbox', id),
    /** Drops the oldest items while they are expired or too many; resolves to the count dropped. */
    trimInbox: (limits) => db.walk('inbox', (item, count) => trimStep(item, count, limits)),
    /** The inbox items of one call (from, sessionId), oldest first. */
    callItems: (from, sessionId) => db.getAllByIndex('inbox', 'call', [from, sessionId]),
    getSession: (key) => db.get('sessions', key),
    putSession: (session) => db.put('sessions', session),
    sessions: () => db.getAll('sessions'),
    deleteSession: (key) => db.delete('sessions', key),
    /** Forgets everything: identity, peers, inbox (the "forget me" button). */
    clear: () => db.clear(Object.keys(TABLES)),
    close: () => db.close(),
  };
}

/** Opens (creating on first use) the IndexedDB database `name`. */
export async function openStore({ name = DEFAULT_STORE_NAME, indexedDB = globalThis.indexedDB } = {}) {
  return storeOver(await openIndexedDbBackend({ name, version: VERSION, tables: TABLES, upgrade, indexedDB }));
}

/** The same API in memory (tests, Node). Values are structured-cloned like IndexedDB does. */
export function createMemoryStore({ name = 'memory' } = {}) {
  return storeOver(createMemoryBackend({ name, tables: TABLES }));
}
