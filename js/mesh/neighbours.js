// Introductions: signed envelopes carried by a neighbour (docs/PROTOCOL.md §7.7). A page connected to B reaches C,
// whom B is connected to, with no push: the offer, the answer and a bye are the envelopes of the push leg, sealed to
// the recipient's identity key (core.sealForPeer, §4.1), and B carries the ciphertext over its control channels:
//   {t:'fwd', id, to, route?, vouch?, body}   please carry body to `to` (through the carriers in `route` first)
//   {t:'fwd', id, to, from, route, back, …}   the same, passed on by a carrier (`from`: the caller; `back`: the
//                                             carriers before the sender, nearest first)
//   {t:'fwd', id, from, back?, vouch?, body}  carried for `from` (the way back: the sender, then `back`)
//   {t:'fwd-ok', id}                          taken (the recipient delivered it)
//   {t:'fwd-no', id, code}                    refused, and why
// Every carrier checks its own rule for the two it stands between (the sender and the next one), so a route is a
// chain of such introductions; a group's random walks use it (js/mesh/groups.js). A carrier answers fwd-ok only
// once the next one did, so the one who asked learns a refusal with its code. The recipient hands what arrives to
// its service worker (one core, one replay guard per profile: js/push/reception.js, deliverCarried), which opens it
// like a push; a carried envelope never counts towards the worker's rotation rule.
import { PushPeerError } from '../errors.js';
import { KEY_ID, MAX_HOPS, checkRoute } from './route.js';

export const NEIGHBOUR_DEFAULTS = Object.freeze({
  introductions: 'group', // whom we carry for: 'peers' (both ends are our peers), 'group' (members of a shared group), 'off'
  forwardsPerMinute: 30, // fwd frames we take from one connection per minute (carried or delivered to us)
  forwardTimeoutMs: 10_000, // a fwd we sent without fwd-ok / fwd-no by then fails with TIMEOUT
});

// A reply (an answer, a decline) comes within the caller's wait (answerTimeoutMs and its retries: about a minute
// and a half by default); carriers remember the calls they carried this long, the newest few hundred.
const CALL_MEMORY_MS = 5 * 60_000;
const MAX_CALLS_REMEMBERED = 512;

export const MAX_BODY = 4096; // a sealed envelope: at most one push body (§4.1)
const MAX_BODY_TEXT = Math.ceil((MAX_BODY * 4) / 3);
const POLICIES = ['peers', 'group', 'off'];

/** A per-connection budget of frames per minute (a token bucket refilled continuously). */
export function bucket(perMinute) {
  let tokens = perMinute;
  let at = Date.now();
  return () => {
    const now = Date.now();
    tokens = Math.min(perMinute, tokens + ((now - at) * perMinute) / 60_000);
    at = now;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };
}

/**
 * The mesh's carrier and its links. host: { core, store, options, connections() -> live Connections,
 * deliver(body, { via, from, route }) -> Promise<{ item } | { error }> (our receiving end), emit(type, fields),
 * vouch(keyId, { group, proof }) (a group member's proof that came with a carried call: js/mesh/groups.js),
 * vouches(keyId, vouch, a, b) -> whether `vouch` proves keyId a member of a group a and b are members of }.
 */
export class Neighbours {
  constructor(host) {
    this.host = host;
    this.core = host.core;
    this.options = { ...NEIGHBOUR_DEFAULTS, ...pick(host.options, Object.keys(NEIGHBOUR_DEFAULTS)) };
    if (!POLICIES.includes(this.options.introductions)) {
      throw new PushPeerError('BAD_ARGUMENT', `introductions must be one of ${POLICIES.join(', ')}`);
    }
    this._state = new WeakMap(); // Connection -> { nextId, waiting: id -> settle, carried: id -> { from, id }, allow }
    this._calls = new Map(); // "caller>callee" -> until when: calls we carried, whose replies we carry back
  }

