// Groups at scale, simulated (issue #11 Performance; docs/PROTOCOL.md §7.7–7.8): the library's own group and
// introduction logic (Groups/Group from js/mesh/groups.js, Neighbours from js/mesh/neighbours.js, the real core from
// js/core.js for cards and proofs) over fake links in virtual time, for groups of 10 to 10,000 peers.
//
//   node --max-old-space-size=12000 bench/sim/groups.mjs [--sizes 10,100,1000,10000] [--seed 1] [--every 2000]
//        [--broadcasts 5] [--store-ms 0] [--json /tmp/sim-groups.json]
//
// --every: mean ms between two arrivals (Poisson); --store-ms: a store read's latency (IndexedDB, a few ms in a
// page; 0 by default). SIMTRACE=1 in the environment prints every frame.
//
// What is real: every control frame the group and the carrier send and how they handle what arrives (hello and its
// proof, member lists checked card by card, who calls whom, the carrier's policy, route and rate per connection, its
// fwd-ok/fwd-no, duplicate suppression and flooding of group-msg), their timers, and the core's checks (decodeCard
// verifies each card's signature, checkGroupProof each proof; memoised: each distinct card or proof is checked once
// by the core, a repeat gets the same answer from a table).
// What is stood in for (the sim's host, one per peer, as PushPeer is the real one):
//   - a Connection: a pair of ends joined by a link with a one-way latency per link (log-normal, median 40 ms,
//     sigma 0.4, clamped to 5–300 ms) plus per-frame jitter (exponential, mean 2 ms) and transmission at 10 Mbit/s
//     of the frame's JSON size; each direction is in order, like the ordered control channel;
//   - connect(card) without `via` (the newcomer's call to the inviter): "2 pushes", each a push latency drawn
//     log-uniformly from 0.3–2 s, plus ICE gathering (offerer: Firefox 12 ms or Chromium 18 ms, half the peers each;
//     answerer 15 ms) and 3 round trips of ICE/DTLS/SCTP on the new link; the inviter accepts every request;
//   - connect(card, { via, carriers, vouch }): the introduction runs through the real carriers (one, or a walk's
//     route): the asker's Neighbours sends a fwd with a stand-in body of a sealed offer's size (no sealing:
//     core.sealForPeer is not called) and the route and vouch, each carrier applies its rules for real, the target's
//     Neighbours hands the vouch to its groups and delivers the offer to a stub that plays the worker and Calls: it
//     opens it in 5 ms, accepts it without asking exactly when the real Calls would (groups.admits(item): a member
//     carried by a member), and sends the answer (a stand-in body) back along the route the same way; the asker's connect()
//     resolves after ICE/DTLS/SCTP on the new link. A request that is not admitted is held, as the bench's apps do
//     ('hold'), and the asker gives up after answerTimeoutMs (30 s);
//   - a page that leaves closes its connections: the other end sees 'close' one latency later (a bye); a page that
//     comes back (a reload) is a new host with the same identity that joins again with the invite;
//   - both ends of a new connection are registered (the group says hello) when the link exists, a few round trips
//     before the caller's connect() resolves: frames can reach the caller before its call returned (in a page
//     both happen at the channel's open, and only timing keeps them apart), which the library must handle (this
//     found the rejoin bug: js/mesh/groups.js join()).
// Not modelled: NAT traversal failures, TURN, packet loss, CPU time (crypto and JSON cost nothing in virtual time),
// the service worker and its store, card renewal, the data channel's max message size (frames of any size go; the
// report says which frames would exceed Chromium's 256 KiB), and reconnects.
//
// Markdown on stdout, progress on stderr.
import { AsyncLocalStorage } from 'node:async_hooks';
import { parseArgs } from 'node:util';

import { loadCore } from '../../js/core.js';
import { Groups } from '../../js/mesh/groups.js';
import { Neighbours } from '../../js/mesh/neighbours.js';
import { Heap } from './heap.mjs';

const { values: opts } = parseArgs({ options: {
  sizes: { type: 'string', default: '10,100,1000,10000' },
  seed: { type: 'string', default: '1' },
  every: { type: 'string', default: '2000' }, // mean ms between two arrivals (Poisson)
  broadcasts: { type: 'string', default: '5' },
  'store-ms': { type: 'string', default: '0' }, // a store read's latency (IndexedDB in a page: a few ms)
  json: { type: 'string' },
} });
const SIZES = opts.sizes.split(',').map(Number);
const MEAN_ARRIVAL_MS = Number(opts.every);
const BROADCASTS = Number(opts.broadcasts);
const STORE_MS = Number(opts['store-ms']);
const TRACE = Boolean(process.env.SIMTRACE);
const say = (line) => process.stderr.write(`${line}\n`);

