// QR Code encoder for the demo's card links: byte mode (UTF-8), versions 1–40, levels L/M/Q/H, no dependencies.
// Section and table numbers refer to ISO/IEC 18004:2015.

const LEVELS = ['L', 'M', 'Q', 'H'];
// §7.9.1 Table 12: the two error-correction-level bits of the format information (not in L, M, Q, H order).
const FORMAT_LEVEL_BITS = { L: 0b01, M: 0b00, Q: 0b11, H: 0b10 };

// Table 9, per level (rows L, M, Q, H), index = version − 1: error-correction codewords per block …
const EC_PER_BLOCK = [
  [7, 10, 15, 20, 26, 18, 20, 24, 30, 18, 20, 24, 26, 30, 22, 24, 28, 30, 28, 28,
    28, 28, 30, 30, 26, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30],
  [10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26,
    26, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28],
  [13, 22, 18, 26, 18, 24, 18, 22, 20, 24, 28, 26, 24, 20, 30, 24, 28, 28, 26, 30,
    28, 30, 30, 30, 30, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30],
  [17, 28, 22, 16, 22, 28, 26, 26, 24, 28, 24, 28, 22, 24, 24, 30, 28, 28, 26, 28,
    30, 24, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30],
];
// … and the total number of blocks (both groups). The group split follows from the codeword count: blocks differ
// in length by at most one, the shorter ones first (§7.5.2).
const NUM_BLOCKS = [
  [1, 1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 4, 4, 6, 6, 6, 6, 7, 8,
    8, 9, 9, 10, 12, 12, 12, 13, 14, 15, 16, 17, 18, 19, 19, 20, 21, 22, 24, 25],
  [1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16,
    17, 17, 18, 20, 21, 23, 25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49],
  [1, 1, 2, 2, 4, 4, 6, 6, 8, 8, 8, 10, 12, 16, 12, 17, 16, 18, 21, 20,
    23, 23, 25, 27, 29, 34, 34, 35, 38, 40, 43, 45, 48, 51, 53, 56, 59, 62, 65, 68],
  [1, 1, 2, 4, 4, 4, 5, 6, 8, 8, 11, 11, 16, 16, 18, 16, 19, 21, 25, 25,
    25, 34, 30, 32, 35, 37, 40, 42, 45, 48, 51, 54, 57, 60, 63, 66, 70, 74, 77, 81],
];

// GF(256) with the field polynomial x^8 + x^4 + x^3 + x^2 + 1 (0x11d), generator α = 2 (§7.5.2).
const EXP = new Uint8Array(510);
const LOG = new Uint8Array(256);
for (let i = 0, x = 1; i < 255; i++, x = (x << 1) ^ (x & 0x80 ? 0x11d : 0)) {
  EXP[i] = EXP[i + 255] = x;
  LOG[x] = i;
}
const gfMul = (a, b) => (a && b ? EXP[LOG[a] + LOG[b]] : 0);

// Generator polynomial (x − α^0)(x − α^1)…(x − α^(n−1)), highest power first (Annex A).
const generators = new Map();
function rsGenerator(n) {
  if (generators.has(n)) return generators.get(n);
  let g = [1];
  for (let i = 0; i < n; i++) {
    const next = new Array(g.length + 1).fill(0);
    g.forEach((c, j) => { next[j] ^= c; next[j + 1] ^= gfMul(c, EXP[i]); });
    g = next;
  }
  generators.set(n, g);
  return g;
}

// Error-correction codewords: the remainder of data(x)·x^n divided by the generator (a shift register).
function rsRemainder(data, n) {
  const g = rsGenerator(n);
  const rem = new Array(n).fill(0);
  for (const byte of data) {
    const factor = byte ^ rem.shift();
    rem.push(0);
    for (let j = 0; j < n; j++) rem[j] ^= gfMul(g[j + 1], factor);
  }
  return rem;
}

// Remainder of value·x^(degree of poly) divided by poly over GF(2): the BCH check bits of §7.9 and §7.10.
function bchCheck(value, poly) {
  const degree = 31 - Math.clz32(poly);
  let rem = value << degree;
  for (let bit = 31 - Math.clz32(rem); bit >= degree; bit--) if (rem & (1 << bit)) rem ^= poly << (bit - degree);
  return (value << degree) | rem;
}
// §7.9.1: 5 data bits + 10 check bits (generator 0x537), masked with 0x5412 so that it is never all-zero.
const formatBits = (ecc, mask) => bchCheck((FORMAT_LEVEL_BITS[ecc] << 3) | mask, 0x537) ^ 0x5412;
// §7.10: 6-bit version + 12 check bits (generator 0x1f25), versions 7 and up only.
const versionBits = (version) => bchCheck(version, 0x1f25);

