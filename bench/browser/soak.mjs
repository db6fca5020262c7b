// Reliability under load, measured (issue: 1000 calls back to back, 20 simultaneous callers, reloads at random
// moments): real Firefox pages through the local push service (the world of tests/browser/apps.mjs), both headed on
// a virtual display (Xvfb) with a desktop notification service (dunst, tests/browser/notifier.mjs) so that
// notifications are really shown, as a user's browser does (headless Firefox has no backend for them, and every push
// would cost push quota).
//
//   node bench/browser/soak.mjs [--calls 1000] [--block 100] [--callers 20] [--reloads 20] [--notifications system]
//   (after npm run build; the default --notifications system needs the Debian packages dunst and dbus)
//
// 1. calls back to back, Alice -> Bob, each closed and dropped on both sides after it opened; per block of calls:
//    success, latency percentiles (drift), pushes per call, what Bob's and Alice's stores hold (inbox items,
//    sessions, peers, replay-guard bytes) and the resident memory of each Firefox (its process tree).
//    Then the baseline in the same two pages: raw RTCDataChannel calls, memory per call side by side.
// 2. simultaneous callers to Bob (Chromium, a context each): how many connect, the slowest, Bob's subscription.
// 3. Bob's page reloads at a random step of a call (the request, after accepting, as the answer leaves, once open):
//    the outcome within 12 s (connected; failed with a code; stranded: neither), and whether the next call works.
// Markdown on stdout, progress on stderr. Nothing here asserts.
import { readFileSync, readdirSync } from 'node:fs';
import { parseArgs } from 'node:util';

import { armReload, openAliceAndBob, openCallers, startAfterReload, SUBJECT, startWorld } from '../../tests/browser/apps.mjs';
import { withTimeout } from '../../tests/browser/harness.mjs';
import { startNotifier } from '../../tests/browser/notifier.mjs';
import { startXvfb } from '../../tests/browser/xvfb.mjs';
import { closeAndDrop, fmt, quantile, rawDataChannelCall, say, sleep } from './pages.mjs';

const { values: opts } = parseArgs({ options: {
  calls: { type: 'string', default: '1000' },
  block: { type: 'string', default: '100' },
  callers: { type: 'string', default: '20' },
  reloads: { type: 'string', default: '20' },
  baseline: { type: 'string' }, // raw RTCDataChannel calls in the same pages (default: as many as --calls)
  // How Firefox shows notifications: 'system' (libnotify to dunst on a private bus, as on a Linux desktop), 'xul'
  // (its built-in alert windows, as the tests use), 'headless' (none can be shown; every push costs quota).
  notifications: { type: 'string', default: 'system' },
} });
const CALLS = Number(opts.calls);
const BLOCK = Number(opts.block);
const CALLERS = Number(opts.callers);
const RELOADS = Number(opts.reloads);
const BASELINE = Number(opts.baseline ?? opts.calls);
const GOAL_MS = 12_000;
const STEPS = ['request', 'connecting', 'answer-sent', 'open'];

const PAGE_MS = 30_000; // a page that has not answered by then stopped answering: the run ends with the step named
const CALL_LIMIT_MS = 120_000; // a call that takes longer is reported as stuck (with what the pages saw) and skipped

/** alice.call('connect'), or { stuck: true, events } when it has not settled within CALL_LIMIT_MS. */
async function connect(caller, callee, card, options) {
  const pending = caller.call('connect', card, options);
  pending.catch(() => {}); // once abandoned, its protocol timeout must not end the run
  const r = await Promise.race([pending, sleep(CALL_LIMIT_MS).then(() => null)]);
  if (r) return r;
  const events = async (a) => JSON.stringify((await a.call('events')).slice(-15));
  return { stuck: true, error: { code: 'STUCK' }, detail: `caller ${await events(caller)}\ncallee ${await events(callee)}` };
}

/** Resident memory (KiB) of a process and everything it started (Firefox's content processes). */
function treeRssKiB(pid) {
  let total = 0;
  const visit = (p) => {
    try {
      total += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
      for (const task of readdirSync(`/proc/${p}/task`)) {
        for (const child of readFileSync(`/proc/${p}/task/${task}/children`, 'utf8').split(' ').filter(Boolean)) visit(child);
      }
    } catch {
      // the process ended
    }
  };
  visit(pid);
  return total;
}

