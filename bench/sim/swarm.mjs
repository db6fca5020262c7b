// A swarm at scale, simulated (issue #13, "Scale, by simulation"): one seeder and N downloaders of one file, each
// downloader choosing what to ask whom with the library's own PieceScheduler (js/swarm/scheduler.js), the seeder
// choosing what to show with its SeedOffers (js/swarm/seed-offers.js), in virtual time (docs/PROTOCOL.md §9.5).
//
//   node bench/sim/swarm.mjs [--sizes 10,100,1000] [--mib 64] [--seed 1] [--neighbours 16] [--slots 4] [--queue 2]
//        [--seeder-mbs 5] [--join-s 5] [--leave 0.05] [--offers 4] [--no-super-seed] [--busy-ms 250]
//        [--scheduler '{"maxInflight":32}'] [--svg file] [--json file]
//
// --scheduler: PieceScheduler options for every downloader (JSON); --busy-ms: how long a downloader leaves a peer
// alone after it answered busy (the library's figure is 250).
// The model (every figure drawn from the seeded PRNG, so a run is repeatable):
// - Peers: download rate log-uniform 5–50 MB/s (40–400 Mbit/s), upload 10–40% of it (uniform), one-way access
//   latency 5–50 ms (a message between two peers takes the sum of theirs). The seeder uploads --seeder-mbs.
// - Joins: uniform over the first --join-s seconds. A newcomer calls the seeder (the card in the link: 2 pushes)
//   and is introduced to up to --neighbours peers chosen at random among those present (zero pushes); the seeder
//   keeps at most --neighbours downloaders, and swaps one that completed for one still downloading.
// - --leave of the downloaders (5%) leave before they finish, at a random time; their neighbours take back the
//   requests they held. Peers below half their neighbours are introduced to more.
// - Transfers: a request reaches the uploader after the latency and is served with at most --slots at once and
//   --queue waiting; beyond that it answers busy. An uploader shares its rate equally among its uploads; a
//   downloader's rate goes max-min fairly to its downloads under those shares. A piece received is announced (have)
//   to every neighbour; a completed downloader stays and serves (it seeds, as the library does). Endgame copies that
//   arrive second, and transfers cancelled mid-way, are counted as waste.
// Not modelled: CPU, loss, NAT failures, verification failures (tests/node cover blame), pushes' latency (joining
// is instantaneous), and the bitfield's size on the wire (counted as one message).
//
// The bound: the classic lower bound for distributing F to N peers, max(F/u_s, F/d_min, N·F/(u_s + Σu_i)), over
// the peers that stay, and, since joins are spread, max_i(join_i + F/d_i) too; the time reported is from the first
// join to the last stayer's completion. SIMDEBUG=1 prints the swarm's state every simulated second.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import { emptyBitfield, PieceScheduler } from '../../js/swarm/scheduler.js';
import { SeedOffers } from '../../js/swarm/seed-offers.js';
import { Heap } from './heap.mjs';

const { values: opts } = parseArgs({ options: {
  sizes: { type: 'string', default: '10,100,1000' },
  mib: { type: 'string', default: '64' },
  seed: { type: 'string', default: '1' },
  neighbours: { type: 'string', default: '16' },
  slots: { type: 'string', default: '4' },
  queue: { type: 'string', default: '2' },
  'seeder-mbs': { type: 'string', default: '5' },
  'join-s': { type: 'string', default: '5' },
  leave: { type: 'string', default: '0.05' },
  'no-super-seed': { type: 'boolean', default: false },
  offers: { type: 'string', default: '4' },
  scheduler: { type: 'string', default: '{}' },
  'busy-ms': { type: 'string', default: '250' },
  svg: { type: 'string' },
  json: { type: 'string' },
} });

const PIECE = 128 * 1024;
const MB = 1e6;

/** mulberry32: a small seeded PRNG. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Events of [time, seq, fn], run in time order, ties in the order they were scheduled. */
class Events {
  constructor() {
    this.heap = new Heap((a, b) => a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]));
    this.seq = 0;
    this.now = 0;
    this.count = 0;
  }

  at(time, fn) {
    this.heap.push([time, this.seq++, fn]);
  }

  after(ms, fn) {
    this.at(this.now + ms, fn);
  }

  run(stop) {
    while (this.heap.size > 0 && !stop()) {
      const [time, , fn] = this.heap.pop();
      this.now = time;
      this.count++;
      fn();
    }
  }
}

