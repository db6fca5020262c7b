// Group formation in real browsers (docs/PROTOCOL.md §7.8, issue #11 Performance): pages join a group one after the
// other with its invite link, and for each newcomer we count the pushes and time how long until the group is a full
// mesh again (every member connected to every other), through the local push service.
//
//   node bench/browser/groups.mjs [--rounds 3] [--firefox 2] [--chromium 6] [--json /tmp/group-runs.json]
//
// One world (tests/browser/apps.mjs): Alice, the inviter, and the other Firefox pages (a profile each), then the
// Chromium pages (contexts of one Chromium, their push leg played from Node: hostSubscribe), as in
// tests/browser/mesh-groups.test.mjs. Only Alice answers calls by push (her app accepts every request); the others
// hold every request ('hold'), so what connects them is the group's own rule: a member accepts a carried call from a
// member without asking. Per round a new group (a new secret); the pages join it in the order Firefox then Chromium,
// so the k-th joiner makes a group of N = k + 1. Per join: pushes the service accepted (201) from joinGroup() until
// the mesh was full (and 300 ms after), the frames carried (the pages' 'carried' events), and times from the
// newcomer's joinGroup() call (wall clock, Date.now(), one host): joinGroup() resolved (Alice answered its hello),
// its connection to Alice open (peerjoin), and the last of its 2·(N−1) peerjoin events on both sides (the mesh is
// full). At the end of each round the last newcomer sends a group message and we time it to every member. Between
// rounds every connection is closed on both sides. Markdown on stdout, progress on stderr. Pushes must be exactly
// two per newcomer, 2·(N−1) for a group of N: otherwise the report says FAIL and the process exits with 1.
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';

import { pollUntil, startWorld } from '../../tests/browser/apps.mjs';
import { browserVersion } from '../../tests/browser/browsers.mjs';
import { closeAndDrop, fmt, quantile, range, say, sleep } from './pages.mjs';

const SUBJECT = 'mailto:bench@pushpeer.invalid';
const MESH_TIMEOUT_MS = 30_000;
const SETTLE_MS = 300; // after the mesh is full: a stray push would show up here

