// The signaling timeline: every push sent and received (size, latency, direct or relay), the connection's ICE
// and DTLS steps, and the total time to connect. Fed by PushPeer and Connection events.
export class Timeline {
  constructor(list, summary) {
    this.list = list;
    this.summary = summary;
    this.t0 = null;
    this.lastSent = null;
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
        this.lastSent = performance.now();
        this.add('push', `push sent${d.via === 'relay' ? ' via relay' : ''} to ${new URL(d.endpoint).host}: ${d.bytes} B`);
      } else if (d.type === 'response') {
        this.add(d.status < 300 ? 'push' : 'bad', `push service answered ${d.status} in ${d.ms} ms`);
      } else if (d.type === 'retry') {
        this.add('bad', `${d.status}: retrying in ${Math.round(d.delayMs)} ms`);
      } else if (d.type === 'fallback') {
        this.add('bad', 'the push service refused the page (no CORS): using the relay');
      }
    });
    peer.addEventListener('received', (e) => {
      // Envelope timestamps are whole seconds: a round trip is measured from our own push when there was one.
      const since = this.lastSent === null ? `sealed ${Math.max(0, Math.round(e.latencyMs / 1000))} s before`
        : `${Math.round(performance.now() - this.lastSent)} ms after our push went out`;
      this.add('push', `push received: ${e.messageType}${e.bytes ? `, ${e.bytes} B` : ''}, ${since}`);
    });
    peer.addEventListener('progress', (e) => {
      if (e.step === 'gathering') {
        this.add('ice', 'calling: gathering ICE candidates (non-trickle: they all go in the one offer)');
      } else if (e.step === 'offer-sent') {
        this.add('push', `offer sealed: ${e.bytes} B envelope, SDP packed to ${e.sdpBytes} B${e.attempt ? ` (attempt ${e.attempt + 1})` : ''}`);
      } else if (e.step === 'answer-sent') {
        this.add('push', `answer sealed: ${e.bytes} B envelope`);
      } else if (e.step === 'answer-received') {
        this.add('push', 'answer applied');
      } else if (e.step === 'open') {
        this.done(e.ms);
      }
    });
    peer.addEventListener('rejected', (e) => this.add('bad', `a push was refused: ${e.code}`));
  }

  /** ICE and DTLS steps of one connection. */
  watchConnection(connection) {
    const pc = connection.pc;
    pc.addEventListener('icegatheringstatechange', () => this.add('ice', `ICE gathering ${pc.iceGatheringState}`));
    pc.addEventListener('iceconnectionstatechange', () => this.add('ice', `ICE ${pc.iceConnectionState}`));
    pc.addEventListener('connectionstatechange', () =>
      this.add(pc.connectionState === 'connected' ? 'ok' : 'ice', `DTLS/connection ${pc.connectionState}`));
    connection.addEventListener('negotiation', (e) =>
      this.add('ok', `${e.direction === 'sent' ? 'sent' : 'received'} ${e.sdpType} over the data channel (no push)`));
    connection.addEventListener('open', () => this.add('ok', 'data channel open'));
  }

  done(ms) {
    this.add('ok', `connected in ${Math.round(ms)} ms with two pushes`);
    this.summary.textContent = `Last connection: ${Math.round(ms)} ms from connect() to an open data channel.`;
  }
}