function simulate({ n, fileBytes, seed, neighbours: K, slots, queueLimit, seederRate, joinMs, leaveShare, superSeed,
  offers, schedulerOptions, busyMs }) {
  const random = prng(seed);
  const uniform = (lo, hi) => lo + (hi - lo) * random();
  const logUniform = (lo, hi) => Math.exp(uniform(Math.log(lo), Math.log(hi)));
  const pieces = Math.ceil(fileBytes / PIECE);
  const sizeOf = (i) => (i === pieces - 1 ? fileBytes - PIECE * (pieces - 1) : PIECE);
  const ev = new Events();
  const stats = { stayersDone: 0, busy: 0, wasted: 0, uploaded: 0, seederUploaded: 0, messages: 0, pushes: 0 };

  const makePeer = (id, up, down, lat) => ({ id, up, down, lat, neighbours: new Set(), uploads: new Set(),
    downloads: new Set(), queue: [], sched: null, done: null, gone: false, joinAt: 0, leaveAt: null });
  const seeder = makePeer(0, seederRate / 1000, Infinity, uniform(5, 50)); // rates in bytes per ms
  seeder.done = 0; // done: it has everything, as a downloader that completed (and seeds)
  seeder.offers = superSeed ? new SeedOffers({ pieces, perPeer: offers }) : null;
  // The seeder's have frames to a downloader: the pieces it offers it, or everything once it shows everything.
  const seederHas = (p, list) => {
    stats.messages++;
    ev.after(latency(seeder, p), () => {
      if (p.gone || !p.sched || p.sched.complete || !p.neighbours.has(seeder)) return;
      if (list === null) for (let i = 0; i < pieces; i++) p.sched.peerHas(seeder.id, i);
      else for (const i of list) p.sched.peerHas(seeder.id, i);
      ask(p, seeder);
    });
  };
  const peers = [];
  for (let id = 1; id <= n; id++) {
    const down = logUniform(5, 50) * MB / 1000;
    const p = makePeer(id, down * uniform(0.1, 0.4), down, uniform(5, 50));
    p.joinAt = uniform(0, joinMs);
    peers.push(p);
  }
  for (const p of peers) {
    if (random() < leaveShare) p.leaveAt = p.joinAt + uniform(0.1, 0.9) * (fileBytes / p.down);
  }
  const present = [seeder];
  const latency = (a, b) => a.lat + b.lat;
  const key = (from, to, piece) => `${from.id}>${to.id}:${piece}`;
  const cancelled = new Set(); // requests cancelled before they were served: from>to:piece

  // --- transfers: an uploader shares its rate equally among its uploads; a downloader's rate goes to its
  // downloads max-min fairly under those shares (what one flow cannot take, the others get) ---
  const settle = (p) => {
    const list = [...p.downloads];
    if (list.length > 1) list.sort((a, b) => a.from.up / a.from.uploads.size - b.from.up / b.from.uploads.size);
    let left = p.down;
    list.forEach((t, k) => {
      const rate = Math.min(t.from.up / t.from.uploads.size, left / (list.length - k));
      left -= rate;
      progress(t);
      t.rate = rate;
      // An event only when the end comes sooner than the one already due (which, when it comes, looks again).
      if (ev.now + t.remaining / t.rate < t.due) due(t);
    });
  };
  const progress = (t) => {
    t.remaining = Math.max(0, t.remaining - t.rate * (ev.now - t.last));
    t.last = ev.now;
  };
  const due = (t) => {
    const version = ++t.version;
    t.due = ev.now + t.remaining / t.rate;
    ev.at(t.due, () => {
      if (t.version !== version) return;
      progress(t);
      if (t.remaining > 1e-6) due(t);
      else finish(t);
    });
  };
  const reshare = (p) => {
    const downloaders = new Set([p]);
    for (const t of p.uploads) downloaders.add(t.to);
    for (const d of downloaders) settle(d);
  };
  const stop = (t) => {
    t.from.uploads.delete(t);
    t.to.downloads.delete(t);
    t.version++;
  };
  const abort = (t) => {
    progress(t);
    stats.wasted += t.bytes - t.remaining;
    stop(t);
    reshare(t.from);
    reshare(t.to);
    serve(t.from);
  };
  const serve = (up) => {
    while (!up.gone && up.uploads.size < slots && up.queue.length > 0) {
      const { to, piece } = up.queue.shift();
      if (to.gone || cancelled.delete(key(up, to, piece))) continue;
      const bytes = sizeOf(piece);
      const t = { from: up, to, piece, bytes, remaining: bytes, rate: 0, last: ev.now, version: 0, due: Infinity };
      up.uploads.add(t);
      to.downloads.add(t);
      reshare(up);
      reshare(to);
    }
  };
  const finish = (t) => {
    stop(t);
    stats.uploaded += t.bytes;
    if (t.from === seeder) {
      stats.seederUploaded += t.bytes;
      if (seeder.offers && !seeder.offers.open) {
        const next = seeder.offers.sent(t.to.id, t.piece);
        if (next === null) for (const m of seeder.neighbours) seederHas(m, null); // every piece went out: show all
        else if (next.length) seederHas(t.to, next);
      }
    }
    stats.messages++;
    reshare(t.from);
    reshare(t.to);
    serve(t.from);
    ev.after(latency(t.from, t.to), () => arrived(t.to, t.from, t.piece, t.bytes));
  };

  // --- a downloader's side: the scheduler decides, the sim carries the messages ---
  const ask = (p, n) => {
    if (p.gone || !p.sched || p.sched.complete || n.gone) return;
    let piece;
    while ((piece = p.sched.next(n.id, ev.now)) !== null) {
      const i = piece;
      stats.messages++;
      ev.after(latency(p, n), () => {
        if (n.gone || p.gone) return;
        if (n.uploads.size + n.queue.length >= slots + queueLimit) {
          // busy: the asker takes the piece elsewhere and leaves this peer alone for a while
          stats.messages++;
          stats.busy++;
          ev.after(latency(p, n), () => {
            if (p.gone || !p.sched) return;
            p.sched.failed(n.id, i, { busyMs, now: ev.now });
            askAll(p);
          });
          return;
        }
        n.queue.push({ to: p, piece: i });
        serve(n);
      });
    }
  };
  const askAll = (p) => {
    for (const n of p.neighbours) ask(p, n);
  };
  const cancel = (p, n, piece) => {
    stats.messages++;
    ev.after(latency(p, n), () => {
      const running = [...n.uploads].find((t) => t.to === p && t.piece === piece);
      if (running) abort(running);
      else if (n.queue.some((r) => r.to === p && r.piece === piece)) cancelled.add(key(n, p, piece));
    });
  };
  const byId = new Map([[0, seeder], ...peers.map((p) => [p.id, p])]);
  const arrived = (p, from, piece, bytes) => {
    if (p.gone || !p.sched) return;
    const { duplicate, cancel: others } = p.sched.received(from.id, piece, bytes, ev.now);
    if (duplicate) {
      stats.wasted += bytes;
    } else {
      for (const id of others) cancel(p, byId.get(id), piece);
      // have, to every neighbour (one message each; applied after a typical latency)
      stats.messages += p.neighbours.size;
      const to = [...p.neighbours];
      ev.after(2 * 27.5, () => {
        for (const m of to) {
          if (m === seeder && seeder.offers && seeder.neighbours.has(p)) {
            const next = seeder.offers.seen(p.id, piece);
            if (next.length) seederHas(p, next);
          }
          if (m.gone || !m.sched || !m.neighbours.has(p)) continue;
          if (m.sched.peerHas(p.id, piece)) ask(m, p);
        }
      });
    }
    if (p.sched.complete && p.done === null) {
      p.done = ev.now;
      if (p.leaveAt === null) stats.stayersDone++;
      if (seeder.neighbours.has(p)) swapSeederNeighbour(p);
    }
    ask(p, from);
  };

  // --- the mesh: who is whose neighbour ---
  const link = (a, b) => {
    if (a === b || a.neighbours.has(b)) return;
    a.neighbours.add(b);
    b.neighbours.add(a);
    stats.messages += 2; // a bitfield each way
    for (const [x, y] of [[a, b], [b, a]]) {
      if (!x.sched || x.sched.complete) continue;
      if (y === seeder && seeder.offers && !seeder.offers.open) {
        // Super-seeding: the seeder shows a newcomer only the pieces it offers it.
        x.sched.addPeer(y.id, emptyBitfield(pieces));
        seederHas(x, seeder.offers.addPeer(x.id, (i) => x.sched.has(i)));
      } else {
        x.sched.addPeer(y.id, y.done !== null ? null : y.sched.bitfield());
      }
    }
    ask(a, b);
    ask(b, a);
  };
  const unlink = (a, b) => {
    a.neighbours.delete(b);
    b.neighbours.delete(a);
    if (a === seeder || b === seeder) seeder.offers?.removePeer((a === seeder ? b : a).id);
    for (const [x, y] of [[a, b], [b, a]]) {
      if (!x.sched || x.gone) continue;
      x.sched.removePeer(y.id);
      for (const t of [...y.uploads]) if (t.to === x) abort(t);
      askAll(x);
    }
  };
  const sample = (count, ok) => {
    const out = new Set();
    for (let tries = 0; out.size < count && tries < count * 20; tries++) {
      const c = present[Math.floor(random() * present.length)];
      if (ok(c)) out.add(c);
    }
    return [...out];
  };
  const introduce = (p, count) => {
    for (const m of sample(count, (c) => c !== p && c !== seeder && !c.gone && !p.neighbours.has(c) &&
      c.neighbours.size < 2 * K)) {
      link(p, m);
    }
  };
  const swapSeederNeighbour = (completed) => {
    unlink(seeder, completed);
    const [next] = sample(1, (c) => c !== seeder && !c.gone && c.done === null && !seeder.neighbours.has(c));
    if (next) link(seeder, next);
  };
  const join = (p) => {
    p.sched = new PieceScheduler({ pieces, pieceBytes: PIECE, random, ...schedulerOptions });
    present.push(p);
    stats.pushes += 2; // the call to the card in the link
    if (seeder.neighbours.size < K) link(p, seeder);
    introduce(p, K);
  };
  const leave = (p) => {
    if (p.done !== null) return; // it finished first: it stays and seeds
    p.gone = true;
    for (const t of [...p.uploads, ...p.downloads]) abort(t);
    present.splice(present.indexOf(p), 1);
    for (const m of [...p.neighbours]) {
      unlink(p, m);
      if (m === seeder) swapSeederNeighbour(p);
      else if (m.done === null && m.neighbours.size < K / 2) introduce(m, K - m.neighbours.size);
    }
  };
  for (const p of peers) {
    ev.at(p.joinAt, () => join(p));
    if (p.leaveAt !== null) ev.at(p.leaveAt, () => leave(p));
  }
  // Once a second: requests a peer sat on are taken back and asked elsewhere.
  const tick = () => {
    for (const p of present) {
      if (!p.sched || p.done !== null) continue;
      for (const { peer, piece } of p.sched.expire(ev.now)) {
        const n = byId.get(peer);
        if (!n.gone) cancel(p, n, piece);
      }
      askAll(p);
    }
    if (process.env.SIMDEBUG) {
      let cap = 0;
      let used = 0;
      let idle = 0;
      let queued = 0;
      let inflight = 0;
      let downUsed = 0;
      let downCap = 0;
      for (const p of present) {
        cap += p.up;
        for (const t of p.uploads) used += t.rate;
        if (p.uploads.size === 0) idle++;
        queued += p.queue.length;
        if (p.sched && p.done === null) {
          inflight += p.sched.stats().reduce((a, x) => a + x.inflight, 0);
          downCap += p.down;
          for (const t of p.downloads) downUsed += t.rate;
        }
      }
      const done = peers.filter((p) => p.done !== null).length;
      console.error(`t=${(ev.now / 1000).toFixed(0)} s: present ${present.length}, done ${done}, upload used ` +
        `${(100 * used / cap).toFixed(0)}%, idle uploaders ${idle}, queued ${queued}, inflight ${inflight}, ` +
        `downloading peers' download used ${(100 * downUsed / downCap).toFixed(0)}%`);
    }
    ev.after(1000, tick);
  };
  ev.at(1000, tick);
  const stayers = peers.filter((p) => p.leaveAt === null);
  ev.run(() => stats.stayersDone === stayers.length || ev.now > 3_600_000);

  if (process.env.SIMDEBUG) console.error(`events ${ev.count}, busy ${stats.busy}, messages ${stats.messages}`);
  const last = Math.max(...stayers.map((p) => p.done ?? Infinity));
  const sumUp = stayers.reduce((s, p) => s + p.up, 0);
  const classic = Math.max(fileBytes / seeder.up, fileBytes / Math.min(...stayers.map((p) => p.down)),
    (stayers.length * fileBytes) / (seeder.up + sumUp));
  const joined = Math.max(...stayers.map((p) => p.joinAt + fileBytes / p.down));
  const msgs = stats.messages / n;
  return { n, pieces, stayers: stayers.length, left: n - stayers.length, lastMs: last, classicMs: classic,
    boundMs: Math.max(classic, joined), seederCopies: stats.seederUploaded / fileBytes,
    wastedShare: stats.wasted / (stats.uploaded + stats.wasted), messagesPerPeer: msgs,
    pushesPerPeer: stats.pushes / n, finishes: stayers.map((p) => p.done).sort((a, b) => a - b) };
}

