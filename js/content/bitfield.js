// Piece bitfields as have frames carry them (docs/PROTOCOL.md §9.4): piece i is bit 7 - i % 8 of byte i / 8 (piece 0
// the high bit of byte 0); the last byte's spare bits stay clear. Shared by the server, the download and the swarm
// scheduler.

export function emptyBitfield(pieces) {
  return new Uint8Array(Math.ceil(pieces / 8));
}

/** Every piece set, the spare bits clear (what a complete file announces). */
export function fullBitfield(pieces) {
  const bits = emptyBitfield(pieces).fill(0xff);
  if (pieces % 8 !== 0) bits[bits.length - 1] = (0xff << (8 - (pieces % 8))) & 0xff;
  return bits;
}

export function setBit(bits, i) {
  bits[i >> 3] |= 0x80 >> (i & 7);
}

export function hasBit(bits, i) {
  return ((bits[i >> 3] >> (7 - (i & 7))) & 1) === 1;
}

/** Whether bits names every one of `pieces` pieces. */
export function isFull(bits, pieces) {
  for (let i = 0; i < pieces; i++) if (!hasBit(bits, i)) return false;
  return true;
}
