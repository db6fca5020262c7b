// IndexedDB alone, as the content store uses it: 64 MiB written as 128 KiB pieces (with 256 bytes of leaf hashes),
// four per readwrite transaction, as a Blob (what js/content/content-store.js stores) with relaxed and default
// durability, and as bytes; then read back as Blobs (what a sharer does). MB/s per browser, on stdout.
//
//   node bench/browser/idb-pieces.mjs
import { startWorld } from '../../tests/browser/apps.mjs';
const world = await startWorld();
console.log('| browser | Blob, relaxed (MB/s) | Blob, default | bytes, relaxed | read as Blob |');
console.log('|---|---:|---:|---:|---:|');
try {
  for (const browser of ['firefox', 'chromium']) {
    const app = await world.open(browser, `${browser}-idb`);
    const r = await app.page.evaluate(async () => {
      const open = indexedDB.open('idbbench', 1);
      open.onupgradeneeded = () => open.result.createObjectStore('p');
      const db = await new Promise((res, rej) => { open.onsuccess = () => res(open.result); open.onerror = rej; });
      const piece = new Uint8Array(128 * 1024);
      for (let i = 0; i < piece.length; i++) piece[i] = i * 7;
      const out = {};
      for (const [label, make, durability] of [['blob', (b) => new Blob([b]), 'relaxed'], ['blob-default', (b) => new Blob([b]), 'default'],
        ['bytes', (b) => b.slice(), 'relaxed']]) {
        const t0 = performance.now();
        for (let batch = 0; batch < 128; batch++) {
          const tx = db.transaction('p', 'readwrite', { durability });
          const s = tx.objectStore('p');
          for (let k = 0; k < 4; k++) s.put({ data: make(piece), leaves: piece.subarray(0, 256).slice() }, `${label}:${batch}:${k}`);
          await new Promise((res, rej) => { tx.oncomplete = res; tx.onerror = rej; });
        }
        out[label] = (64 * 1024 * 1024 / 1e6) / ((performance.now() - t0) / 1000);
      }
      // reads
      const t1 = performance.now();
      for (let batch = 0; batch < 128; batch++) {
        for (let k = 0; k < 4; k++) {
          const v = await new Promise((res) => { const q = db.transaction('p').objectStore('p').get(`blob:${batch}:${k}`); q.onsuccess = () => res(q.result); });
          await v.data.arrayBuffer();
        }
      }
      out.readBlob = (64 * 1024 * 1024 / 1e6) / ((performance.now() - t1) / 1000);
      return out;
    });
    console.log(`| ${browser} | ${r.blob.toFixed(1)} | ${r['blob-default'].toFixed(1)} | ${r.bytes.toFixed(1)} | ${r.readBlob.toFixed(1)} |`);
  }
} finally {
  await world.close();
}
