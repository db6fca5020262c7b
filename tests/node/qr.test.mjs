// demo/qr.js against an independent decoder (jsQR, pinned in devDependencies) and against facts taken straight from
// ISO/IEC 18004:2015: byte capacities (Table 7), block structure (Table 9), alignment centres (Annex E), the
// format (§7.9) and version (§7.10) BCH codes. The format, version, Reed–Solomon and bit-stream checks below are
// computed here from the spec, not with the encoder's helpers, and are strict: jsQR alone would silently correct
// a few wrong modules.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import jsQR from 'jsqr';

import { encodeQr, qrSvg } from '../../demo/qr.js';

const LEVELS = ['L', 'M', 'Q', 'H'];

// Table 7: byte-mode capacity in bytes, per level, index = version − 1.
const CAPACITY = {
  L: [17, 32, 53, 78, 106, 134, 154, 192, 230, 271, 321, 367, 425, 458, 520, 586, 644, 718, 792, 858,
    929, 1003, 1091, 1171, 1273, 1367, 1465, 1528, 1628, 1732, 1840, 1952, 2068, 2188, 2303, 2431, 2563, 2699, 2809, 2953],
  M: [14, 26, 42, 62, 84, 106, 122, 152, 180, 213, 251, 287, 331, 362, 412, 450, 504, 560, 624, 666,
    711, 779, 857, 911, 997, 1059, 1125, 1190, 1264, 1370, 1452, 1538, 1628, 1722, 1809, 1911, 1989, 2099, 2213, 2331],
  Q: [11, 20, 32, 46, 60, 74, 86, 108, 130, 151, 177, 203, 241, 258, 292, 322, 364, 394, 442, 482,
    509, 565, 611, 661, 715, 751, 805, 868, 908, 982, 1030, 1112, 1168, 1228, 1283, 1351, 1423, 1499, 1579, 1663],
  H: [7, 14, 24, 34, 44, 58, 64, 84, 98, 119, 137, 155, 177, 194, 220, 250, 280, 310, 338, 382,
    403, 439, 461, 511, 535, 593, 625, 658, 698, 742, 790, 842, 898, 958, 983, 1051, 1093, 1139, 1219, 1273],
};

// Annex E: alignment-pattern centre coordinates for the versions checked module by module.
const ALIGNMENT = {
  1: [], 2: [6, 18], 5: [6, 30], 7: [6, 22, 38], 10: [6, 28, 50], 14: [6, 26, 46, 66], 20: [6, 34, 62, 90],
  21: [6, 28, 50, 72, 94], 32: [6, 34, 60, 86, 112, 138], 36: [6, 24, 50, 76, 102, 128, 154],
  40: [6, 30, 58, 86, 114, 142, 170],
};

// Table 9 in the standard's own form, for the symbols whose code words are checked: [blocks, (c, k)] groups.
const BLOCKS = {
  '1-L': [[1, 26, 19]], '1-H': [[1, 26, 9]], '5-Q': [[2, 33, 15], [2, 34, 16]], '10-M': [[4, 69, 43], [1, 70, 44]],
  '20-L': [[3, 135, 107], [5, 136, 108]], '21-Q': [[17, 50, 22], [6, 51, 23]], '40-H': [[20, 45, 15], [61, 46, 16]],
};
// Table 1: remainder bits after the last codeword.
const remainderBits = (v) => (v === 1 ? 0 : v <= 6 ? 7 : v <= 13 ? 0 : v <= 20 ? 3 : v <= 27 ? 4 : v <= 34 ? 3 : 0);

// xorshift32: reproducible "random" inputs.
function rng(seed) {
  let s = seed >>> 0 || 1;
  return () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 2 ** 32; };
}
const randInt = (rand, lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));
const PRINTABLE = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 -_.~!#$%&()*+,/:;=?@[]';
const B64U = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const randomText = (rand, n, alphabet = PRINTABLE) => {
  const chars = [...alphabet]; // code points, so 😀 stays whole
  return Array.from({ length: n }, () => chars[Math.floor(rand() * chars.length)]).join('');
};
const utf8 = (s) => new TextEncoder().encode(s);

