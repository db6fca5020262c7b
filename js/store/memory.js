// The in-memory backend of the store (js/store/store.js), for tests and Node: the same primitives as the IndexedDB
// one (js/store/indexeddb.js), values structured-cloned as IndexedDB does, so that what went in or came out can be
// changed without changing the store.
const clone = (v) => (v === undefined ? undefined : structuredClone(v));

/** `tables` as for openIndexedDbBackend: { name: { key, autoIncrement, indexes: { name: keyPath } } }. */
export function createMemoryBackend({ name, tables }) {
  const data = new Map(Object.keys(tables).map((table) => [table, new Map()]));
  let nextId = 1;
  const rows = (table) => data.get(table);
  const keyOf = (table, value, key) => key ?? value[tables[table].key];
  const matches = (value, keyPath, wanted) => keyPath.every((field, i) => value[field] === wanted[i]);

  return {
    name,
    get: async (table, key) => clone(rows(table).get(key)),
    put: async (table, value, key) => void rows(table).set(keyOf(table, value, key), clone(value)),
    putAll: async (table, values) => {
      for (const v of values) rows(table).set(keyOf(table, v), clone(v));
    },
    add: async (table, value) => {
      const id = nextId++;
      rows(table).set(id, clone({ ...value, [tables[table].key]: id }));
      return id;
    },
    delete: async (table, key) => void rows(table).delete(key),
    deleteRange: async (table, lower, upper) => {
      for (const key of [...rows(table).keys()]) if (key >= lower && key <= upper) rows(table).delete(key);
    },
    getAll: async (table) => [...rows(table).values()].map(clone),
    getAllByIndex: async (table, index, value) => {
      const keyPath = tables[table].indexes[index];
      return [...rows(table).values()].filter((v) => matches(v, keyPath, value)).map(clone);
    },
    update: async (table, key, change) => {
      const next = change(clone(rows(table).get(key)));
      if (next !== undefined) rows(table).set(key, clone(next));
      return clone(next);
    },
    walk: async (table, visit) => {
      const map = rows(table);
      let dropped = 0;
      for (const [key, value] of map) {
        const step = visit(value, map.size);
        if (step === 'stop') break;
        if (step === 'drop') {
          map.delete(key);
          dropped++;
        }
      }
      return dropped;
    },
    clear: async (names) => {
      for (const table of names) rows(table).clear();
    },
    close: () => {},
  };
}