const { values: opts } = parseArgs({ options: {
  rounds: { type: 'string', default: '3' },
  firefox: { type: 'string', default: '2' },
  chromium: { type: 'string', default: '6' },
  json: { type: 'string' },
} });
const rounds = Number(opts.rounds);
const nFirefox = Number(opts.firefox);
const nChromium = Number(opts.chromium);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds: a positive integer, not ${opts.rounds}`);
if (!Number.isInteger(nFirefox) || nFirefox < 1) throw new Error(`--firefox: at least 1 (Alice), not ${opts.firefox}`);
if (!Number.isInteger(nChromium) || nChromium < 0 || nFirefox + nChromium < 2) {
  throw new Error(`--chromium: an integer >= 0, at least 2 pages in all, not ${opts.chromium}`);
}

const median = (v) => quantile(v, 0.5);
const mean = (v) => {
  const s = v.filter((x) => Number.isFinite(x));
  return s.length ? s.reduce((a, b) => a + b, 0) / s.length : NaN;
};

const connectedKeys = async (app, group) => (await app.call('groupPeers', group)).filter((p) => p.connected)
  .map((p) => p.keyId);

/** One newcomer joins `group` with `invite`; `members` are the apps already in it (Alice first). */
async function join(world, group, invite, newcomer, members) {
  const since = world.service.lastSeq;
  const r = await newcomer.page.evaluate(async (link) => {
    const start = Date.now();
    const out = await window.app.joinGroup(link);
    return { ...out, start, end: Date.now() };
  }, invite);
  if (r.error) return { n: members.length + 1, error: r.error, start: r.start, end: r.end };
  const all = [...members, newcomer];
  // Full mesh: every member lists every other as connected.
  const full = await pollUntil(async () => {
    const lists = await Promise.all(all.map((a) => connectedKeys(a, group)));
    return lists.every((keys, i) => all.every((b, k) => k === i || keys.includes(b.keyId)));
  }, (done) => done, { timeoutMs: MESH_TIMEOUT_MS, intervalMs: 50 });
  await sleep(SETTLE_MS);
  const pushes = world.pushesSince(since).length;
  let missing = null;
  if (!full) {
    // Who lacks whom, and what each page holds: its group's view and its live connections.
    missing = await Promise.all(all.map(async (a) => ({ who: a.label,
      group: (await a.call('groupPeers', group)).map((p) => `${p.name}${p.connected ? '' : ' (not connected)'}`),
      connections: await a.page.evaluate(() => [...window.app.state.peer.connections].map((c) =>
        `${c.remote.name}: ${c.closed ? 'closed' : c.control?.readyState}`)),
      errors: (await a.call('events', 'error')).filter((e) => e.at >= r.start).map((e) => `${e.code}: ${e.detail}`) })));
    say(`not full: ${JSON.stringify(missing)}`);
  }
  // The peerjoin events of this join: the newcomer's for each member, each member's for the newcomer.
  const joins = [];
  const newcomerEvents = await newcomer.call('groupEvents', group);
  for (const m of members) {
    const mine = newcomerEvents.find((e) => e.type === 'peerjoin' && e.keyId === m.keyId && e.at >= r.start);
    const theirs = (await m.call('groupEvents', group)).find((e) => e.type === 'peerjoin' && e.keyId === newcomer.keyId &&
      e.at >= r.start);
    joins.push({ member: m.label, mine: mine?.at ?? NaN, theirs: theirs?.at ?? NaN });
  }
  const carried = (await Promise.all(all.map((a) => a.call('events', 'carried'))))
    .flat().filter((e) => e.at >= r.start).length;
  const meshAt = Math.max(...joins.flatMap((j) => [j.mine, j.theirs]));
  const alice = joins[0];
  return { n: all.length, newcomer: newcomer.label, browser: newcomer.name, full, missing, pushes, carried,
    joinedMs: r.end - r.start, inviterMs: Math.max(alice.mine, alice.theirs) - r.start,
    meshMs: meshAt - r.start, introMs: meshAt - Math.max(alice.mine, alice.theirs) };
}

/** The last newcomer sends a group message; ms until each other member's 'message' event. */
async function broadcast(sender, others, group, text) {
  const start = Date.now();
  await sender.call('groupSend', group, text);
  const times = [];
  for (const o of others) {
    const events = await pollUntil(() => o.call('groupEvents', group), (e) => e.some((x) => x.type === 'message' &&
      x.data === text), { timeoutMs: 10_000, intervalMs: 20 });
    const got = events.filter((x) => x.type === 'message' && x.data === text);
    times.push({ ms: got.length ? got[0].at - start : NaN, copies: got.length });
  }
  return times;
}

async function closeAll(apps) {
  for (const app of apps) await closeAndDrop(app, null).catch(() => {});
  // Wait until every page's PushPeer holds no connection.
  await pollUntil(() => Promise.all(apps.map((a) => a.page.evaluate(() => window.app.state.peer.connections.size))),
    (sizes) => sizes.every((s) => s === 0), { timeoutMs: 10_000 });
}

function report(results, meta) {
  const out = [];
  const line = (s = '') => out.push(s);
  const pages = nFirefox + nChromium;
  line(`${rounds} round(s), each a new group that ${pages} app pages (tests/browser/app/) join one after the other with`);
  line(`its invite link (\`peer.joinGroup(link)\`): Alice (Firefox, the inviter), then ${nFirefox - 1} Firefox and ${nChromium}`);
  line('Chromium page(s) (contexts of one Chromium), so the row N is the (N−1)-th newcomer joining a group of N−1. One');
  line('host, loopback ICE, the local push service. Only Alice answers calls by push; the others hold every request, so');
  line('every connection but the one to Alice is a member\'s carried call accepted by the group rule (PROTOCOL §7.8).');
  line('Times from the newcomer\'s `joinGroup()` call, wall clock: **to Alice** = its connection to Alice open on both');
  line('sides (a push connect, 2 pushes, then the hello), **to full mesh** = the last of the 2·(N−1) peerjoin events of');
  line('this join (every member connected to every other), **introductions** = the difference (the newcomer calls the');
  line('N−2 others through Alice, all at once). Pushes: POSTs the service accepted (201) from `joinGroup()` until the mesh');
  line(`was full and ${SETTLE_MS} ms more. Carried: envelopes the pages carried ('carried' events: offers and answers).`);
  line('Median over the rounds (min–max).');
  line();
  line('| N (newcomer) | pushes (must be 2) | pushes for the group so far (2·(N−1)) | carried per join | joinGroup() resolved ms | to Alice ms | introductions ms | **to full mesh ms** | cumulative ms to a full group of N (sum of joins) |');
  line('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  const byN = new Map();
  for (const round of results) for (const j of round.joins) byN.set(j.n, [...(byN.get(j.n) ?? []), j]);
  const cumulative = results.map(() => 0);
  let failed = false;
  let notFull = 0;
  for (const [n, joins] of [...byN.entries()].sort((a, b) => a[0] - b[0])) {
    const ok = joins.filter((j) => !j.error);
    const sumSoFar = results.map((round) => round.joins.filter((j) => j.n <= n && !j.error)
      .reduce((s, j) => s + j.pushes, 0));
    const pushOk = ok.length === joins.length && ok.every((j) => j.pushes === 2) &&
      sumSoFar.every((s) => s === 2 * (n - 1));
    failed ||= !pushOk;
    notFull += ok.filter((j) => !j.full).length;
    results.forEach((round, i) => {
      const j = round.joins.find((x) => x.n === n);
      cumulative[i] += j && !j.error ? j.meshMs : NaN;
    });
    const browser = ok[0]?.browser === 'firefox' ? 'Firefox' : 'Chromium';
    const short = ok.filter((j) => !j.full).length;
    line(`| ${n} (${browser}) | ${range(ok.map((j) => j.pushes))}${pushOk ? '' : ' **FAIL**'} | ${range(sumSoFar)} | ` +
      `${range(ok.map((j) => j.carried))} | ${fmt(median(ok.map((j) => j.joinedMs)))} | ` +
      `${fmt(median(ok.map((j) => j.inviterMs)))} (${range(ok.map((j) => j.inviterMs))}) | ` +
      `${fmt(median(ok.map((j) => j.introMs)))} (${range(ok.map((j) => j.introMs))}) | ` +
      `**${fmt(median(ok.map((j) => j.meshMs)))}** (${range(ok.map((j) => j.meshMs))})` +
      `${short ? ` **${short} not full**` : ''} | ` +
      `${fmt(median(cumulative))} (${range(cumulative)}) |`);
  }
  const failures = results.flatMap((round, i) => round.joins.filter((j) => j.error || !j.full)
    .map((j) => `round ${i + 1}, N = ${j.n}: ${j.error ? JSON.stringify(j.error) : `mesh not full within 30 s (${
      j.missing.filter((m) => m.group.some((x) => x.endsWith('(not connected)')))
        .map((m) => `${m.who} lists ${m.group.filter((x) => x.endsWith('(not connected)')).join(', ')}`).join('; ')})`}`));
  if (failures.length) {
    line();
    line(`Failures: ${failures.join('; ')}.`);
  }
  line();
  const casts = results.map((r) => r.broadcast).filter(Boolean);
  if (casts.length) {
    const last = casts.map((c) => Math.max(...c.map((x) => x.ms)));
    const copies = casts.flatMap((c) => c.map((x) => x.copies));
    line(`A group message from the last newcomer (\`group.send\`, full mesh of ${pages}: sent once to each member): ` +
      `the last of the ${pages - 1} others had it after ${fmt(median(last))} ms median (${range(last)}), each exactly ` +
      `${range(copies)} time(s).`);
    line();
  }
  line(`Pushes: ${failed ? '**FAIL**: not exactly 2 per newcomer' : `exactly 2 per newcomer, 2·(N−1) for every N, in all ${rounds} round(s)`}.` +
    `${notFull ? ` Full mesh: **not reached within ${MESH_TIMEOUT_MS / 1000} s in ${notFull} join(s)** (Failures, above).` : ''}`);
  line(`Browsers: ${Object.values(meta.versions).join(', ')}; Node ${process.version}; 1-minute load average ` +
    `${meta.loadAtStart} at the start, ${os.loadavg()[0].toFixed(1)} at the end (${os.cpus().length} cores).`);
  return { text: out.join('\n'), failed };
}

