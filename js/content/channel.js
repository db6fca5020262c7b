// The content channel of one connection (data channel id 2, docs/PROTOCOL.md §9.4): frames in and out. Requests
// from the peer go to the server (js/content/server.js); answers to our requests go to whoever asked (request()),
// and have frames to whoever subscribed (subscribe()).
// The core decodes every frame; nothing here reads their bytes.
import { PushPeerError } from '../errors.js';

const REQUEST_TIMEOUT_MS = 30_000;
// Malformed frames a peer may send before we close the connection (each is answered with bad-request).
const MAX_BAD_FRAMES = 16;
// How much of our frames may wait in the channel's buffer (docs/PROTOCOL.md §9.4; bench/RESULTS.md).
export const CONTENT_HIGH_WATER = 1 << 20;

export class ContentChannel {
  constructor({ core, connection, serve, log = () => {} }) {
    this.core = core;
    this.connection = connection;
    this._serve = serve;
    this._log = log;
    this._pending = new Map(); // request id -> { resolve, reject, timer }
    this._subscriptions = new Map(); // request id -> { onHave, onEnd }: our get-have requests
    this._nextRequest = 1;
    this._bad = 0;
    this._stopReceiving = connection.onContent((data) => this._message(data));
    connection.addEventListener('close', () => this._closed());
  }

  /** Sends a frame with back-pressure. */
  send(frame) {
    return this.connection.writeContent(frame, { highWater: CONTENT_HIGH_WATER });
  }

  /** A new request id. */
  nextRequest() {
    const id = this._nextRequest;
    this._nextRequest = this._nextRequest >= 0xffffffff ? 1 : this._nextRequest + 1;
    return id;
  }

  /**
   * Sends a request frame made with `request` and resolves to its answer: { frame (the decoded fields), bytes (the
   * raw frame, for openContentData) }. TIMEOUT after timeoutMs; NOT_CONNECTED when the connection closes first.
   */
  request(request, frame, { timeoutMs = REQUEST_TIMEOUT_MS } = {}) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this._pending.delete(request);
        reject(new PushPeerError('TIMEOUT', `no answer to content request ${request} in ${timeoutMs} ms`));
      }, timeoutMs);
      this._pending.set(request, { resolve, reject, timer });
      this.send(frame).catch((error) => this._settle(request, null, error));
    });
  }

  /**
   * Sends a get-have frame made with `request`: onHave(frame) gets every have frame that answers it, onEnd(error)
   * the end (an error frame: NOT_FOUND; the connection closing: NOT_CONNECTED). Returns a function that ends it
   * (the peer is sent a cancel).
   */
  subscribe(request, frame, { onHave, onEnd = () => {} }) {
    this._subscriptions.set(request, { onHave, onEnd });
    this.send(frame).catch((error) => this._endSubscription(request, error));
    return () => {
      if (!this._subscriptions.delete(request)) return;
      this.send(this.core.encodeContentFrame({ type: 'cancel', request })).catch(() => {});
    };
  }

  _endSubscription(request, error) {
    const s = this._subscriptions.get(request);
    if (!s) return;
    this._subscriptions.delete(request);
    s.onEnd(error);
  }

  /** Tells the peer we no longer want `request` and forgets it (its promise rejects with CANCELLED). */
  cancel(request) {
    if (!this._pending.has(request)) return;
    this._settle(request, null, new PushPeerError('CANCELLED', 'the request was cancelled'));
    this.send(this.core.encodeContentFrame({ type: 'cancel', request })).catch(() => {});
  }

  _settle(request, value, error) {
    const p = this._pending.get(request);
    if (!p) return;
    this._pending.delete(request);
    clearTimeout(p.timer);
    if (error) p.reject(error);
    else p.resolve(value);
  }

  _message(data) {
    if (!(data instanceof ArrayBuffer)) {
      this._badFrame('a text message');
      return;
    }
    const bytes = new Uint8Array(data);
    let frame;
    try {
      frame = this.core.decodeContentFrame(bytes);
    } catch (error) {
      this._badFrame(error.code ?? String(error));
      return;
    }
    if (frame.type === 'get' || frame.type === 'get-manifest' || frame.type === 'get-have' || frame.type === 'cancel') {
      this._serve(this, frame);
    } else if (this._subscriptions.has(frame.request)) {
      if (frame.type === 'have') this._subscriptions.get(frame.request).onHave(frame);
      else if (frame.type === 'error') {
        this._endSubscription(frame.request, new PushPeerError('NOT_FOUND', `the peer has no such file (${frame.code})`));
      }
    } else {
      this._settle(frame.request, { frame, bytes });  // an answer nobody waits for (cancelled, late) is dropped
    }
  }

  _badFrame(why) {
    this._bad++;
    this._log(`content: malformed frame (${why})`);
    if (this._bad > MAX_BAD_FRAMES) {
      this.connection.close('content: malformed frames');
      return;
    }
    this.send(this.core.encodeContentFrame({ type: 'error', request: 0, code: 'bad-request' })).catch(() => {});
  }

  _closed() {
    this._stopReceiving();
    for (const request of [...this._pending.keys()]) {
      this._settle(request, null, new PushPeerError('NOT_CONNECTED', 'the connection closed'));
    }
    for (const request of [...this._subscriptions.keys()]) {
      this._endSubscription(request, new PushPeerError('NOT_CONNECTED', 'the connection closed'));
    }
  }
}
