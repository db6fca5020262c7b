// One WebRTC connection to a peer. The first offer/answer crosses as two pushes (non-trickle: the SDP is sent once
// ICE gathering is complete or a timeout passed); everything afterwards (renegotiation for audio/video, ICE
// restarts, card refreshes, bye) goes over a pre-negotiated control channel with perfect negotiation, whose roles
// come from the two identity keys, so no more pushes are needed. Control frames: docs/PROTOCOL.md §7.3, one handler
// per frame type `t` (connection.onControl: the built-in ones below, and what other modules register); the data
// channels' ids: js/connection/channels.js.
import { PushPeerError } from '../errors.js';
import { CHANNELS } from './channels.js';

export const DEFAULT_GATHER_TIMEOUT_MS = 3000;
// A peer whose page is gone (a crash, a lost network; a closing page says bye) often leaves the channels open for
// tens of seconds: both sides send a ping on the control channel every HEARTBEAT_MS once it is open, and close the
// connection ('peer gone') after PEER_GONE_MS without a frame from the other side.
// Control frames of a type nobody handles yet, kept for a handler registered later (onControl).
const UNCLAIMED_FRAMES = 32;
// Control frames sent before the control channel opened, sent when it does (sendControl).
const QUEUED_FRAMES = 64;
// App and content messages that came before this side announced the connection or set the content receiver, held
// for them (announced(), onContent()): a peer pipelines at most 16 content requests, and apps say little at first.
const HELD_MESSAGES = 64;
const HELD_BYTES = 8 << 20;
export const HEARTBEAT_MS = 2000;
export const PEER_GONE_MS = 8000;
// A data channel closed without a bye: how long the control channel has to deliver one (see the close handler).
const BYE_GRACE_MS = 1000;
// write()'s default: how much may wait in the data channel's buffer before a write waits for it to drain.
export const DEFAULT_HIGH_WATER = 4 * 1024 * 1024;

/** The polite side of perfect negotiation: the peer whose identity key sorts first (both sides agree). */
export function isPolite(ourKey, theirKey) {
  for (let i = 0; i < Math.max(ourKey.length, theirKey.length); i++) {
    const a = ourKey[i] ?? -1;
    const b = theirKey[i] ?? -1;
    if (a !== b) return a < b;
  }
  throw new PushPeerError('BAD_ARGUMENT', 'cannot connect to our own identity');
}

// Chromium reports an offerer's gathering complete about 120 ms after its last host candidate even when no other
// candidate can come (no STUN/TURN server; bench/RESULTS.md, "Introductions"). Once there is a candidate of every
// kind the configuration can give and none came for this long, the SDP leaves with them (waitGathered).
export const DEFAULT_GATHER_QUIET_MS = 20;
// With no STUN/TURN server only host candidates can come, and browsers give them in one burst (all interfaces
// within 2 ms here): then the quiet time is at most this.
const HOST_ONLY_QUIET_MS = 5;

/** The candidate types an RTCPeerConnection's configuration can give: host, srflx with a STUN url, relay with TURN. */
export function expectedCandidateTypes(configuration = {}) {
  const urls = (configuration.iceServers ?? []).flatMap(({ urls: u }) => (Array.isArray(u) ? u : [u]));
  const types = new Set();
  if (configuration.iceTransportPolicy !== 'relay') {
    types.add('host');
    if (urls.some((url) => /^stuns?:/i.test(String(url)))) types.add('srflx');
  }
  if (urls.some((url) => /^turns?:/i.test(String(url)))) types.add('relay');
  return types;
}

function candidateType(candidate) {
  return candidate.type ?? /\btyp (\w+)/.exec(candidate.candidate ?? '')?.[1];
}

/**
 * Waits until ICE gathering is complete (true), or until there is a candidate of every type the configuration can
 * give and none came for quietMs (true; 0 turns this off; at most HOST_ONLY_QUIET_MS with no STUN/TURN server), or
 * timeoutMs (false): the SDP carries what was gathered.
 */
