// Real-browser WebRTC harness: two pages (each in its own browser context) connect a 'pushpeer' data channel with
// non-trickle ICE, and every SDP crosses from one page to the other through a `transform` hook, the place where
// pushpeer's compact SDP codec goes (pack on the sender, unpack on the receiver).
//
//   import { startHarness } from './harness.mjs';
//   const h = await startHarness();                      // static server + lazily launched browsers
//   await h.launch(['chromium', 'firefox']);             // optional: start them now (in a before() hook)
//   const r = await h.connectPair({ offerer: 'chromium', answerer: 'firefox',
//     transform: async (sdp, ctx) => core.unpackSdp(core.packSdp(sdp)) });
//   r.offer.sdp / r.offer.wire / r.answer.sdp / r.answer.wire, r.timings, r.messages
//   await h.close();
//
// transform(sdp, ctx) gets the SDP a browser produced and returns (or resolves to) the SDP text the other browser
// will be given. ctx = { kind: 'offer' | 'answer', from, to } where from/to are Peer objects ({ name, page,
// evaluate(fn, ...args), call(method, ...args) }), so a transform can also run the codec inside the pages:
//   transform: async (sdp, { from, to }) => {
//     const packed = await from.evaluate(async (s) => Array.from((await loadCore()).packSdp(s)), sdp);
//     return to.evaluate(async (p) => (await loadCore()).unpackSdp(new Uint8Array(p)), packed);
//   }
// Whatever the transform returns may also carry extra diagnostics: return { sdp, bytes } and r.offer.wireBytes /
// r.answer.wireBytes record `bytes` (e.g. the packed size).
//
// With env PUSHPEER_SAVE_SDP=dir every SDP a browser produced is saved there (as produced, before the transform).
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BROWSERS, browserVersion, launchBrowser } from './browsers.mjs';
import { startServer } from './server.mjs';

export const PAGE_PATH = '/tests/browser/rtc-page.html';
export const identity = (sdp) => sdp;

const DEFAULTS = {
  iceTimeoutMs: 5000, // gathering is host-only and normally completes in well under a second
  openTimeoutMs: 20000, // ICE + DTLS + SCTP
  pairTimeoutMs: 45000, // the whole connectPair(), a hard cap below the test's own timeout
  pageTimeoutMs: 20000, // page load
};

export function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
      timer.unref?.();
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Candidates of an SDP: [{ foundation, component, transport, priority, address, port, type, kind }], kind one of
 * 'ipv4', 'ipv6', 'loopback', 'link-local', 'mdns'.
 */
export function parseCandidates(sdp) {
  const out = [];
  for (const line of sdp.split(/\r?\n/)) {
    const m = /^a=candidate:(\S+) (\d+) (\S+) (\d+) (\S+) (\d+) typ (\S+)/.exec(line);
    if (!m) continue;
    const [, foundation, component, transport, priority, address, port, type] = m;
    let kind;
    if (/\.local$/i.test(address)) kind = 'mdns';
    else if (/^127\./.test(address) || address === '::1') kind = 'loopback';
    else if (/^fe80:/i.test(address) || /^169\.254\./.test(address)) kind = 'link-local';
    else if (address.includes(':')) kind = 'ipv6';
    else kind = 'ipv4';
    out.push({ foundation, component: Number(component), transport: transport.toLowerCase(),
      priority: Number(priority), address, port: Number(port), type, kind, line });
  }
  return out;
}

/** Candidates a peer on another host could use (or, here, a peer on this host through the real interface). */
export function realCandidates(sdp) {
  return parseCandidates(sdp).filter((c) => c.kind === 'ipv4' || c.kind === 'ipv6');
}

/** [offerer, answerer] pairs every SDP test covers. */
export const PAIRS = [
  ['chromium', 'firefox'],
  ['firefox', 'chromium'],
  ['chromium', 'chromium'],
  ['firefox', 'firefox'],
];

