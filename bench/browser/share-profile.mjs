// Where a share-by-link fetch spends the pages' main threads: a CPU profile (CDP, 200 µs sampling) of the sharing
// and the receiving Chromium page during peer.fetch() of a --mib MiB share over an open connection; the functions
// with the most self time, per page. Markdown-ish text on stdout.
//
//   node bench/browser/share-profile.mjs [MiB, default 64]
import { startWorld } from '../../tests/browser/apps.mjs';
const SUBJECT = 'mailto:bench@pushpeer.invalid';
const mib = Number(process.argv[2] ?? 64);
const world = await startWorld();
try {
  const a = await world.open('chromium', 'c1');
  const b = await world.open('chromium', 'c2'); // a browser of its own (bench/browser/share.mjs says why)
  await a.call('create', { name: 'A', subject: SUBJECT, hostSubscribe: true });
  await b.call('create', { name: 'B', subject: SUBJECT, hostSubscribe: true });
  const card = await a.call('card');
  const c = await b.call('connect', card.text);
  if (c.error) throw new Error(JSON.stringify(c.error));
  const s = await a.page.evaluate(async (count) => {
    const chunk = new Uint8Array(1 << 20);
    for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 13 + 7) & 0xff;
    const blob = new Blob(Array.from({ length: count }, () => chunk.slice()));
    const share = await window.app.state.peer.share(blob, { name: 'p.bin' });
    return { link: share.link };
  }, mib);
  const sessions = [];
  for (const app of [a, b]) {
    const cdp = await app.page.createCDPSession();
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
    await cdp.send('Profiler.start');
    sessions.push({ app, cdp });
  }
  const t0 = Date.now();
  const r = await b.page.evaluate(async (l) => {
    const dl = window.app.state.peer.fetch(l);
    await dl.done;
    return dl.progress().bytes;
  }, s.link);
  const ms = Date.now() - t0;
  console.log(`fetched ${r} bytes in ${ms} ms (profiling on): ${(r / 1e6 / (ms / 1000)).toFixed(1)} MB/s`);
  for (const { app, cdp } of sessions) {
    const { profile } = await cdp.send('Profiler.stop');
    const self = new Map();
    const dt = profile.timeDeltas;
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    profile.samples.forEach((id, i) => {
      const n = byId.get(id);
      const key = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber}`;
      self.set(key, (self.get(key) ?? 0) + (dt[i] ?? 0));
    });
    const total = [...self.values()].reduce((x, y) => x + y, 0);
    console.log(`--- ${app.label}: ${(total / 1000).toFixed(0)} ms sampled`);
    for (const [k, v] of [...self.entries()].sort((x, y) => y[1] - x[1]).slice(0, 25)) {
      console.log(`${(v / 1000).toFixed(0).padStart(7)} ms ${(100 * v / total).toFixed(1).padStart(5)}% ${k}`);
    }
  }
} finally {
  await world.close();
}
