// What `npm publish` would upload (`npm pack --dry-run --json`): everything a consumer needs (the entry points,
// their types, the release Wasm module and its loader, the service-worker handler), nothing of the build (tests,
// benchmarks, C++ sources, build trees, the debug flavour), every target package.json names, and every file the
// shipped modules import. Needs the Wasm build (js/wasm/ is generated: bash cmake/build.sh wasm).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { repoRoot } from '../browser/server.mjs';
import { packDryRun } from './app.mjs';

const REQUIRED = [
  'package.json',
  'README.md',
  'js/index.js',
  'js/index.d.ts',
  'js/core.js',
  'js/core.d.ts',
  'relay/relay.js',
  'relay/relay.d.ts',
  'js/wasm/pushpeer-core.mjs',
  'js/wasm/pushpeer-core.wasm',
  'sw/handler.js',
  'sw/handler.d.ts',
  'js/wasm/pushpeer-sw.classic.js',
  'LICENSE',
  'bin/pushpeer.mjs',
];

const FORBIDDEN_DIRS = ['tests/', 'bench/', 'cmake/', 'wasm/', 'build/', 'demo/', 'node_modules/', '.github/'];

// Everything in the tarball must match one of these (a new kind of file is a decision, not an accident).
const ALLOWED = [
  /^package\.json$/,
  /^README\.md$/,
  /^LICEN[CS]E(\.md|\.txt)?$/,
  /^js\/(?:(?:connection|content|mesh|push|signaling|store|swarm|site)\/)?[\w-]+\.(js|d\.ts)$/,
  /^bin\/[\w-]+\.mjs$/,
  /^relay\/relay\.(js|d\.ts)$/,
  /^js\/wasm\/pushpeer-core\.(mjs|wasm)$/,
  /^js\/wasm\/pushpeer-sw\.classic\.js$/,
  /^sw\/[\w-]+\.(js|d\.ts)$/,
  /^docs\/[\w./-]+\.(md|json)$/,
];

/** Every string target in an `exports` value (conditions nested to any depth). */
function exportTargets(value, key = '.') {
  if (typeof value === 'string') return [{ key, target: value }];
  if (value === null) return [];
  return Object.entries(value).flatMap(([k, v]) => exportTargets(v, k.startsWith('.') ? k : key));
}

/** Relative specifiers a module (or declaration file) loads: static/dynamic imports, re-exports, new URL(). */
function relativeReferences(text) {
  const refs = new Set();
  const patterns = [
    /\b(?:import|export)\s[^'"`;]*?\bfrom\s*['"](\.{1,2}\/[^'"]+)['"]/g,
    /\bimport\s*['"](\.{1,2}\/[^'"]+)['"]/g,
    /\bimport\s*\(\s*(?:\/\*[^*]*\*\/\s*)?['"](\.{1,2}\/[^'"]+)['"]\s*\)/g,
    /\bnew URL\(\s*['"]([^'":]+)['"]\s*,\s*import\.meta\.url\s*\)/g,
  ];
  for (const re of patterns) for (const m of text.matchAll(re)) refs.add(m[1]);
  return [...refs];
}

describe('npm pack: the published file list', () => {
  let entry;
  let files;

  before(async () => {
    assert.ok(existsSync(path.join(repoRoot, 'js/wasm/pushpeer-core.wasm')),
      'js/wasm/ is generated: run bash cmake/build.sh wasm first');
    entry = await packDryRun();
    files = entry.files.map((f) => f.path).sort();
  });

  test('has everything a consumer needs', (t) => {
    t.diagnostic(`${entry.filename}: ${files.length} files, ${entry.size} bytes packed, ${entry.unpackedSize} unpacked`);
    for (const f of REQUIRED) assert.ok(files.includes(f), `${f} is not packed`);
  });

  test('has nothing of the build: tests, benchmarks, C++ sources, build trees, the debug flavour', () => {
    for (const f of files) {
      assert.ok(!FORBIDDEN_DIRS.some((dir) => f.startsWith(dir)), `${f} is packed`);
      assert.ok(!/debug/i.test(f), `${f} (debug flavour) is packed`);
      assert.ok(!/\.(cpp|cc|h|hpp|o|a|map|log|tgz)$/.test(f), `${f} is packed`);
    }
    const unexpected = files.filter((f) => !ALLOWED.some((re) => re.test(f)));
    assert.deepEqual(unexpected, [], 'files of no known kind');
  });

  test('every target of main, types and exports is packed', () => {
    const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
    const strip = (p) => p.replace(/^\.\//, '');
    for (const field of ['main', 'types']) assert.ok(files.includes(strip(pkg[field])), `${field}: ${pkg[field]}`);
    const targets = exportTargets(pkg.exports);
    assert.ok(targets.length >= 9, 'exports has its entries');
    for (const { key, target } of targets) {
      if (target.includes('*')) {
        const [prefix, suffix] = strip(target).split('*');
        const matched = files.filter((f) => f.startsWith(prefix) && f.endsWith(suffix));
        assert.ok(matched.length > 0, `exports['${key}'] = ${target} matches no packed file`);
      } else {
        assert.ok(files.includes(strip(target)), `exports['${key}'] = ${target} is not packed`);
      }
    }
    for (const key of ['.', './core', './sw', './relay']) {
      assert.ok(pkg.exports[key]?.types && pkg.exports[key]?.default, `exports['${key}'] has types and default`);
    }
  });

  test('every relative import (and new URL(…, import.meta.url)) in a packed module resolves to a packed file',
    () => {
      let checked = 0;
      for (const f of files.filter((name) => /\.(m?js|d\.ts)$/.test(name))) {
        const text = readFileSync(path.join(repoRoot, f), 'utf8');
        for (const ref of relativeReferences(text)) {
          let target = path.posix.normalize(path.posix.join(path.posix.dirname(f), ref));
          if (f.endsWith('.d.ts')) target = target.replace(/\.js$/, '.d.ts'); // types import './x.js' = x.d.ts
          assert.ok(files.includes(target), `${f} references ${ref} (${target}), which is not packed`);
          checked++;
        }
      }
      assert.ok(checked >= 20, `found ${checked} references`);
    });

  test('README\'s import specifiers are package exports', () => {
    const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
    const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
    const specifiers = new Set([...readme.matchAll(/from '(pushpeer(?:\/[\w./-]+)?)'/g)].map((m) => m[1]));
    assert.ok(specifiers.size >= 3);
    for (const s of specifiers) {
      const key = `.${s.slice('pushpeer'.length)}`;
      assert.ok(key in pkg.exports, `README imports ${s}, which package.json does not export`);
    }
  });
});
