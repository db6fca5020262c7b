// `npm run capture:sdp`: records the SDP corpus (tests/corpus/sdp/) from the real browsers. Each kind of session is
// connected in all four directions (Chromium and Firefox as offerer, each answered by either), and the offer and
// the answer each browser produced are saved as they came out of the browser, before any codec touched them.
//
// Kinds (tests/corpus/sdp/README.md):
//   datachannel-host   the data channel, no ICE servers (pushpeer's default: host candidates only)
//   datachannel-turn   the data channel with STUN + TURN (host, srflx and relay candidates)
//   audio-video-turn   data channel, one audio and one video track, STUN + TURN
//   two-video-turn     data channel, one audio and two video tracks (a second camera), STUN + TURN
// STUN/TURN is Debian's coturn behind a user-space NAT on this machine (tests/browser/turn.mjs explains the NAT).
// Every connection must open and carry a message each way, and the check below must pass, or nothing is written.
//
//   node tests/corpus/capture-sdp.mjs [--out DIR]     (default tests/corpus/sdp)
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { browserVersion } from '../browser/browsers.mjs';
import { assertRelayedCandidates, PAIRS, parseCandidates, startHarness } from '../browser/harness.mjs';
import { startTurn } from '../browser/turn.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const outIndex = process.argv.indexOf('--out');
const outDir = outIndex > 0 ? path.resolve(process.argv[outIndex + 1]) : path.join(here, 'sdp');

const KINDS = [
  { name: 'datachannel-host', turn: false, media: null },
  { name: 'datachannel-turn', turn: true, media: null },
  { name: 'audio-video-turn', turn: true, media: { audio: true, video: 1 } },
  { name: 'two-video-turn', turn: true, media: { audio: true, video: 2 } },
];

/** What a capture must show: every TURN SDP has srflx and relay candidates with raddr/rport; media has its m-lines. */
function check(kind, role, sdp) {
  const where = `${kind.name} ${role}`;
  const types = new Set(parseCandidates(sdp).map((c) => c.type));
  if (!types.has('host')) throw new Error(`${where}: no host candidate`);
  if (kind.turn) {
    assertRelayedCandidates(sdp, where);
  } else if (types.size !== 1) {
    throw new Error(`${where}: candidates other than host without ICE servers: ${[...types]}`);
  }
  const video = (sdp.match(/^m=video /gm) ?? []).length;
  const audio = (sdp.match(/^m=audio /gm) ?? []).length;
  if (audio !== (kind.media?.audio ? 1 : 0) || video !== (kind.media?.video ?? 0)) {
    throw new Error(`${where}: ${audio} audio and ${video} video m-lines`);
  }
  if (!/^m=application \d+ UDP\/DTLS\/SCTP webrtc-datachannel$/m.test(sdp)) throw new Error(`${where}: no data channel`);
}

const turn = await startTurn();
const harness = await startHarness();
const captured = new Map();
let versions;
try {
  await harness.launch(['chromium', 'firefox']);
  versions = {
    chromium: await browserVersion(await harness.browser('chromium')),
    firefox: await browserVersion(await harness.browser('firefox')),
  };
  for (const kind of KINDS) {
    for (const [offerer, answerer] of PAIRS) {
      const r = await harness.connectPair({
        offerer, answerer, media: kind.media, iceServers: kind.turn ? turn.iceServers : [], iceTimeoutMs: 10_000,
      });
      const base = `${kind.name}-${offerer}-${answerer}`;
      check(kind, `${offerer} offer`, r.offer.sdp);
      check(kind, `${answerer} answer`, r.answer.sdp);
      captured.set(`${base}-offer.sdp`, r.offer.sdp);
      captured.set(`${base}-answer.sdp`, r.answer.sdp);
      console.log(`${base}: offer ${r.offer.sdp.length} B, answer ${r.answer.sdp.length} B, ` +
        `open over ${r.selectedPair.offerer?.local} -> ${r.selectedPair.offerer?.remote}`);
    }
  }
} finally {
  await harness.close();
  await turn.close();
}

mkdirSync(outDir, { recursive: true });
for (const f of readdirSync(outDir)) if (f.endsWith('.sdp')) rmSync(path.join(outDir, f));
for (const [name, sdp] of captured) writeFileSync(path.join(outDir, name), sdp);
writeFileSync(path.join(outDir, 'capture.json'), `${JSON.stringify({
  date: new Date().toISOString().slice(0, 10),
  browsers: versions,
  turnserver: `coturn ${spawnSync('dpkg-query', ['-W', '-f=${Version}', 'coturn'], { encoding: 'utf8' }).stdout}`,
  files: captured.size,
}, null, 2)}\n`);
console.log(`${captured.size} SDPs written to ${path.relative(process.cwd(), outDir) || '.'} (${versions.chromium}, ${versions.firefox})`);
