// Connection setup over push in real browsers: time from connect() to the open data channel, and the pushes it
// took, on loopback with the local push service (tests/push-service) — the world of tests/browser/apps.mjs.
//
//   node bench/browser/connect.mjs [--runs 20] [--pairs firefox-firefox,chromium-firefox,firefox-chromium]
//                                  [--json /tmp/connect-runs.json]   (every run's timeline, for a closer look)
//
// For each pair (caller-callee): one world, two app pages (tests/browser/app/) opened once, two peers, then N
// times: caller connect(callee's card), timed in the caller's page (app.connect's `ms`, performance.now() around
// PushPeer.connect: non-trickle ICE gathering on both sides, two pushes, ICE/DTLS/SCTP); the pushes the service
// accepted for it and their body sizes; then both sides close the connection and drop it, so closed
// RTCPeerConnections do not pile up in the pages. Where the time goes comes from wall-clock stamps (Date.now(),
// one clock for the browsers and Node) taken by listeners this script adds to the pages: PushPeer's progress and
// push events, the inbox BroadcastChannel, and a thin RTCPeerConnection subclass that only stamps state changes.
// Markdown on stdout (bench/run.sh writes it into bench/RESULTS.md), progress on stderr. Nothing here asserts.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';

import { startWorld } from '../../tests/browser/apps.mjs';
import { browserVersion, CHROMIUM_PATH, FIREFOX_PATH } from '../../tests/browser/browsers.mjs';
import { closeAndDrop, fmt, median, parsePairs, quantile, range, say, sleep, takeLog, waitConnection }
  from './pages.mjs';

const SUBJECT = 'mailto:bench@pushpeer.invalid';
const ALL_PAIRS = ['firefox-firefox', 'chromium-firefox', 'firefox-chromium'];
const NAMES = { firefox: 'Firefox', chromium: 'Chromium' };
const PAUSE_MS = 200; // between runs, after both sides closed

