// Sizes of what a page downloads for the core: raw and gzip -9 (what a static host typically serves), and, given a
// release module built with function names (bench/run.sh builds one in build/wasm-names, cmake/Wasm.cmake
// PUSHPEER_WASM_NAMES), which parts of the code take the space.
//   node bench/sizes.mjs [path/to/pushpeer-core.wasm with names]
import { existsSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const files = ['js/wasm/pushpeer-core.wasm', 'js/wasm/pushpeer-core.mjs', 'js/core.js', 'js/errors.js'];
const root = new URL('../', import.meta.url);
const gz = (data) => gzipSync(data, { level: 9 }).length;
let rawTotal = 0;
let gzTotal = 0;
let coreTotal = 0;
console.log('| file | bytes | gzip -9 |');
console.log('|---|---:|---:|');
for (const f of files) {
  const data = readFileSync(new URL(f, root));
  const g = gz(data);
  rawTotal += data.length;
  gzTotal += g;
  if (f.startsWith('js/wasm/')) coreTotal += g;
  console.log(`| ${f} | ${data.length} | ${g} |`);
}
console.log(`| **total** | **${rawTotal}** | **${gzTotal}** |`);
console.log(`\nThe core as the issue counts it (.wasm + its Emscripten loader): **${(coreTotal / 1000).toFixed(1)} KB** gzip.`);

// --- what takes the space: function bodies by origin, from the name section ---

function leb(b, i) {
  let r = 0;
  let shift = 0;
  for (;;) {
    const x = b[i++];
    r += (x & 0x7f) * 2 ** shift;
    shift += 7;
    if (x < 0x80) return [r, i];
  }
}

function functions(wasm) {
  let i = 8;
  let imported = 0;
  let code = null;
  const names = new Map();
  while (i < wasm.length) {
    const id = wasm[i++];
    let size;
    [size, i] = leb(wasm, i);
    const end = i + size;
    if (id === 2) {
      let [n, j] = leb(wasm, i);
      for (let k = 0; k < n; k++) {
        let l;
        [l, j] = leb(wasm, j); j += l;
        [l, j] = leb(wasm, j); j += l;
        const kind = wasm[j++];
        if (kind === 0) { [, j] = leb(wasm, j); imported++; }
        else if (kind === 1) { j++; let f; [f, j] = leb(wasm, j); [, j] = leb(wasm, j); if (f & 1) [, j] = leb(wasm, j); }
        else if (kind === 2) { let f; [f, j] = leb(wasm, j); [, j] = leb(wasm, j); if (f & 1) [, j] = leb(wasm, j); }
        else if (kind === 3) j += 2;
      }
    } else if (id === 10) {
      code = [i, end];
    } else if (id === 0) {
      let [l, j] = leb(wasm, i);
      const name = new TextDecoder().decode(wasm.subarray(j, j + l));
      j += l;
      while (name === 'name' && j < end) {
        const sub = wasm[j++];
        let ss;
        [ss, j] = leb(wasm, j);
        if (sub === 1) {
          let [n, k] = leb(wasm, j);
          for (let m = 0; m < n; m++) {
            let idx;
            let nl;
            [idx, k] = leb(wasm, k);
            [nl, k] = leb(wasm, k);
            names.set(idx, new TextDecoder().decode(wasm.subarray(k, k + nl)));
            k += nl;
          }
        }
        j += ss;
      }
    }
    i = end;
  }
  const out = [];
  let [n, j] = leb(wasm, code[0]);
  for (let f = 0; f < n; f++) {
    let size;
    [size, j] = leb(wasm, j);
    out.push({ name: names.get(imported + f) ?? '?', body: wasm.subarray(j, j + size) });
    j += size;
  }
  return out;
}

const ORIGINS = [
  ['SDP codec (wasm/src/sdp_*)', /pushpeer::sdp|sdp_codec|tokeni|render_token/],
  ['zlib (deflate, inflate)', /deflate|inflate|_tr_|longest_match|fill_window|build_tree|send_tree|compress_block|crc32|adler32|zcalloc|zcfree|huft|gen_bitlen|gen_codes|pqdownheap|scan_tree|bi_/],
  ['P-256 (ours and BearSSL)', /p256|pp_|br_ec|f256|mulgen|muladd|ecdsa|i31|i15/],
  ['AES-GCM, SHA-256, HMAC, HKDF (BearSSL)', /br_aes|ghash|br_sha|sha2|hmac|hkdf|br_enc|br_dec|br_range|symmetric/],
  ['bindings (wasm/bindings, Embind)', /anonymous namespace\)::|emscripten|embind|EmscriptenBindingInitializer|_embind|val::|BindingType|Invoker|__getTypeName/],
  ['cards, grants, envelopes, VAPID, JSON', /pushpeer::(card|grant|envelope|vapid|json|text|webpush|ece|push_request|base64url|VapidTokenCache|status)/],
  ['libc, libc++, malloc', /malloc|free|dlmalloc|memcpy|memset|memmove|std::|operator new|operator delete|__cxa|abort|strlen|sbrk|printf|__/],
];

const named = process.argv[2] ?? 'build/wasm-names/out/pushpeer-core.wasm';
const path = new URL(named, root);
if (!existsSync(path)) {
  console.log(`\n(no module with names at ${named}: build one with cmake -DPUSHPEER_WASM_NAMES=ON for the breakdown)`);
} else {
  const all = functions(readFileSync(path));
  const groups = new Map(ORIGINS.map(([label]) => [label, []]));
  groups.set('other', []);
  for (const f of all) {
    const origin = ORIGINS.find(([, pattern]) => pattern.test(f.name))?.[0] ?? 'other';
    groups.get(origin).push(f.body);
  }
  const totalRaw = all.reduce((s, f) => s + f.body.length, 0);
  console.log(`\nWhat the release module's ${all.length} functions (${totalRaw} bytes of code; the rest is data: SDP`);
  console.log('dictionaries, tables) come from, by the names a build with names gives them; gzip of each group alone:');
  console.log('\n| origin | functions | code bytes | gzip -9 |');
  console.log('|---|---:|---:|---:|');
  for (const [label, bodies] of [...groups].sort((a, b) => b[1].reduce((s, x) => s + x.length, 0) - a[1].reduce((s, x) => s + x.length, 0))) {
    if (bodies.length === 0) continue;
    const raw = bodies.reduce((s, x) => s + x.length, 0);
    console.log(`| ${label} | ${bodies.length} | ${raw} | ${gz(Buffer.concat(bodies))} |`);
  }
}