const loadAtStart = os.loadavg()[0].toFixed(1);
const world = await startWorld();
const results = [];
const meta = { loadAtStart, versions: {} };
try {
  const apps = [];
  for (let i = 0; i < nFirefox; i++) apps.push(await world.open('firefox', i === 0 ? 'alice' : `firefox-${i + 1}`));
  let first = null;
  for (let i = 0; i < nChromium; i++) {
    const app = await world.open('chromium', `chromium-${i + 1}`, first ? { inside: first } : {});
    first ??= app;
    apps.push(app);
  }
  meta.versions.firefox = await browserVersion(apps[0].browser);
  if (first) meta.versions.chromium = await browserVersion(first.browser);
  const made = await Promise.all(apps.map((app) => app.call('create', { name: app.label, subject: SUBJECT,
    hostSubscribe: app.name === 'chromium' })));
  apps.forEach((app, i) => { app.keyId = made[i].keyId; });
  for (const app of apps.slice(1)) await app.call('setDecision', 'hold');
  const [alice, ...newcomers] = apps;
  for (let round = 1; round <= rounds; round++) {
    const group = `bench-${round}`;
    const { invite } = await alice.call('group', group);
    const joins = [];
    const members = [alice];
    for (const newcomer of newcomers) {
      const j = await join(world, group, invite, newcomer, members.slice());
      j.round = round;
      joins.push(j);
      say(j.error ? `round ${round}: ${newcomer.label} FAILED: ${JSON.stringify(j.error)}`
        : `round ${round}: ${newcomer.label} made ${j.n}: ${j.pushes} pushes, ${j.carried} carried, Alice ` +
          `${fmt(j.inviterMs)} ms, full mesh ${fmt(j.meshMs)} ms${j.full ? '' : ' (NOT full)'}`);
      if (j.error) break;
      members.push(newcomer);
    }
    let cast = null;
    if (members.length === apps.length) {
      const sender = members.at(-1);
      cast = await broadcast(sender, members.slice(0, -1), group, `round ${round} from ${sender.label}`);
      say(`round ${round}: message to ${cast.length} members, last after ${fmt(Math.max(...cast.map((c) => c.ms)))} ms`);
    }
    results.push({ round, joins, broadcast: cast });
    await closeAll(apps);
  }
} finally {
  await world.close();
}
if (opts.json) writeFileSync(opts.json, `${JSON.stringify(results, null, 1)}\n`);
const { text, failed } = report(results, meta);
console.log(text);
if (failed) {
  say('bench/browser/groups.mjs: FAIL: a newcomer did not cost exactly 2 pushes');
  process.exitCode = 1;
}
