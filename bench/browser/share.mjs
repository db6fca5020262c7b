// Share by link in real browsers (issue #12, Performance): peer.fetch() of a share beside a raw RTCDataChannel
// sending the same bytes, in the same two pages, over the same connection; time to the first verified piece; the
// receiving page's memory; and hashing in the page (our Wasm BLAKE2b tree beside WebCrypto SHA-256).
//
//   node bench/browser/share.mjs [--mib 256] [--pairs chromium-chromium,firefox-firefox,chromium-firefox,firefox-chromium]
//        [--memory-mib 1024] [--hash-mib 256] [--rounds 1] [--threads] [--firefox-profile DIR]
//
// Pairs are sharer-receiver. Four pages (tests/browser/apps.mjs): two Chromium browsers and two Firefox profiles,
// each on a profile of its own on disk, as people's are (a second context of one Chromium is off the record: its
// origin private file system lives in the browser process's memory and every write to it is an IPC, which cost
// that browser 1.9 CPU s per 64 MiB received; 0.7 in a browser of its own, mostly IndexedDB).
// Per pair the receiver calls the sharer by push once; on that connection:
// - raw: the sharer's page sends --mib MiB on the app's data channel (channel 1, an RTCDataChannel as the app gets
//   it) in 128 KiB messages, waiting below a 1 MiB high-water mark for bufferedamountlow at 256 KiB (the best
//   settings measured here; 64-256 KiB messages and larger marks were no better); timed in the receiving page from
//   the sender's start (Date.now() in both) to the last byte;
// - pushpeer: the sharer shares a Blob of --mib MiB (hashed and stored first, not timed), the receiver fetches its
//   link: timed from fetch() to done (every piece verified and stored in IndexedDB), and to the first verified piece
//   (the connection is open: this is the time to first verified byte after the channel opened).
// Memory: the receiving Chromium page's JS heap (CDP Performance metrics, sampled every 250 ms) plus the Wasm
// instance's memory (core.heapBytes) during a --memory-mib download. Markdown on stdout, progress on stderr.
import { parseArgs } from 'node:util';

import { startWorld } from '../../tests/browser/apps.mjs';
import { fmt, parsePairs, say, shareInPage } from './pages.mjs';
import { difference, snapshot } from './threads.mjs';

const SUBJECT = 'mailto:bench@pushpeer.invalid';
const NAMES = { firefox: 'Firefox', chromium: 'Chromium' };
const MiB = 1 << 20;

const { values: opts } = parseArgs({ options: {
  mib: { type: 'string', default: '256' },
  pairs: { type: 'string', default: 'chromium-chromium,firefox-firefox,chromium-firefox,firefox-chromium' },
  'memory-mib': { type: 'string', default: '1024' },
  'hash-mib': { type: 'string', default: '256' },
  window: { type: 'string' },
  threads: { type: 'boolean', default: false },
  'firefox-profile': { type: 'string' },
  rounds: { type: 'string', default: '1' },
} });
const fetchOptions = opts.window ? { window: Number(opts.window) } : {};
const mib = Number(opts.mib);
const memoryMib = Number(opts['memory-mib']);
const hashMib = Number(opts['hash-mib']);
const rounds = Number(opts.rounds);
const pairs = parsePairs(opts.pairs, NAMES, ['sharer', 'receiver']);
const mbps = (bytes, ms) => (ms > 0 ? (bytes / 1e6) / (ms / 1000) : NaN);
const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : '–');
const median = (list) => {
  const sorted = [...list].sort((a, b) => a - b);
  const m = sorted.length >> 1;
  return sorted.length % 2 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
};

/**
 * The receiving page fetches a link: { ms (to done), firstMs (to the first verified piece), bytes } or { error }.
 * Started in one evaluate and polled (a long download would outlast one protocol command's timeout).
 */
