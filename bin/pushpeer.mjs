#!/usr/bin/env node
// pushpeer's command line: a publisher's key, and the signed manifest of a site's folder (docs/PROTOCOL.md §10).
//   pushpeer keygen > publisher.key
//   pushpeer publish dist/ --key publisher.key [--include 'assets/**'] [--exclude '*.map'] [--version N]
//     [--previous old/pushpeer-site.bin] [--title text]
import { readFile } from 'node:fs/promises';

import { loadCore } from '../js/core.js';
import { generatePublisherKey, publishSite } from './site-publish.mjs';

const USAGE = `usage:
  pushpeer keygen > publisher.key
  pushpeer publish <folder> --key <file> [--include <glob>]... [--exclude <glob>]... [--version <n>]
                   [--previous <pushpeer-site.bin>] [--title <text>]`;

function options(args) {
  const o = { include: [], exclude: [], rest: [] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = () => {
      if (i + 1 >= args.length) throw new Error(`${a} needs a value`);
      return args[++i];
    };
    if (a === '--include' || a === '--exclude') o[a.slice(2)].push(value());
    else if (a === '--key' || a === '--previous' || a === '--title') o[a.slice(2)] = value();
    else if (a === '--version') {
      const v = value();
      if (!/^\d+$/.test(v)) throw new Error(`--version ${v}: a whole number`);
      o.version = Number(v);
    } else if (a.startsWith('--')) throw new Error(`unknown option ${a}`);
    else o.rest.push(a);
  }
  return o;
}

const size = (n) => (n < 1024 ? `${n} B` : n < 1 << 20 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / (1 << 20)).toFixed(1)} MiB`);

async function main([command, ...args]) {
  const core = await loadCore();
  if (command === 'keygen') {
    process.stdout.write(generatePublisherKey(core));
    process.stderr.write('a new publisher key: keep it secret; visitors pin its publicKey\n');
    return;
  }
  if (command !== 'publish') throw new Error(USAGE);
  const o = options(args);
  if (o.rest.length !== 1 || !o.key) throw new Error(USAGE);
  const key = await readFile(o.key, 'utf8').catch((error) => {
    throw new Error(`cannot read the key file ${o.key}: ${error.message}`);
  });
  const result = await publishSite(core, o.rest[0], { key, include: o.include.length ? o.include : undefined,
    exclude: o.exclude, version: o.version, previous: o.previous, title: o.title });
  const rows = result.files.map((f) => [f.name, size(f.size), f.type || '-', core.base64urlEncode(f.root).slice(0, 11)]);
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i].length), 4));
  for (const r of rows) console.log(`  ${r[0].padEnd(widths[0])}  ${r[1].padStart(widths[1])}  ${r[2].padEnd(widths[2])}  ${r[3]}…`);
  for (const s of result.skipped) console.log(`  ${s.name}: not listed (${s.why})`);
  const total = result.files.reduce((n, f) => n + f.size, 0);
  console.log(`version ${result.version}: ${result.files.length} file(s), ${size(total)} that visitors may serve each other; ` +
    `${result.path} (${result.bytes.length} bytes) and its .json twin written`);
}

main(process.argv.slice(2)).catch((error) => {
  process.stderr.write(`pushpeer: ${error.code ? `${error.code}: ` : ''}${error.message}\n`);
  process.exit(1);
});
