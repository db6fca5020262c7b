// Calls: the offer/answer/bye state machine of a connection's first leg (docs/PROTOCOL.md §4, §7.1), over a link.
// Envelopes are sealed here (core.sealEnvelope) and sent through a link (js/signaling/link.js: today the push link,
// js/signaling/push-link.js); what arrives comes in as inbox items (a link's receiving end puts envelopes there:
// js/push/reception.js, deliverEnvelope), which the PushPeer hands to inboxItem(). The PushPeer owns the identity,
// the card and the peers and gives this module what it needs as a host:
//   { core, store, identity, keyId, options, owner, storeName, link, ourCard({ push }) -> card bytes (push: false,
//     without grants: what a transient call carries), cardOf(card) -> bytes,
//     keepPeer(keyId, bytes, decoded, { transient }), opened(connection), emit(type, fields), dispatch(event), error(error),
//     linkVia(connection, { route, vouch }) -> a link whose envelopes that connection's peer carries, through the
//       carriers in route after it (js/mesh/neighbours.js),
//     carrier(keyId) -> our live connection to that peer or null,
//     admits(item) -> { accept, transient } for a member of a group we are in carried by a member (accept: take the
//       call without asking, else decline it; transient: keep the caller as a transient peer), or null (ask) }
// A call goes over the push link unless connect() names a neighbour (`via`, and `carriers` after it); what we send
// back for a request (an answer, a bye) goes the way its offer came: through the neighbour that carried it (and the
// carriers before that one) while that connection lives, else by push to the card in the offer.
// A card is a capability handed to strangers (docs/PROTOCOL.md §7.4): a request is answered only when the app
// accepts it (autoAccept is off by default), a stranger becomes a peer only then, and declining a stranger sends
// nothing to the endpoint their card names.
import { createConnection, isPolite, localSdp } from '../connection/connection.js';
import { PushPeerError } from '../errors.js';
import { claimIsDead, lockName, tryHold } from '../locks.js';
import { sessionKey } from '../store/store.js';
import { assertLink } from './link.js';

/**
 * What a call waits on: the answer, a bye, or PushPeer.close(). next(ms) resolves to the next answer or bye that
 * arrived for the call (deliver), or to null after ms; it rejects once the PushPeer is closed. stop() drops a
 * pending next().
 */
function waitingCall() {
  const queue = [];
  let waiter = null;
  let failure = null;
  const call = {
    refs: [], // references of every offer sent in this leg: an answer must name one of them
    /**
     * A new connection is being offered: what names an earlier leg's offers cannot open it, whether it is queued
     * already or arrives while the new offer is being gathered (a gone page's answer may follow its bye).
     */
    newLeg() {
      call.refs = [];
      queue.length = 0;
    },
    /** True when ref names an offer of the current leg. */
    names(ref) {
      return call.refs.some((r) => sameBytes(r, ref));
    },
    /**
     * Hands over an answer or bye, unless a new leg began since it was checked (its inbox claim is a wait, and a
     * bye read after it may have ended the leg meanwhile): then it is stale, and dropped.
     */
    deliver(item) {
      if (!call.names(item.ref)) return;
      if (waiter) waiter.resolve(item);
      else queue.push(item);
    },
    reject(error) {
      failure = error;
      waiter?.reject(error);
    },
    next(ms) {
      if (failure) return Promise.reject(failure);
      if (queue.length) return Promise.resolve(queue.shift());
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => done(null), ms);
        const done = (item) => {
          clearTimeout(timer);
          waiter = null;
          resolve(item);
        };
        waiter = { resolve: done, reject: (error) => {
          clearTimeout(timer);
          waiter = null;
          reject(error);
        } };
      });
    },
    stop() {
      waiter?.resolve(null);
    },
  };
  return call;
}

// A request lives this long past its latest offer's answerTimeoutMs: time for a retried offer to arrive
// (docs/PROTOCOL.md §7.1).
export const REQUEST_GRACE_MS = 5000;

// A bye's body: empty, the callee declines; BYE_GONE, the callee's page went away after it answered (offer again).
const BYE_GONE = 1;
const isGone = (item) => item.body?.length === 1 && item.body[0] === BYE_GONE;

/** An accepted request whose page may have gone away before answering (_offer checks the claim's lock). */
const takeable = (item) => item.type === 'offer' && item.state === 'claimed' && item.accepted === true;

