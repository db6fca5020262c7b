// DTLS roles: how long from the answer applied to the open data channel, with the answer as the browser makes it
// (active: the answerer is the DTLS client) and with it passive (the offerer is the client), in the four pairs of
// browsers, raw RTCPeerConnections (no pushpeer) on the test pages of tests/browser/harness.mjs, alternating in one
// run. It is the measurement behind js/connection/connection.js passiveAnswerSdp.
//   node bench/browser/dtls-roles.mjs [--runs 20]
// Markdown on stdout (bench/run.sh writes it into bench/RESULTS.md), progress on stderr. Nothing here asserts.
import { parseArgs } from 'node:util';

import { PAIRS, startHarness } from '../../tests/browser/harness.mjs';
import { fmt, median, quantile, range, say } from './pages.mjs';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '20' } } });
const runs = Number(values.runs);

/** In a page: a new RTCPeerConnection with the pushpeer channel layout, its complete local SDP. */
async function offer(page) {
  return page.evaluate(async () => {
    window.bench = { pc: new RTCPeerConnection() };
    const ch = window.bench.pc.createDataChannel('c', { negotiated: true, id: 0 });
    window.bench.opened = new Promise((resolve) => ch.addEventListener('open', resolve));
    await window.bench.pc.setLocalDescription();
    await new Promise((resolve) => {
      const done = () => window.bench.pc.iceGatheringState === 'complete' && resolve();
      window.bench.pc.addEventListener('icegatheringstatechange', done);
      done();
    });
    return window.bench.pc.localDescription.sdp;
  });
}

async function answer(page, sdp, passive) {
  return page.evaluate(async (remote, makePassive) => {
    const pc = new RTCPeerConnection();
    window.bench = { pc };
    pc.createDataChannel('c', { negotiated: true, id: 0 });
    await pc.setRemoteDescription({ type: 'offer', sdp: remote });
    const made = await pc.createAnswer();
    const local = makePassive ? made.sdp.replace(/^a=setup:active\r$/gm, 'a=setup:passive\r') : made.sdp;
    await pc.setLocalDescription({ type: 'answer', sdp: local });
    await new Promise((resolve) => {
      const done = () => pc.iceGatheringState === 'complete' && resolve();
      pc.addEventListener('icegatheringstatechange', done);
      done();
    });
    return { sdp: pc.localDescription.sdp, setup: /a=setup:(\S+)/.exec(pc.localDescription.sdp)[1] };
  }, sdp, passive);
}

/** Applies the answer in the offerer's page: ms to connectionState 'connected' and to the channel open. */
async function finish(page, sdp) {
  return page.evaluate(async (remote) => {
    const { pc, opened } = window.bench;
    const t0 = performance.now();
    const connected = new Promise((resolve) => {
      const check = () => pc.connectionState === 'connected' && resolve(performance.now() - t0);
      pc.addEventListener('connectionstatechange', check);
    });
    await pc.setRemoteDescription({ type: 'answer', sdp: remote });
    await opened;
    return { connected: await connected, open: performance.now() - t0 };
  }, sdp);
}

const harness = await startHarness();
const rows = [];
let browsers = {};
try {
  await harness.launch(['chromium', 'firefox']);
  for (const [offerer, answerer] of PAIRS) {
    const a = await harness.openPeer(offerer);
    const b = await harness.openPeer(answerer);
    const times = { active: [], passive: [] };
    for (let i = 0; i < 2 * runs + 2; i++) {
      const passive = i % 2 === 1;
      const made = await answer(b.page, await offer(a.page), passive);
      if (made.setup !== (passive ? 'passive' : 'active')) throw new Error(`${answerer} answered ${made.setup}`);
      const t = await finish(a.page, made.sdp);
      if (i >= 2) times[passive ? 'passive' : 'active'].push(t); // the first round of each: warm-up
      await a.page.evaluate(() => window.bench.pc.close());
      await b.page.evaluate(() => window.bench.pc.close());
    }
    say(`${offerer} -> ${answerer}: done`);
    rows.push({ offerer, answerer, times });
    await Promise.all([a.close(), b.close()]);
  }
  browsers = await harness.versions();
} finally {
  await harness.close();
}

const name = (b) => (b === 'firefox' ? 'Firefox' : 'Chromium');
const lines = [
  `${runs} rounds per pair and per role, alternating, after one warm-up round of each (not counted); one host,`,
  'loopback ICE (host candidates), raw RTCPeerConnections with the pushpeer channel layout (a negotiated data',
  'channel), complete SDPs (non-trickle). Time: in the offerer\'s page, from setRemoteDescription(answer) to',
  'connectionState connected (ICE and DTLS) and to the data channel open (SCTP as well). "as made": the browser\'s',
  'own answer (a=setup:active: the answerer is the DTLS client); "passive": the same answer with a=setup:passive',
  '(the offerer is the client), which RFC 5763 §5 allows an answerer.',
  '',
  '| offerer → answerer | DTLS client as made | open, as made: median ms | p90 | min–max | open, answer passive: median ms | p90 | min–max | passive / as made, medians | connected, as made / passive: medians | pushpeer answers |',
  '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|',
];
for (const { offerer, answerer, times } of rows) {
  const open = (list) => list.map((t) => t.open);
  const connected = (list) => list.map((t) => t.connected);
  const ratio = median(open(times.passive)) / median(open(times.active));
  lines.push(`| ${name(offerer)} → ${name(answerer)} | ${name(answerer)} | ${fmt(median(open(times.active)))} | ` +
    `${fmt(quantile(open(times.active), 0.9))} | ${range(open(times.active))} | ${fmt(median(open(times.passive)))} | ` +
    `${fmt(quantile(open(times.passive), 0.9))} | ${range(open(times.passive))} | ${ratio.toFixed(2)}× | ` +
    `${fmt(median(connected(times.active)))} / ${fmt(median(connected(times.passive)))} | ` +
    `${answerer === 'firefox' ? 'as made' : 'passive'} |`);
}
lines.push('', `Browsers: ${Object.values(browsers).join(', ')}; Node ${process.version}.`);
console.log(lines.join('\n'));