/** What every SDP a browser produced must have for the pushpeer data channel. */
/** An SDP gathered with a STUN/TURN server has srflx and relay candidates, with raddr/rport (AssertionError if not). */
export function assertRelayedCandidates(sdp, who) {
  for (const type of ['srflx', 'relay']) {
    assert.match(sdp, new RegExp(`^a=candidate:.* typ ${type} raddr \\S+ rport \\d+`, 'm'),
      `${who}: a "typ ${type} raddr … rport …" candidate in\n${sdp}`);
  }
}

export function assertDataChannelSdp(sdp, who) {
  assert.match(sdp, /^v=0\r\n/, `${who}: SDP starts with v=0 and uses CRLF`);
  assert.match(sdp, /^m=application \d+ UDP\/DTLS\/SCTP webrtc-datachannel$/m, `${who}: data channel m-line`);
  assert.match(sdp, /^a=ice-ufrag:\S+$/m, `${who}: ice-ufrag`);
  assert.match(sdp, /^a=ice-pwd:\S+$/m, `${who}: ice-pwd`);
  assert.match(sdp, /^a=fingerprint:sha-256 [0-9A-F:]{95}$/m, `${who}: sha-256 fingerprint`);
  assert.match(sdp, /^a=setup:(actpass|active|passive)$/m, `${who}: setup`);
  assert.match(sdp, /^a=sctp-port:\d+$/m, `${who}: sctp-port`);
  const candidates = parseCandidates(sdp);
  const real = realCandidates(sdp);
  assert.ok(real.length > 0, `${who}: no host candidate on a real (non-loopback) interface in:\n${sdp}`);
  assert.ok(real.some((c) => c.type === 'host' && c.transport === 'udp'), `${who}: a UDP host candidate`);
  assert.deepEqual(candidates.filter((c) => c.kind === 'mdns').map((c) => c.address), [],
    `${who}: mDNS (.local) candidates: the browser flags/prefs that turn obfuscation off were not applied`);
  return { candidates, real };
}

