// A small world for testing the page API (js/pushpeer.js) and the worker (sw/handler.js) in Node through their
// real code: people with a PushPeer page and a service worker each, sharing one store, subscribed at the local push
// service (tests/push-service) by a fake user agent that decrypts what arrives with the subscription's keys and
// hands it to the worker's 'push' event, as a browser does. RTCPeerConnection is a fake that connects two pages
// in this process once the answer is applied (the real one is covered by the browser tests).
import assert from 'node:assert/strict';

import { PushPeer } from '../../js/pushpeer.js';
import { createMemoryStore } from '../../js/store/store.js';
import { installPushPeer } from '../../sw/handler.js';
import { connectFakeUA } from '../push-service/fake-ua.mjs';
import { startPushService } from '../push-service/service.mjs';

// --- a fake RTCPeerConnection: an offer/answer pair opens pre-negotiated channels on both sides ---

const byToken = new Map();

class FakeChannel extends EventTarget {
  constructor(pc, label, id) {
    super();
    this.pc = pc;
    this.label = label;
    this.id = id;
    this.readyState = 'connecting';
    this.binaryType = 'blob';
    this.bufferedAmount = 0;
  }

  send(data) {
    if (this.readyState !== 'open') throw new DOMException(`channel is ${this.readyState}`, 'InvalidStateError');
    if (this.pc.crashed) return; // a page that died: nothing leaves it, and nobody is told
    const other = this.pc.remote?.channels.find((c) => c.id === this.id);
    // Bytes arrive as a copy in an ArrayBuffer (binaryType 'arraybuffer'), as a browser hands them over.
    const bytes = ArrayBuffer.isView(data) ? data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)
      : data instanceof ArrayBuffer ? data.slice(0) : data;
    setTimeout(() => other?.readyState === 'open' && other.dispatchEvent(new MessageEvent('message', { data: bytes })), 0);
  }

  _set(state) {
    if (this.readyState === state) return;
    this.readyState = state;
    this.dispatchEvent(new Event(state));
  }

  close() {
    this._set('closed');
  }
}

export class FakeRTCPeerConnection extends EventTarget {
  constructor() {
    super();
    this.token = `t${Math.random().toString(36).slice(2)}`;
    byToken.set(this.token, this);
    this.channels = [];
    this.localDescription = null;
    this.remoteDescription = null;
    this.signalingState = 'stable';
    this.iceGatheringState = 'new';
    this.connectionState = 'new';
    this.iceConnectionState = 'new';
    this.remote = null;
  }

  createDataChannel(label, { id } = {}) {
    const channel = new FakeChannel(this, label, id);
    this.channels.push(channel);
    return channel;
  }

  async createAnswer() {
    return { type: 'answer', sdp: this._sdp() };
  }

  _sdp() {
    return `v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\na=fake:${this.token}\r\n`;
  }

  async setLocalDescription(description) {
    const type = description?.type ?? (this.remoteDescription?.type === 'offer' ? 'answer' : 'offer');
    this.localDescription = { type, sdp: description?.sdp ?? this._sdp() };
    this.signalingState = type === 'offer' ? 'have-local-offer' : 'stable';
    this.iceGatheringState = 'complete';
  }

  async setRemoteDescription({ type, sdp }) {
    if (this.connectionState === 'closed') throw new DOMException('closed', 'InvalidStateError');
    this.remoteDescription = { type, sdp };
    const other = byToken.get(/a=fake:(\w+)/.exec(sdp)?.[1]);
    this.signalingState = type === 'offer' ? 'have-remote-offer' : 'stable';
    if (type === 'answer' && other && other.connectionState !== 'closed' && other.remoteDescription) {
      this.remote = other;
      other.remote = this;
      setTimeout(() => {
        for (const pc of [this, other]) {
          pc.connectionState = pc.iceConnectionState = 'connected';
          pc.dispatchEvent(new Event('connectionstatechange'));
          for (const c of pc.channels) c._set('open');
        }
      }, 5);
    }
  }