export function waitGathered(pc, timeoutMs = DEFAULT_GATHER_TIMEOUT_MS, quietMs = 0) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve(true);
  const missing = expectedCandidateTypes(pc.getConfiguration?.());
  const quietFor = missing.size === 1 && missing.has('host') ? Math.min(quietMs, HOST_ONLY_QUIET_MS) : quietMs;
  return new Promise((resolve) => {
    const timer = setTimeout(() => finish(false), timeoutMs);
    let quiet = null;
    function check() {
      if (pc.iceGatheringState === 'complete') finish(true);
    }
    function finish(complete) {
      clearTimeout(timer);
      clearTimeout(quiet);
      pc.removeEventListener('icegatheringstatechange', check);
      pc.removeEventListener('icecandidate', onCandidate);
      resolve(complete);
    }
    function onCandidate(event) {
      // Some browsers signal the end only with a null candidate.
      if (!event.candidate) return finish(true);
      missing.delete(candidateType(event.candidate));
      clearTimeout(quiet);
      if (quietFor > 0 && missing.size === 0) quiet = setTimeout(() => finish(true), quietFor);
    }
    pc.addEventListener('icegatheringstatechange', check);
    pc.addEventListener('icecandidate', onCandidate);
  });
}

function event(type, fields = {}) {
  return Object.assign(new Event(type), fields);
}

/**
 * A connection to one peer. Events: 'open' (data channel open), 'message' ({ data }), 'track' ({ track, streams }),
 * 'statechange' ({ state }), 'negotiation' ({ direction: 'sent' | 'received', sdpType }), 'card' ({ card }: the
 * peer's new card, base64url), 'remotechange' ({ remote }), 'close' ({ reason, by, peerReason }). `channel` is the app's RTCDataChannel (ordered, reliable);
 * `pc` the RTCPeerConnection.
 */
export class Connection extends EventTarget {
  constructor({ pc, polite, remote, sessionId, role, log = () => {}, heartbeatMs = HEARTBEAT_MS,
    peerGoneMs = PEER_GONE_MS }) {
    super();
    this.pc = pc;
    this.polite = polite;
    /** { name, keyId, identity } of the other side. */
    this.remote = remote;
    this.sessionId = sessionId;
    this.role = role; // 'caller' | 'callee'
    this.closed = false;
    /** Once closed: { reason, by: 'us' | 'peer' | 'network', peerReason } (the close event's fields). */
    this.closeInfo = null;
    // write()s on each channel in the order they were made: channel -> { writes (the last one), queued }
    this._writers = new Map();
    this._log = log;
    this._makingOffer = false;
    this._ignoreOffer = false;
    this._negotiationPending = false;
    /** Control-frame type `t` -> handler(frame); unknown types are ignored (docs/PROTOCOL.md §7.3). */
    this._controlHandlers = new Map();
    this._controlQueue = []; // frames said before the control channel opened (sendControl)
    this.onControl('sdp', (frame) => this._sdpFrame(frame));
    this.onControl('ice', (frame) => this._iceFrame(frame));
    this.onControl('ping', () => {}); // liveness only (see HEARTBEAT_MS): any frame counts as heard
    this.onControl('bye', (frame) => {
      const peerReason = typeof frame.reason === 'string' ? frame.reason.slice(0, 100) : '';
      this._closed(peerReason ? `closed by the peer: ${peerReason}` : 'closed by the peer', 'peer', peerReason);
    });
    this.onControl('card', (frame) => {
      if (typeof frame.card === 'string') this.dispatchEvent(event('card', { card: frame.card }));
    });
    this.control = pc.createDataChannel(CHANNELS.control.label, { negotiated: true, id: CHANNELS.control.id });
    this.channel = pc.createDataChannel(CHANNELS.app.label, { negotiated: true, id: CHANNELS.app.id });
    this.channel.binaryType = 'arraybuffer';
    /** Share-by-link's frames (js/content/, docs/PROTOCOL.md §9.4): binary, written with writeContent(). */
    this.contentChannel = pc.createDataChannel(CHANNELS.content.label, { negotiated: true, id: CHANNELS.content.id });
    this.contentChannel.binaryType = 'arraybuffer';
    this.opened = new Promise((resolve, reject) => {
      this._opened = { resolve, reject };
    });
    this.opened.catch(() => {});

    this.channel.addEventListener('open', () => {
      this._opened.resolve(this);
      this.dispatchEvent(event('open'));
    });
    // Messages can arrive before this side told the app of the connection (the peer sends the moment its end
    // opened): they are held, and delivered in order once the connection was announced (announced()).
    this._appHeld = [];
    this.channel.addEventListener('message', (e) => {
      if (this._appHeld) this._hold(this._appHeld, e.data, 'app');
      else this.dispatchEvent(new MessageEvent('message', { data: e.data }));
    });
    // Without a bye first: the path or the peer's side went away. A peer that says bye and closes at once (a page
    // going away) closes every channel together, and which close event comes first is the browser's choice: the
    // bye is read before its own channel's close, so that one is waited for (BYE_GRACE_MS at most) and wins.
    this.channel.addEventListener('close', () => {
      if (this.closed) return;
      const network = () => this._closed('data channel closed', 'network');
      if (this.control.readyState === 'closed') {
        network();
        return;
      }
      const timer = setTimeout(network, BYE_GRACE_MS);
      this.control.addEventListener('close', () => {
        clearTimeout(timer);
        setTimeout(network, 0); // after the bye's handler, if one came
      }, { once: true });
    });
    this.control.addEventListener('open', () => {
      for (const text of this._controlQueue.splice(0)) this.control.send(text);
      if (this._negotiationPending) this._negotiate();
      this._heard = Date.now();
      this._heartbeat = setInterval(() => {
        if (Date.now() - this._heard > peerGoneMs) {
          this._closed(`peer gone: nothing heard for ${Math.round((Date.now() - this._heard) / 1000)} s`, 'network');
        } else {
          this.sendControl({ t: 'ping' });
        }
      }, heartbeatMs);
    });
    this.channel.addEventListener('message', () => {
      this._heard = Date.now();
    });
    // Content frames go to one receiver (js/content/channel.js, onContent()); those that came before it was set are
    // held for it (a request for a share can arrive before this side registered the connection).
    this._contentHandler = null;
    this._contentHeld = [];
    this.contentChannel.addEventListener('message', (e) => {
      this._heard = Date.now();
      if (this._contentHandler) this._contentHandler(e.data);
      else this._hold(this._contentHeld, e.data, 'content');
    });
    this.control.addEventListener('message', (e) => this._onControl(e.data));
    pc.addEventListener('negotiationneeded', () => this._negotiate());
    pc.addEventListener('icecandidate', ({ candidate }) => {
      // The push leg is non-trickle (candidates are in the SDP); later ones (ICE restarts) go over the channel.
      if (candidate) this.sendControl({ t: 'ice', candidate: candidate.toJSON() });
    });
    pc.addEventListener('track', (e) => this.dispatchEvent(event('track', { track: e.track, streams: e.streams })));
    pc.addEventListener('connectionstatechange', () => {
      const state = pc.connectionState;
      this.dispatchEvent(event('statechange', { state }));
      if (state === 'failed') {
        // The path broke: try a restart over the control channel while SCTP may still get through.
        if (this.control.readyState === 'open') this.restartIce();
        else this._closed('connection failed', 'network');
      } else if (state === 'closed') {
        this._closed('closed', 'us'); // only our side closes our RTCPeerConnection
      }
    });
  }