const TITLE = 'Swarm simulation (bench/sim/swarm.mjs): downloaders done against time ÷ lower bound';

function svgPlot(results) {
  // Completion curves: share of stayers done against time in units of the bound.
  const W = 640;
  const H = 360;
  const pad = 48;
  const xMax = Math.max(1.6, ...results.map((r) => r.lastMs / r.boundMs)) * 1.05;
  const x = (v) => pad + ((W - 2 * pad) * v) / xMax;
  const y = (v) => H - pad - (H - 2 * pad) * v;
  const colours = ['#1b7837', '#2166ac', '#b2182b', '#762a83'];
  const lines = results.map((r, k) => {
    const pts = r.finishes.map((t, i) => `${x(t / r.boundMs).toFixed(1)},${y((i + 1) / r.finishes.length).toFixed(1)}`);
    return `<polyline fill="none" stroke="${colours[k % 4]}" stroke-width="2" points="${pts.join(' ')}"/>` +
      `<text x="${pad + 12}" y="${pad + 16 * k}" fill="${colours[k % 4]}" font-size="12">` +
      `N = ${r.n}: ${(r.lastMs / r.boundMs).toFixed(2)}× the bound</text>`;
  });
  const ticks = [];
  for (let v = 0; v <= xMax; v += 0.25) {
    ticks.push(`<line x1="${x(v)}" y1="${y(0)}" x2="${x(v)}" y2="${y(0) + 4}" stroke="#000"/>` +
      `<text x="${x(v)}" y="${y(0) + 16}" font-size="10" text-anchor="middle">${v.toFixed(2)}</text>`);
  }
  for (const v of [0, 0.5, 1]) {
    ticks.push(`<text x="${pad - 6}" y="${y(v) + 4}" font-size="10" text-anchor="end">${v * 100}%</text>`);
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif">
<rect width="${W}" height="${H}" fill="#fff"/>
<text x="${pad}" y="20" font-size="13">${TITLE}</text>
<line x1="${pad}" y1="${y(0)}" x2="${W - pad}" y2="${y(0)}" stroke="#000"/>
<line x1="${pad}" y1="${y(0)}" x2="${pad}" y2="${y(1)}" stroke="#000"/>
<line x1="${x(1)}" y1="${y(0)}" x2="${x(1)}" y2="${y(1)}" stroke="#999" stroke-dasharray="4 3"/>
<line x1="${x(1.3)}" y1="${y(0)}" x2="${x(1.3)}" y2="${y(1)}" stroke="#d6604d" stroke-dasharray="2 3"/>
<text x="${x(1.3) + 3}" y="${y(1) + 12}" font-size="10" fill="#d6604d">goal 1.3×</text>
${ticks.join('\n')}
${lines.join('\n')}
<text x="${W / 2}" y="${H - 8}" font-size="11" text-anchor="middle">time ÷ bound</text>
</svg>
`;
}

const results = [];
for (const n of opts.sizes.split(',').map(Number)) {
  const started = performance.now();
  const r = simulate({ n, fileBytes: Number(opts.mib) * (1 << 20), seed: Number(opts.seed) * 1000 + n,
    neighbours: Number(opts.neighbours), slots: Number(opts.slots), queueLimit: Number(opts.queue),
    seederRate: Number(opts['seeder-mbs']) * MB,
    joinMs: Number(opts['join-s']) * 1000, leaveShare: Number(opts.leave), superSeed: !opts['no-super-seed'],
    offers: Number(opts.offers), schedulerOptions: JSON.parse(opts.scheduler), busyMs: Number(opts['busy-ms']) });
  r.wallMs = performance.now() - started;
  results.push(r);
  process.stderr.write(`N=${n}: ${(r.lastMs / 1000).toFixed(1)} s, bound ${(r.boundMs / 1000).toFixed(1)} s ` +
    `(${(r.wallMs / 1000).toFixed(1)} s to simulate)\n`);
}
const s = (ms) => (ms / 1000).toFixed(1);
console.log('| N | stayed (left early) | all done, s | classic bound, s | bound with joins, s | ratio | ' +
  'seeder uploaded, copies | endgame + cancelled waste | messages per peer | pushes per peer |');
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of results) {
  console.log(`| ${r.n} | ${r.stayers} (${r.left}) | ${s(r.lastMs)} | ${s(r.classicMs)} | ${s(r.boundMs)} | ` +
    `**${(r.lastMs / r.boundMs).toFixed(2)}×** | ${r.seederCopies.toFixed(2)} | ` +
    `${(100 * r.wastedShare).toFixed(2)}% | ` +
    `${Math.round(r.messagesPerPeer)} | ${r.pushesPerPeer.toFixed(0)} |`);
}
if (opts.svg) writeFileSync(opts.svg, svgPlot(results));
if (opts.json) writeFileSync(opts.json, JSON.stringify(results.map(({ finishes, ...r }) => r), null, 2));