/** An inbox item a page has something to do with: not handled yet, or accepted by a page that may be gone. */
export const actionable = (item) => item.state === 'new' || takeable(item);

const expiredError = () => new PushPeerError('EXPIRED', 'the caller stopped waiting: call them back instead');

const sameBytes = (a, b) => a && b && a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * A pending incoming request: accept() or decline() it, or call preventDefault() and decide later (it stays in
 * the inbox; peer.requests() lists it again, also after a reload) until it expires (expiresAt).
 */
export class RequestEvent extends Event {
  constructor(calls, item) {
    super('request', { cancelable: true });
    /** The inbox id of the request. */
    this.id = item.id;
    this.from = { name: item.name ?? '', keyId: item.from };
    /** True when the caller is a peer of ours already (we accepted them before, called them, or saved them). */
    this.known = Boolean(item.knownPeer);
    /** The neighbour that carried the offer ({ keyId, name }), or null: it came by push. */
    this.via = item.via ? { keyId: item.via, name: calls.host.carrier(item.via)?.remote.name ?? '' } : null;
    this.sessionId = item.sessionId;
    this.received = item.received;
    /** Seconds since the caller sealed the offer; the caller gives up after offerMaxAge. */
    this.age = Math.max(0, Math.floor(Date.now() / 1000) - item.timestamp);
    this._calls = calls;
    this._item = item;
    this._decided = null;
    this._expired = false;
  }

  /** ms since the epoch after which the caller no longer waits (a retried offer moves it later). */
  get expiresAt() {
    return this._calls.expiresAt(this._item);
  }

  /**
   * Answers the offer (one push): resolves to the Connection once its data channel is open. Fails with EXPIRED,
   * sending nothing, once the caller stopped waiting.
   */
  accept(options = {}) {
    if (this._expired) return Promise.reject(expiredError());
    this._decided ??= this._calls.accept(this._item, options);
    return this._decided;
  }

  /**
   * Declines. The caller is told (one push, a `bye`) only when it is a known peer or `notify` is true: a stranger's
   * card names an endpoint of their choosing, so by default nothing is sent to it and the caller times out.
   */
  decline({ notify = this.known } = {}) {
    if (this._expired) return Promise.resolve(null); // the caller is not waiting: nothing to tell
    this._decided ??= this._calls.decline(this._item, { notify }).then(() => null);
    return this._decided;
  }
}

export class Calls {
  constructor(host) {
    this.host = host;
    this.core = host.core;
    this.store = host.store;
    this.link = assertLink(host.link);
    this.options = host.options;
    this.pending = new Map(); // sessionKey(callee, session) -> outgoing call waiting for its answer
    this.answering = new Map(); // sessionKey(caller, session) -> our live callee-side Connection
    this._callOf = new WeakMap(); // callee-side Connection -> the call it answers (for a bye as the page goes)
    this._requests = new Map(); // inbox id -> RequestEvent not decided yet
    this._expiredIds = new Set(); // inbox ids of requests this page saw expire (requestexpired fires once)
    this.closed = false;
  }