// Annex E: alignment centres are 6, then evenly spaced down from size − 7 by an even step; version 32 is the
// table's one exception to the rounding.
function alignmentCenters(version) {
  if (version === 1) return [];
  const count = Math.floor(version / 7) + 2;
  const last = 4 * version + 10;
  const step = version === 32 ? 26 : Math.ceil((last - 6) / (count - 1) / 2) * 2;
  const centers = [6];
  for (let i = count - 2; i >= 0; i--) centers.push(last - i * step);
  return centers;
}

// The function patterns of one version (§6.3): `dark` holds their colours, `fixed` marks every module that is
// not for data (format and version areas included).
function functionPatterns(version) {
  const size = 17 + 4 * version;
  const dark = Array.from({ length: size }, () => new Array(size).fill(false));
  const fixed = Array.from({ length: size }, () => new Array(size).fill(false));
  const set = (x, y, isDark) => { dark[y][x] = isDark; fixed[y][x] = true; };

  // §6.3.5 timing patterns: row and column 6 alternate, dark on even coordinates.
  for (let i = 0; i < size; i++) { set(6, i, i % 2 === 0); set(i, 6, i % 2 === 0); }
  // §6.3.3 finder patterns (7×7 dark/light/3×3 dark) with their light separators (§6.3.4), clipped to the symbol.
  for (const [cx, cy] of [[3, 3], [size - 4, 3], [3, size - 4]]) {
    for (let dy = -4; dy <= 4; dy++) {
      for (let dx = -4; dx <= 4; dx++) {
        const x = cx + dx, y = cy + dy;
        const ring = Math.max(Math.abs(dx), Math.abs(dy));
        if (x >= 0 && y >= 0 && x < size && y < size) set(x, y, ring !== 2 && ring !== 4);
      }
    }
  }
  // §6.3.6 alignment patterns (5×5 dark/light/dark), except the three positions that would overlap a finder.
  const centers = alignmentCenters(version);
  for (const cy of centers) {
    for (const cx of centers) {
      if ((cx < 9 && cy < 9) || (cx > size - 9 && cy < 9) || (cx < 9 && cy > size - 9)) continue;
      for (let dy = -2; dy <= 2; dy++) {
        for (let dx = -2; dx <= 2; dx++) set(cx + dx, cy + dy, Math.max(Math.abs(dx), Math.abs(dy)) !== 1);
      }
    }
  }
  drawFormat(dark, fixed, 0); // reserve the areas; redrawn once the mask is chosen
  if (version >= 7) {
    // §7.10 Figure 27: 6×3 blocks above the bottom-left and left of the top-right finder, bit 0 nearest the corner.
    const bits = versionBits(version);
    for (let i = 0; i < 18; i++) {
      const a = size - 11 + (i % 3), b = Math.floor(i / 3), bit = ((bits >>> i) & 1) === 1;
      set(a, b, bit);
      set(b, a, bit);
    }
  }
  return { size, dark, fixed };
}

// §7.9.1 Figure 25: two copies of the 15 format bits around the finders, plus the always-dark module.
function drawFormat(dark, fixed, bits) {
  const size = dark.length;
  const set = (x, y, i) => { dark[y][x] = ((bits >>> i) & 1) === 1; fixed[y][x] = true; };
  for (let i = 0; i < 15; i++) {
    // Copy 1, around the top-left finder, skipping the timing row and column.
    if (i < 6) set(8, i, i);
    else if (i < 8) set(8, i + 1, i);
    else if (i === 8) set(7, 8, i);
    else set(14 - i, 8, i);
    // Copy 2: bits 0–7 under the top-right finder, 8–14 beside the bottom-left one.
    if (i < 8) set(size - 1 - i, 8, i);
    else set(8, size - 15 + i, i);
  }
  dark[size - 8][8] = true;
  fixed[size - 8][8] = true;
}