const { values: opts } = parseArgs({ options: {
  runs: { type: 'string', default: '20' },
  pairs: { type: 'string', default: ALL_PAIRS.join(',') },
  json: { type: 'string' }, // also write every run's timeline there
} });
const runs = Number(opts.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs: a positive integer, not ${opts.runs}`);
const pairs = parsePairs(opts.pairs, NAMES, ['caller', 'callee']);

/** Listeners in the page that stamp what happens (window.__bench.log); nothing in the library changes. */
async function instrument(app) {
  await app.page.evaluate(async () => {
    const { channelName } = await import('/js/push/reception.js');
    const log = [];
    const pcs = { created: 0, closed: 0 };
    window.__bench = { log, pcs };
    const peer = window.app.state.peer;
    const stamp = (entry) => log.push({ at: Date.now(), ...entry });
    for (const type of ['progress', 'push']) {
      peer.addEventListener(type, (e) => stamp({ type, step: e.step ?? e.detail?.type ?? null,
        sessionId: e.sessionId ?? null, ms: e.ms ?? e.detail?.ms ?? null, bytes: e.bytes ?? e.detail?.bytes ?? null }));
    }
    peer.addEventListener('request', (e) => stamp({ type: 'request', sessionId: e.sessionId, received: e.received }));
    peer.addEventListener('connection', (e) => stamp({ type: 'connection', sessionId: e.connection.sessionId }));
    // The service worker's "stored in the inbox" message, heard by this page (PushPeer listens on the same name).
    const bc = new BroadcastChannel(channelName('pushpeer'));
    bc.onmessage = (e) => e.data?.pushpeer === 'inbox' && stamp({ type: 'inbox', id: e.data.id, kind: e.data.type });
    // State changes of every RTCPeerConnection the library makes (it looks the constructor up at each call).
    const Native = window.RTCPeerConnection;
    window.RTCPeerConnection = class BenchRTCPeerConnection extends Native {
      constructor(...args) {
        super(...args);
        const id = ++pcs.created;
        stamp({ type: 'pc', step: 'created', id });
        this.addEventListener('icegatheringstatechange', () =>
          stamp({ type: 'pc', step: `gathering-${this.iceGatheringState}`, id }));
        this.addEventListener('iceconnectionstatechange', () =>
          stamp({ type: 'pc', step: `ice-${this.iceConnectionState}`, id }));
        this.addEventListener('connectionstatechange', () =>
          stamp({ type: 'pc', step: `connection-${this.connectionState}`, id }));
      }

      close() {
        if (this.signalingState !== 'closed') pcs.closed++;
        return super.close();
      }
    };
  });
}


/** 'Mozilla Firefox 153.7.0esr (firefox/153.7.0)': the package's own line, then what the protocol reports. */
async function version(app) {
  let text = '';
  try {
    text = execFileSync(app.name === 'chromium' ? CHROMIUM_PATH : FIREFOX_PATH, ['--version'], { encoding: 'utf8',
      timeout: 20_000, stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n').pop().replace(/ built on .*/, '');
  } catch {
    // the protocol's answer alone
  }
  const reported = await browserVersion(app.browser);
  return text ? `${text} (${reported})` : reported;
}

const first = (log, pred) => log.find(pred)?.at ?? NaN;

/** Wall-clock stamps of one connection: both pages, the service workers' inbox items, the push service. */
function timeline({ start, sessionId, callerLog, calleeLog, pushes, callerInbox }) {
  const offer = pushes.find((p) => p.topic === `o${sessionId}`);
  const answer = pushes.find((p) => p.topic === `a${sessionId}`);
  const callerPc = callerLog.find((e) => e.type === 'pc' && e.step === 'created')?.id;
  const calleePc = calleeLog.find((e) => e.type === 'pc' && e.step === 'created')?.id;
  const pc = (log, id, step) => first(log, (e) => e.type === 'pc' && e.id === id && e.step === step);
  const request = calleeLog.find((e) => e.type === 'request' && e.sessionId === sessionId);
  const t = {
    start,
    callerPc: pc(callerLog, callerPc, 'created'),
    callerGathered: pc(callerLog, callerPc, 'gathering-complete'),
    offerPost: first(callerLog, (e) => e.type === 'push' && e.step === 'attempt'),
    offerAccepted: offer?.at ?? NaN,
    offerStored: request?.received ?? NaN,
    offerInPage: first(calleeLog, (e) => e.type === 'inbox' && e.kind === 'offer'),
    calleePc: pc(calleeLog, calleePc, 'created'),
    calleeGathered: pc(calleeLog, calleePc, 'gathering-complete'),
    answerPost: first(calleeLog, (e) => e.type === 'push' && e.step === 'attempt'),
    answerAccepted: answer?.at ?? NaN,
    answerStored: callerInbox ?? NaN,
    answerInPage: first(callerLog, (e) => e.type === 'inbox' && e.kind === 'answer'),
    answerApplied: first(callerLog, (e) => e.type === 'progress' && e.step === 'answer-received'),
    iceConnected: Math.min(pc(callerLog, callerPc, 'ice-connected'), pc(callerLog, callerPc, 'ice-completed')),
    dtlsConnected: pc(callerLog, callerPc, 'connection-connected'),
    open: first(callerLog, (e) => e.type === 'progress' && e.step === 'open'),
    calleeOpen: first(calleeLog, (e) => e.type === 'connection' && e.sessionId === sessionId),
  };
  if (!Number.isFinite(t.iceConnected)) t.iceConnected = pc(callerLog, callerPc, 'ice-connected');
  return t;
}

// Consecutive steps of the timeline, [label, from, to], from connect() (start) to the caller's open data channel.
const STEPS = [
  ['caller: connect() to its RTCPeerConnection (card decode, peer store)', 'start', 'callerPc'],
  ['caller: createOffer + ICE gathering to complete', 'callerPc', 'callerGathered'],
  ['caller: pack SDP, seal envelope, encrypt (offer) to POST', 'callerGathered', 'offerPost'],
  ['offer POST until the service accepted it', 'offerPost', 'offerAccepted'],
  ['offer: service to callee service worker, stored in its inbox', 'offerAccepted', 'offerStored'],
  ['offer: inbox to callee page (BroadcastChannel)', 'offerStored', 'offerInPage'],
  ['callee: inbox claim, request event, new RTCPeerConnection', 'offerInPage', 'calleePc'],
  ['callee: apply offer, createAnswer + ICE gathering to complete', 'calleePc', 'calleeGathered'],
  ['callee: pack, seal, save session, encrypt (answer) to POST', 'calleeGathered', 'answerPost'],
  ['answer POST until the service accepted it', 'answerPost', 'answerAccepted'],
  ['answer: service to caller service worker, stored in its inbox', 'answerAccepted', 'answerStored'],
  ['answer: inbox to caller page (BroadcastChannel)', 'answerStored', 'answerInPage'],
  ['caller: inbox claim to answer-received', 'answerInPage', 'answerApplied'],
  ['caller: apply answer, ICE checks to ICE connected', 'answerApplied', 'iceConnected'],
  ['DTLS handshake (connectionState connected)', 'iceConnected', 'dtlsConnected'],
  ['SCTP association, data channel open', 'dtlsConnected', 'open'],
];

async function benchPair({ caller: callerName, callee: calleeName }) {
  const label = `${callerName}-${calleeName}`;
  const world = await startWorld();
  const result = { label, callerName, calleeName, runs: [], failures: [], versions: {}, leftovers: null };
  try {
    const [caller, callee] = await Promise.all([world.open(callerName, `${callerName} (caller)`),
      world.open(calleeName, `${calleeName} (callee)`)]);
    for (const app of [caller, callee]) result.versions[app.name] = await version(app);
    await Promise.all([
      caller.call('create', { name: 'Caller', subject: SUBJECT, hostSubscribe: callerName === 'chromium' }),
      callee.call('create', { name: 'Callee', subject: SUBJECT, hostSubscribe: calleeName === 'chromium' }),
    ]);
    await Promise.all([instrument(caller), instrument(callee)]);
    const card = await callee.call('card');

    for (let run = 1; run <= runs; run++) {
      const since = world.service.lastSeq;
      await Promise.all([takeLog(caller), takeLog(callee)]);
      const r = await caller.page.evaluate(async (text) => {
        const start = Date.now();
        const out = await window.app.connect(text);
        const sessionId = out.index === undefined ? null : window.app.state.connections[out.index].connection.sessionId;
        return { ...out, start, sessionId };
      }, card.text);
      if (r.error) {
        result.failures.push({ run, error: r.error, ms: r.ms });
        say(`${label} run ${run}: FAILED after ${Math.round(r.ms)} ms: ${JSON.stringify(r.error)}`);
        await sleep(1000);
        await Promise.all([closeAndDrop(caller, null), closeAndDrop(callee, null)]); // whatever half-opened
        continue;
      }
      const calleeOpened = await waitConnection(callee, r.sessionId);
      const pushes = world.pushesSince(since);
      const events = world.service.received.filter((e) => e.seq > since);
      const [callerLog, calleeLog] = await Promise.all([takeLog(caller), takeLog(callee)]);
      const callerInbox = await caller.page.evaluate(async (sid) => (await window.app.state.peer.store.inbox())
        .find((i) => i.sessionId === sid && i.type === 'answer')?.received ?? null, r.sessionId);
      const [closedCaller, closedCallee] = await Promise.all([closeAndDrop(caller, r.sessionId),
        closeAndDrop(callee, r.sessionId)]);
      const t = timeline({ start: r.start, sessionId: r.sessionId, callerLog, calleeLog, pushes, callerInbox });
      const offer = pushes.find((p) => p.topic === `o${r.sessionId}`);
      const answer = pushes.find((p) => p.topic === `a${r.sessionId}`);
      result.runs.push({ run, ms: r.ms, pushes: pushes.length, offerBytes: offer?.bodyLength ?? NaN,
        answerBytes: answer?.bodyLength ?? NaN, preflights: events.filter((e) => e.type === 'preflight').length, t,
        calleeOpened, closed: closedCaller.closed && closedCallee.closed });
      say(`${label} run ${run}: ${Math.round(r.ms)} ms, ${pushes.length} pushes (${offer?.bodyLength}+${answer?.bodyLength} B)` +
        `${calleeOpened ? '' : ', callee never opened'}${closedCaller.closed && closedCallee.closed ? '' : ', NOT closed'}`);
      await sleep(PAUSE_MS);
    }
    const leftovers = async (app) => app.page.evaluate(() => ({ live: window.app.state.peer.connections.size,
      tracked: window.app.state.connections.length, ...window.__bench.pcs }));
    result.leftovers = { caller: await leftovers(caller), callee: await leftovers(callee) };
  } finally {
    await world.close();
  }
  return result;
}

function report(results) {
  const out = [];
  const line = (s = '') => out.push(s);
  line(`${runs} connections per pair, one after the other, between two app pages (tests/browser/app/) in headless`);
  line('browsers on one host, through the local push service (tests/push-service) and loopback ICE (host');
  line('candidates, no STUN/TURN). Time: connect() to the open data channel, measured in the caller\'s page; it');
  line('includes non-trickle ICE gathering on both sides (each SDP is pushed once gathering is complete), both');
  line('pushes and their delivery, and ICE/DTLS/SCTP. Pushes: POSTs the service accepted (201) during the');
  line('connection. Body bytes: the aes128gcm push body (envelope + RFC 8291 overhead).');
  for (const r of results) {
    const ok = r.runs;
    const ms = ok.map((x) => x.ms);
    line();
    line(`### ${NAMES[r.callerName]} calls ${NAMES[r.calleeName]}`);
    line();
    line('| runs | median ms | p90 ms | min ms | max ms | pushes per connection (min–max) | offer push body bytes | answer push body bytes |');
    line('|---:|---:|---:|---:|---:|---:|---:|---:|');
    const runsCell = r.failures.length ? `${ok.length} of ${ok.length + r.failures.length}` : String(ok.length);
    const pushesCell = ok.length ? `${Math.min(...ok.map((x) => x.pushes))}–${Math.max(...ok.map((x) => x.pushes))}` : '–';
    line(`| ${runsCell} | ${fmt(median(ms))} | ${fmt(quantile(ms, 0.9))} | ${fmt(Math.min(...ms))} | ` +
      `${fmt(Math.max(...ms))} | ${pushesCell} | ${range(ok.map((x) => x.offerBytes))} | ${range(ok.map((x) => x.answerBytes))} |`);
    line();
    const notes = [];
    if (ok.length) {
      const cold = STEPS.map(([text, from, to]) => [text, ok[0].t[to] - ok[0].t[from]]).filter(([, v]) => Number.isFinite(v))
        .sort((a, b) => b[1] - a[1]).slice(0, 2).map(([text, v]) => `${text.replace(/^[^:]*: /, '')}: ${fmt(v)} ms`);
      notes.push(`First connection (pages and service workers just started; included above): ${fmt(ok[0].ms)} ms, ` +
        `longest steps ${cold.join('; ')}.`);
    }
    if (r.failures.length) {
      notes.push(`Failed: ${r.failures.map((f) => `run ${f.run} (${f.error.code ?? f.error.message}, ${fmt(f.ms)} ms)`).join(', ')}.`);
    }
    const sum = (k) => ok.reduce((a, x) => a + x[k], 0);
    notes.push(`CORS preflights the push service answered: ${sum('preflights')} for ${sum('pushes')} pushes.`);
    const notOpened = ok.filter((x) => !x.calleeOpened).length;
    if (notOpened) notes.push(`${notOpened} run(s): the callee's side never reported its connection.`);
    const l = r.leftovers;
    if (l) {
      notes.push(`After the runs: RTCPeerConnections created/closed caller ${l.caller.created}/${l.caller.closed}, callee ` +
        `${l.callee.created}/${l.callee.closed}; open PushPeer connections ${l.caller.live} and ${l.callee.live}.`);
    }
    const viaDevtools = [r.calleeName === 'chromium' && 'offer', r.callerName === 'chromium' && 'answer'].filter(Boolean);
    if (viaDevtools.length) {
      notes.push(`Chromium receives its push (the ${viaDevtools.join(' and the ')}) through a DevTools path ` +
        '(tests/browser/apps.mjs): headless Chromium cannot reach a push service offline, so the service sends it to ' +
        'a Node user agent that decrypts it with http_ece and hands the plaintext to Chromium\'s service worker with ' +
        '`ServiceWorker.deliverPushMessage`. That leg has latency a real Chromium would not have (nor would it have ' +
        'FCM\'s own).');
    }
    line(notes.join(' '));
  }

  line();
  line('### Where the time goes');
  line();
  line('Per step, median (mean) over the runs in ms, from wall-clock stamps (Date.now(), 1 ms resolution) taken in');
  line('both pages, in the service workers\' inbox items and by the push service; each step starts where the one above');
  line('ends, so the means add up to the mean total (the medians need not). The cold first run is included.');
  line();
  const step = (r, from, to) => r.runs.map((x) => x.t[to] - x.t[from]);
  const mean = (v) => {
    const s = v.filter((x) => Number.isFinite(x));
    return s.length ? s.reduce((a, b) => a + b, 0) / s.length : NaN;
  };
  const cell = (v) => `${fmt(median(v))} (${fmt(mean(v))})`;
  line(`| step | ${results.map((r) => `${NAMES[r.callerName]} → ${NAMES[r.calleeName]}`).join(' | ')} |`);
  line(`|---|${results.map(() => '---:').join('|')}|`);
  for (const [labelText, from, to] of STEPS) line(`| ${labelText} | ${results.map((r) => cell(step(r, from, to))).join(' | ')} |`);
  line(`| **connect() to open, from the stamps** | ${results.map((r) => `**${cell(step(r, 'start', 'open'))}**`).join(' | ')} |`);
  line(`| connect() to open, measured in the page (the tables above) | ${results.map((r) =>
    cell(r.runs.map((x) => x.ms))).join(' | ')} |`);
  line(`| callee's data channel open, after the caller's | ${results.map((r) => cell(step(r, 'open', 'calleeOpen'))).join(' | ')} |`);
  line();
  const versions = {};
  for (const r of results) Object.assign(versions, r.versions);
  line(`Browsers: ${Object.values(versions).join(', ')}; Node ${process.version}; 1-minute load average ` +
    `${loadAtStart} at the start, ${os.loadavg()[0].toFixed(1)} at the end (${os.cpus().length} cores).`);
  return out.join('\n');
}

const loadAtStart = os.loadavg()[0].toFixed(1);
const results = [];
for (const pair of pairs) {
  say(`${pair.caller} -> ${pair.callee}: ${runs} runs`);
  results.push(await benchPair(pair));
}
if (opts.json) writeFileSync(opts.json, `${JSON.stringify(results, null, 1)}\n`);
console.log(report(results));