// ---- virtual time: setTimeout / clearTimeout / Date.now for the library's code -------------------------------------
const realSetImmediate = globalThis.setImmediate;
const T0 = Date.UTC(2026, 11, 1);
let now = 0;
let seq = 0;
const heap = new Heap((a, b) => a.at < b.at || (a.at === b.at && a.seq < b.seq));
// What a frame or timer was caused by (a join, a message): kept across timers, frame deliveries and promises.
const cause = new AsyncLocalStorage();
function at(time, fn) {
  const ctx = cause.getStore();
  const ev = { at: Math.max(time, now), seq: seq++, fn: ctx ? () => cause.run(ctx, fn) : fn, cancelled: false };
  heap.push(ev);
  return ev;
}
globalThis.setTimeout = (fn, ms = 0, ...args) => at(now + Math.max(0, Number(ms) || 0), () => fn(...args));
globalThis.clearTimeout = (ev) => {
  if (ev && typeof ev === 'object') ev.cancelled = true;
};
const RealDate = Date;
globalThis.Date = class extends RealDate {
  static now() {
    return T0 + Math.floor(now);
  }
};
const drain = () => new Promise((resolve) => realSetImmediate(resolve));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs events until virtual time `until` (or the queue is empty), letting promise chains settle between times. */
async function runUntil(until) {
  while (heap.size && heap.peek().at <= until) {
    const ev = heap.pop();
    if (ev.cancelled) continue;
    now = ev.at;
    ev.fn();
    if (!heap.size || heap.peek().at !== now) await drain();
  }
  now = Math.max(now, until);
  await drain();
}