// Modules → RGBA image, 3 px per module and a 4-module white quiet zone, then jsQR.
function decode(modules, px = 3, quiet = 4) {
  const n = (modules.length + 2 * quiet) * px;
  const rgba = new Uint8ClampedArray(n * n * 4).fill(255);
  modules.forEach((row, y) => row.forEach((dark, x) => {
    if (!dark) return;
    for (let dy = 0; dy < px; dy++) {
      const start = (((y + quiet) * px + dy) * n + (x + quiet) * px) * 4;
      for (let o = start; o < start + px * 4; o += 4) rgba[o] = rgba[o + 1] = rgba[o + 2] = 0;
    }
  }));
  return jsQR(rgba, n, n, { inversionAttempts: 'dontInvert' });
}

// BCH check bits: remainder of value·x^deg(g) modulo g over GF(2), long division from the top bit.
function bch(value, generator, checkBits) {
  let r = value * 2 ** checkBits;
  for (let bit = checkBits + 15; bit >= checkBits; bit--) if (r & (1 << bit)) r ^= generator << (bit - checkBits);
  return value * 2 ** checkBits + r;
}
const FORMAT_LEVEL = { L: 1, M: 0, Q: 3, H: 2 }; // §7.9.1 Table 12

// Figure 25 positions ([x, y]) of format bits 14 … 0 in each copy.
function formatPositions(size) {
  const first = [[0, 8], [1, 8], [2, 8], [3, 8], [4, 8], [5, 8], [7, 8], [8, 8], [8, 7], [8, 5], [8, 4], [8, 3], [8, 2], [8, 1], [8, 0]];
  const second = [];
  for (let y = size - 1; y >= size - 7; y--) second.push([8, y]);
  for (let x = size - 8; x < size; x++) second.push([x, 8]);
  return [first, second];
}
const readBits = (m, positions) => positions.reduce((acc, [x, y]) => acc * 2 + (m[y][x] ? 1 : 0), 0);

// Structure of any symbol: size, finders with separators, timing, dark module, format and version information.
function checkStructure(q, ecc) {
  const { size, version, modules: m } = q;
  assert.equal(size, 17 + 4 * version);
  assert.equal(m.length, size);
  for (const row of m) { assert.equal(row.length, size); for (const d of row) assert.equal(typeof d, 'boolean'); }
  assert.equal(q.ecc, ecc);
  for (const [ox, oy] of [[0, 0], [size - 7, 0], [0, size - 7]]) {
    for (let dy = -1; dy <= 7; dy++) {
      for (let dx = -1; dx <= 7; dx++) {
        const x = ox + dx, y = oy + dy;
        if (x < 0 || y < 0 || x >= size || y >= size) continue;
        const inside = dx >= 0 && dx <= 6 && dy >= 0 && dy <= 6;
        const ring = Math.max(Math.abs(dx - 3), Math.abs(dy - 3));
        assert.equal(m[y][x], inside && ring !== 2, `finder module (${x},${y}) of v${version}`);
      }
    }
  }
  for (let i = 8; i < size - 8; i++) {
    assert.equal(m[6][i], i % 2 === 0, `timing row at ${i}`);
    assert.equal(m[i][6], i % 2 === 0, `timing column at ${i}`);
  }
  assert.equal(m[size - 8][8], true, 'dark module');
  const [first, second] = formatPositions(size).map((p) => readBits(m, p));
  assert.equal(first, second, 'both format copies agree');
  assert.ok(q.mask >= 0 && q.mask <= 7);
  assert.equal(first, bch((FORMAT_LEVEL[ecc] << 3) | q.mask, 0x537, 10) ^ 0x5412, `format info for ${ecc}/${q.mask}`);
  if (version >= 7) {
    // §7.10 Figure 27: bit i at (size − 11 + i mod 3, ⌊i/3⌋) in the top-right block, transposed bottom-left.
    let topRight = 0, bottomLeft = 0;
    for (let i = 17; i >= 0; i--) {
      const a = size - 11 + (i % 3), b = Math.floor(i / 3);
      topRight = topRight * 2 + (m[b][a] ? 1 : 0);
      bottomLeft = bottomLeft * 2 + (m[a][b] ? 1 : 0);
    }
    const expected = bch(version, 0x1f25, 12);
    assert.equal(topRight, expected, `version info (top right) v${version}`);
    assert.equal(bottomLeft, expected, `version info (bottom left) v${version}`);
  }
  if (ALIGNMENT[version]) {
    const c = ALIGNMENT[version];
    for (const cy of c) {
      for (const cx of c) {
        if ((cx === 6 && cy === 6) || (cx === 6 && cy === c.at(-1)) || (cx === c.at(-1) && cy === 6)) continue;
        for (let dy = -2; dy <= 2; dy++) {
          for (let dx = -2; dx <= 2; dx++) {
            assert.equal(m[cy + dy][cx + dx], Math.max(Math.abs(dx), Math.abs(dy)) !== 1, `alignment (${cx},${cy}) v${version}`);
          }
        }
      }
    }
  }
}