  /**
   * Calls the card's owner: one push with our offer, one push back with the answer. Options: media (a
   * MediaStream sent from the start), timeouts (answerTimeoutMs, offerRetries, gatherTimeoutMs, openTimeoutMs),
   * reconnects. Resolves to a Connection whose data channel is open. Fails with PushPeerError: BAD_CARD,
   * NO_USABLE_GRANT, HOST_NOT_ALLOWED, PEER_GONE, RATE_LIMITED, PUSH_FAILED, PUSH_UNREACHABLE, TIMEOUT (no answer),
   * DECLINED, NOT_CONNECTED, ABORTED (options.signal: the connection is closed and nothing more is sent; an aborted
   * signal sends nothing).
   *
   * If the answer came but the callee's page went away before the connection opened (it says so with a bye as it
   * goes, or the connection fails), the call is offered again at once with a new RTCPeerConnection, in the same
   * session: the callee's next page answers it without asking the person again (`reconnects` times, default 1).
   */
  async connect(card, options = {}) {
    const { signal, via, carriers, vouch, transient = false, ...rest } = options;
    const o = { ...this.options, ...rest };
    const aborted = () => new PushPeerError('ABORTED', `the call was aborted${signal.reason?.message ? `: ${signal.reason.message}` : ''}`,
      { cause: signal.reason });
    if (signal?.aborted) throw aborted();
    const cardBytes = await this.host.cardOf(card);
    const remote = this.core.decodeCard(cardBytes);
    const keyId = this.core.base64urlEncode(remote.keyId);
    if (keyId === this.host.keyId) throw new PushPeerError('BAD_ARGUMENT', 'that is our own card');
    if ((carriers !== undefined || vouch !== undefined) && (via === undefined || via === null)) {
      throw new PushPeerError('BAD_ARGUMENT', 'carriers and vouch go with via: they are for a carried call');
    }
    const link = via === undefined || via === null ? this.link
      : this.host.linkVia(this._neighbour(via), { route: carriers ?? [], vouch });
    link.check({ to: keyId, card: cardBytes }); // e.g. a card naming a host that is not a push service
    // We chose to call them: they are a peer (their answer names them by key id only); a transient one when a
    // group's rules made the call (an open group's member: js/mesh/groups.js).
    await this.host.keepPeer(keyId, cardBytes, remote, { transient });
    const sessionBytes = crypto.getRandomValues(new Uint8Array(8));
    const sessionId = this.core.base64urlEncode(sessionBytes);
    const key = sessionKey(keyId, sessionId);
    const pending = waitingCall();
    this.pending.set(key, pending);
    const started = Date.now();
    let sequence = 0;
    let connection = null;
    // An abort settles whatever the call waits on (gathering, a push, the answer, the channel) at once.
    let onAbort;
    const abortedWait = new Promise((_, reject) => {
      onAbort = () => {
        const error = aborted();
        pending.reject(error);
        reject(error);
      };
    });
    abortedWait.catch(() => {});
    signal?.addEventListener('abort', onAbort);
    const step = (promise) => (signal ? Promise.race([promise, abortedWait]) : promise);
    try {
      if (signal?.aborted) throw aborted(); // while the card was read
      for (let leg = 0; ; leg++) {
        connection = createConnection({ iceServers: o.iceServers, polite: isPolite(this.host.identity.publicKey,
          remote.identity), remote: { name: remote.name, keyId, identity: remote.identity }, sessionId, role: 'caller',
        media: o.media, heartbeatMs: o.heartbeatMs, peerGoneMs: o.peerGoneMs, log: (m) => this.host.emit('log', { message: m }) });
        pending.newLeg();
        this.host.emit('connecting', { connection, role: 'caller' });
        this.host.emit('progress', { sessionId, step: 'gathering', attempt: leg });
        const { sdp } = await step(localSdp(connection.pc, o.gatherTimeoutMs, o.gatherQuietMs));
        const body = this.core.packSdp(sdp);
        let answer = null;
        for (let attempt = 0; attempt <= o.offerRetries && !answer; attempt++) {
          const envelope = this.core.sealEnvelope({ type: 'offer', privateKey: this.host.identity.privateKey, body,
            recipient: remote.keyId, sessionId: sessionBytes, sequence: sequence++, card: this.host.ourCard({ push: !transient }) });
          pending.refs.push(this.core.envelopeReference(envelope));
          // Sealed, then sent: a timeline shows the two steps in the order they happen.
          this.host.emit('progress', { sessionId, step: 'offer-sealed', bytes: envelope.length, sdpBytes: body.length, attempt });
          const sent = await step(link.send({ to: keyId, card: cardBytes, type: 'offer', sessionId, envelope }));
          // For a countdown: when this attempt stops waiting, and when the call gives up if no answer comes.
          const answerBy = Date.now() + o.answerTimeoutMs;
          this.host.emit('progress', { sessionId, step: 'offer-sent', bytes: envelope.length, sdpBytes: body.length,
            attempt, via: sent.via, ms: Date.now() - started, answerBy,
            giveUpAt: answerBy + (o.offerRetries - attempt) * o.answerTimeoutMs });
          answer = await pending.next(o.answerTimeoutMs);
        }
        if (!answer) throw new PushPeerError('TIMEOUT', `no answer after ${o.offerRetries + 1} offer(s)`);
        let gone = null;
        if (answer.type === 'bye' && !isGone(answer)) throw new PushPeerError('DECLINED', `${remote.name || 'the peer'} declined`);
        if (answer.type === 'bye') {
          // The callee's page went away (its bye may overtake its answer): offer again at once.
          gone = "the callee's page went away";
        } else {
          this.host.emit('progress', { sessionId, step: 'answer-received', ms: Date.now() - started });
          await step(connection.pc.setRemoteDescription({ type: 'answer', sdp: this.core.unpackSdp(answer.body) }));
          connection.signalingDone();
          gone = await step(this._openOrGone(connection, pending, o.openTimeoutMs));
        }
        if (signal?.aborted) throw aborted();
        if (!gone) break;
        connection.close(gone);
        if (leg >= o.reconnects) {
          throw new PushPeerError('NOT_CONNECTED', `the connection did not open: ${gone}`);
        }
        this.host.emit('progress', { sessionId, step: 'reoffer', reason: gone, ms: Date.now() - started });
      }
      this.host.opened(connection);
      this.host.emit('progress', { sessionId, step: 'open', ms: Date.now() - started });
      return connection;
    } catch (error) {
      connection?.close(error?.code === 'ABORTED' ? 'aborted' : 'connect failed');
      // A carried call that we abort after its offer went: the callee is told (it costs no push), so that its
      // request goes at once instead of when it expires. A bye naming our latest offer, with our card (the callee
      // does not know us yet). Pushed calls send nothing: the push would be spent on a call we gave up.
      if (error?.code === 'ABORTED' && link.via === 'neighbour' && pending.refs?.length) {
        const envelope = this.core.sealEnvelope({ type: 'bye', privateKey: this.host.identity.privateKey,
          recipient: remote.keyId, sessionId: sessionBytes, sequence: sequence++, ref: pending.refs.at(-1),
          card: this.host.ourCard({ push: !transient }) });
        link.sendBeacon({ to: keyId, card: cardBytes, type: 'bye', sessionId, envelope });
      }
      if (error?.code === 'PEER_GONE') {
        // Their subscription is gone: their card is useless until they send a new one.
        const peer = await this.store.getPeer(keyId);
        if (peer) await this.store.putPeer({ ...peer, gone: true });
        this.host.emit('peergone', { keyId, name: remote.name, status: error.status });
      }
      throw error;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.pending.delete(key);
    }
  }