// ---- randomness (seeded for the sim's own draws; the library's shuffles use crypto.getRandomValues) ---------------
let rngState = Number(opts.seed) >>> 0 || 1;
function rand() {
  rngState = (rngState + 0x6d2b79f5) >>> 0;
  let t = rngState;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
const lognormal = (median, sigma) => median * Math.exp(sigma * normal());
const exponential = (mean) => -mean * Math.log(1 - rand());
const linkLatency = () => Math.min(300, Math.max(5, lognormal(40, 0.4)));
const pushLatency = () => 300 * Math.exp(rand() * Math.log(2000 / 300));
const BANDWIDTH_BYTES_PER_MS = 10e6 / 8 / 1000;
const OPEN_MS = 5; // the recipient's worker opening a carried envelope
const ANSWER_TIMEOUT_MS = 30_000;
const CHROMIUM_MAX_MESSAGE = 256 * 1024;
// Stand-in bodies of a sealed offer and answer (base64url of ~700 and ~600 bytes: PROTOCOL §2.4/§4.1 sizes).
const OFFER_BODY = 'A'.repeat(934);
const ANSWER_BODY = 'B'.repeat(800);

// ---- the real core, memoised ---------------------------------------------------------------------------------------
const realCore = await loadCore();
const coreCalls = { decodeCard: 0, checkGroupProof: 0 };
function memoCore(core) {
  const decoded = new Map();
  const bytesOf = new Map();
  const textOf = new WeakMap();
  const proofs = new Map();
  const checks = new Map();
  const w = {}; // the core's methods, bound (it has private fields), some of them memoised below
  for (let o = core; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    for (const k of Object.getOwnPropertyNames(o)) {
      if (k !== 'constructor' && !(k in w) && typeof core[k] === 'function') w[k] = core[k].bind(core);
      else if (!(k in w) && typeof core[k] !== 'function') Object.defineProperty(w, k, { get: () => core[k] });
    }
  }
  w.base64urlEncode = (bytes) => {
    if (typeof bytes === 'string') return bytes; // not the core's: only for the keys below
    let text = textOf.get(bytes);
    if (text === undefined) {
      text = core.base64urlEncode(bytes);
      textOf.set(bytes, text);
    }
    return text;
  };
  w.base64urlDecode = (text) => {
    let bytes = bytesOf.get(text);
    if (!bytes) {
      bytes = core.base64urlDecode(text);
      bytesOf.set(text, bytes);
      textOf.set(bytes, text);
    }
    return bytes;
  };
  w.decodeCard = (card) => {
    const key = typeof card === 'string' ? card : w.base64urlEncode(card);
    let r = decoded.get(key);
    if (!r) {
      coreCalls.decodeCard++; // verifies the card's signature
      r = core.decodeCard(card);
      decoded.set(key, r);
    }
    return r;
  };
  w.groupProof = ({ secret, keyId }) => {
    const key = `${w.base64urlEncode(secret)}:${w.base64urlEncode(keyId)}`;
    let p = proofs.get(key);
    if (!p) {
      p = core.groupProof({ secret, keyId });
      proofs.set(key, p);
    }
    return p;
  };
  w.checkGroupProof = ({ secret, keyId, proof }) => {
    const key = `${w.base64urlEncode(secret)}:${w.base64urlEncode(keyId)}:${w.base64urlEncode(proof)}`;
    let ok = checks.get(key);
    if (ok === undefined) {
      coreCalls.checkGroupProof++;
      ok = core.checkGroupProof({ secret, keyId, proof });
      checks.set(key, ok);
    }
    return ok;
  };
  return w;
}
const core = memoCore(realCore);

// ---- frames: counting and sizes ------------------------------------------------------------------------------------
let stats;
function newStats() {
  return { frames: 0, bytes: 0, byType: {}, pushes: 0, maxFrame: { bytes: 0, t: '' },
    overChromium: 0 };
}
const entrySize = new Map();
function frameSize(frame) {
  if (frame.t === 'group-members') {
    let n = 60;
    for (const e of frame.members) {
      let s = entrySize.get(e.card);
      if (s === undefined) {
        s = 22 + e.card.length + e.proof.length + 1;
        entrySize.set(e.card, s);
      }
      n += s;
    }
    return n;
  }
  if (frame.t === 'fwd') {
    return 40 + frame.body.length + 14 * ((frame.route?.length ?? 0) + (frame.back?.length ?? 0)) + (frame.vouch ? 100 : 0);
  }
  if (frame.t === 'group-walk') return 90 + frame.card.length + frame.proof.length + 14 * frame.trail.length;
  if (frame.t === 'group-msg') return 90 + frame.data.length;
  if (frame.t === 'group-hello') return 90;
  if (frame.t === 'group-room') return 60;
  return 30;
}
function count(frame, bytes) {
  const ctx = cause.getStore();
  if (ctx) {
    ctx.frames++;
    ctx.bytes += bytes;
    ctx.byType[frame.t] = (ctx.byType[frame.t] ?? 0) + 1;
  }
  stats.frames++;
  stats.bytes += bytes;
  const t = stats.byType[frame.t] ??= { frames: 0, bytes: 0 };
  t.frames++;
  t.bytes += bytes;
  if (bytes > stats.maxFrame.bytes) stats.maxFrame = { bytes, t: frame.t };
  if (bytes > CHROMIUM_MAX_MESSAGE) stats.overChromium++;
}

// ---- fake connections ----------------------------------------------------------------------------------------------
/** One end of a link, as groups.js and neighbours.js see a Connection. */
class End extends EventTarget {
  constructor(owner, remotePeer, latency) {
    super();
    this.owner = owner;
    this.remote = { keyId: remotePeer.keyId, name: remotePeer.name };
    this.closed = false;
    this.control = { readyState: 'open' };
    this.handlers = new Map();
    this.latency = latency;
    this.lastAt = 0; // in order: a frame is delivered no earlier than the previous one on this direction
    this.other = null;
  }

  onControl(t, handler) {
    this.handlers.set(t, handler);
  }

  sendControl(frame) {
    if (this.closed) return false;
    const bytes = frameSize(frame);
    count(frame, bytes);
    this._deliver(frame, bytes);
    return true;
  }

  _deliver(frame, bytes) {
    if (TRACE) say(`${now.toFixed(0)} ${this.owner.name} -> ${this.other.owner.name}: ${JSON.stringify(frame).slice(0, 120)}`);
    const other = this.other;
    const t = Math.max(this.lastAt, now + this.latency + exponential(2) + bytes / BANDWIDTH_BYTES_PER_MS);
    this.lastAt = t;
    at(t, () => {
      if (other.closed || other.owner.gone) return;
      if (frame.t === 'bye') {
        other._closed();
        return;
      }
      other.handlers.get(frame.t)?.(frame);
    });
  }

  close() {
    if (this.closed) return;
    this._deliver({ t: 'bye' }, 30);
    this._closed();
  }

  _closed() {
    if (this.closed) return;
    this.closed = true;
    this.control.readyState = 'closed';
    this.owner.connections.delete(this);
    this.dispatchEvent(new Event('close'));
  }
}

// ---- the sim's host: what PushPeer gives Groups and Neighbours -----------------------------------------------------
class SimPeer {
  constructor(index, { identity, cardText, keyId, name, options }) {
    Object.assign(this, { index, identity, cardText, keyId, name });
    this.browser = rand() < 0.5 ? 'firefox' : 'chromium';
    this.gone = false;
    this.connections = new Set();
    this.peers = new Map(); // keyId -> { keyId, name, card }
    this.pending = new Map(); // keyId -> resolve: our carried offer's answer
    this.errors = [];
    this.core = core;
    this.options = options;
    const read = async () => {
      if (STORE_MS > 0) await sleep(STORE_MS);
    };
    const store = { getPeer: async (k) => {
      await read();
      return this.peers.get(k) ?? null;
    } };
    this.groups = new Groups({ core, keyId, options, card: () => ({ text: cardText, link: `https://sim.invalid/#card=${cardText}` }),
      cardBytes: async (card) => (typeof card === 'string' ? core.base64urlDecode(card) : card),
      connect: (card, o) => this.connect(card, o),
      connectionTo: (k) => this.neighbours.connectionTo(k),
      peerCard: async (k) => {
        await read();
        return this.peers.get(k)?.card ?? null;
      },
      error: (error) => this.errors.push(error) });
    this.neighbours = new Neighbours({ core, store, options, keyId, connections: () => this.connections, emit: () => {},
      inSameGroup: (a, b) => Boolean(this.groups.shared(a, b)), vouch: (k, v) => this.groups.vouch(k, v),
      vouches: (k, v, a, b) => this.groups.vouches(k, v, a, b),
      deliver: (body, { via, from, route }) => this._deliver(body, { via, from, route }) });
  }

  keep(peer) {
    if (!this.peers.has(peer.keyId)) {
      this.peers.set(peer.keyId, { keyId: peer.keyId, name: peer.name, card: core.base64urlDecode(peer.cardText) });
    }
  }

  get gather() {
    return this.browser === 'firefox' ? 12 : 18; // bench/RESULTS.md, Introductions: "offer sealed"
  }

  /** An open connection between two peers: both ends registered (neighbours, groups), as PushPeer._register. */
  link(other) {
    const latency = linkLatency();
    const a = new End(this, other, latency);
    const b = new End(other, this, latency);
    a.other = b;
    b.other = a;
    for (const [peer, end] of [[this, a], [other, b]]) {
      peer.connections.add(end);
      peer.neighbours.attach(end);
      peer.groups.attach(end);
    }
    return { a, b, latency };
  }

  async connect(card, { via, carriers = [], vouch } = {}) {
    const bytes = typeof card === 'string' ? core.base64urlDecode(card) : card;
    const keyId = core.base64urlEncode(core.decodeCard(bytes).keyId);
    const target = world.byKey.get(keyId);
    this.keep(target);
    this.calling?.add(keyId);
    if (!via) {
      // A push connect: offer and answer are two pushes; the callee (the inviter) accepts.
      stats.pushes += 2;
      const ctx = cause.getStore();
      if (ctx) ctx.pushes += 2;
      this.pushes = (this.pushes ?? 0) + 2;
      await sleep(this.gather + pushLatency());
      if (target.gone) throw Object.assign(new Error('gone'), { code: 'TIMEOUT' });
      target.keep(this);
      await sleep(15 + pushLatency());
      const { a, latency } = this.link(target);
      await sleep(6 * latency + 5);
      return a;
    }
    // An introduction through the real carrier: offer as a fwd, the answer comes back the same way.
    await sleep(this.gather);
    const answered = new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(keyId);
        reject(Object.assign(new Error('no answer'), { code: 'TIMEOUT' }));
      }, ANSWER_TIMEOUT_MS);
      this.pending.set(keyId, () => {
        clearTimeout(timer);
        resolve();
      });
    });
    answered.catch(() => {}); // awaited below, unless the carrier refused the offer first
    await this.neighbours._send(via, { t: 'fwd', to: keyId, body: OFFER_BODY, ...(carriers.length ? { route: carriers } : {}),
      ...(vouch ? { vouch } : {}) });
    await answered;
    if (target.gone || this.gone) throw Object.assign(new Error('gone'), { code: 'NOT_CONNECTED' });
    const { a, latency } = this.link(target);
    await sleep(6 * latency + 5);
    return a;
  }

  /** The worker and Calls, stood in for: an offer accepted exactly when the real Calls would (a member via a member). */
  async _deliver(body, { via, from, route }) {
    await sleep(OPEN_MS);
    if (core.base64urlEncode(body) === ANSWER_BODY) { // (the memoised decode gave these bytes: a table look-up)
      this.pending.get(from)?.();
      this.pending.delete(from);
      return { item: {} };
    }
    const asker = world.byKey.get(from);
    this.keep(asker);
    if (this.groups.admits({ from, via })?.accept) {
      void (async () => {
        await sleep(15);
        const carrier = this.neighbours.connectionTo(via);
        if (!carrier) return;
        await this.neighbours._send(carrier, { t: 'fwd', to: from, body: ANSWER_BODY, ...(route.length ? { route } : {}) })
          .catch((e) => this.errors.push(e));
      })();
    } else {
      stats.held_requests = (stats.held_requests ?? 0) + 1;
    }
    return { item: {} };
  }

  leave() {
    this.gone = true;
    for (const c of [...this.connections]) c.close();
  }
}