/** What a page's store holds. */
const storage = (app) => app.page.evaluate(async () => {
  const { openStore } = await import('/js/store/store.js');
  const store = await openStore();
  try {
    return { inbox: (await store.inbox()).length, sessions: (await store.sessions()).length,
      peers: (await store.peers()).length, replay: (await store.get('replay'))?.length ?? 0 };
  } finally {
    store.close();
  }
});

const NOTIFICATIONS = opts.notifications;
if (!['system', 'xul', 'headless'].includes(NOTIFICATIONS)) throw new Error('--notifications is system, xul or headless');
const xvfb = NOTIFICATIONS === 'headless' ? null : await startXvfb();
const notifier = NOTIFICATIONS === 'system' ? await startNotifier(xvfb.display) : null;
const world = await startWorld();
const headed = {
  system: { headless: false, env: notifier?.env, extraPrefs: { 'alerts.useSystemBackend': true } },
  xul: xvfb?.headedFirefox,
  headless: {},
}[NOTIFICATIONS];
const { alice, bob } = await openAliceAndBob(world, { alice: headed, bob: headed });
const BOB = { name: 'Bob', subject: SUBJECT }; // Bob's app as created, for the reloads
const card = (await bob.call('card')).text;
const pid = (app) => app.browser.process()?.pid;
const out = [];

// --- 1. calls back to back ---
out.push(`### ${CALLS} calls back to back, Firefox -> Firefox (notifications: ${NOTIFICATIONS})`, '');
out.push('| calls | connected | p50 ms | p90 ms | max ms | pushes/call | Bob: inbox, sessions, peers, replay B | Alice: inbox, sessions | Firefox RSS MiB (Alice, Bob) |');
out.push('|---|---:|---:|---:|---:|---:|---|---|---|');
let done = 0;
let ok = 0;
const memory = { pushpeer: [], raw: [] }; // { calls, kib: [Alice, Bob] } at the end of each block
const unregisterSince = world.service.lastSeq;
while (done < CALLS) {
  const times = [];
  let connected = 0;
  const since = world.service.lastSeq;
  const n = Math.min(BLOCK, CALLS - done);
  for (let i = 0; i < n; i++) {
    const r = await connect(alice, bob, card);
    if (r.stuck) say(`call ${done + i + 1} stuck:\n${r.detail}`);
    if (!r.error) {
      connected++;
      times.push(r.ms);
      await withTimeout(Promise.all([closeAndDrop(alice, null), closeAndDrop(bob, null)]), PAGE_MS,
        `closing call ${done + i + 1}`);
    } else {
      say(`call ${done + i + 1}: ${JSON.stringify(r.error)}`);
    }
    if ((done + i + 1) % 10 === 0) say(`${done + i + 1} calls`);
  }
  const pushes = world.pushesSince(since).length;
  await withTimeout(Promise.all([alice, bob].map((a) => a.page.evaluate(() => { window.app.state.events.length = 0; }))),
    PAGE_MS, 'clearing events');
  done += n;
  ok += connected;
  const [sb, sa] = await withTimeout(Promise.all([storage(bob), storage(alice)]), PAGE_MS, 'reading the stores');
  const kib = [alice, bob].map((a) => treeRssKiB(pid(a)));
  memory.pushpeer.push({ calls: done, kib });
  const rss = kib.map((k) => (k / 1024).toFixed(0)).join(', ');
  out.push(`| ${done - n + 1}–${done} | ${connected}/${n} | ${fmt(quantile(times, 0.5))} | ${fmt(quantile(times, 0.9))} | ` +
    `${fmt(Math.max(...times))} | ${(pushes / n).toFixed(2)} | ${sb.inbox}, ${sb.sessions}, ${sb.peers}, ${sb.replay} | ` +
    `${sa.inbox}, ${sa.sessions} | ${rss} |`);
  say(out.at(-1));
}
await sleep(6000); // Firefox's quota checks run 3 s after each push
const dropped = world.service.received.filter((e) => e.seq > unregisterSince && e.type === 'unregister').length;
out.push('', `${ok}/${CALLS} connected; subscriptions dropped by the browsers during and after: ${dropped}.`, '');