function encodeAndCheck(text, ecc) {
  const q = ecc === undefined ? encodeQr(text) : encodeQr(text, { ecc });
  checkStructure(q, ecc ?? 'L');
  return q;
}

function assertDecodes(q, text) {
  const result = decode(q.modules);
  assert.ok(result, `jsQR found no code (v${q.version}-${q.ecc}, ${text.length} chars)`);
  assert.equal(result.version, q.version);
  assert.deepEqual(Uint8Array.from(result.binaryData), utf8(text));
  assert.equal(result.data, text);
}

// GF(256), polynomial 0x11d (§7.5.2), for syndromes.
const EXP = [], LOG = [];
for (let i = 0, x = 1; i < 255; i++) { EXP[i] = x; LOG[x] = i; x <<= 1; if (x > 255) x ^= 0x11d; }
const mul = (a, b) => (a === 0 || b === 0 ? 0 : EXP[(LOG[a] + LOG[b]) % 255]);

// Reads the code words back (§7.7.3 placement, §7.8.2 masks), checks every block's Reed–Solomon syndromes are zero
// and the data bit stream is exactly mode 0100, count, bytes, terminator, zero bits, 0xEC/0x11 pads (§7.4).
// Modules that are not for data (§6.3, §7.9, §7.10), from the Annex E table above.
function isFunction(version, x, y) {
  const size = 17 + 4 * version, align = ALIGNMENT[version], last = align.at(-1);
  if ((x < 9 && y < 9) || (x >= size - 8 && y < 9) || (x < 9 && y >= size - 8) || x === 6 || y === 6) return true;
  if (version >= 7 && ((x < 6 && y >= size - 11 && y < size - 8) || (y < 6 && x >= size - 11 && x < size - 8))) return true;
  return align.some((cy) => align.some((cx) => !((cx === 6 && cy === 6) || (cx === 6 && cy === last) || (cx === last && cy === 6))
    && Math.abs(x - cx) <= 2 && Math.abs(y - cy) <= 2));
}
// §7.8.2 Table 10 mask conditions, i = row, j = column.
const MASK_FNS = [
  (i, j) => (i + j) % 2 === 0, (i) => i % 2 === 0, (i, j) => j % 3 === 0, (i, j) => (i + j) % 3 === 0,
  (i, j) => (Math.floor(i / 2) + Math.floor(j / 3)) % 2 === 0, (i, j) => ((i * j) % 2) + ((i * j) % 3) === 0,
  (i, j) => (((i * j) % 2) + ((i * j) % 3)) % 2 === 0, (i, j) => (((i + j) % 2) + ((i * j) % 3)) % 2 === 0,
];

// §7.8.3.1 Table 11 penalty, written with strings: runs of 5+ (3 + extra), 2×2 blocks (3), 1:1:3:1:1 with 4 light
// modules before or after, the quiet zone counting as light (40), dark share off 50 % by whole 5 % steps (10 each).
function penaltyOf(m) {
  const size = m.length;
  const lines = [...m, ...m.map((_, x) => m.map((row) => row[x]))].map((l) => l.map((d) => (d ? '1' : '0')).join(''));
  let score = 0;
  for (const line of lines) {
    for (const [run] of line.matchAll(/0{5,}|1{5,}/g)) score += run.length - 2;
    const padded = `0000${line}0000`;
    for (let i = padded.indexOf('1011101'); i >= 0; i = padded.indexOf('1011101', i + 1)) {
      if (padded.slice(i - 4, i) === '0000' || padded.slice(i + 7, i + 11) === '0000') score += 40;
    }
  }
  for (let y = 0; y + 1 < size; y++) {
    for (let x = 0; x + 1 < size; x++) {
      const c = m[y][x];
      if (m[y][x + 1] === c && m[y + 1][x] === c && m[y + 1][x + 1] === c) score += 3;
    }
  }
  const dark = m.flat().filter(Boolean).length;
  return score + 10 * Math.floor(Math.abs(100 * dark - 50 * size * size) / (5 * size * size));
}