const world = { byKey: new Map() };

// ---- identities and cards ------------------------------------------------------------------------------------------
const b64 = (u) => Buffer.from(u).toString('base64url');
const SUBJECT = 'mailto:sim@pushpeer.invalid';
const cardPool = [];
function cards(n) {
  while (cardPool.length < n) {
    const i = cardPool.length;
    const identity = realCore.generateVapidKeys();
    const endpoint = `https://fcm.googleapis.com/fcm/send/${'x'.repeat(120)}${i}`;
    const grants = realCore.issueGrants({ privateKey: identity.privateKey, endpoint, subject: SUBJECT, count: 4,
      interval: 72_000, firstExpiration: Math.floor(T0 / 1000) + 72_000 });
    const card = realCore.createCard({ identity, subject: SUBJECT, name: `peer-${i}`, grants,
      subscription: { endpoint, keys: { p256dh: b64(realCore.generateVapidKeys().publicKey), auth: b64(new Uint8Array(16).fill(i & 255)) } } });
    cardPool.push({ identity, cardText: card.text, keyId: b64(realCore.keyIdOf(identity.publicKey)), name: `peer-${i}` });
    if (cardPool.length % 1000 === 0) say(`  ${cardPool.length} cards`);
  }
  return cardPool.slice(0, n);
}