  get state() {
    return this.closed ? 'closed' : this.pc.connectionState;
  }

  /** Sends on the data channel: a string, ArrayBuffer, typed array or Blob. */
  send(data) {
    if (this.channel.readyState !== 'open') {
      throw new PushPeerError('NOT_CONNECTED', `the data channel is ${this.channel.readyState}`);
    }
    this.channel.send(data);
  }

  /**
   * Sends with back-pressure: waits while more than `highWater` bytes wait in the data channel's buffer (for its
   * bufferedamountlow), then sends. Resolves once `data` is handed to the channel; writes go in the order they were
   * made. Rejects with NOT_CONNECTED when the connection is closed, before or while it waits (a loop that awaited
   * bufferedamountlow itself would wait for ever on a channel that closed). Sets bufferedAmountLowThreshold to
   * highWater / 2 unless the app set one at or below highWater (one above it would never wake a waiting write).
   */
  write(data, { highWater = DEFAULT_HIGH_WATER } = {}) {
    return this._writeOn(this.channel, data, highWater);
  }

  /** write() on the content channel (id 2): share-by-link's frames (js/content/). */
  writeContent(data, { highWater = DEFAULT_HIGH_WATER } = {}) {
    return this._writeOn(this.contentChannel, data, highWater);
  }

  _writeOn(channel, data, highWater) {
    let writer = this._writers.get(channel);
    if (!writer) this._writers.set(channel, writer = { writes: Promise.resolve(), queued: 0 });
    try {
      if (!(highWater >= 0)) throw new PushPeerError('BAD_ARGUMENT', 'highWater must be a number >= 0');
      // Nothing queued and room in the buffer: sent now, so that a send() right after it comes after it.
      if (writer.queued === 0 && channel.readyState !== 'connecting' && this._writable(channel) &&
          channel.bufferedAmount <= highWater) {
        channel.send(data);
        return Promise.resolve();
      }
      if (this.closed) this._writable(channel);
    } catch (error) {
      return Promise.reject(error);
    }
    writer.queued++;
    // A channel still opening (the content channel may open after the app's) is waited for, as a full buffer is.
    const done = writer.writes.then(() => this._channelOpen(channel)).then(() => this._drained(channel, highWater)).then(() => {
      this._writable(channel);
      channel.send(data);
    }).finally(() => writer.queued--);
    writer.writes = done.catch(() => {});
    return done;
  }