  /** `via` of connect(): a live Connection, or the key id of a peer we hold one to. */
  _neighbour(via) {
    const connection = typeof via === 'string' ? this.host.carrier(via) : via;
    if (!connection || typeof connection.sendControl !== 'function') {
      throw new PushPeerError('NOT_CONNECTED', 'via: no live connection to that neighbour');
    }
    return connection;
  }

  /**
   * The way back for a request: through the neighbour that carried its offer (then the carriers before it) while
   * that connection lives, else push.
   */
  _replyLink(item) {
    const carrier = item.via ? this.host.carrier(item.via) : null;
    return carrier ? this.host.linkVia(carrier, { route: item.route ?? [] }) : this.link;
  }

  /**
   * Waits for the caller's connection to open after the answer was applied. Resolves to null once it is open, or to
   * the reason it will not (the callee's page said bye as it went away, the connection closed or failed); rejects
   * with NOT_CONNECTED after timeoutMs.
   */
  _openOrGone(connection, pending, timeoutMs) {
    return new Promise((resolve, reject) => {
      const finish = (value, error) => {
        clearTimeout(timer);
        connection.removeEventListener('close', onClose);
        connection.removeEventListener('statechange', onState);
        pending.stop();
        if (error) reject(error);
        else resolve(value);
      };
      const timer = setTimeout(() => finish(null, new PushPeerError('NOT_CONNECTED',
        `the data channel did not open within ${timeoutMs} ms (ICE ${connection.pc.iceConnectionState})`)), timeoutMs);
      const onClose = (e) => finish(`closed before it opened (${e.reason})`);
      const onState = (e) => e.state === 'failed' && finish('the connection failed before it opened');
      connection.addEventListener('close', onClose);
      connection.addEventListener('statechange', onState);
      connection.opened.then(() => finish(null), () => {});
      pending.next(timeoutMs).then((item) => item?.type === 'bye' && finish(isGone(item) ? "the callee's page went away"
        : 'declined after answering'), (error) => finish(null, error));
    });
  }

  async _opened(connection, timeoutMs) {
    let timer;
    try {
      await Promise.race([connection.opened, new Promise((_, reject) => {
        timer = setTimeout(() => reject(new PushPeerError('NOT_CONNECTED',
          `the data channel did not open within ${timeoutMs} ms (ICE ${connection.pc.iceConnectionState})`)), timeoutMs);
      })]);
    } finally {
      clearTimeout(timer);
    }
    this.host.opened(connection);
  }

  /** Requests that arrived and were not decided yet (after an inbox pass), oldest first; not expired. */
  openRequests() {
    return [...this._requests.values()].filter((r) => !r._expired && Date.now() < r.expiresAt);
  }

