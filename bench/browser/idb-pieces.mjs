// Storage alone, as a content store could use it: 64 MiB of incompressible 128 KiB pieces (random bytes, as media
// are: both browsers may compress what they store, so patterned bytes would flatter some ways), written and read
// back in each of the ways below; per way the rate and the CPU the whole browser spent (all its processes and
// threads, /proc: bench/browser/threads.mjs), in the page of each browser. On a 2-core host the CPU per byte is what
// sets a fetch's rate (bench/RESULTS.md, "CPU by thread").
//
//   node bench/browser/idb-pieces.mjs [--mib 64]
//
// Ways:
// - idb blob: IndexedDB, a record per piece { data: Blob, leaves }, four per readwrite transaction; read back with
//   get() and blob.arrayBuffer() (what js/content/content-store.js does);
// - idb bytes: the same with the bytes (an ArrayBuffer) as the record's data;
// - idb blob ×8: a Blob of eight pieces (1 MiB) per record, four records per transaction: the cost per record;
// - opfs sync: a dedicated worker writes each piece at its offset of one file with a FileSystemSyncAccessHandle
//   (flush every four pieces) and reads them back with read().
import { parseArgs } from 'node:util';

import { startWorld } from '../../tests/browser/apps.mjs';
import { difference, snapshot } from './threads.mjs';

const { values: opts } = parseArgs({ options: { mib: { type: 'string', default: '64' } } });
const mib = Number(opts.mib);

// Runs in the page: a function per way, each resolving to { write: ms, read: ms }.
async function pageWay(way, count) {
  const PIECE = 128 * 1024;
  const pieces = Array.from({ length: 8 }, () => {
    const p = new Uint8Array(PIECE);
    for (let o = 0; o < PIECE; o += 65536) crypto.getRandomValues(p.subarray(o, o + 65536));
    return p;
  });
  const leaves = new Uint8Array(256);
  window.__benchWorker?.terminate();
  if (way === 'opfs sync') {
    const source = `onmessage = async ({ data: { count, pieces } }) => {
      const root = await navigator.storage.getDirectory();
      const file = await root.getFileHandle('bench-' + Math.random(), { create: true });
      const h = await file.createSyncAccessHandle();
      let t = performance.now();
      for (let i = 0; i < count; i++) {
        h.write(pieces[i % 8], { at: i * ${PIECE} });
        if (i % 4 === 3) h.flush();
      }
      h.flush();
      const write = performance.now() - t;
      t = performance.now();
      const buf = new Uint8Array(${PIECE});
      for (let i = 0; i < count; i++) h.read(buf, { at: i * ${PIECE} });
      const read = performance.now() - t;
      h.close();
      await root.removeEntry(file.name);
      postMessage({ write, read });
    };`;
    const worker = new Worker(URL.createObjectURL(new Blob([source], { type: 'text/javascript' })));
    const result = await new Promise((resolve, reject) => {
      worker.onmessage = (e) => resolve(e.data);
      worker.onerror = (e) => reject(new Error(e.message));
      worker.postMessage({ count, pieces });
    });
    window.__benchWorker = worker; // ended by the next way, once its CPU was read
    return result;
  }
  const name = `idbbench-${Math.random()}`;
  const open = indexedDB.open(name, 1);
  open.onupgradeneeded = () => open.result.createObjectStore('p');
  const db = await new Promise((res, rej) => { open.onsuccess = () => res(open.result); open.onerror = rej; });
  const asBlob = way.startsWith('idb blob');
  const per = way.endsWith('×8') ? 8 : 1; // pieces per record
  let t = performance.now();
  for (let i = 0; i < count; i += 4 * per) {
    const tx = db.transaction('p', 'readwrite');
    const s = tx.objectStore('p');
    for (let k = i; k < Math.min(count, i + 4 * per); k += per) {
      const parts = Array.from({ length: per }, (_, j) => pieces[(k + j) % 8]);
      let data;
      if (asBlob) {
        data = new Blob(parts);
      } else {
        const all = new Uint8Array(per * PIECE);
        parts.forEach((p, j) => all.set(p, j * PIECE));
        data = all.buffer;
      }
      s.put({ data, leaves: leaves.slice() }, k / per);
    }
    await new Promise((res, rej) => { tx.oncomplete = res; tx.onerror = rej; });
  }
  const write = performance.now() - t;
  t = performance.now();
  for (let i = 0; i < count / per; i++) {
    const v = await new Promise((res, rej) => {
      const q = db.transaction('p').objectStore('p').get(i);
      q.onsuccess = () => res(q.result);
      q.onerror = rej;
    });
    const bytes = asBlob ? await v.data.arrayBuffer() : v.data;
    if (bytes.byteLength !== per * PIECE) throw new Error('short read');
  }
  const read = performance.now() - t;
  db.close();
  await new Promise((res) => { const d = indexedDB.deleteDatabase(name); d.onsuccess = res; d.onerror = res; });
  return { write, read };
}

const cpu = (d) => d.reduce((a, [, v]) => a + v, 0);
const world = await startWorld();
console.log(`\`node bench/browser/idb-pieces.mjs --mib ${mib}\`\n`);
console.log('| browser | way | write MB/s | write CPU s | read MB/s | read CPU s |');
console.log('|---|---|---:|---:|---:|---:|');
try {
  for (const browser of ['firefox', 'chromium']) {
    const app = await world.open(browser, `${browser}-idb`);
    for (const way of ['idb blob', 'idb bytes', 'idb blob ×8', 'opfs sync']) {
      const t0 = snapshot();
      const r = await app.page.evaluate(pageWay, way, (mib * 1024 * 1024) / (128 * 1024));
      const used = cpu(difference(t0, snapshot()));
      const rate = (ms) => ((mib * 1048576) / 1e6 / (ms / 1000)).toFixed(1);
      // CPU is for the write and the read together; split by their wall time (both keep the host busy).
      const share = r.write / (r.write + r.read);
      console.log(`| ${browser} | ${way} | ${rate(r.write)} | ${(used * share).toFixed(2)} | ${rate(r.read)} | ${(used * (1 - share)).toFixed(2)} |`);
    }
  }
} finally {
  await world.close();
}