// The same symbol under another mask: data modules re-masked, format information rewritten.
function remask(q, mask) {
  const m = q.modules.map((row, y) => row.map((d, x) =>
    (isFunction(q.version, x, y) ? d : d !== MASK_FNS[q.mask](y, x) !== MASK_FNS[mask](y, x))));
  const bits = bch((FORMAT_LEVEL[q.ecc] << 3) | mask, 0x537, 10) ^ 0x5412;
  for (const positions of formatPositions(q.size)) positions.forEach(([x, y], k) => { m[y][x] = ((bits >> (14 - k)) & 1) === 1; });
  return m;
}

// Reads the code words back (§7.7.3 placement, §7.8.2 masks), checks every block's Reed–Solomon syndromes are zero
// and the data bit stream is exactly mode 0100, count, bytes, terminator, zero bits, 0xEC/0x11 pads (§7.4).
function checkCodewords(q, text) {
  const { size, version, modules: m } = q;
  const maskFn = MASK_FNS[q.mask];
  const bits = [];
  for (let col = size - 1, pair = 0; col > 0; col -= 2, pair++) {
    if (col === 6) col--;
    for (let k = 0; k < size; k++) {
      const y = pair % 2 === 0 ? size - 1 - k : k;
      for (const x of [col, col - 1]) if (!isFunction(version, x, y)) bits.push(m[y][x] !== maskFn(y, x) ? 1 : 0);
    }
  }
  const groups = BLOCKS[`${version}-${q.ecc}`];
  const total = groups.reduce((n, [count, c]) => n + count * c, 0);
  assert.equal(bits.length, total * 8 + remainderBits(version), 'data modules = codewords + remainder bits');
  const words = [];
  for (let i = 0; i < total * 8; i += 8) words.push(parseInt(bits.slice(i, i + 8).join(''), 2));

  // De-interleave (§7.6): data words column by column over all blocks, then the EC words likewise.
  const blocks = groups.flatMap(([count, c, k]) => Array.from({ length: count }, () => ({ c, k, data: [], ec: [] })));
  let next = 0;
  for (let i = 0; i < Math.max(...blocks.map((b) => b.k)); i++) for (const b of blocks) if (i < b.k) b.data.push(words[next++]);
  for (let i = 0; i < blocks[0].c - blocks[0].k; i++) for (const b of blocks) b.ec.push(words[next++]);
  assert.equal(next, total);
  for (const b of blocks) {
    const cw = [...b.data, ...b.ec];
    for (let i = 0; i < b.c - b.k; i++) {
      const root = EXP[i];
      assert.equal(cw.reduce((acc, w) => mul(acc, root) ^ w, 0), 0, `syndrome ${i} of a block of v${version}-${q.ecc}`);
    }
  }

  const stream = blocks.flatMap((b) => b.data).flatMap((w) => [7, 6, 5, 4, 3, 2, 1, 0].map((s) => (w >> s) & 1));
  let pos = 0;
  const take = (n) => { const v = parseInt(stream.slice(pos, pos + n).join('') || '0', 2); pos += n; return v; };
  const bytes = utf8(text);
  assert.equal(take(4), 0b0100, 'byte mode indicator');
  assert.equal(take(version < 10 ? 8 : 16), bytes.length, 'character count');
  assert.deepEqual(Uint8Array.from({ length: bytes.length }, () => take(8)), bytes);
  const terminator = Math.min(4, stream.length - pos);
  assert.equal(take(terminator), 0, 'terminator');
  assert.equal(take((8 - (pos % 8)) % 8), 0, 'zero bits to the byte boundary');
  for (let pad = 0xec; pos < stream.length; pad = pad === 0xec ? 0x11 : 0xec) assert.equal(take(8), pad, 'pad codeword');
}