// --- 1b. the baseline in the same two Firefox processes: a raw RTCDataChannel per call, no push, no pushpeer ---
out.push(`### Baseline: ${BASELINE} raw RTCDataChannel calls in the same two pages (SDP carried by the benchmark)`, '');
out.push('| calls | connected | p50 ms | p90 ms | Firefox RSS MiB (Alice, Bob) |', '|---|---:|---:|---:|---|');
for (let start = 0; start < BASELINE; start += BLOCK) {
  const n = Math.min(BLOCK, BASELINE - start);
  const times = [];
  for (let i = 0; i < n; i++) {
    const r = await withTimeout(rawDataChannelCall(alice, bob), PAGE_MS, `raw call ${start + i + 1}`);
    if (r.error) say(`raw call ${start + i + 1}: ${r.error.message}`);
    else times.push(r.ms);
  }
  const kib = [alice, bob].map((a) => treeRssKiB(pid(a)));
  memory.raw.push({ calls: start + n, kib });
  out.push(`| ${start + 1}–${start + n} | ${times.length}/${n} | ${fmt(quantile(times, 0.5))} | ${fmt(quantile(times, 0.9))} | ` +
    `${kib.map((k) => (k / 1024).toFixed(0)).join(', ')} |`);
  say(out.at(-1));
}
/** Resident memory added per call (KiB) from the end of the first block to the end of the last, per page. */
const perCall = (rows) => (rows.length < 2 ? ['–', '–']
  : [0, 1].map((j) => ((rows.at(-1).kib[j] - rows[0].kib[j]) / (rows.at(-1).calls - rows[0].calls)).toFixed(0)));
out.push('', `Firefox memory added per call after the first block (KiB, Alice/Bob): pushpeer ${perCall(memory.pushpeer).join('/')}, ` +
  `raw RTCDataChannel ${perCall(memory.raw).join('/')}.`, '');

// --- 2. simultaneous callers ---
const callers = await openCallers(world, CALLERS);
const since2 = world.service.lastSeq;
const results = await Promise.all(callers.map((c) => c.call('connect', card, { answerTimeoutMs: 60_000 })));
await sleep(6000);
const failed = results.filter((r) => r.error).map((r) => r.error.code);
out.push(`### ${CALLERS} callers at once (Chromium, a context each) -> Firefox`, '');
out.push(`${CALLERS - failed.length}/${CALLERS} connected${failed.length ? ` (failed: ${failed.join(', ')})` : ''}; ` +
  `slowest ${fmt(Math.max(...results.filter((r) => !r.error).map((r) => r.ms)))} ms; ` +
  `${(world.pushesSince(since2).length / CALLERS).toFixed(2)} pushes per call; subscriptions dropped: ` +
  `${world.service.received.filter((e) => e.seq > since2 && e.type === 'unregister').length}.`, '');
await Promise.all(callers.map((c) => c.close()));
await closeAndDrop(bob, null);

// --- 3. reloads at random moments ---
out.push(`### Bob's page reloads at a random step of a call (${RELOADS} calls)`, '');
out.push('| step | calls | connected within 12 s | failed (code) | stranded | next call works | max ms |');
out.push('|---|---:|---:|---|---:|---:|---:|');
const byStep = Object.fromEntries(STEPS.map((s) => [s, { n: 0, ok: 0, failed: [], stranded: 0, next: 0, max: 0 }]));
for (let i = 0; i < RELOADS; i++) {
  const step = STEPS[Math.floor(Math.random() * STEPS.length)];
  const row = byStep[step];
  row.n++;
  await armReload(bob, step, BOB);
  const call = alice.call('connect', card);
  await startAfterReload(bob, step, BOB);
  const r = await Promise.race([call, sleep(GOAL_MS).then(() => null)]);
  if (r === null) row.stranded++;
  else if (r.error) row.failed.push(r.error.code);
  else {
    row.ok++;
    row.max = Math.max(row.max, r.ms);
  }
  await call; // let it settle before the next one
  await Promise.all([closeAndDrop(alice, null), closeAndDrop(bob, null)]);
  const next = await alice.call('connect', card);
  if (!next.error) row.next++;
  await Promise.all([closeAndDrop(alice, null), closeAndDrop(bob, null)]);
  say(`reload ${i + 1}/${RELOADS} at ${step}: ${r === null ? 'stranded' : r.error ? r.error.code : `connected in ${Math.round(r.ms)} ms`}`);
}
for (const [step, row] of Object.entries(byStep)) {
  if (!row.n) continue;
  out.push(`| ${step} | ${row.n} | ${row.ok} | ${row.failed.join(', ') || '–'} | ${row.stranded} | ${row.next}/${row.n} | ${fmt(row.max || NaN)} |`);
}

await world.close();
await notifier?.stop();
await xvfb?.stop();
console.log(out.join('\n'));