// Data codewords available at a version and level: all non-function modules, whole bytes only (the
// remainder bits of §7.7.3 stay unused), minus the error-correction codewords of every block.
const rawCodewordCache = new Map();
function rawCodewords(version) {
  if (!rawCodewordCache.has(version)) {
    let count = 0;
    for (const row of functionPatterns(version).fixed) for (const f of row) if (!f) count++;
    rawCodewordCache.set(version, Math.floor(count / 8));
  }
  return rawCodewordCache.get(version);
}
const dataCodewords = (version, level) =>
  rawCodewords(version) - NUM_BLOCKS[level][version - 1] * EC_PER_BLOCK[level][version - 1];

// §7.4.3 byte mode: indicator 0100, a character count of 8 bits (versions 1–9) or 16 bits (10–40), the bytes.
const countBits = (version) => (version < 10 ? 8 : 16);

function encodeData(bytes, version, level) {
  const capacity = dataCodewords(version, level) * 8;
  const bits = [];
  const push = (value, length) => { for (let i = length - 1; i >= 0; i--) bits.push((value >>> i) & 1); };
  push(0b0100, 4);
  push(bytes.length, countBits(version));
  for (const b of bytes) push(b, 8);
  push(0, Math.min(4, capacity - bits.length)); // §7.4.9 terminator, shortened if the symbol is full
  push(0, (8 - (bits.length % 8)) % 8);
  for (let pad = 0xec; bits.length < capacity; pad ^= 0xec ^ 0x11) push(pad, 8); // §7.4.10 pad codewords
  const codewords = [];
  for (let i = 0; i < bits.length; i += 8) codewords.push(bits.slice(i, i + 8).reduce((acc, b) => (acc << 1) | b, 0));
  return codewords;
}

// §7.5.2 / §7.6: split into blocks (short ones first), add error correction to each, then interleave the data
// codewords column by column, then the error-correction codewords likewise.
function addErrorCorrection(data, version, level) {
  const numBlocks = NUM_BLOCKS[level][version - 1];
  const ecLength = EC_PER_BLOCK[level][version - 1];
  const raw = rawCodewords(version);
  const numShort = numBlocks - (raw % numBlocks);
  const shortData = Math.floor(raw / numBlocks) - ecLength;
  const blocks = [];
  for (let b = 0, offset = 0; b < numBlocks; b++) {
    const length = shortData + (b < numShort ? 0 : 1);
    const block = data.slice(offset, offset + length);
    offset += length;
    blocks.push({ block, ec: rsRemainder(block, ecLength) });
  }
  const out = [];
  for (let i = 0; i <= shortData; i++) for (const { block } of blocks) if (i < block.length) out.push(block[i]);
  for (let i = 0; i < ecLength; i++) for (const { ec } of blocks) out.push(ec[i]);
  return out;
}

// §7.7.3: two-module-wide columns from the right, alternately upwards and downwards, skipping the vertical
// timing column and every function module; codeword bits most significant first.
function placeData(dark, fixed, codewords) {
  const size = dark.length;
  let bit = 0;
  let upward = true;
  for (let right = size - 1; right >= 1; right -= 2, upward = !upward) {
    if (right === 6) right = 5;
    for (let step = 0; step < size; step++) {
      const y = upward ? size - 1 - step : step;
      for (const x of [right, right - 1]) {
        if (fixed[y][x]) continue;
        const byte = codewords[bit >>> 3];
        dark[y][x] = byte !== undefined && ((byte >>> (7 - (bit & 7))) & 1) === 1;
        bit++;
      }
    }
  }
}

// §7.8.2 Table 10: the eight data-mask conditions (i = row, j = column); a module is inverted where true.
const MASKS = [
  (i, j) => (i + j) % 2 === 0,
  (i) => i % 2 === 0,
  (i, j) => j % 3 === 0,
  (i, j) => (i + j) % 3 === 0,
  (i, j) => (Math.floor(i / 2) + Math.floor(j / 3)) % 2 === 0,
  (i, j) => ((i * j) % 2) + ((i * j) % 3) === 0,
  (i, j) => (((i * j) % 2) + ((i * j) % 3)) % 2 === 0,
  (i, j) => (((i + j) % 2) + ((i * j) % 3)) % 2 === 0,
];