  /**
   * When the caller of a request stops waiting (docs/PROTOCOL.md §7.1): its latest offer's arrival + answerTimeoutMs
   * (the same on both sides) + REQUEST_GRACE_MS, and never later than offerMaxAge after that offer was sealed.
   */
  expiresAt(item) {
    return Math.min((item.lastReceived ?? item.received) + this.options.answerTimeoutMs + REQUEST_GRACE_MS,
      (item.timestamp + this.options.offerMaxAge) * 1000);
  }

  /** Looks at a request again when it is due to expire. */
  _expireLater(request) {
    clearTimeout(request._timer);
    if (this.closed) return;
    request._timer = setTimeout(() => void this._expireIfDue(request.id).catch((error) => this.host.error(error)),
      Math.max(0, request.expiresAt - Date.now()) + 20);
  }

  async _expireIfDue(id) {
    const request = this._requests.get(id);
    if (!request || this.closed) return;
    const item = await this.store.getInbox(id);
    if (item?.state === 'new' && Date.now() < this.expiresAt(item)) {
      request._item = item; // a retried offer this page has not looked at yet moved it later
      this._expireLater(request);
    } else if (item?.state === 'new' || item?.state === 'expired') {
      await this._expire(item);
    } else {
      this._requests.delete(id); // another page of the profile decided it
    }
  }

  /**
   * The caller stopped waiting for a request nobody decided: its inbox item is marked expired (a retry of it stays
   * so: js/push/reception.js), the request is forgotten and 'requestexpired' fires, also for one that expired while
   * no page was open (a missed call).
   */
  async _expire(item) {
    if (this._expiredIds.has(item.id)) return; // the timer and processInbox can both get here
    this._expiredIds.add(item.id);
    const request = this._requests.get(item.id) ?? new RequestEvent(this, item);
    clearTimeout(request._timer);
    this._requests.delete(item.id);
    if (item.state === 'new') {
      // Claimed first: a page accepting it at this very moment and this one do not both act on it.
      if (await this.store.claimInbox(item.id, this.host.owner)) await this.store.updateInbox(item.id, { state: 'expired' });
      else if ((await this.store.getInbox(item.id))?.state !== 'expired') return; // another page decided it
    }
    request._expired = true;
    this.host.emit('requestexpired', { request });
  }

  /**
   * An inbox item for this page to act on (the PushPeer hands each one over once it read it): an answer or a bye for
   * a call we wait on, or an offer (a request, a retry, a call to take over).
   */
  async inboxItem(item) {
    if (this.closed || !actionable(item)) return;
    if (item.type === 'answer' || item.type === 'bye') {
      // Only the key we called, for the session we opened, naming an offer we sent (its reference).
      const pending = this.pending.get(sessionKey(item.from, item.sessionId));
      if (!pending?.names(item.ref)) {
        // Not about a call of ours: a bye may be a caller withdrawing an offer it sent us.
        if (item.type === 'bye') await this._withdraw(item);
        return; // else another page's call, or stale
      }
      if (!(await this.store.claimInbox(item.id, this.host.owner))) return;
      await this.store.deleteInbox(item.id); // taken: nothing else needs it (storage follows live calls)
      pending.deliver(item);
    } else if (item.type === 'offer') {
      await this._offer(item);
    }
  }

  /**
   * A caller's bye naming an offer it sent us (it gave up: connect() aborted): a request nobody decided yet expires
   * now ('requestexpired'); an answer we are making, or a connection still opening, for that offer is closed. The
   * bye is taken. A bye that names no offer of ours is left as it is.
   */
  async _withdraw(item) {
    const offer = (await this.store.callItems(item.from, item.sessionId))
      .find((i) => i.type === 'offer' && i.offerRef && sameBytes(i.offerRef, item.ref));
    if (!offer || !(await this.store.claimInbox(item.id, this.host.owner))) return;
    await this.store.deleteInbox(item.id);
    if (offer.state === 'new') {
      await this._expire(offer);
    } else {
      const live = this.answering.get(sessionKey(item.from, item.sessionId));
      if (live && !live.closed && live.state !== 'connected') live.close('the caller gave up');
    }
  }

