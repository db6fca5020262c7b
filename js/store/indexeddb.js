// The IndexedDB backend of the store (js/store/store.js): the primitives the store's methods are written on, each
// in one transaction. Generic over the tables it is given; the schema and what the tables mean are store.js's.
import { PushPeerError } from '../errors.js';

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
 * Opens (creating on first use) the database `name` at `version`. `tables`: { name: { key (keyPath, null for
 * out-of-line keys), autoIncrement, indexes: { name: keyPath } } }, created when missing; `upgrade(db, tx, oldVersion)`
 * runs first on an upgrade (what an older version held that must go).
 */
export async function openIndexedDbBackend({ name, version, tables, upgrade, indexedDB = globalThis.indexedDB }) {
  if (!indexedDB) throw new PushPeerError('NOT_SUPPORTED', 'IndexedDB is not available here');
  let db;
  try {
    const open = indexedDB.open(name, version);
    open.onupgradeneeded = (event) => {
      const d = open.result;
      upgrade?.(d, open.transaction, event.oldVersion);
      for (const [table, { key, autoIncrement = false, indexes = {} }] of Object.entries(tables)) {
        if (!d.objectStoreNames.contains(table)) {
          d.createObjectStore(table, key ? { keyPath: key, autoIncrement } : undefined);
        }
        const s = open.transaction.objectStore(table);
        for (const [index, keyPath] of Object.entries(indexes)) {
          if (!s.indexNames.contains(index)) s.createIndex(index, keyPath);
        }
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
  const one = (table, mode, fn) => run(table, mode, (tx) => request(fn(tx.objectStore(table))));

  return {
    name,
    get: (table, key) => one(table, 'readonly', (s) => s.get(key)),
    put: (table, value, key) => one(table, 'readwrite', (s) => (key === undefined ? s.put(value) : s.put(value, key))),
    add: (table, value) => one(table, 'readwrite', (s) => s.add(value)),
    /** Several values in one transaction: all of them are stored, or none. */
    putAll: (table, values) => run(table, 'readwrite', async (tx) => {
      const s = tx.objectStore(table);
      await Promise.all(values.map((v) => request(s.put(v))));
    }),
    delete: (table, key) => one(table, 'readwrite', (s) => s.delete(key)),
    /** Deletes every key in [lower, upper] (string keys: a prefix and the prefix + '\uffff'). */
    deleteRange: (table, lower, upper) => one(table, 'readwrite', (s) => s.delete(IDBKeyRange.bound(lower, upper))),
    getAll: (table) => one(table, 'readonly', (s) => s.getAll()),
    getAllByIndex: (table, index, value) => one(table, 'readonly', (s) => s.index(index).getAll(value)),
    update: (table, key, change) => run(table, 'readwrite', async (tx) => {
      const s = tx.objectStore(table);
      const next = change(await request(s.get(key)));
      if (next !== undefined) await request(s.put(next));
      return next;
    }),
    walk: (table, visit) => run(table, 'readwrite', (tx) => new Promise((resolve, reject) => {
      const s = tx.objectStore(table);
      const counted = s.count();
      counted.onerror = () => reject(counted.error);
      counted.onsuccess = () => {
        let count = counted.result;
        let dropped = 0;
        const cursor = s.openCursor(); // in key order
        cursor.onerror = () => reject(cursor.error);
        cursor.onsuccess = () => {
          const at = cursor.result;
          const step = at ? visit(at.value, count) : 'stop';
          if (step === 'stop') {
            resolve(dropped);
            return;
          }
          if (step === 'drop') {
            at.delete();
            count--;
            dropped++;
          }
          at.continue();
        };
      };
    })),
    clear: (names) => run(names, 'readwrite', async (tx) => {
      for (const table of names) await request(tx.objectStore(table).clear());
    }),
    close: () => db.close(),
  };
}