// ---- graph measures ------------------------------------------------------------------------------------------------
function adjacency(peers) {
  const alive = peers.filter((p) => !p.gone);
  const index = new Map(alive.map((p, i) => [p.keyId, i]));
  const adj = alive.map((p) => [...p.connections].filter((c) => !c.closed).map((c) => index.get(c.remote.keyId))
    .filter((i) => i !== undefined));
  return { alive, adj };
}
function bfs(adj, s) {
  const dist = new Int32Array(adj.length).fill(-1);
  dist[s] = 0;
  const q = [s];
  for (let h = 0; h < q.length; h++) {
    const u = q[h];
    for (const v of adj[u]) if (dist[v] < 0) {
      dist[v] = dist[u] + 1;
      q.push(v);
    }
  }
  return dist;
}
function graph(peers, { sources = Infinity } = {}) {
  const { alive, adj } = adjacency(peers);
  const d0 = bfs(adj, 0);
  const reached = d0.filter((d) => d >= 0).length;
  // Components
  const comp = new Int32Array(adj.length).fill(-1);
  let components = 0;
  for (let s = 0; s < adj.length; s++) {
    if (comp[s] >= 0) continue;
    const d = bfs(adj, s);
    for (let i = 0; i < d.length; i++) if (d[i] >= 0) comp[i] = components;
    components++;
  }
  let diameter = 0;
  const order = [...adj.keys()];
  const pick = sources >= order.length ? order : order.sort(() => rand() - 0.5).slice(0, sources);
  for (const s of pick) {
    const d = bfs(adj, s);
    for (const x of d) if (x > diameter) diameter = x;
  }
  const degrees = adj.map((a) => a.length);
  return { alive: alive.length, components, connected: reached === alive.length, diameter,
    diameterExact: pick.length === order.length, degrees, isolated: degrees.filter((d) => d === 0).length };
}
const mean = (v) => v.reduce((a, b) => a + b, 0) / (v.length || 1);
const quant = (v, q) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] : NaN;
};

/** One group.send from `sender`: who gets it, when, and the frames it cost. */
async function broadcast(peers, sender, label) {
  const start = now;
  const got = new Map();
  const listeners = [];
  for (const p of peers) {
    if (p.gone || p === sender) continue;
    const g = p.groups.byName.get('sim');
    const on = (e) => {
      if (e.data === label && !got.has(p)) got.set(p, now - start);
    };
    g.addEventListener('message', on);
    listeners.push([g, on]);
  }
  const ctx = { frames: 0, bytes: 0, byType: {}, pushes: 0 };
  cause.run(ctx, () => sender.groups.byName.get('sim').send(label));
  await runUntil(now + 30_000);
  for (const [g, on] of listeners) g.removeEventListener('message', on);
  const alive = peers.filter((p) => !p.gone && p !== sender).length;
  const times = [...got.values()];
  return { alive, reached: got.size, p50: quant(times, 0.5), p99: quant(times, 0.99), max: Math.max(...times),
    frames: ctx.frames };
}