  /** The page died without a word (a crash, a lost network): it sends nothing more and closes nothing. */
  crash() {
    this.crashed = true;
  }

  addTrack() {
    throw new DOMException('no media in the fake', 'NotSupportedError');
  }

  async addIceCandidate() {}

  restartIce() {}

  close() {
    if (this.connectionState === 'closed') return;
    this.connectionState = 'closed';
    for (const c of this.channels) c.close();
    byToken.delete(this.token);
    // The other side notices (as SCTP would): its channels close.
    const other = this.remote;
    if (other && other.connectionState !== 'closed') setTimeout(() => other.channels.forEach((c) => c.close()), 5);
  }
}

// --- Web Locks of one profile: each page has its own manager, and a page that goes away lets go of its locks ---

class FakeLockManager {
  constructor(held) {
    this.held = held; // name -> the manager (page) holding it, shared by the pages of a profile
    this.mine = new Set();
  }

  async request(name, options, callback) {
    const cb = typeof options === 'function' ? options : callback;
    if (this.held.has(name)) {
      if (options?.ifAvailable) return cb(null);
      throw new Error('the fake LockManager only does ifAvailable requests');
    }
    this.held.set(name, this);
    this.mine.add(name);
    try {
      return await cb({ name });
    } finally {
      this.release(name);
    }
  }

  release(name) {
    if (this.held.get(name) === this) this.held.delete(name);
    this.mine.delete(name);
  }

  /** The page is gone: the browser releases what it held. */
  die() {
    for (const name of [...this.mine]) this.release(name);
  }
}

// --- a fake service-worker scope running installPushPeer ---

function fakeWorkerScope({ visible }) {
  const listeners = new Map();
  const shown = [];
  const scope = {
    shown,
    visible,
    addEventListener: (type, fn) => listeners.set(type, [...(listeners.get(type) ?? []), fn]),
    clients: {
      matchAll: async () => (scope.visible ? [{ visibilityState: 'visible', url: 'https://app.example/' }] : []),
      claim: async () => {},
    },
    registration: {
      scope: 'https://app.example/',
      showNotification: async (title, options) => {
        const i = shown.findIndex((n) => n.options.tag === options.tag);
        if (i >= 0) shown.splice(i, 1); // same tag: replaced
        shown.push({ title, options, at: Date.now() });
      },
      getNotifications: async ({ tag } = {}) => shown.filter((n) => tag === undefined || n.options.tag === tag),
      pushManager: null, // set by the person
    },
    /** Runs the 'message' listeners (a page's postMessage to the worker); resolves when they are done. */
    async message(data) {
      const waits = [];
      const event = { data, source: null, waitUntil: (p) => waits.push(p) };
      for (const fn of listeners.get('message') ?? []) fn(event);
      await Promise.all(waits);
    },
    /** Runs the 'push' listeners on these bytes; resolves when their waitUntil promises settle. */
    async push(bytes) {
      const waits = [];
      const event = { data: { arrayBuffer: () => Uint8Array.from(bytes).buffer }, waitUntil: (p) => waits.push(p) };
      for (const fn of listeners.get('push') ?? []) fn(event);
      await Promise.all(waits);
    },
  };
  return scope;
}

/**
 * Starts a push service and returns { service, person(name, options), close() }. A person: { name, peer (the
 * PushPeer), store, scope (the worker's), ua, sub, pushes (delivered count), refused (pushes the worker refused),
 * card }. Options: autoAccept, visible (a window of the app is visible: default true), timeouts (PushPeer options).
 */