  _writable(channel) {
    if (this.closed || channel.readyState !== 'open') {
      throw new PushPeerError('NOT_CONNECTED', this.closed ? `the connection is closed (${this.closeInfo.reason})`
        : `the data channel is ${channel.readyState}`);
    }
    return true;
  }

  /** Resolves once the channel is open (at once if it is), or once it or the connection closed. */
  async _channelOpen(channel) {
    while (!this.closed && channel.readyState === 'connecting') await this._next(channel, ['open', 'close']);
  }

  /** Resolves once the channel's buffer holds at most highWater bytes; rejects once the connection is closed. */
  async _drained(channel, highWater) {
    const threshold = channel.bufferedAmountLowThreshold;
    if (threshold === 0 || threshold > highWater) channel.bufferedAmountLowThreshold = Math.floor(highWater / 2);
    // Waiting for bufferedamountlow alone would wait for ever on a channel that closed.
    while (this._writable(channel) && channel.bufferedAmount > highWater) await this._next(channel, ['bufferedamountlow', 'close']);
  }

  /** Resolves on the first of the channel's `events`, or the connection's close. */
  _next(channel, events) {
    return new Promise((resolve) => {
      const wake = () => {
        for (const type of events) channel.removeEventListener(type, wake);
        this.removeEventListener('close', wake);
        resolve();
      };
      for (const type of events) channel.addEventListener(type, wake);
      this.addEventListener('close', wake);
    });
  }

  /** Adds the stream's tracks; the renegotiation runs over the control channel (no push). Returns the senders. */
  addStream(stream) {
    return stream.getTracks().map((track) => this.pc.addTrack(track, stream));
  }

  /** ICE restart, signaled over the control channel. */
  restartIce() {
    this._log('ice restart');
    this.pc.restartIce();
  }

  /** Tells the peer (with `reason`, when given: 'page closed', 'hung up', …), then closes. */
  close(reason) {
    if (this.closed) return;
    try {
      this.sendControl(reason === undefined ? { t: 'bye' } : { t: 'bye', reason });
    } catch {
      // closing anyway
    }
    this._closed(reason ?? 'closed by us', 'us');
  }

  /**
   * What we know of the peer changed (PushPeer calls it when a live peer's new card arrives): `remote` takes the
   * fields given, and 'remotechange' ({ remote }) fires when one of them differs.
   */
  updateRemote(fields) {
    const changed = Object.keys(fields).filter((k) => this.remote[k] !== fields[k]);
    if (!changed.length) return;
    Object.assign(this.remote, fields);
    this.dispatchEvent(event('remotechange', { remote: this.remote }));
  }

  /**
   * The first offer/answer (the push leg, or whatever link carried it) is applied: what negotiationneeded asked for
   * before (the channels themselves) is in it. Perfect negotiation over the control channel from now on.
   */
  signalingDone() {
    this._negotiationPending = false;
  }