  /** Takes part in introductions on this connection (its fwd frames). */
  attach(connection) {
    const state = { nextId: 1, waiting: new Map(), carried: new Map(), allow: bucket(this.options.forwardsPerMinute) };
    this._state.set(connection, state);
    connection.onControl('fwd', (frame) => this._fwd(connection, frame));
    connection.onControl('fwd-ok', (frame) => this._reply(connection, frame, null));
    connection.onControl('fwd-no', (frame) => this._reply(connection, frame, typeof frame.code === 'string'
      ? frame.code.slice(0, 40) : 'INTRODUCTION_REFUSED'));
    connection.addEventListener('close', () => {
      for (const settle of state.waiting.values()) settle(new PushPeerError('NOT_CONNECTED', 'the neighbour went away'));
      for (const { from, id } of state.carried.values()) from.sendControl({ t: 'fwd-no', id, code: 'NO_ROUTE' });
      state.waiting.clear();
      state.carried.clear();
    });
  }

  /** The live connection to key id `keyId` whose control channel is open, if any. */
  connectionTo(keyId) {
    for (const c of this.host.connections()) {
      if (c.remote.keyId === keyId && !c.closed && c.control.readyState === 'open' && this._state.has(c)) return c;
    }
    return null;
  }

  /**
   * A link (js/signaling/link.js) whose envelopes `connection`'s peer carries to their recipient, through the
   * carriers in `route` after it (key ids, in order; none by default). `vouch` ({ group, proof }) goes along to the
   * recipient: the proof that we are a member of a group it is in, so that it takes our call as a member's.
   */
  linkVia(connection, { route = [], vouch } = {}) {
    const path = checkRoute(route, MAX_HOPS - 1);
    const send = ({ to, card, envelope }) => {
      const identity = this.core.decodeCard(card).identity;
      const body = this.core.base64urlEncode(this.core.sealForPeer({ envelope, recipientIdentity: identity }));
      return this._send(connection, { t: 'fwd', to, body, ...(path.length ? { route: path } : {}), ...(vouch ? { vouch } : {}) });
    };
    return {
      via: 'neighbour',
      check: ({ to }) => {
        if (!this._state.has(connection) || connection.closed || connection.control.readyState !== 'open') {
          throw new PushPeerError('NOT_CONNECTED', 'the neighbour is not connected');
        }
        if (to === connection.remote.keyId && !path.length) {
          throw new PushPeerError('BAD_ARGUMENT', 'the neighbour itself is the one to call: connect to them directly');
        }
        if (path.includes(to) || path.includes(connection.remote.keyId)) {
          throw new PushPeerError('BAD_ARGUMENT', 'a route names each carrier once, and not the one called');
        }
      },
      send: async (message) => {
        await send(message);
        return { via: 'neighbour', neighbour: connection.remote.keyId, ...(path.length ? { route: path } : {}) };
      },
      sendBeacon: (message) => {
        try {
          void send(message).catch(() => {});
        } catch {
          // a page going away has nobody to tell
        }
      },
    };
  }