export function candidateSummary(candidates) {
  const counts = {};
  for (const c of candidates) {
    const key = `${c.type}/${c.transport}/${c.kind}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return Object.entries(counts).map(([k, n]) => `${n}×${k}`).join(' ');
}

let saveCounter = 0;
function saveSdp(dir, name, sdp) {
  mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const file = path.join(dir, `${name}-${stamp}-${process.pid}-${++saveCounter}.sdp`);
  writeFileSync(file, sdp);
  return file;
}

class Peer {
  constructor(name, context, page, label) {
    this.name = name;
    this.context = context;
    this.page = page;
    this.label = label;
    this.consoleLines = [];
  }

  /** page.evaluate, for code that uses the page's API (window.rtc, window.loadCore). */
  evaluate(fn, ...args) {
    return this.page.evaluate(fn, ...args);
  }

  /** Calls window.rtc[method](...args) in the page. */
  call(method, ...args) {
    return this.page.evaluate((m, a) => window.rtc[m](...a), method, args);
  }

  async info() {
    try {
      return await withTimeout(this.call('rtcInfo'), 5000, `${this.label} rtcInfo`);
    } catch (error) {
      return { unavailable: error.message };
    }
  }

  async close() {
    try {
      await withTimeout(this.context.close(), 10000, `${this.label} close`);
    } catch {
      // the browser itself is closed at the end; a stuck context must not fail the test
    }
  }
}

/**
 * Starts the static server; browsers start on first use and are shared by all pairs (a same-browser pair uses two
 * browser contexts of one browser). Options: browsers (allowed names), launchOptions ({ chromium: {...}, firefox:
 * {...} } for launchBrowser), log (function).
 */
export async function startHarness({ launchOptions = {}, log = () => {} } = {}) {
  const server = await startServer();
  const launched = new Map();
  const peers = new Set();
  let closed = false;

  /** The shared browser `name`, launched on first use, and again if it died (crashed or was closed). */
  function browser(name) {
    if (closed) return Promise.reject(new Error('harness closed'));
    if (!BROWSERS.includes(name)) return Promise.reject(new Error(`unknown browser ${name}`));
    const cached = launched.get(name);
    if (!cached) return start(name, null);
    return cached.then((b) => (b.connected ? b : relaunch(name, cached, b)), () => relaunch(name, cached, null));
  }

  // Check and replace without an await in between: two pages asking at once share one relaunch.
  function relaunch(name, cached, old) {
    if (closed) return Promise.reject(new Error('harness closed'));
    if (launched.get(name) !== cached) return browser(name);
    log(`${name}: relaunching (the previous instance ${old ? 'disconnected' : 'failed to launch'})`);
    return start(name, old);
  }

  function start(name, old) {
    const p = (async () => {
      await old?.close();
      return launchBrowser(name, launchOptions[name] ?? {});
    })();
    launched.set(name, p);
    return p;
  }

  /** Launches the named browsers now (in parallel), so that test time caps do not include a cold start. */
  async function launch(names = BROWSERS, { timeoutMs = 120_000 } = {}) {
    await withTimeout(Promise.all(names.map((n) => browser(n))), timeoutMs, `launching ${names.join(', ')}`);
  }

  async function openPeer(name, { label = name, pageTimeoutMs = DEFAULTS.pageTimeoutMs } = {}) {
    const b = await browser(name);
    const context = await b.createBrowserContext();
    let peer;
    try {
      const page = await context.newPage();
      peer = new Peer(name, context, page, label);
      peers.add(peer);
      page.on('console', (msg) => peer.consoleLines.push(`${msg.type()}: ${msg.text()}`));
      page.on('pageerror', (err) => peer.consoleLines.push(`pageerror: ${err.message}`));
      await page.goto(server.url(PAGE_PATH), { waitUntil: 'load', timeout: pageTimeoutMs });
      await page.waitForFunction(() => window.rtcReady === true, { timeout: pageTimeoutMs });
      return peer;
    } catch (error) {
      if (peer) {
        peers.delete(peer);
        await peer.close();
      } else {
        await context.close().catch(() => {});
      }
      throw new Error(`${label}: opening ${PAGE_PATH} failed: ${error.message}`, { cause: error });
    }
  }

  async function applyTransform(transform, sdp, ctx) {
    const out = await transform(sdp, ctx);
    if (typeof out === 'string') return { sdp: out, bytes: null };
    if (out && typeof out.sdp === 'string') return { sdp: out.sdp, bytes: out.bytes ?? null };
    throw new TypeError(`transform returned ${typeof out} for the ${ctx.kind}, expected the SDP text`);
  }

  /**
   * Connects `offerer` to `answerer` ('chromium' | 'firefox') and exchanges one message each way. Options:
   * transform (see top), iceTimeoutMs, openTimeoutMs, pairTimeoutMs, messages (default true), saveDir (default env
   * PUSHPEER_SAVE_SDP), iceServers (both pages; default none: host candidates only), media ({ audio, video: n }:
   * both sides add fake-device tracks), holdRemoteCandidates (default: when there are iceServers; see acceptOffer in
   * rtc-page.mjs). Resolves to { offer, answer, messages, selectedPair, timings, versions };
   * rejects with the states, events and console of both pages in the message.
   */
  async function connectPair({
    offerer,
    answerer,
    transform = identity,
    iceTimeoutMs = DEFAULTS.iceTimeoutMs,
    openTimeoutMs = DEFAULTS.openTimeoutMs,
    pairTimeoutMs = DEFAULTS.pairTimeoutMs,
    messages = true,
    saveDir = process.env.PUSHPEER_SAVE_SDP || null,
    iceServers = [],
    media = null,
    holdRemoteCandidates = iceServers.length > 0,
  } = {}) {
    const t0 = Date.now();
    const timings = {};
    const mark = (name) => {
      timings[name] = Date.now() - t0;
    };
    let a;
    let b;
    let step = 'starting browsers';
    const run = async () => {
      [a, b] = await Promise.all([
        openPeer(offerer, { label: `${offerer} (offerer)` }),
        openPeer(answerer, { label: `${answerer} (answerer)` }),
      ]);
      mark('pagesReady');
      step = 'createOffer';
      const offerSdp = await a.call('createOffer', { iceTimeoutMs, iceServers, media });
      mark('offerGathered');
      if (saveDir) saveSdp(saveDir, `${offerer}-offer-to-${answerer}`, offerSdp);
      step = 'transform(offer)';
      const offerWire = await applyTransform(transform, offerSdp, { kind: 'offer', from: a, to: b });
      step = 'acceptOffer';
      const answerSdp = await b.call('acceptOffer', offerWire.sdp,
        { iceTimeoutMs, iceServers, media, holdRemoteCandidates });
      mark('answerGathered');
      if (saveDir) saveSdp(saveDir, `${answerer}-answer-to-${offerer}`, answerSdp);
      step = 'transform(answer)';
      const answerWire = await applyTransform(transform, answerSdp, { kind: 'answer', from: b, to: a });
      step = 'acceptAnswer';
      await a.call('acceptAnswer', answerWire.sdp);
      step = 'waitOpen';
      await Promise.all([a.call('waitOpen', { timeoutMs: openTimeoutMs }),
        b.call('waitOpen', { timeoutMs: openTimeoutMs })]);
      mark('open');
      const exchanged = {};
      if (messages) {
        step = 'messages';
        exchanged.toAnswerer = `hello ${answerer}, from ${offerer} (offerer) ✓`;
        exchanged.toOfferer = `hello ${offerer}, from ${answerer} (answerer) ✓`;
        await a.call('send', exchanged.toAnswerer);
        await b.call('send', exchanged.toOfferer);
        const [gotA, gotB] = await Promise.all([a.call('waitMessages', 1, { timeoutMs: openTimeoutMs }),
          b.call('waitMessages', 1, { timeoutMs: openTimeoutMs })]);
        exchanged.receivedByOfferer = gotA;
        exchanged.receivedByAnswerer = gotB;
        mark('messages');
      }
      const [infoA, infoB, pairA, pairB] = await Promise.all([a.info(), b.info(), a.call('selectedPair'),
        b.call('selectedPair')]);
      return {
        offerer,
        answerer,
        offer: { sdp: offerSdp, wire: offerWire.sdp, wireBytes: offerWire.bytes, gatheringMs: infoA.gatheringMs,
          gatheringComplete: infoA.gatheringComplete },
        answer: { sdp: answerSdp, wire: answerWire.sdp, wireBytes: answerWire.bytes, gatheringMs: infoB.gatheringMs,
          gatheringComplete: infoB.gatheringComplete },
        messages: exchanged,
        selectedPair: { offerer: pairA, answerer: pairB },
        timings,
        versions: { offerer: infoA.userAgent, answerer: infoB.userAgent },
      };
    };
    try {
      return await withTimeout(run(), pairTimeoutMs, `${offerer} -> ${answerer}`);
    } catch (error) {
      const details = [];
      for (const p of [a, b]) {
        if (!p) continue;
        const i = await p.info();
        details.push(`${p.label}: ${i.state ?? i.unavailable}; errors: ${JSON.stringify(i.errors ?? [])}; ` +
          `events: ${JSON.stringify(i.events ?? [])}; console: ${JSON.stringify(p.consoleLines.slice(-10))}`);
      }
      log(`${offerer} -> ${answerer} failed at ${step}: ${error.message}`);
      throw new Error(`${offerer} -> ${answerer} failed at ${step} after ${Date.now() - t0} ms: ${error.message}\n` +
        details.join('\n'), { cause: error });
    } finally {
      await Promise.all([a, b].filter(Boolean).map(async (p) => {
        peers.delete(p);
        await p.close();
      }));
    }
  }

  async function versions() {
    const out = {};
    for (const [name, p] of launched) {
      try {
        out[name] = await browserVersion(await p);
      } catch {
        out[name] = 'failed to launch';
      }
    }
    return out;
  }

  async function close() {
    if (closed) return;
    closed = true;
    await Promise.all([...peers].map((p) => p.close()));
    await Promise.all([...launched.values()].map(async (p) => {
      try {
        await (await p).close();
      } catch {
        // launch failed: nothing to close (launchBrowser cleaned up)
      }
    }));
    await server.close();
  }

  return { server, origin: server.origin, browser, launch, openPeer, connectPair, versions, close };
}
