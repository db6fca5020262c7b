// Bytes per signaling message over the SDP corpus (tests/corpus/sdp, read in place): the SDP text, its raw deflate
// (level 9), JSON of the session description, deflate+base64 of that JSON, brotli of the SDP (best quality), and
// pushpeer's packSdp; plus pack/unpack time of the Wasm core. Nothing here asserts.
import { readdirSync, readFileSync } from 'node:fs';
import { brotliCompressSync, constants, deflateRawSync } from 'node:zlib';

import { loadCore } from '../../js/core.js';

const dir = new URL('../../tests/corpus/sdp/', import.meta.url);
const core = await loadCore();
const files = readdirSync(dir).filter((f) => f.endsWith('.sdp')).sort();

console.log('| SDP | text | raw deflate | JSON | deflate+base64 | brotli (q11) | pushpeer | pack µs | unpack µs |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const f of files) {
  const sdp = readFileSync(new URL(f, dir), 'utf8');
  const json = JSON.stringify({ type: f.includes('offer') ? 'offer' : 'answer', sdp });
  const deflated = deflateRawSync(Buffer.from(json), { level: 9 }).toString('base64').length;
  const brotli = brotliCompressSync(Buffer.from(sdp), { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
  const packed = core.packSdp(sdp);
  const time = (fn, n = 300) => {
    for (let i = 0; i < 30; i++) fn();
    const t = process.hrtime.bigint();
    for (let i = 0; i < n; i++) fn();
    return Number(process.hrtime.bigint() - t) / 1000 / n;
  };
  const pack = time(() => core.packSdp(sdp));
  const unpack = time(() => core.unpackSdp(packed));
  const raw = deflateRawSync(Buffer.from(sdp), { level: 9 }).length;
  console.log(`| ${f} | ${sdp.length} | ${raw} | ${json.length} | ${deflated} | ${brotli} | **${packed.length}** | ` +
    `${pack.toFixed(0)} | ${unpack.toFixed(0)} |`);
}