  /** Sends a fwd frame with a fresh id; settles on its fwd-ok / fwd-no, the connection's end, or the timeout. */
  _send(connection, frame) {
    const state = this._state.get(connection);
    if (!state || connection.closed) return Promise.reject(new PushPeerError('NOT_CONNECTED', 'the neighbour is not connected'));
    const id = state.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => settle(Object.assign(new PushPeerError('TIMEOUT',
        `no word from the neighbour within ${this.options.forwardTimeoutMs} ms`), { reason: 'CARRIER_SILENT' })),
      this.options.forwardTimeoutMs);
      const settle = (error) => {
        clearTimeout(timer);
        state.waiting.delete(id);
        if (error) reject(error);
        else resolve();
      };
      state.waiting.set(id, settle);
      if (!connection.sendControl({ ...frame, id })) settle(new PushPeerError('NOT_CONNECTED', 'the neighbour is not connected'));
    });
  }

  _reply(connection, frame, code) {
    const state = this._state.get(connection);
    if (!state || !Number.isInteger(frame.id)) return;
    const carried = state.carried.get(frame.id);
    if (carried) {
      // The recipient's word on a frame we carried goes back to whoever asked, under their id.
      state.carried.delete(frame.id);
      carried.from.sendControl(code === null ? { t: 'fwd-ok', id: carried.id } : { t: 'fwd-no', id: carried.id, code });
      return;
    }
    const settle = state.waiting.get(frame.id);
    if (!settle) return;
    settle(code === null ? null : refusal(code));
  }

  async _fwd(connection, frame) {
    const state = this._state.get(connection);
    if (!state || !Number.isInteger(frame.id) || frame.id < 0) return;
    const no = (code) => connection.sendControl({ t: 'fwd-no', id: frame.id, code });
    if (!state.allow()) return no('RATE_LIMITED');
    if (typeof frame.body !== 'string' || frame.body.length > MAX_BODY_TEXT || !/^[A-Za-z0-9_-]+$/.test(frame.body)) {
      return no('BAD_ARGUMENT');
    }
    if (typeof frame.to === 'string') return this._carry(connection, frame, no);
    if (typeof frame.from === 'string' && KEY_ID.test(frame.from)) return this._receive(connection, frame, no);
    return no('BAD_ARGUMENT');
  }

  /**
   * Someone asks us to carry an envelope (the caller, or the carrier before us): our policy for the two we stand
   * between, a route, then on to the next one under an id of ours.
   */
  async _carry(prev, frame, no) {
    let route;
    let back;
    let vouch;
    try {
      route = checkRoute(frame.route ?? []);
      back = checkRoute(frame.back ?? []);
      vouch = checkVouch(frame.vouch);
    } catch {
      return no('BAD_ARGUMENT');
    }
    // From the caller itself (no `from`), or passed on by a carrier, who is then the first on the way back.
    const passedOn = frame.from !== undefined;
    if (!KEY_ID.test(frame.to) || (passedOn && (!KEY_ID.test(frame.from) || frame.from === prev.remote.keyId)) ||
        (!passedOn && back.length)) return no('BAD_ARGUMENT');
    const origin = passedOn ? frame.from : prev.remote.keyId;
    const backOut = passedOn ? [prev.remote.keyId, ...back] : [];
    const path = [origin, ...backOut.slice().reverse(), this.host.keyId, ...route, frame.to];
    if (new Set(path).size !== path.length || backOut.length + 1 + route.length > MAX_HOPS) return no('BAD_ARGUMENT');
    const next = route[0] ?? frame.to;
    if (!(await this._mayCarry(prev.remote.keyId, next, passedOn ? { origin, to: frame.to, vouch } : null))) {
      return no('INTRODUCTION_REFUSED');
    }
    const target = this.connectionTo(next);
    if (!target || target === prev) return no('NO_ROUTE');
    const state = this._state.get(target);
    const id = state.nextId++;
    state.carried.set(id, { from: prev, id: frame.id });
    // A recipient that never answers must not hold the entry for ever: the asker times out on its side too.
    setTimeout(() => state.carried.delete(id), 2 * this.options.forwardTimeoutMs);
    const out = route.length
      ? { t: 'fwd', id, to: frame.to, from: origin, route: route.slice(1), back: backOut, body: frame.body }
      : { t: 'fwd', id, from: origin, ...(backOut.length ? { back: backOut } : {}), body: frame.body };
    if (vouch) out.vouch = vouch;
    if (!target.sendControl(out)) {
      state.carried.delete(id);
      return no('NO_ROUTE');
    }
    this._remember(origin, frame.to);
    this.host.emit('carried', { from: origin, to: frame.to, ...(route.length || backOut.length ? { hops: path.length - 2 } : {}) });
    return undefined;
  }

  /**
   * Our policy for the two we stand between: 'peers' carries between two of our peers; 'group' between two members
   * of a group we share (the group module knows); 'off' never. A call passed on by a carrier (`relayed`: its caller
   * and vouch) must be one our rule admits too: with 'peers', the caller is our peer as well; with 'group', its vouch
   * proves it a member of a group both are members of. So a route is never a way around a carrier's rule.
   */
  async _mayCarry(fromKeyId, toKeyId, relayed = null) {
    const policy = this.options.introductions;
    if (policy === 'off') return false;
    // The reply to a call we carried (its callee answering its caller) is that call's: the caller passed our rule.
    const reply = relayed && this._calls.get(`${relayed.to}>${relayed.origin}`) > Date.now();
    const ends = [fromKeyId, toKeyId, ...(relayed && !reply && policy === 'peers' ? [relayed.origin] : [])];
    const known = await Promise.all(ends.map((keyId) => this.host.store.getPeer(keyId)));
    if (!known.every(Boolean)) return false;
    if (policy === 'peers') return true;
    if (!relayed || reply) return Boolean(this.host.inSameGroup?.(fromKeyId, toKeyId));
    return Boolean(relayed.vouch && this.host.vouches?.(relayed.origin, relayed.vouch, fromKeyId, toKeyId));
  }

  /** A call we carried from `origin` to `to`: its replies may come back through us for a while (CALL_MEMORY_MS). */
  _remember(origin, to) {
    const key = `${origin}>${to}`;
    this._calls.delete(key);
    this._calls.set(key, Date.now() + CALL_MEMORY_MS);
    if (this._calls.size > MAX_CALLS_REMEMBERED) this._calls.delete(this._calls.keys().next().value);
  }

  /** An envelope carried to us: the worker opens and keeps it like a push; the carrier hears how it went. */
  async _receive(carrier, frame, no) {
    let body;
    let route;
    let vouch;
    try {
      body = this.core.base64urlDecode(frame.body);
      route = checkRoute(frame.back ?? [], MAX_HOPS - 1);
      vouch = checkVouch(frame.vouch);
    } catch {
      return no('BAD_ARGUMENT');
    }
    if (route.includes(frame.from) || route.includes(carrier.remote.keyId)) return no('BAD_ARGUMENT');
    // Before the envelope: its call is then looked at with the caller known as a member (the worker checks that
    // the envelope is from `from`; the group checks the proof is for `from`).
    if (vouch) this.host.vouch?.(frame.from, vouch);
    const result = await this.host.deliver(body, { via: carrier.remote.keyId, from: frame.from, route })
      .catch((error) => ({ error }));
    if (result.error) return no(result.error.code ?? 'INTERNAL');
    carrier.sendControl({ t: 'fwd-ok', id: frame.id });
    return undefined;
  }
}