// ---- one group -----------------------------------------------------------------------------------------------------
/**
 * A join (or a rejoin) through the inviter: j.last = when the newcomer first had `target` member connections (every
 * member before it in a full mesh, neighbourLimit beyond); j.connected is read when the joins are over (degrees).
 */
function watchJoin(group, j, target) {
  Object.defineProperty(j, 'group', { value: group }); // not in --json
  group.addEventListener('peerjoin', () => {
    if (Number.isNaN(j.last) && group.peers().filter((m) => m.connected).length >= target) j.last = now - j.start;
  });
  group.join(inviter0.cardText).catch((error) => {
    j.error = error.code ?? error.message;
  });
}
const degreeOf = (j) => j.group.peers().filter((m) => m.connected).length;
let inviter0 = null;

async function simulate(n) {
  heap.clear();
  now = 0;
  stats = newStats();
  world.byKey.clear();
  const options = { maxFullMesh: 8, neighbourLimit: 4, introductions: 'group' };
  const peers = cards(n).map((c, i) => new SimPeer(i, { ...c, options }));
  for (const p of peers) world.byKey.set(p.keyId, p);
  const secret = new Uint8Array(32).map((_, i) => (i * 7 + n) & 255);
  const inviter = peers[0];
  inviter0 = inviter;
  inviter.groups.group('sim', { secret });
  const joins = [];
  let t = 0;
  const wall = performance.now();
  for (let i = 1; i < n; i++) {
    t += exponential(MEAN_ARRIVAL_MS);
    const p = peers[i];
    const j = { i, n: i + 1, start: t, last: NaN, connected: 0, error: null, frames: 0, bytes: 0, byType: {}, pushes: 0 };
    joins.push(j);
    at(t, () => cause.run(j, () => {
      watchJoin(p.groups.group('sim', { secret }), j, i + 1 <= options.maxFullMesh ? i : options.neighbourLimit);
    }));
  }
  let step = 0;
  while (heap.size && heap.peek().at <= t + 60_000) {
    await runUntil(Math.min(t + 60_000, now + 60_000));
    if (++step % 20 === 0) say(`  N=${n}: ${(now / 1000).toFixed(0)} s virtual, ${((performance.now() - wall) / 1000).toFixed(0)} s wall`);
  }
  const formation = { ...stats, byType: structuredClone(stats.byType), maxFrame: { ...stats.maxFrame } };
  for (const j of joins) j.connected = degreeOf(j);
  const g0 = graph(peers, { sources: n > 2000 ? 200 : Infinity });
  // Missing edges where the group should be a full mesh (N ≤ maxFullMesh).
  const fullMeshMissing = n <= options.maxFullMesh ? g0.degrees.reduce((a, d) => a + (n - 1 - d), 0) / 2 : null;
  const casts = [];
  for (let b = 0; b < BROADCASTS; b++) {
    const sender = peers[1 + Math.floor(rand() * (n - 1))];
    casts.push(await broadcast(peers, sender, `msg-${b}`));
  }
  // 5% leave at once (not the inviter).
  const leavers = peers.slice(1).sort(() => rand() - 0.5).slice(0, Math.max(1, Math.round(0.05 * n)));
  for (const p of leavers) p.leave();
  await runUntil(now + 10_000);
  const g1 = graph(peers, { sources: n > 2000 ? 200 : Infinity });
  const castsAfterLeave = [];
  for (let b = 0; b < BROADCASTS; b++) {
    const alive = peers.filter((p) => !p.gone && p !== inviter);
    castsAfterLeave.push(await broadcast(peers, alive[Math.floor(rand() * alive.length)], `leave-${b}`));
  }
  // Those who left come back: a reloaded page (same identity, a new PushPeer) joins again with the invite.
  const rejoins = [];
  for (const old of leavers) {
    const p = new SimPeer(old.index, { ...cardPool[old.index], options });
    peers[old.index] = p;
    world.byKey.set(p.keyId, p);
    const j = { i: old.index, n: NaN, start: now, last: NaN, connected: 0, error: null, frames: 0, bytes: 0, byType: {}, pushes: 0 };
    rejoins.push(j);
    cause.run(j, () => watchJoin(p.groups.group('sim', { secret }), j, options.neighbourLimit));
    await runUntil(now + exponential(MEAN_ARRIVAL_MS));
  }
  await runUntil(now + 60_000);
  for (const j of rejoins) j.connected = degreeOf(j);
  const gRejoin = graph(peers, { sources: n > 2000 ? 200 : Infinity });
  // Then the inviter leaves too.
  inviter.leave();
  await runUntil(now + 10_000);
  const g2 = graph(peers, { sources: n > 2000 ? 200 : Infinity });
  const castsNoInviter = [];
  for (let b = 0; b < BROADCASTS; b++) {
    const alive = peers.filter((p) => !p.gone);
    castsNoInviter.push(await broadcast(peers, alive[Math.floor(rand() * alive.length)], `noinv-${b}`));
  }
  const errors = {};
  for (const p of peers) for (const e of p.errors) errors[e.code ?? e.message] = (errors[e.code ?? e.message] ?? 0) + 1;
  const result = { n, joins, rejoins, gRejoin, formation, g0, g1, g2, fullMeshMissing, casts, castsAfterLeave, castsNoInviter,
    leavers: leavers.length, errors, wallS: (performance.now() - wall) / 1000, inviterDegree: g0.degrees[0],
    virtualS: now / 1000 };
  say(`N=${n}: done in ${result.wallS.toFixed(0)} s wall; inviter degree ${result.inviterDegree}, pushes ${formation.pushes}`);
  return result;
}