  /**
   * Registers the handler of control frames of type `t` (docs/PROTOCOL.md §7.3): handler(frame) gets the parsed
   * object, may return a promise, and its errors are logged, not thrown. One handler per type (BAD_ARGUMENT for a
   * second). Returns a function that removes it.
   */
  onControl(t, handler) {
    if (typeof t !== 'string' || typeof handler !== 'function') {
      throw new PushPeerError('BAD_ARGUMENT', 'onControl(t, handler): a frame type and a function');
    }
    if (this._controlHandlers.has(t)) throw new PushPeerError('BAD_ARGUMENT', `control frames '${t}' have a handler already`);
    this._controlHandlers.set(t, handler);
    // Frames of this type that came before anyone took them (the other side may use a connection the moment its
    // end opened, before ours registered its handlers): handled now, in the order they came.
    const waiting = (this._unclaimed ?? []).filter((f) => f.t === t);
    if (waiting.length) {
      this._unclaimed = this._unclaimed.filter((f) => f.t !== t);
      queueMicrotask(() => waiting.reduce((p, f) => p.then(() => this._handle(handler, f)), Promise.resolve()));
    }
    return () => this._controlHandlers.get(t) === handler && this._controlHandlers.delete(t);
  }

  _hold(list, data, what) {
    const size = typeof data === 'string' ? data.length : (data?.byteLength ?? data?.size ?? 0);
    list.bytes = (list.bytes ?? 0) + size;
    if (list.length < HELD_MESSAGES && list.bytes <= HELD_BYTES) list.push(data);
    else this._log(`${what}: more than ${HELD_MESSAGES} messages or ${HELD_BYTES} bytes before anyone listened; dropped`);
  }

  /**
   * Sets the receiver of the content channel's messages: handler(data); those that arrived before are handed to it
   * first, in order. Returns a function that unsets it.
   */
  onContent(handler) {
    if (typeof handler !== 'function') throw new PushPeerError('BAD_ARGUMENT', 'onContent(handler): a function');
    this._contentHandler = handler;
    for (const data of this._contentHeld.splice(0)) handler(data);
    return () => {
      if (this._contentHandler === handler) this._contentHandler = null;
    };
  }

  /**
   * The app was told of this connection (PushPeer's 'connection' event, or connect() resolving): the app channel's
   * messages that came before are dispatched, in order, in a task of their own (after the listeners the app adds
   * in its handler or after its await), and later ones as they come.
   */
  announced() {
    if (!this._appHeld || this._announcing) return;
    this._announcing = true;
    setTimeout(() => {
      const held = this._appHeld;
      this._appHeld = null;
      for (const data of held) this.dispatchEvent(new MessageEvent('message', { data }));
    }, 0);
  }

  /** Sends a control frame ({ t, ... }, as JSON) if the control channel is open; returns whether it was sent. */
  sendControl(frame) {
    if (this.control.readyState === 'connecting' && !this.closed) {
      // The app channel can open before this one (Firefox, now and then): what is said meanwhile goes out once it
      // opens, in order, instead of being lost (a group's hello, a carried envelope).
      if (this._controlQueue.length >= QUEUED_FRAMES) return false;
      this._controlQueue.push(JSON.stringify(frame));
      return true;
    }
    if (this.control.readyState !== 'open') return false;
    this.control.send(JSON.stringify(frame));
    return true;
  }

  async _negotiate() {
    if (this.closed) return;
    // Changes before the control channel is open are negotiated as soon as it opens.
    if (this.control.readyState !== 'open') {
      this._negotiationPending = true;
      return;
    }
    this._negotiationPending = false;
    try {
      this._makingOffer = true;
      await this.pc.setLocalDescription();
      const { type, sdp } = this.pc.localDescription;
      this.sendControl({ t: 'sdp', type, sdp });
      this.dispatchEvent(event('negotiation', { direction: 'sent', sdpType: type }));
    } catch (error) {
      this._log(`negotiation failed: ${error?.message ?? error}`);
    } finally {
      this._makingOffer = false;
    }
  }

  async _onControl(data) {
    this._heard = Date.now();
    let frame;
    try {
      frame = JSON.parse(typeof data === 'string' ? data : new TextDecoder().decode(data));
    } catch {
      this._log('control: not JSON, ignored');
      return;
    }
    const handler = typeof frame?.t === 'string' ? this._controlHandlers.get(frame.t) : undefined;
    if (!handler) {
      // Kept for a handler registered later (a few only: unknown types from newer versions stay ignored).
      if (typeof frame?.t === 'string') this._unclaimed = [...(this._unclaimed ?? []), frame].slice(-UNCLAIMED_FRAMES);
      this._log(`control: no handler (yet) for frame ${String(frame?.t)}`);
      return;
    }
    await this._handle(handler, frame);
  }

  async _handle(handler, frame) {
    try {
      await handler(frame);
    } catch (error) {
      this._log(`control ${frame.t}: ${error?.message ?? error}`);
    }
  }

