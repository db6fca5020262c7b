// The core's size budget (issue #12: "the core stays <= 120 KB gzip"): the release module and its loader, as a
// page downloads them, gzip -9 as bench/sizes.mjs measures them. A change that grows the core past it fails here;
// bench/RESULTS.md ("Sizes of the core") says where the bytes are and what won them back before.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { gzipSync } from 'node:zlib';

const BUDGET = 120_000;

it(`the release core (.wasm + loader) is at most ${BUDGET / 1000} KB gzip`, () => {
  const gz = (name) => gzipSync(readFileSync(new URL(`../../js/wasm/${name}`, import.meta.url)), { level: 9 }).length;
  const total = gz('pushpeer-core.wasm') + gz('pushpeer-core.mjs');
  assert.ok(total <= BUDGET, `the core is ${(total / 1000).toFixed(1)} KB gzip`);
});