// §7.8.3.1 Table 11 penalty for one row or column: N1 = 3 for a run of 5 same-coloured modules, +1 per extra one;
// N3 = 40 for each dark-light-dark×3-light-dark (1:1:3:1:1) with 4 light modules before or after it. Beyond the
// symbol lies the quiet zone, so it counts as light: the 15-module window starts all-light and runs 4 past the end.
function linePenalty(line) {
  let score = 0;
  let window = 0;
  for (let i = 0, run = 0; i < line.length + 4; i++) {
    if (i < line.length) {
      run = i > 0 && line[i] === line[i - 1] ? run + 1 : 1;
      if (run === 5) score += 3;
      else if (run > 5) score += 1;
    }
    window = ((window << 1) | (line[i] ? 1 : 0)) & 0x7fff;
    if (((window >> 4) & 0x7f) === 0b1011101 && ((window & 0xf) === 0 || window >> 11 === 0)) score += 40;
  }
  return score;
}

function penalty(m) {
  const size = m.length;
  let score = 0;
  let darkCount = 0;
  const column = new Array(size);
  for (let a = 0; a < size; a++) {
    for (let i = 0; i < size; i++) column[i] = m[i][a];
    score += linePenalty(m[a]) + linePenalty(column);
  }
  for (let y = 0; y < size; y++) {
    const row = m[y], below = m[y + 1];
    for (let x = 0; x < size; x++) {
      const d = row[x];
      if (d) darkCount++;
      // N2 = 3 for every 2×2 block of one colour (overlapping blocks each count).
      if (below && x + 1 < size && d === row[x + 1] && d === below[x] && d === below[x + 1]) score += 3;
    }
  }
  // N4 = 10 for every full 5 % that the dark proportion deviates from 50 %.
  const total = size * size;
  return score + 10 * Math.floor(Math.abs(darkCount * 20 - total * 10) / total);
}

export function encodeQr(text, { ecc = 'L' } = {}) {
  if (typeof text !== 'string') throw new TypeError('encodeQr: text must be a string');
  if (typeof ecc !== 'string') throw new TypeError('encodeQr: ecc must be one of "L", "M", "Q", "H"');
  const level = LEVELS.indexOf(ecc);
  if (level < 0) throw new RangeError(`encodeQr: unknown error-correction level ${JSON.stringify(ecc)} (use L, M, Q or H)`);
  const bytes = new TextEncoder().encode(text);

  let version = 1;
  while (version <= 40 && 4 + countBits(version) + 8 * bytes.length > dataCodewords(version, level) * 8) version++;
  if (version > 40) {
    const max = Math.floor((dataCodewords(40, level) * 8 - 4 - 16) / 8);
    throw new RangeError(`encodeQr: ${bytes.length} bytes do not fit a QR code at level ${ecc} (at most ${max} bytes)`);
  }

  const codewords = addErrorCorrection(encodeData(bytes, version, level), version, level);
  const { size, dark, fixed } = functionPatterns(version);
  placeData(dark, fixed, codewords);

  let best = null;
  for (let mask = 0; mask < 8; mask++) {
    const candidate = dark.map((row, i) => row.map((d, j) => (fixed[i][j] ? d : d !== MASKS[mask](i, j))));
    drawFormat(candidate, fixed, formatBits(ecc, mask));
    const score = penalty(candidate);
    if (best === null || score < best.score) best = { score, mask, modules: candidate };
  }
  return { size, version, ecc, mask: best.mask, modules: best.modules };
}

const escapeXml = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

// One <path> in module units: each horizontal run of dark modules is one rectangle, "M x y h n v1 h-n z".
export function qrSvg(text, { ecc = 'L', scale = 4, margin = 4, dark = '#000', light = '#fff', title = 'QR code' } = {}) {
  const { size, modules } = encodeQr(text, { ecc });
  const full = size + 2 * margin;
  let d = '';
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      if (!modules[y][x]) continue;
      let n = 1;
      while (x + n < size && modules[y][x + n]) n++;
      d += `M${x + margin} ${y + margin}h${n}v1h-${n}z`;
      x += n - 1;
    }
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" role="img" width="${full * scale}" height="${full * scale}"`
    + ` viewBox="0 0 ${full} ${full}" shape-rendering="crispEdges"><title>${escapeXml(title)}</title>`
    + `<rect width="${full}" height="${full}" fill="${escapeXml(light)}"/>`
    + `<path fill="${escapeXml(dark)}" d="${d}"/></svg>`;
}