  /** Perfect negotiation (W3C WebRTC §10.7): the impolite side ignores a colliding offer. */
  async _sdpFrame(frame) {
    if ((frame.type !== 'offer' && frame.type !== 'answer') || typeof frame.sdp !== 'string') return;
    const collision = frame.type === 'offer' && (this._makingOffer || this.pc.signalingState !== 'stable');
    this._ignoreOffer = !this.polite && collision;
    if (this._ignoreOffer) return;
    await this.pc.setRemoteDescription({ type: frame.type, sdp: frame.sdp });
    this.dispatchEvent(event('negotiation', { direction: 'received', sdpType: frame.type }));
    if (frame.type === 'offer') {
      await this.pc.setLocalDescription();
      const { type, sdp } = this.pc.localDescription;
      this.sendControl({ t: 'sdp', type, sdp });
      this.dispatchEvent(event('negotiation', { direction: 'sent', sdpType: type }));
    }
  }

  async _iceFrame(frame) {
    if (!frame.candidate) return;
    try {
      await this.pc.addIceCandidate(frame.candidate);
    } catch (error) {
      if (!this._ignoreOffer) throw error;
    }
  }

  /** by: 'us' (close()), 'peer' (its bye, with its reason), 'network' (silence, failure, a channel closing under us). */
  _closed(reason, by, peerReason = '') {
    if (this.closed) return;
    this.closed = true;
    this.closeInfo = { reason, by, peerReason };
    clearInterval(this._heartbeat);
    this._opened.reject(new PushPeerError('NOT_CONNECTED', `connection closed before it opened: ${reason}`));
    try {
      this.pc.close();
    } catch {
      // already closed
    }
    this.dispatchEvent(event('close', { ...this.closeInfo }));
  }
}

/** A new RTCPeerConnection with our two channels and the local media; for the first offer or answer. */
export function createConnection({ iceServers = [], polite, remote, sessionId, role, media = null, log,
  heartbeatMs, peerGoneMs, RTCPeerConnection: PC = globalThis.RTCPeerConnection } = {}) {
  if (!PC) throw new PushPeerError('NOT_SUPPORTED', 'RTCPeerConnection is not available here');
  const pc = new PC({ iceServers });
  const connection = new Connection({ pc, polite, remote, sessionId, role, log, heartbeatMs, peerGoneMs });
  if (media) connection.addStream(media);
  return connection;
}

// DTLS roles. Browsers answer a=setup:active (the answerer is the DTLS client), and on loopback a Chromium answerer
// as the client of a Firefox offerer takes about 55 ms longer to open than any other pairing or role (bench/RESULTS.md,
// "DTLS roles"). An answer may choose either role (RFC 5763 §5), so a browser that is not Firefox answers passive
// (the offerer is the client): measured as fast for a Chromium offerer, and 0.14× the time for a Firefox one.
// Firefox answers as it does. The roles change nothing else (the fingerprints are in the signed envelopes).
export function passiveAnswerSdp(answerSdp, { firefox = isFirefox() } = {}) {
  if (firefox || !/^a=setup:active\r?$/m.test(answerSdp)) return null;
  return answerSdp.replace(/^a=setup:active(\r?)$/gm, 'a=setup:passive$1');
}

function isFirefox() {
  return /\bFirefox\//.test(globalThis.navigator?.userAgent ?? '');
}

/** The first answer to an offer, with passiveAnswerSdp's roles when they apply and the browser takes them. */
export async function setLocalAnswer(pc) {
  const answer = await pc.createAnswer();
  const passive = passiveAnswerSdp(answer.sdp);
  if (passive) {
    try {
      return await pc.setLocalDescription({ type: 'answer', sdp: passive });
    } catch {
      // A browser that does not take a changed answer: its own answer, as made.
    }
  }
  return pc.setLocalDescription(answer);
}

/** setLocalDescription + non-trickle gathering (waitGathered): resolves to the local SDP with its candidates. */
export async function localSdp(pc, gatherTimeoutMs, gatherQuietMs = DEFAULT_GATHER_QUIET_MS) {
  if (pc.signalingState === 'have-remote-offer') await setLocalAnswer(pc);
  else await pc.setLocalDescription();
  const complete = await waitGathered(pc, gatherTimeoutMs, gatherQuietMs);
  return { sdp: pc.localDescription.sdp, complete };
}
