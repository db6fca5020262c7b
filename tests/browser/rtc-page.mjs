// The page side of the browser tests: one RTCPeerConnection per page, non-trickle ICE (the SDP is taken once
// gathering has completed, as pushpeer sends it in one push), one data channel labelled 'pushpeer'.
// The test drives it with page.evaluate():
//   await createOffer({ iceTimeoutMs })      -> offer SDP (after gathering)
//   await acceptOffer(sdp, { iceTimeoutMs }) -> answer SDP (after gathering)
//   await acceptAnswer(sdp)
//   await waitOpen({ timeoutMs })            -> resolves when the 'pushpeer' channel is open
//   send(text); received (array of strings); await waitMessages(n, { timeoutMs })
//   rtcInfo() -> states and timings for diagnostics; await selectedPair() -> { local, remote }; closePeer()
//   await loadCore() -> the Wasm core (js/core.js), for tests that run core functions in the page.
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

function newPeerConnection(role) {
  if (pc) throw new Error('this page already has a peer connection (one per page; call closePeer() first)');
  info.role = role;
  openPromise = new Promise((resolve, reject) => {
    resolveOpen = resolve;
    rejectOpen = reject;
  });
  openPromise.catch(() => {}); // observed by waitOpen(), if anyone asks
  // No ICE servers: host candidates only, nothing leaves the machine.
  pc = new RTCPeerConnection({ iceServers: [] });
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

async function createOffer({ iceTimeoutMs = DEFAULT_ICE_TIMEOUT_MS } = {}) {
  newPeerConnection('offerer');
  useChannel(pc.createDataChannel(LABEL));
  await pc.setLocalDescription(await pc.createOffer());
  await gatheringDone(iceTimeoutMs);
  return pc.localDescription.sdp;
}

async function acceptOffer(sdp, { iceTimeoutMs = DEFAULT_ICE_TIMEOUT_MS } = {}) {
  newPeerConnection('answerer');
  await pc.setRemoteDescription({ type: 'offer', sdp });
  await pc.setLocalDescription(await pc.createAnswer());
  await gatheringDone(iceTimeoutMs);
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