export async function startWorld({ core }) {
  globalThis.RTCPeerConnection = FakeRTCPeerConnection;
  const service = await startPushService();
  const people = [];
  let count = 0;

  async function person(name, { visible = true, ...options } = {}) {
    const storeName = `world-${++count}-${name}`;
    const store = createMemoryStore({ name: storeName });
    const ua = await connectFakeUA(service.wsUrl);
    const scope = fakeWorkerScope({ visible });
    const me = { name, store, scope, ua, pushes: 0, delivered: [], subs: [] };
    // The browser's push manager for this origin: one subscription, made with the identity key.
    const wrap = (sub) => ({ ...sub.subscription, options: { applicationServerKey: sub.key.buffer },
      toJSON: () => sub.subscription,
      unsubscribe: async () => {
        sub.active = false;
        await ua.unregister(sub.channelID);
        return true;
      } });
    const pushManager = {
      getSubscription: async () => (me.sub?.active ? wrap(me.sub) : null),
      subscribe: async ({ applicationServerKey }) => {
        const key = new Uint8Array(applicationServerKey);
        me.sub = { ...(await ua.subscribe(core, key)), key: Uint8Array.from(key), active: true };
        me.subs.push(me.sub);
        return wrap(me.sub);
      },
    };
    scope.registration.pushManager = pushManager;
    installPushPeer(scope, { core, store, storeName });
    // Delivery: every notification for a subscription of this person is decrypted with its keys (as the browser
    // does) and given to the worker.
    me.loop = (async () => {
      for (;;) {
        let n;
        try {
          n = await ua.nextNotification({ timeoutMs: 3_600_000 });
        } catch {
          return;
        }
        const sub = me.subs.find((s) => s.channelID === n.channelID);
        ua.ack?.(n);
        if (!sub) continue;
        const bytes = core.decrypt({ ...sub.keys, body: Buffer.from(n.data, 'base64url') });
        me.pushes++;
        me.delivered.push(bytes);
        await scope.push(bytes);
      }
    })();
    const held = new Map();
    const page = () => {
      me.locks = new FakeLockManager(held);
      return PushPeer.create({ core, store, name, subject: 'mailto:world@pushpeer.invalid',
        allowPushHosts: [service.httpOrigin], appUrl: 'https://app.example/', linkBase: 'https://app.example/',
        serviceWorker: scope.registration, lockManager: me.locks, ...options });
    };
    me.peer = await page();
    /**
     * The page reloads: it hears pagehide (and does what it does then), its connections die with it, its locks are
     * released, and a new page of the same profile starts. `before` runs on the new page before it looks at the
     * inbox (e.g. to add a request listener).
     */
    me.reload = async ({ before } = {}) => {
      const old = me.peer;
      old._onPageHide();
      old.close();
      for (const c of old.calls.answering.values()) c.pc.close();
      me.locks.die();
      // The old page's script stops: whatever it was awaiting never comes back.
      const never = () => new Promise(() => {});
      old.store = new Proxy({}, { get: () => never });
      old.calls.store = old.store;
      old.calls.link = { check: () => {}, send: never, sendBeacon: () => {} };
      me.peer = await page();
      before?.(me.peer);
      return me.peer;
    };
    /** The push service drops the subscription without telling anyone (as Firefox does when its quota runs out). */
    me.loseSubscription = async () => {
      me.sub.active = false;
      await ua.unregister(me.sub.channelID);
    };
    me.card = () => me.peer.card();
    people.push(me);
    return me;
  }

  return {
    service,
    person,
    /** Pushes the service accepted for this person's current subscription so far. */
    pushesTo: (p) => service.received.filter((e) => e.type === 'push' && e.status === 201 &&
      e.subscription === service.subscription(p.sub.endpoint).id).length,
    async close() {
      for (const p of people) {
        p.peer.close();
        for (const c of p.peer.connections) c.close();
        p.ua.ws.close();
      }
      await service.close();
      await Promise.all(people.map((p) => p.loop));
    },
  };
}

/** Resolves when `read()` returns something truthy (polling), or fails after timeoutMs. */
export async function until(read, { timeoutMs = 5000, what = 'condition' } = {}) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value) return value;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The next event of `type` on target, or a failure after timeoutMs. */
export function nextEvent(target, type, { timeoutMs = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${type} event within ${timeoutMs} ms`)), timeoutMs);
    target.addEventListener(type, (e) => {
      clearTimeout(timer);
      resolve(e);
    }, { once: true });
  });
}