  async _offer(item) {
    const key = sessionKey(item.from, item.sessionId);
    const session = await this.store.getSession(key);
    const callItems = await this.store.callItems(item.from, item.sessionId);
    if (!session && callItems.some((i) => i.opened)) {
      // The call opened already: an offer that was retried while our answer was on its way. Nothing to do.
      if (await this.store.claimInbox(item.id, this.host.owner)) await this.store.updateInbox(item.id, { state: 'done' });
      return;
    }
    if (session && item.sequence < session.sequence) {
      // An older offer than the one we answered (a page that went away had taken it): the call moved on, and it
      // must not disturb the connection answering the newer one.
      await this._settleStale(item);
      return;
    }
    if (session?.answer) {
      await this._offerAgain(item, session);
      return;
    }
    const offers = callItems.filter((i) => i.type === 'offer' && i.id !== item.id);
    if (item.state === 'claimed') {
      // Accepted by a page that went away before it answered: this page answers, without asking again; unless the
      // caller offered again since (that page said it was going), and the newer offer is the one to answer.
      if (!item.accepted) return;
      if (offers.some((i) => i.id > item.id)) {
        await this._settleStale(item);
      } else if (await claimIsDead(lockName(this.host.storeName, 'claim', item.id), item.claimedAt, this.options.lockManager)) {
        this._take(item, { takeOver: item.owner }, (current) => this._answer(current, {})).catch(this._unlessHandled);
      }
      return;
    }
    if (item.state === 'new' && offers.some((i) => i.id < item.id && i.accepted)) {
      // A new offer in a call the person accepted (the caller offers again because our page went away before it
      // answered): answered without asking again (docs/PROTOCOL.md §7.1). An answer this page is still making for
      // the older offer is for a connection the caller has dropped.
      this._take(item, { accepted: true }, (current) => {
        // Closed once this page holds the new offer: a second look at the same offer (the worker's message and an
        // inbox pass both bring it) must not close the connection the first look is opening.
        this._closeAnswering(key, 'offered again');
        return this._answer(current, {});
      }).catch(this._unlessHandled);
      return;
    }
    if (Date.now() >= this.expiresAt(item)) {
      await this._expire(item);
      return;
    }
    const existing = this._requests.get(item.id);
    if (existing) {
      existing._item = item; // a retry of a request not decided yet: the newest offer is the one to answer
      this._expireLater(existing); // ... and it lives longer
      return;
    }
    const request = new RequestEvent(this, item);
    this._requests.set(item.id, request);
    this._expireLater(request);
    const admitted = this.host.admits?.(item);
    if (admitted?.accept) {
      // A member of a group we are in, carried by a member: joining a group is consent to connect with its members
      // (no 'request' event; the 'connection' event follows).
      request.accept({ transient: admitted.transient }).catch((error) => this.host.error(error));
      return;
    }
    if (admitted) {
      // An open group's member (a swarm) while we have neighbours enough: declined without asking, and told only
      // over the neighbour that carried it (no push).
      request.decline({ notify: Boolean(this.host.carrier(item.via)) }).catch((error) => this.host.error(error));
      return;
    }
    this.host.dispatch(request);
    if (!request._decided && !request.defaultPrevented && this.options.autoAccept === true) {
      request.accept().catch((error) => this.host.error(error));
    }
  }

  /**
   * The caller offered again in a call we answered. The same offer again means our answer was lost: it goes again
   * (from the page that holds the connection). A new offer means the caller's connection did not open (our page went
   * away, or the path failed): it is answered anew, by this page if the page that answered is gone.
   */
  async _offerAgain(item, session) {
    const key = sessionKey(item.from, item.sessionId);
    const live = this.answering.get(key);
    const same = sameBytes(session.offerBody, item.body);
    if (live && !live.closed && same) {
      if (!(await this.store.claimInbox(item.id, this.host.owner))) return;
      await this.store.updateInbox(item.id, { state: 'done' });
      const peer = await this.store.getPeer(item.from);
      await this._replyLink(item).send({ to: item.from, card: peer.card, type: 'answer', sessionId: item.sessionId,
        envelope: session.answer });
      return;
    }
    if ((!live || live.closed) &&
        !(await claimIsDead(lockName(this.host.storeName, 'session', key), session.at, this.options.lockManager))) {
      return; // another page of this profile holds the call and answers it
    }
    this._take(item, {}, (current) => {
      this._closeAnswering(key, 'offered again'); // once this page holds the new offer (see _offer)
      return this._answer(current, {});
    }).catch(this._unlessHandled);
  }

  _closeAnswering(key, reason) {
    const live = this.answering.get(key);
    if (live && !live.closed) live.close(reason);
  }

