// The swarm in real browsers on loopback (issue #13, Performance): one download from three sources (the sharer and
// two peers that fetched the share before: they meet the downloader through the sharer, js/swarm/introductions.js)
// beside a download of the same size from the sharer alone, in the same pages, one after the other in the same run.
//
//   node bench/browser/swarm.mjs [--mib 64] [--capped-mib 32] [--cap-mib 2] [--runs 2]
//
// Four Chromium pages (contexts of one browser: tests/browser/apps.mjs): Alice shares, Bob and Carol fetch each
// share first (not timed), then Dave fetches it: timed from fetch() to done in Dave's page (every piece verified and
// stored). Each run shares new content twice: one Bob and Carol hold (three sources) and one only Alice holds (one
// source). Uncapped, all four pages share this host's 2 cores; capped, each source sends at most --cap-mib MiB/s to
// a peer (maxUploadRate, set on the pages' servers between the setup fetches and the timed one), as on links whose
// upload is the limit. CPU: seconds of all browser processes (/proc, bench/browser/threads.mjs) per MB verified by
// Dave. Markdown on stdout, progress on stderr.
import { parseArgs } from 'node:util';

import { startWorld } from '../../tests/browser/apps.mjs';
import { say, shareInPage } from './pages.mjs';
import { difference, snapshot } from './threads.mjs';

const SUBJECT = 'mailto:bench@pushpeer.invalid';
const MiB = 1 << 20;

const { values: opts } = parseArgs({ options: {
  mib: { type: 'string', default: '64' },
  'capped-mib': { type: 'string', default: '32' },
  'cap-mib': { type: 'string', default: '2' },
  runs: { type: 'string', default: '2' },
} });
const mib = Number(opts.mib);
const cappedMib = Number(opts['capped-mib']);
const capMib = Number(opts['cap-mib']);
const runs = Number(opts.runs);
const mbps = (bytes, ms) => (bytes / 1e6) / (ms / 1000);
const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : '–');
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : '–');

/** Bench hook: the cap of a page's content server (the maxUploadRate option, set after the page was created). */
const setCap = (app, bytesPerSecond) => app.page.evaluate((rate) => {
  window.app.state.peer.content.server._maxUploadRate = rate ?? Infinity;
}, bytesPerSecond);

/** Fetches `link` in `app`'s page: { ms (fetch() to done), sources ([{ name, pieces }]) }. */
async function fetchTimed(app, link) {
  const { index } = await app.call('fetchShare', link);
  const got = await app.call('download', index);
  if (got.error) throw new Error(`${app.label}: ${JSON.stringify(got.error)}`);
  const done = got.events.find((e) => e.type === 'done');
  const peers = await app.call('downloadPeers', index);
  return { ms: done.at, sources: peers.filter((p) => p.pieces > 0).map((p) => `${p.name} ${p.pieces}`) };
}

const world = await startWorld();
try {
  const alice = await world.open('chromium', 'alice');
  const bob = await world.open('chromium', 'bob', { inside: alice });
  const carol = await world.open('chromium', 'carol', { inside: alice });
  const dave = await world.open('chromium', 'dave', { inside: alice });
  for (const app of [alice, bob, carol, dave]) {
    await app.call('create', { name: app.label, subject: SUBJECT, hostSubscribe: true });
  }
  const rows = [];
  for (const [mode, size, cap] of [['uncapped', mib, null], [`capped at ${capMib} MiB/s per peer`, cappedMib, capMib * MiB]]) {
    for (let run = 1; run <= runs; run++) {
      for (const app of [alice, bob, carol]) await setCap(app, null);
      say(`${mode}, run ${run}: sharing ${size} MiB twice, Bob and Carol fetch the first`);
      const swarmLink = (await shareInPage(alice, size)).link;
      const soloLink = (await shareInPage(alice, size)).link;
      await fetchTimed(bob, swarmLink);
      await fetchTimed(carol, swarmLink);
      for (const app of [alice, bob, carol]) await setCap(app, cap);
      // Alternate the order, so that neither case always runs on a warmer page.
      const order = run % 2 ? ['one source', 'three sources'] : ['three sources', 'one source'];
      const result = {};
      for (const which of order) {
        say(`${mode}, run ${run}: Dave fetches from ${which}`);
        const t0 = snapshot();
        const r = await fetchTimed(dave, which === 'one source' ? soloLink : swarmLink);
        const cpu = difference(t0, snapshot()).reduce((n, [, s]) => n + s, 0);
        result[which] = { ...r, mbps: mbps(size * MiB, r.ms), cpuPerMb: cpu / ((size * MiB) / 1e6) };
        say(`  ${f1(result[which].mbps)} MB/s from ${r.sources.join(', ')}; ${f2(result[which].cpuPerMb)} CPU s/MB`);
      }
      rows.push({ mode, size, run, ...result });
    }
  }
  console.log('## Swarm: one download from three sources beside one source, real browsers on loopback\n');
  console.log(`\`node bench/browser/swarm.mjs --mib ${mib} --capped-mib ${cappedMib} --cap-mib ${capMib} --runs ${runs}\`\n`);
  console.log('| sources\' upload | MiB | run | one source MB/s | three sources MB/s | ratio | CPU s/MB, one | CPU s/MB, three | pieces from (three sources) |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const r of rows) {
    const one = r['one source'];
    const three = r['three sources'];
    console.log(`| ${r.mode} | ${r.size} | ${r.run} | ${f1(one.mbps)} | ${f1(three.mbps)} | ${f2(three.mbps / one.mbps)}× | `
      + `${f2(one.cpuPerMb)} | ${f2(three.cpuPerMb)} | ${three.sources.join(', ')} |`);
  }
} finally {
  await world.close();
}
