// The signaling timeline: every push sent and received (size, latency, direct or relay), the connection's ICE and
// DTLS steps, and the time to connect, in the order they happened. Times count from the start of each call; the
// latency of a push we receive is measured from our own push of the same call (an answer from our offer), or from
// the sender's seal (whole seconds: the envelope's timestamp) when we did not push first.
const GATHERING = { new: 'ICE: not gathering yet', gathering: 'ICE: gathering candidates',
  complete: 'ICE: candidates gathered (non-trickle: they all go in the one push)' };

export class Timeline {
  constructor(list, summary) {
    this.list = list;
    this.summary = summary;
    this.t0 = null;
    this.sentAt = new Map(); // sessionId -> when our push of that call went out
    this.carried = new Set(); // sessionIds of calls a neighbour carried (introductions: no push)
  }

  /** A new call: times count from here. */
  startCall(text) {
    this.t0 = performance.now();
    this.add('call', text);
  }

  add(kind, text) {
    const now = performance.now();
    this.t0 ??= now;
    const li = document.createElement('li');
    li.className = kind;
    const t = document.createElement('span');
    t.className = 't';
    t.textContent = `+${Math.round(now - this.t0)} ms`;
    li.append(t, text);
    this.list.append(li);
    li.scrollIntoView?.({ block: 'nearest' });
    return li;
  }

  /** PushPeer events: push (attempt/response/retry/fallback), received, progress, rejected. */
  watchPeer(peer) {
    peer.addEventListener('push', ({ detail: d }) => {
      if (d.type === 'attempt') {
        this.add('push', `push sent${d.via === 'relay' ? ' via the relay' : ''} to ${new URL(d.endpoint).host}: ${d.bytes} B`);
      } else if (d.type === 'response') {
        this.add(d.status < 300 ? 'push' : 'bad', `push service answered ${d.status} in ${d.ms} ms`);
      } else if (d.type === 'retry') {
        this.add('bad', `push service answered ${d.status}: trying again in ${Math.round(d.delayMs)} ms`);
      } else if (d.type === 'fallback') {
        this.add('bad', 'the push service refused the page (no CORS): using the relay');
      }
    });
    peer.addEventListener('received', (e) => {
      const ours = this.sentAt.get(e.sessionId);
      const since = ours === undefined ? `sealed ${Math.max(0, Math.round(e.latencyMs / 1000))} s before it arrived`
        : `${Math.round(performance.now() - ours)} ms after our push for this call`;
      if (e.messageType === 'offer' && ours === undefined) this.startCall('incoming call');
      const how = e.via ? 'carried by a member (no push)' : 'push';
      this.add(e.via ? 'ok' : 'push', `${how} received: ${e.messageType}${e.bytes ? `, ${e.bytes} B` : ''}, ${since}`);
    });
    peer.addEventListener('progress', (e) => {
      if (e.step === 'gathering') {
        if (!e.attempt) this.startCall('calling');
        else this.add('ice', 'the callee\'s page went away: calling again with a new connection');
      } else if (e.step === 'offer-sealed') {
        this.sentAt.set(e.sessionId, performance.now());
        this.add('push', `offer sealed: ${e.bytes} B envelope, SDP packed to ${e.sdpBytes} B${e.attempt ? ` (attempt ${e.attempt + 1})` : ''}`);
      } else if (e.step === 'answer-sealed') {
        this.sentAt.set(e.sessionId, performance.now());
        this.add('push', `answer sealed: ${e.bytes} B envelope`);
      } else if (e.step === 'answer-received') {
        this.add('push', 'answer applied');
      } else if (e.step === 'offer-sent' && e.via === 'neighbour') {
        this.carried.add(e.sessionId);
        this.add('ok', 'offer carried by a member of the group (no push)');
      } else if (e.step === 'route-missed') {
        this.add('bad', `that member could not carry the call (${e.code}): trying the next way`);
      } else if (e.step === 'open') {
        this.done(e.ms, this.carried.has(e.sessionId));
      }
    });
    peer.addEventListener('rejected', (e) => this.add('bad', `a push was refused: ${e.code}`));
  }

  /** ICE and DTLS steps of one connection. */
  watchConnection(connection) {
    const pc = connection.pc;
    let secured = false;
    const dtls = () => {
      if (secured) return;
      secured = true;
      this.add('ok', 'DTLS handshake done: the channel is bound to both identities');
    };
    pc.addEventListener('icegatheringstatechange', () => this.add('ice', GATHERING[pc.iceGatheringState] ?? pc.iceGatheringState));
    pc.addEventListener('iceconnectionstatechange', () => this.add('ice', `ICE ${pc.iceConnectionState}`));
    pc.addEventListener('connectionstatechange', () => {
      if (pc.connectionState === 'connected') dtls();
      else this.add('ice', `connection ${pc.connectionState}`);
    });
    connection.addEventListener('negotiation', (e) =>
      this.add('ok', `${e.direction === 'sent' ? 'sent' : 'received'} ${e.sdpType} over the data channel (no push)`));
    connection.addEventListener('open', () => {
      dtls(); // an open channel means DTLS is done, whichever event the browser fires first
      this.add('ok', 'data channel open');
    });
    connection.addEventListener('close', (e) => this.add('bad', `connection closed: ${e.reason}`));
  }

  done(ms, carried = false) {
    this.add('ok', `connected in ${Math.round(ms)} ms ${carried ? 'with no push (introduced)' : 'with two pushes'}`);
    this.summary.textContent = `Last connection: ${Math.round(ms)} ms from connect() to an open data channel.`;
  }
}