  /** An offer the call has moved past: done, taken over from a page that went away if it had claimed it. */
  async _settleStale(item) {
    const gone = item.state === 'claimed' &&
      await claimIsDead(lockName(this.host.storeName, 'claim', item.id), item.claimedAt, this.options.lockManager);
    if (item.state !== 'new' && !gone) return;
    if (await this.store.claimInbox(item.id, this.host.owner, gone ? { takeOver: item.owner } : {})) {
      await this.store.updateInbox(item.id, { state: 'done' });
    }
  }

  /**
   * Takes an inbox item for this page: its Web Lock (so that a page that goes away lets go of it at once), then the
   * claim in the store, then work(item), holding the lock until work settles. Fails with ALREADY_HANDLED when
   * another page has it.
   */
  async _take(item, claim, work) {
    const release = await tryHold(lockName(this.host.storeName, 'claim', item.id), this.options.lockManager);
    try {
      if (!release || !(await this.store.claimInbox(item.id, this.host.owner, claim))) {
        throw new PushPeerError('ALREADY_HANDLED', 'another page of this app answered or declined this request');
      }
      return await work(await this.store.getInbox(item.id));
    } finally {
      release?.();
    }
  }

  /** accept(): exactly one page of this profile takes the request. */
  async accept(item, { transient = false, ...options } = {}) {
    const request = this._requests.get(item.id);
    clearTimeout(request?._timer);
    this._requests.delete(item.id);
    return this._take(item, { accepted: true }, async (current) => {
      if (Date.now() >= this.expiresAt(current)) {
        // The caller stopped waiting (its timer had not run yet): nothing is sent.
        await this.store.updateInbox(current.id, { state: 'expired' });
        this._expiredIds.add(current.id);
        if (request) {
          request._expired = true;
          this.host.emit('requestexpired', { request });
        }
        throw expiredError();
      }
      // Accepted: the caller becomes a peer (we push our answer to their card, and our new cards later). One whose
      // card has no grants gave us no way to push to it (an open group's member, §9.6): it stays transient, and gets
      // none to push to us either.
      const card = this.core.decodeCard(current.card);
      await this.host.keepPeer(current.from, current.card, card, { transient: transient || card.grants.length === 0 });
      return this._answer(current, options);
    });
  }

  async _answer(item, options = {}) {
    const o = { ...this.options, ...options };
    const peer = await this.store.getPeer(item.from);
    if (!peer) throw new PushPeerError('UNKNOWN_SENDER', 'the caller is not in our peers');
    const key = sessionKey(item.from, item.sessionId);
    const connection = createConnection({ iceServers: o.iceServers, polite: isPolite(this.host.identity.publicKey,
      peer.identity), remote: { name: peer.name, keyId: peer.keyId, identity: peer.identity },
    sessionId: item.sessionId, role: 'callee', media: o.media, heartbeatMs: o.heartbeatMs, peerGoneMs: o.peerGoneMs,
    log: (m) => this.host.emit('log', { message: m }) });
    this.host.emit('connecting', { connection, role: 'callee' });
    this.answering.set(key, connection);
    connection.addEventListener('close', () => this.answering.get(key) === connection && this.answering.delete(key));
    this._callOf.set(connection, { card: peer.card, from: item.from, sessionId: item.sessionId, sequence: item.sequence,
      offerRef: item.offerRef, via: item.via });
    // This page owns the call while the connection lives: the lock tells the next page when it is gone.
    const releaseSession = await tryHold(lockName(this.host.storeName, 'session', key), this.options.lockManager);
    connection.addEventListener('close', () => releaseSession?.());
    try {
      await connection.pc.setRemoteDescription({ type: 'offer', sdp: this.core.unpackSdp(item.body) });
      const { sdp } = await localSdp(connection.pc, o.gatherTimeoutMs, o.gatherQuietMs);
      connection.signalingDone();
      const recipient = this.core.base64urlDecode(item.from);
      const session = this.core.base64urlDecode(item.sessionId);
      const answer = this.core.sealEnvelope({ type: 'answer', privateKey: this.host.identity.privateKey,
        body: this.core.packSdp(sdp), recipient, sessionId: session, sequence: 2 * item.sequence, ref: item.offerRef });
      await this.store.putSession({ key, peer: peer.keyId, sessionId: item.sessionId, role: 'callee', answer,
        offerBody: item.body, offerRef: item.offerRef, sequence: item.sequence, owner: this.host.owner, at: Date.now() });
      await this._pruneSessions();
      this.host.emit('progress', { sessionId: item.sessionId, step: 'answer-sealed', bytes: answer.length });
      if (connection.closed) {
        // The page said bye while the answer was being made (pagehide): an answer sent after it would name a
        // connection that is gone, and the caller has already been told to offer again.
        throw new PushPeerError('NOT_CONNECTED', `the connection closed before the answer left: ${connection.closeInfo.reason}`);
      }
      await this._replyLink(item).send({ to: item.from, card: peer.card, type: 'answer', sessionId: item.sessionId, envelope: answer });
      await this.store.updateInbox(item.id, { state: 'done' });
      this.host.emit('progress', { sessionId: item.sessionId, step: 'answer-sent', bytes: answer.length });
      // If this answer is lost, the caller offers again after answerTimeoutMs: keep waiting that long too, so the
      // answer sent again (_offer) finds this connection (docs/PROTOCOL.md §7.1).
      await this._opened(connection, o.openTimeoutMs + o.answerTimeoutMs);
      // Open: the stored answer is not needed any more. What stays is a mark on the request (kept while handled
      // items are, INBOX_LIMITS), so that an offer retried while the answer was on its way is ignored.
      await this.store.updateInbox(item.id, { opened: true });
      await this.store.deleteSession(key);
      return connection;
    } catch (error) {
      connection.close('answer failed');
      await this.store.updateInbox(item.id, { state: 'failed', error: error?.code ?? String(error) }).catch(() => {});
      throw error;
    }
  }

