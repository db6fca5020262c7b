// Sizes of what a page downloads for the core: raw and gzip -9 (what a static host typically serves).
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const files = ['js/wasm/pushpeer-core.wasm', 'js/wasm/pushpeer-core.mjs', 'js/core.js', 'js/errors.js'];
const root = new URL('../', import.meta.url);
let raw = 0;
let gz = 0;
console.log('| file | bytes | gzip -9 |');
console.log('|---|---:|---:|');
for (const f of files) {
  const data = readFileSync(new URL(f, root));
  const g = gzipSync(data, { level: 9 }).length;
  raw += data.length;
  gz += g;
  console.log(`| ${f} | ${data.length} | ${g} |`);
}
console.log(`| **total** | **${raw}** | **${gz}** |`);