async function fetchInPage(app, link) {
  await app.page.evaluate((l, o) => {
    const t0 = performance.now();
    const dl = window.app.state.peer.fetch(l, o);
    const run = { firstMs: NaN, result: null };
    window.__benchFetch = run;
    dl.addEventListener('verified', () => { if (Number.isNaN(run.firstMs)) run.firstMs = performance.now() - t0; });
    dl.done.then(() => { run.result = { ms: performance.now() - t0, firstMs: run.firstMs, bytes: dl.progress().bytes }; },
      (error) => { run.result = { error: `${error.code}: ${error.message}` }; });
  }, link, fetchOptions);
  for (;;) {
    const result = await app.page.evaluate(() => window.__benchFetch.result);
    if (result) return result;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Raw: `n` MiB from the sharer's page on the app channel of its connection to the receiver, 128 KiB messages. */
async function raw(sharer, receiver, receiverKeyId, sharerKeyId, n) {
  const total = n * MiB;
  const done = receiver.page.evaluate((keyId, bytes) => {
    const c = window.app.state.connections.find((e) => e.connection.remote.keyId === keyId && !e.connection.closed);
    return new Promise((resolve) => {
      let got = 0;
      const onMessage = (e) => {
        got += e.data.byteLength;
        if (got >= bytes) {
          c.connection.channel.removeEventListener('message', onMessage);
          resolve(Date.now());
        }
      };
      c.connection.channel.addEventListener('message', onMessage);
    });
  }, sharerKeyId, total);
  const start = await sharer.page.evaluate(async (keyId, bytes) => {
    const c = window.app.state.connections.find((e) => e.connection.remote.keyId === keyId && !e.connection.closed);
    const ch = c.connection.channel;
    const message = new Uint8Array(128 * 1024);
    ch.bufferedAmountLowThreshold = 256 * 1024;
    const t0 = Date.now();
    for (let sent = 0; sent < bytes; sent += message.length) {
      if (ch.bufferedAmount > 1 << 20) await new Promise((r) => ch.addEventListener('bufferedamountlow', r, { once: true }));
      ch.send(message);
    }
    return t0;
  }, receiverKeyId, total);
  const end = await done;
  return { ms: end - start, bytes: total };
}

async function chromiumMemory(app, during) {
  const samples = [];
  const client = await app.page.createCDPSession();
  await client.send('Performance.enable');
  let stop = false;
  const loop = (async () => {
    while (!stop) {
      const got = await client.send('Performance.getMetrics').catch((error) => ({ error }));
      if (got.error) {
        say(`memory: metrics failed: ${got.error.message}`);
        break;
      }
      const { metrics } = got;
      const heap = metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? NaN;
      const wasm = await app.page.evaluate(() => window.app.state.peer.core.heapBytes).catch(() => NaN);
      samples.push({ heap, wasm });
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  const before = samples[0] ?? (await new Promise((r) => setTimeout(r, 300)), samples[0]);
  const result = await during();
  stop = true;
  await loop;
  await client.detach().catch(() => {});
  const peakHeap = Math.max(...samples.map((s) => s.heap));
  const peakWasm = Math.max(...samples.map((s) => s.wasm));
  return { result, baseHeap: before.heap, peakHeap, peakWasm, peak: peakHeap + peakWasm };
}

async function hashing(app, n) {
  return app.page.evaluate(async (count) => {
    const core = window.app.state.peer.core;
    const big = new Uint8Array(1 << 20);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
    const rate = (ms) => count / (ms / 1000);
    let t = performance.now();
    const h = core.contentHasher();
    for (let i = 0; i < count; i++) h.update(big);
    h.finish();
    const wasm = rate(performance.now() - t);
    t = performance.now();
    for (let i = 0; i < count; i++) await crypto.subtle.digest('SHA-256', big);
    const sha1m = rate(performance.now() - t);
    const small = big.subarray(0, 16384);
    t = performance.now();
    for (let i = 0; i < count * 64; i++) await crypto.subtle.digest('SHA-256', small);
    const sha16k = rate(performance.now() - t);
    return { wasm, sha1m, sha16k };
  }, n);
}

const world = await startWorld();
try {
  const apps = {};
  apps.chromium = [await world.open('chromium', 'c1')];
  apps.chromium.push(await world.open('chromium', 'c2'));
  // --firefox-profile DIR: each Firefox records a Gecko profile of its main and worker threads, written to
  // DIR/<f1|f2>.json when it quits (load it in profiler.firefox.com).
  const geckoProfile = (label) => (opts['firefox-profile'] ? { env: { MOZ_PROFILER_STARTUP: '1',
    MOZ_PROFILER_SHUTDOWN: `${opts['firefox-profile']}/${label}.json`, MOZ_PROFILER_STARTUP_ENTRIES: '16000000',
    MOZ_PROFILER_STARTUP_INTERVAL: '2', MOZ_PROFILER_STARTUP_FEATURES: 'js',
    MOZ_PROFILER_STARTUP_FILTERS: 'GeckoMain,DOM Worker' } } : {});
  apps.firefox = [await world.open('firefox', 'f1', geckoProfile('f1')), await world.open('firefox', 'f2', geckoProfile('f2'))];
  const keyIds = new Map();
  for (const [browser, list] of Object.entries(apps)) {
    for (const app of list) {
      const made = await app.call('create', { name: app.label, subject: SUBJECT, hostSubscribe: browser === 'chromium' });
      keyIds.set(app, made.keyId);
    }
  }
  console.log(`## Share by link: peer.fetch() beside a raw RTCDataChannel, real browsers on loopback\n`);
  console.log(`\`node bench/browser/share.mjs --mib ${mib} --memory-mib ${memoryMib} --hash-mib ${hashMib}${rounds > 1 ? ` --rounds ${rounds}` : ''}\`\n`);
  console.log(`| sharer → receiver | raw channel MB/s | pushpeer fetch MB/s | ratio${rounds > 1 ? ` (median of ${rounds} rounds; range)` : ''} | first verified piece (ms) | share (hash + store) MB/s |`);
  console.log('|---|---:|---:|---:|---:|---:|');
  const used = { chromium: 0, firefox: 0 };
  const cpuTables = [];
  const roundRows = [];
  for (const pair of pairs) {
    const sharer = apps[pair.sharer][pair.sharer === pair.receiver ? 0 : used[pair.sharer]++ % 2];
    const receiver = apps[pair.receiver][pair.sharer === pair.receiver ? 1 : used[pair.receiver]++ % 2];
    const label = `${NAMES[pair.sharer]} → ${NAMES[pair.receiver]}`;
    say(`${label}: connecting`);
    const card = await sharer.call('card');
    const c = await receiver.call('connect', card.text);
    if (c.error) throw new Error(`${label}: connect failed: ${JSON.stringify(c.error)}`);
    say(`${label}: sharing ${mib} MiB`);
    const s = await shareInPage(sharer, mib);
    // Rounds alternate raw and fetch on the same connection (the host's load drifts: a ratio is taken of neighbours);
    // the receiver forgets its copy between fetches.
    const got = [];
    for (let round = 1; round <= rounds; round++) {
      say(`${label}: round ${round}: raw ${mib} MiB`);
      let t0 = snapshot();
      const r = await raw(sharer, receiver, keyIds.get(receiver), keyIds.get(sharer), mib);
      const rawCpu = difference(t0, snapshot());
      say(`${label}: round ${round}: fetching`);
      t0 = snapshot();
      const p = await fetchInPage(receiver, s.link);
      const fetchCpu = difference(t0, snapshot());
      if (p.error) throw new Error(`${label}: fetch failed: ${p.error}`);
      await receiver.page.evaluate(async (id) => {
        for (const share of await window.app.state.peer.shares()) if (share.id === id) await share.remove();
      }, s.id);
      if (opts.threads) cpuTables.push({ label: rounds > 1 ? `${label}, round ${round}` : label, rawCpu, fetchCpu, rawS: r.ms / 1000, fetchS: p.ms / 1000 });
      got.push({ raw: mbps(r.bytes, r.ms), fetch: mbps(p.bytes, p.ms), firstMs: p.firstMs });
      roundRows.push(`| ${label} | ${round} | ${f1(got.at(-1).raw)} | ${f1(got.at(-1).fetch)} | ${(got.at(-1).fetch / got.at(-1).raw).toFixed(2)}× |`);
    }
    const ratios = got.map((g) => g.fetch / g.raw);
    const mid = median(ratios);
    console.log(`| ${label} | ${f1(median(got.map((g) => g.raw)))} | ${f1(median(got.map((g) => g.fetch)))} | ` +
      `${mid.toFixed(2)}×${rounds > 1 ? ` (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})` : ''} | ` +
      `${fmt(median(got.map((g) => g.firstMs)))} | ${f1(mbps(mib * MiB, s.ms))} |`);
  }
  if (rounds > 1) {
    console.log('\n| sharer → receiver | round | raw channel MB/s | pushpeer fetch MB/s | ratio |');
    console.log('|---|---:|---:|---:|---:|');
    for (const row of roundRows) console.log(row);
  }
  for (const t of cpuTables) {
    // CPU seconds per thread (both browsers, all processes) for the same bytes: raw beside fetch.
    const rows = new Map();
    for (const [k, v] of t.rawCpu) rows.set(k, [v, 0]);
    for (const [k, v] of t.fetchCpu) rows.set(k, [rows.get(k)?.[0] ?? 0, v]);
    const sum = (list) => list.reduce((a, [, v]) => a + v, 0);
    console.log(`\n${t.label}: CPU seconds by thread (raw ${f1(t.rawS)} s wall, ${f1(sum(t.rawCpu))} s CPU; ` +
      `fetch ${f1(t.fetchS)} s wall, ${f1(sum(t.fetchCpu))} s CPU)\n`);
    console.log('| process / thread | raw | fetch |');
    console.log('|---|---:|---:|');
    for (const [k, [a, b]] of [...rows].sort((x, y) => Math.max(...y[1]) - Math.max(...x[1])).slice(0, 16)) {
      console.log(`| ${k} | ${a.toFixed(2)} | ${b.toFixed(2)} |`);
    }
  }
  console.log();
  console.log('| page | Wasm BLAKE2b tree, 1 MiB updates (MiB/s) | WebCrypto SHA-256, 1 MiB calls | WebCrypto SHA-256, 16 KiB calls |');
  console.log('|---|---:|---:|---:|');
  for (const [browser, list] of Object.entries(apps)) {
    const h = await hashing(list[0], hashMib);
    console.log(`| ${NAMES[browser]} | ${fmt(h.wasm)} | ${fmt(h.sha1m)} | ${fmt(h.sha16k)} |`);
  }
  if (memoryMib > 0) {
    const [sharer, receiver] = apps.chromium;
    say(`memory: sharing ${memoryMib} MiB`);
    const s = await shareInPage(sharer, memoryMib);
    say('memory: fetching');
    const m = await chromiumMemory(receiver, () => fetchInPage(receiver, s.link));
    if (m.result.error) throw new Error(`memory run: ${m.result.error}`);
    console.log();
    console.log(`Receiving ${memoryMib} MiB (Chromium → Chromium, ${f1(mbps(m.result.bytes, m.result.ms))} MB/s): the receiving page's JS heap ` +
      `${fmt(m.baseHeap / MiB)} MiB before, at most ${fmt(m.peakHeap / MiB)} MiB during; Wasm memory at most ` +
      `${fmt(m.peakWasm / MiB)} MiB; JS heap + Wasm at most **${fmt(m.peak / MiB)} MiB**.`);
  }
} finally {
  await world.close();
}
