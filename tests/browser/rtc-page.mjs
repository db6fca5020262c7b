// The page side of the browser tests: one RTCPeerConnection per page, non-trickle ICE (the SDP is taken once
// gathering has completed, as pushpeer sends it in one push), one data channel labelled 'pushpeer'.
// The test drives it with page.evaluate():
//   await createOffer({ iceTimeoutMs, iceServers, media })      -> offer SDP (after gathering)
//   await acceptOffer(sdp, { iceTimeoutMs, iceServers, media }) -> answer SDP (after gathering)
//   await acceptAnswer(sdp)
//   await waitOpen({ timeoutMs })            -> resolves when the 'pushpeer' channel is open
//   send(text); received (array of strings); await waitMessages(n, { timeoutMs })
//   rtcInfo() -> states and timings for diagnostics; await selectedPair() -> { local, remote }; closePeer()
//   await loadCore() -> the Wasm core (js/core.js), for tests that run core functions in the page.
// iceServers defaults to none (host candidates only, nothing leaves the machine); tests/browser/turn.mjs gives a
// local STUN/TURN server. media = { audio: true, video: n } adds fake-device tracks after the data channel (as
// pushpeer's own connections do: channels first, then the call's tracks).
// Everything is also on window.rtc.

const LABEL = 'pushpeer';
const DEFAULT_ICE_TIMEOUT_MS = 5000;
const DEFAULT_OPEN_TIMEOUT_MS = 15000;

let pc = null;
let channel = null;
let openPromise = null;
let resolveOpen = null;
let rejectOpen = null;
const received = [];
const messageWaiters = new Set();
const info = { role: null, gatheringMs: null, gatheringComplete: null, errors: [], events: [] };