// ---- report --------------------------------------------------------------------------------------------------------
const fmt = (x, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : '–');
function report(results) {
  const out = [];
  const line = (s = '') => out.push(s);
  line(`Seed ${opts.seed}${STORE_MS ? `, store reads ${STORE_MS} ms` : ''}; arrivals Poisson, one every ${MEAN_ARRIVAL_MS / 1000} s on average; maxFullMesh 8, neighbourLimit 4,`);
  line('maxNeighbours 12, walkLength 4, introductions \'group\', forwardsPerMinute 30 (the defaults). Times are virtual (the sim\'s');
  line('clock). A join\'s frames:');
  line('every control frame any peer sent because of it (followed through frames, timers and promises: AsyncLocalStorage),');
  line('so joins that overlap are still told apart; bytes: the frames\' JSON size (a card with 4 grants is 756 characters).');
  line();
  line('### Joining');
  line();
  line('| N | pushes, all joins (2·(N−1)) | pushes per join | joins failed | control frames per join: mean | last 10% of joins | of which group-members (last 10%) | group-walk (last 10%) | fwd (last 10%) | KB per join: mean | last 10% | largest frame KB (type) | frames > 256 KiB | newcomer has its connections (all members in a full mesh, neighbourLimit beyond): median ms | p90 | joins that never had them | its connections once all joined (mean, max) |');
  line('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of results) {
    const js = r.joins;
    const tail = js.slice(Math.floor(js.length * 0.9));
    const pushes = js.map((j) => j.pushes);
    const ok = r.formation.pushes === 2 * (r.n - 1) && pushes.every((x) => x === 2);
    r.pushesOk = ok;
    const type = (list, t) => mean(list.map((j) => j.byType[t] ?? 0));
    const had = js.map((j) => j.last).filter(Number.isFinite);
    line(`| ${r.n} | ${r.formation.pushes}${ok ? '' : ' **FAIL**'} | ${Math.min(...pushes)}–${Math.max(...pushes)} | ` +
      `${js.filter((j) => j.error).length} | ${fmt(mean(js.map((j) => j.frames)), 1)} | ${fmt(mean(tail.map((j) => j.frames)), 1)} | ` +
      `${fmt(type(tail, 'group-members'), 1)} | ${fmt(type(tail, 'group-walk'), 1)} | ${fmt(type(tail, 'fwd'), 1)} | ` +
      `${fmt(mean(js.map((j) => j.bytes)) / 1024, 1)} | ${fmt(mean(tail.map((j) => j.bytes)) / 1024, 1)} | ` +
      `${fmt(r.formation.maxFrame.bytes / 1024, 1)} (${r.formation.maxFrame.t}) | ${r.formation.overChromium} | ` +
      `${fmt(quant(had, 0.5))} | ${fmt(quant(had, 0.9))} | ${js.length - had.length} | ` +
      `${fmt(mean(js.map((j) => j.connected)), 2)}, ${Math.max(...js.map((j) => j.connected))} |`);
  }
  line();
  line('### The graph once everyone joined');
  line();
  line('| N | connections per member: mean | median | p99 | max but the inviter | the inviter | above maxNeighbours (12) | mean, the first 256 to join (inviter aside) | mean, the others | members with ≤ 4 | connected | diameter | diameter after 5% and then the inviter left |');
  line('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|---:|---:|');
  for (const r of results) {
    const d = r.g0.degrees;
    line(`| ${r.n} | ${fmt(mean(d), 2)} | ${quant(d, 0.5)} | ${quant(d, 0.99)} | ${Math.max(...d.slice(1))} | ${d[0]} | ` +
      `${d.filter((x) => x > 12).length} | ` +
      `${fmt(mean(d.slice(1, 257)), 1)} | ${d.length > 257 ? fmt(mean(d.slice(257)), 1) : '–'} | ` +
      `${d.filter((x) => x <= 4).length} | ${r.g0.connected ? 'yes' : `**no** (${r.g0.components} parts)`} | ` +
      `${r.g0.diameter}${r.g0.diameterExact ? '' : ' (≥, 200 sources)'} | ${fmt(r.g2.diameter)}${r.g2.diameterExact ? '' : ' (≥)'} |`);
  }
  line();
  line('### A group message (group.send), flooded beyond full mesh');
  line();
  line(`${BROADCASTS} messages from random members in each state; reach = members that got it / members there; times from send()`);
  line('to each member\'s message event; frames = group-msg frames sent for one message (N−1 would be one each).');
  line();
  line('| N | state | members there | reach (min over messages) | median ms | p99 ms | max ms | group-msg frames per message | per member reached |');
  line('|---:|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of results) {
    for (const [state, casts] of [['all joined', r.casts], [`${r.leavers} left (5%)`, r.castsAfterLeave],
      ['and the inviter left', r.castsNoInviter]]) {
      const reach = Math.min(...casts.map((c) => c.reached / c.alive));
      line(`| ${r.n} | ${state} | ${casts[0].alive + 1} | ${fmt(100 * reach, 1)}% | ${fmt(mean(casts.map((c) => c.p50)))} | ` +
        `${fmt(mean(casts.map((c) => c.p99)))} | ${fmt(Math.max(...casts.map((c) => c.max)))} | ` +
        `${fmt(mean(casts.map((c) => c.frames)))} | ${fmt(mean(casts.map((c) => c.frames / Math.max(1, c.reached))), 2)} |`);
    }
  }
  line();
  line('### Leaving');
  line();
  line('5% of the members (never the inviter) close their pages at once; then they come back (a reloaded page: same');
  line('identity, a new PushPeer) and join again with the invite, one every few seconds; then the inviter leaves too.');
  line();
  line('| N | left | connected after 5% left | parts | members left with 0 connections | mean connections | came back: pushes each | their connections a minute later: mean (max) | frames per rejoin | connected after the inviter left too | parts | isolated |');
  line('|---:|---:|:---:|---:|---:|---:|---:|---:|---:|:---:|---:|---:|');
  for (const r of results) {
    const rj = r.rejoins;
    line(`| ${r.n} | ${r.leavers} | ${r.g1.connected ? 'yes' : '**no**'} | ${r.g1.components} | ${r.g1.isolated} | ` +
      `${fmt(mean(r.g1.degrees), 2)} | ${Math.min(...rj.map((j) => j.pushes))}–${Math.max(...rj.map((j) => j.pushes))} | ` +
      `${fmt(mean(rj.map((j) => j.connected)), 2)} (${Math.max(...rj.map((j) => j.connected))}) | ` +
      `${fmt(mean(rj.map((j) => j.frames)), 1)} | ${r.g2.connected ? 'yes' : '**no**'} | ${r.g2.components} | ${r.g2.isolated} |`);
  }
  line();
  const notes = results.map((r) => `N=${r.n}: ${fmt(r.wallS)} s wall for ${fmt(r.virtualS)} s virtual` +
    `${Object.keys(r.errors).length ? `, errors the group reported: ${JSON.stringify(r.errors)}` : ''}` +
    `${r.fullMeshMissing ? `, **${r.fullMeshMissing} connection(s) missing from the full mesh**` : ''}` +
    `${r.formation.held_requests ? `, ${r.formation.held_requests} carried offers not admitted (held)` : ''}`);
  line(`Runs: ${notes.join('; ')}. Core calls (distinct cards verified, proofs checked): ${coreCalls.decodeCard}, ` +
    `${coreCalls.checkGroupProof}. Node ${process.version}.`);
  return out.join('\n');
}

const results = [];
for (const n of SIZES) {
  say(`N=${n}: cards`);
  results.push(await simulate(n));
}
if (opts.json) {
  const { writeFileSync } = await import('node:fs');
  writeFileSync(opts.json, JSON.stringify(results.map((r) => ({ ...r, g0: { ...r.g0, degrees: undefined },
    g1: { ...r.g1, degrees: undefined }, g2: { ...r.g2, degrees: undefined },
    gRejoin: { ...r.gRejoin, degrees: undefined } })), null, 1));
}
console.log(report(results));