  /** Answers are kept for re-sending while the caller may retry (its offers expire after offerMaxAge). */
  async _pruneSessions(now = Date.now()) {
    for (const session of await this.store.sessions()) {
      if (!(now - session.at <= 2 * this.options.offerMaxAge * 1000)) await this.store.deleteSession(session.key);
    }
  }

  async decline(item, { notify }) {
    clearTimeout(this._requests.get(item.id)?._timer);
    this._requests.delete(item.id);
    await this._take(item, {}, async (current) => {
      await this.store.updateInbox(current.id, { state: 'declined' });
      if (!notify) return;
      const card = current.card ?? (await this.store.getPeer(current.from))?.card;
      await this._replyLink(current).send(this._byeFor({ card, from: current.from, sessionId: current.sessionId,
        sequence: current.sequence, offerRef: current.offerRef }));
    });
  }

  /**
   * The link message for a bye to the caller of (from, sessionId), naming its offer (so it cannot be replayed against
   * another call: docs/PROTOCOL.md §4). Before our answer it declines the call; after it, it says that our end is
   * gone and the caller should offer again. A callee numbers its envelopes of a session 2n (the answer to offer n)
   * and 2n + 1 (a bye to offer n), so that the replay guard tells them apart.
   */
  _byeFor({ card, from, sessionId, sequence, offerRef }, { gone = false } = {}) {
    const recipient = this.core.base64urlDecode(from);
    const envelope = this.core.sealEnvelope({ type: 'bye', privateKey: this.host.identity.privateKey, recipient,
      sessionId: this.core.base64urlDecode(sessionId), sequence: 2 * sequence + 1, ref: offerRef, body: gone ? new Uint8Array([BYE_GONE]) : undefined });
    return { to: from, card, type: 'bye', sessionId, envelope };
  }

  /**
   * The page goes away (pagehide). A call we answered that has not opened yet: the caller would wait for nothing. A
   * bye now (sent as a beacon, so it outlives the page) makes it offer again at once, and our next page answers that.
   */
  pageHidden() {
    for (const c of this.answering.values()) {
      const call = this._callOf.get(c);
      if (c.closed || c.channel.readyState === 'open' || !call) continue;
      this._replyLink(call).sendBeacon(this._byeFor(call, { gone: true }));
      c.close('page closed');
    }
  }

  /** For work this page took up on its own: another page having done it already is no error. */
  _unlessHandled = (error) => {
    if (error?.code !== 'ALREADY_HANDLED') this.host.error(error);
  };

  /** Stops: requests stop expiring here, and calls waiting for an answer fail with NOT_CONNECTED. */
  close() {
    this.closed = true;
    for (const r of this._requests.values()) clearTimeout(r._timer);
    for (const [, p] of this.pending) p.reject(new PushPeerError('NOT_CONNECTED', 'PushPeer closed'));
  }
}