describe('encodeQr', () => {
  it('chooses the smallest version: Table 7 capacity fits version v, one more byte needs v + 1 (all 160)', () => {
    for (const ecc of LEVELS) {
      CAPACITY[ecc].forEach((cap, i) => {
        assert.equal(encodeQr('a'.repeat(cap), { ecc }).version, i + 1, `${cap} bytes at ${ecc}`);
        if (i < 39) assert.equal(encodeQr('a'.repeat(cap + 1), { ecc }).version, i + 2, `${cap + 1} bytes at ${ecc}`);
      });
    }
  });

  it('decodes boundary lengths (capacity and capacity + 1) around versions 1, 9, 20, 39 at each level', () => {
    const rand = rng(7);
    for (const ecc of LEVELS) {
      for (const v of [1, 9, 20, 39]) {
        for (const extra of [0, 1]) {
          const text = randomText(rand, CAPACITY[ecc][v - 1] + extra);
          const q = encodeAndCheck(text, ecc);
          assert.equal(q.version, v + extra);
          assertDecodes(q, text);
        }
      }
    }
  });

  it('decodes random lengths across versions 1–40 at every level (each version at least once)', () => {
    const rand = rng(0x5eed);
    const seen = new Set();
    for (const [li, ecc] of LEVELS.entries()) {
      for (let v = 1; v <= 40; v++) {
        if ((v + li) % 3 !== 0) continue;
        const len = randInt(rand, v === 1 ? 0 : CAPACITY[ecc][v - 2] + 1, CAPACITY[ecc][v - 1]);
        const text = randomText(rand, len);
        const q = encodeAndCheck(text, ecc);
        assert.equal(q.version, v, `${len} bytes at ${ecc}`);
        assertDecodes(q, text);
        seen.add(v);
      }
    }
    assert.equal(seen.size, 40);
  });

  it('handles the empty string, one byte, and the default level L', () => {
    for (const ecc of LEVELS) {
      for (const text of ['', 'x']) {
        const q = encodeAndCheck(text, ecc);
        assert.equal(q.version, 1);
        assertDecodes(q, text);
      }
    }
    const q = encodeAndCheck('pushpeer');
    assert.equal(q.ecc, 'L');
    assertDecodes(q, 'pushpeer');
    assert.deepEqual(encodeQr('pushpeer'), q, 'deterministic');
  });

  it('encodes UTF-8 bytes (2-, 3- and 4-byte characters) and sizes by bytes, not characters', () => {
    assert.equal(encodeQr('é'.repeat(8)).version, 1); // 16 bytes ≤ 17
    assert.equal(encodeQr('é'.repeat(9)).version, 2); // 18 bytes
    const rand = rng(99);
    const samples = ['héllo wörld', '日本語のテキスト', 'emoji 🔗🙂 and ∑ math', 'Ελληνικά · кириллица · עברית'];
    samples.push(randomText(rand, 300, 'aé€😀ß中'));
    for (const [i, text] of samples.entries()) {
      const q = encodeAndCheck(text, LEVELS[i % 4]);
      assertDecodes(q, text);
    }
  });

  it('encodes realistic pushpeer card links (700–800 characters)', () => {
    const rand = rng(2024);
    const prefix = 'https://user.github.io/pushpeer/demo/#card=';
    for (const total of [700, 720, 745, 764, 780, 800]) {
      const text = prefix + randomText(rand, total - prefix.length, B64U);
      const q = encodeAndCheck(text, 'L');
      assert.ok(q.version >= 18 && q.version <= 20, `v${q.version} for ${total} chars`);
      assertDecodes(q, text);
    }
    const text = prefix + randomText(rand, 690, B64U);
    const q = encodeAndCheck(text, 'M');
    assertDecodes(q, text);
  });

  it('has zero Reed–Solomon syndromes and an exact bit stream (Table 9 blocks, §7.4 padding)', () => {
    const rand = rng(31337);
    const cases = [['1-L', 0], ['1-H', 7], ['5-Q', 55], ['10-M', 213], ['20-L', 800], ['21-Q', 500], ['40-H', 1273]];
    for (const [key, len] of cases) {
      const [v, ecc] = key.split('-');
      const text = randomText(rand, len);
      const q = encodeAndCheck(text, ecc);
      assert.equal(q.version, Number(v));
      checkCodewords(q, text);
    }
  });

  it('picks the mask with the lowest §7.8.3 penalty (first on a tie)', () => {
    const rand = rng(4242);
    for (const [v, ecc] of [[1, 'L'], [1, 'H'], [2, 'M'], [5, 'Q'], [7, 'L'], [10, 'M'], [14, 'H'], [20, 'L']]) {
      const text = randomText(rand, CAPACITY[ecc][v - 1]);
      const q = encodeAndCheck(text, ecc);
      const scores = [0, 1, 2, 3, 4, 5, 6, 7].map((mask) => penaltyOf(remask(q, mask)));
      assert.deepEqual(remask(q, q.mask), q.modules, 're-masking with the chosen mask is the identity');
      assert.equal(q.mask, scores.indexOf(Math.min(...scores)), `v${v}-${ecc} scores ${scores}`);
      assertDecodes({ ...q, modules: remask(q, (q.mask + 3) % 8), mask: (q.mask + 3) % 8 }, text);
    }
  });

  it('places alignment patterns and version information per Annex E and §7.10', () => {
    for (const v of [2, 7, 14, 21, 32, 36, 40]) {
      const q = encodeAndCheck('a'.repeat(CAPACITY.Q[v - 1]), 'Q');
      assert.equal(q.version, v);
    }
  });

  it('rejects data beyond version 40 with a RangeError', () => {
    for (const ecc of LEVELS) {
      assert.equal(encodeQr('a'.repeat(CAPACITY[ecc][39]), { ecc }).version, 40);
      assert.throws(() => encodeQr('a'.repeat(CAPACITY[ecc][39] + 1), { ecc }), RangeError);
    }
    assert.throws(() => encodeQr('€'.repeat(985)), { name: 'RangeError', message: /2955 bytes/ });
  });

  it('rejects a bad level or a non-string text', () => {
    for (const ecc of ['X', '', 'LM', 'low']) assert.throws(() => encodeQr('a', { ecc }), RangeError);
    for (const ecc of [1, null, {}]) assert.throws(() => encodeQr('a', { ecc }), TypeError);
    for (const text of [undefined, null, 42, new Uint8Array(3)]) assert.throws(() => encodeQr(text), TypeError);
  });
});