/** A vouch as it may travel: { group, proof }, two short base64url texts; or none. */
function checkVouch(vouch) {
  if (vouch === undefined) return undefined;
  const text = (v) => typeof v === 'string' && v.length <= 64 && /^[A-Za-z0-9_-]+$/.test(v);
  if (!vouch || typeof vouch !== 'object' || !text(vouch.group) || !text(vouch.proof)) {
    throw new PushPeerError('BAD_ARGUMENT', 'a vouch is { group, proof }');
  }
  return { group: vouch.group, proof: vouch.proof };
}

/** The requester's error for a refusal: INTRODUCTION_REFUSED, the carrier's or recipient's code in `.reason`. */
function refusal(code) {
  if (code === 'NO_ROUTE') return new PushPeerError('NO_ROUTE', 'the neighbour has no live connection to that peer');
  if (code === 'RATE_LIMITED') return new PushPeerError('RATE_LIMITED', 'the neighbour asks us to slow down');
  return Object.assign(new PushPeerError('INTRODUCTION_REFUSED', `the introduction was refused: ${code}`), { reason: code });
}

/** The fields of `object` named in `keys` that are set: a module's options out of the PushPeer's. */
export function pick(object, keys) {
  const out = {};
  for (const key of keys) if (object?.[key] !== undefined) out[key] = object[key];
  return out;
}