function log(line) {
  const entry = `${(performance.now() / 1000).toFixed(3)} ${line}`;
  info.events.push(entry);
  const el = document.getElementById('log');
  if (el) el.textContent += `${entry}\n`;
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms (${stateText()})`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function stateText() {
  if (!pc) return 'no peer connection';
  return `signaling=${pc.signalingState} ice=${pc.iceConnectionState} gathering=${pc.iceGatheringState} ` +
    `connection=${pc.connectionState} channel=${channel ? channel.readyState : 'none'}`;
}

function newPeerConnection(role, iceServers = []) {
  if (pc) throw new Error('this page already has a peer connection (one per page; call closePeer() first)');
  info.role = role;
  openPromise = new Promise((resolve, reject) => {
    resolveOpen = resolve;
    rejectOpen = reject;
  });
  openPromise.catch(() => {}); // observed by waitOpen(), if anyone asks
  pc = new RTCPeerConnection({ iceServers });
  pc.addEventListener('iceconnectionstatechange', () => log(`ice ${pc.iceConnectionState}`));
  pc.addEventListener('connectionstatechange', () => {
    log(`connection ${pc.connectionState}`);
    // 'failed' is final without an ICE restart (e.g. a DTLS fingerprint mismatch): fail waitOpen() now.
    if (pc.connectionState === 'failed') rejectOpen(new Error(`data channel open: connection failed (${stateText()})`));
  });
  pc.addEventListener('icegatheringstatechange', () => log(`gathering ${pc.iceGatheringState}`));
  pc.addEventListener('icecandidateerror', (e) => {
    info.errors.push(`icecandidateerror ${e.errorCode} ${e.errorText ?? ''} ${e.url ?? ''}`);
  });
  pc.addEventListener('datachannel', (e) => {
    log(`datachannel ${e.channel.label}`);
    if (e.channel.label === LABEL) useChannel(e.channel);
  });
  return pc;
}

function useChannel(ch) {
  channel = ch;
  ch.addEventListener('open', () => {
    log('channel open');
    resolveOpen();
  });
  ch.addEventListener('close', () => log('channel close'));
  ch.addEventListener('error', (e) => info.errors.push(`channel error ${e.error?.message ?? e}`));
  ch.addEventListener('message', (e) => {
    received.push(typeof e.data === 'string' ? e.data : `[binary ${e.data.byteLength ?? e.data.size} bytes]`);
    for (const waiter of messageWaiters) waiter();
  });
  if (ch.readyState === 'open') resolveOpen();
}

/** Resolves once gathering is complete ('complete' state or the end-of-candidates null), or after timeoutMs. */
function gatheringDone(timeoutMs) {
  const start = performance.now();
  return new Promise((resolve) => {
    let timer = null;
    const finish = (complete) => {
      clearTimeout(timer);
      pc.removeEventListener('icegatheringstatechange', onState);
      pc.removeEventListener('icecandidate', onCandidate);
      info.gatheringMs = Math.round(performance.now() - start);
      info.gatheringComplete = complete;
      resolve(complete);
    };
    const onState = () => {
      if (pc.iceGatheringState === 'complete') finish(true);
    };
    const onCandidate = (e) => {
      if (!e.candidate) finish(true);
    };
    if (pc.iceGatheringState === 'complete') {
      finish(true);
      return;
    }
    pc.addEventListener('icegatheringstatechange', onState);
    pc.addEventListener('icecandidate', onCandidate);
    timer = setTimeout(() => finish(false), timeoutMs);
  });
}

/** Fake-device tracks: one audio track if audio, `video` video tracks (a second camera is a clone). */
async function addMedia({ audio = false, video = 0 } = {}) {
  if (!audio && !video) return;
  const stream = await navigator.mediaDevices.getUserMedia({ audio, video: video > 0 });
  const tracks = stream.getTracks();
  const camera = stream.getVideoTracks()[0];
  for (let i = 1; i < video; i++) tracks.push(camera.clone());
  for (const track of tracks) {
    // Each extra camera in a stream of its own, as a second device would be.
    pc.addTrack(track, track === camera || track.kind === 'audio' ? stream : new MediaStream([track]));
  }
}

async function createOffer({ iceTimeoutMs = DEFAULT_ICE_TIMEOUT_MS, iceServers = [], media = null } = {}) {
  newPeerConnection('offerer', iceServers);
  useChannel(pc.createDataChannel(LABEL));
  await addMedia(media ?? {});
  await pc.setLocalDescription(await pc.createOffer());
  await gatheringDone(iceTimeoutMs);
  return pc.localDescription.sdp;
}

/** The SDP without its candidate lines, and those candidates with the mid of their m-section. */
function splitCandidates(sdp) {
  const lines = sdp.split('\r\n');
  const candidates = [];
  let mid = null;
  const kept = lines.filter((line, i) => {
    if (line.startsWith('m=')) {
      mid = null;
      for (let j = i + 1; j < lines.length && !lines[j].startsWith('m='); j++) {
        if (lines[j].startsWith('a=mid:')) mid = lines[j].slice(6);
      }
    }
    if (line.startsWith('a=candidate:')) {
      candidates.push({ candidate: line.slice(2), sdpMid: mid });
      return false;
    }
    return line !== 'a=end-of-candidates';
  });
  return { description: kept.join('\r\n'), candidates };
}

/**
 * holdRemoteCandidates: the offer's candidates are applied (addIceCandidate) only once this side has gathered its
 * own. On one host the offerer's host candidates answer at once, and Chromium stops gathering as soon as a pair
 * works, so its answer would lack the srflx and relay candidates it has on a real network, where those checks take
 * longer than a TURN allocation. The offer itself is taken whole either way.
 */
async function acceptOffer(sdp, {
  iceTimeoutMs = DEFAULT_ICE_TIMEOUT_MS, iceServers = [], media = null, holdRemoteCandidates = false,
} = {}) {
  newPeerConnection('answerer', iceServers);
  const { description, candidates } = holdRemoteCandidates ? splitCandidates(sdp) : { description: sdp, candidates: [] };
  await pc.setRemoteDescription({ type: 'offer', sdp: description });
  await addMedia(media ?? {});
  await pc.setLocalDescription(await pc.createAnswer());
  await gatheringDone(iceTimeoutMs);
  for (const c of candidates) await pc.addIceCandidate(c);
  return pc.localDescription.sdp;
}

async function acceptAnswer(sdp) {
  if (!pc) throw new Error('acceptAnswer before createOffer');
  await pc.setRemoteDescription({ type: 'answer', sdp });
}

function waitOpen({ timeoutMs = DEFAULT_OPEN_TIMEOUT_MS } = {}) {
  if (!pc) return Promise.reject(new Error('waitOpen before createOffer/acceptOffer'));
  return withTimeout(openPromise, timeoutMs, 'data channel open').then(() => true);
}

function send(text) {
  if (!channel || channel.readyState !== 'open') throw new Error(`send: channel not open (${stateText()})`);
  channel.send(text);
}

function waitMessages(count = 1, { timeoutMs = DEFAULT_OPEN_TIMEOUT_MS } = {}) {
  const ready = new Promise((resolve) => {
    const check = () => {
      if (received.length >= count) {
        messageWaiters.delete(check);
        resolve(received.slice());
      }
    };
    messageWaiters.add(check);
    check();
  });
  return withTimeout(ready, timeoutMs, `waiting for ${count} message(s)`);
}

function rtcInfo() {
  return {
    ...info,
    state: stateText(),
    userAgent: navigator.userAgent,
    secureContext: window.isSecureContext,
    received: received.slice(),
  };
}

/** The ICE candidate pair carrying the connection: { local, remote } as 'udp 192.0.2.2:1234 host'. */
async function selectedPair() {
  if (!pc) return null;
  const stats = await pc.getStats();
  let pair = null;
  stats.forEach((r) => {
    if (r.type === 'transport' && r.selectedCandidatePairId) pair = stats.get(r.selectedCandidatePairId);
  });
  if (!pair) {
    stats.forEach((r) => {
      if (r.type === 'candidate-pair' && (r.selected || (r.nominated && r.state === 'succeeded')) && !pair) pair = r;
    });
  }
  if (!pair) return null;
  const describe = (id) => {
    const c = stats.get(id);
    if (!c) return null;
    const address = c.address ?? c.ip;
    return `${c.protocol} ${address.includes(':') ? `[${address}]` : address}:${c.port} ${c.candidateType}`;
  };
  return { local: describe(pair.localCandidateId), remote: describe(pair.remoteCandidateId) };
}

function closePeer() {
  for (const sender of pc?.getSenders() ?? []) sender.track?.stop();
  channel?.close();
  pc?.close();
  pc = null;
  channel = null;
}

function loadCore(options) {
  return import('/js/core.js').then((m) => m.loadCore(options));
}

const api = {
  createOffer,
  acceptOffer,
  acceptAnswer,
  waitOpen,
  send,
  received,
  waitMessages,
  rtcInfo,
  selectedPair,
  closePeer,
  loadCore,
};
window.rtc = api;
Object.assign(window, api);
window.rtcReady = true;
window.addEventListener('pagehide', closePeer);