describe('qrSvg', () => {
  // A minimal well-formedness check: every tag closes, in order.
  function assertBalanced(svg) {
    const stack = [];
    for (const [, close, name, selfClose] of svg.matchAll(/<(\/?)([a-zA-Z]+)[^>]*?(\/?)>/g)) {
      if (close) assert.equal(stack.pop(), name);
      else if (!selfClose) stack.push(name);
    }
    assert.deepEqual(stack, []);
  }

  // Rebuilds the module grid (quiet zone included) from the path's "M x y h n v1 h-n z" rectangles.
  function pathModules(svg, full) {
    const paths = [...svg.matchAll(/<path\b[^>]*\bd="([^"]*)"/g)];
    assert.equal(paths.length, 1, 'one path');
    const d = paths[0][1];
    const grid = Array.from({ length: full }, () => new Array(full).fill(false));
    let consumed = 0;
    for (const cmd of d.matchAll(/M(\d+) (\d+)h(\d+)v1h-(\d+)z/g)) {
      const [, x, y, n, back] = cmd.map(Number);
      assert.equal(n, back, 'closed rectangle');
      for (let i = 0; i < n; i++) { assert.equal(grid[y][x + i], false, 'no overlap'); grid[y][x + i] = true; }
      consumed += cmd[0].length;
    }
    assert.equal(consumed, d.length, 'the path holds only rectangle commands');
    return grid;
  }

  it('draws exactly the dark modules, inside a quiet zone, as one path', () => {
    for (const [text, opts] of [['https://user.github.io/pushpeer/demo/#card=abc', {}], ['x', { ecc: 'H', margin: 0, scale: 1 }],
      ['a'.repeat(500), { ecc: 'M', margin: 2, scale: 3 }]]) {
      const svg = qrSvg(text, opts);
      const { size, modules } = encodeQr(text, { ecc: opts.ecc ?? 'L' });
      const margin = opts.margin ?? 4, scale = opts.scale ?? 4, full = size + 2 * margin;
      assert.match(svg, /^<svg /);
      assert.match(svg, /role="img"/);
      assert.match(svg, new RegExp(`viewBox="0 0 ${full} ${full}"`));
      assert.match(svg, new RegExp(`width="${full * scale}" height="${full * scale}"`));
      assert.match(svg, /<title>[^<]+<\/title>/);
      assertBalanced(svg);
      const grid = pathModules(svg, full);
      for (let y = 0; y < full; y++) {
        for (let x = 0; x < full; x++) {
          const inside = x >= margin && y >= margin && x < size + margin && y < size + margin;
          assert.equal(grid[y][x], inside && modules[y - margin][x - margin], `module (${x},${y})`);
        }
      }
    }
  });

  it('escapes the title and colours, and uses them', () => {
    const svg = qrSvg('hi', { title: 'Card <for> "Ann" & \'Bob\'', dark: '#123', light: 'rgb(1, 2, 3)' });
    assert.match(svg, /<title>Card &#60;for&#62; &#34;Ann&#34; &#38; &#39;Bob&#39;<\/title>/);
    assert.doesNotMatch(svg, /<for>/);
    assert.match(svg, /<path fill="#123"/);
    assert.match(svg, /fill="rgb\(1, 2, 3\)"/);
    assertBalanced(svg);
    assert.throws(() => qrSvg('a'.repeat(3000)), RangeError);
  });
});
