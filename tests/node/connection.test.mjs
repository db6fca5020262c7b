// The pure parts of js/connection/connection.js: isPolite and waitGathered (the rest runs in real browsers), and the
// channel registry.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

import { loadCore, PushPeerError } from '../../js/core.js';
import { CHANNELS } from '../../js/connection/channels.js';
import { Connection, DEFAULT_GATHER_QUIET_MS, DEFAULT_GATHER_TIMEOUT_MS, expectedCandidateTypes, isPolite,
  passiveAnswerSdp, waitGathered } from '../../js/connection/connection.js';

describe('connection.js: isPolite and waitGathered', () => {
  it('isPolite: exactly one side is polite, both agree; the same key twice is BAD_ARGUMENT', async () => {
    const core = await loadCore();
    for (let i = 0; i < 20; i++) {
      const a = core.generateVapidKeys().publicKey;
      const b = core.generateVapidKeys().publicKey;
      assert.notEqual(isPolite(a, b), isPolite(b, a), `pair ${i}`);
      assert.equal(isPolite(a, b), Buffer.compare(Buffer.from(a), Buffer.from(b)) < 0, 'the lower key is polite');
    }
    // differing only in the last byte, and a prefix
    const x = new Uint8Array(65).fill(7);
    const y = Uint8Array.from(x);
    y[64] = 8;
    assert.equal(isPolite(x, y), true);
    assert.equal(isPolite(y, x), false);
    assert.notEqual(isPolite(x.subarray(0, 64), x), isPolite(x, x.subarray(0, 64)));
    const key = core.generateVapidKeys().publicKey;
    for (const [ours, theirs] of [[key, key], [key, Uint8Array.from(key)], [x, Uint8Array.from(x)]]) {
      assert.throws(() => isPolite(ours, theirs), (e) => e instanceof PushPeerError && e.code === 'BAD_ARGUMENT');
    }
  });

  /** A stand-in RTCPeerConnection: an EventTarget with iceGatheringState. */
  function fakePc(state = 'gathering') {
    const pc = new EventTarget();
    pc.iceGatheringState = state;
    const add = pc.addEventListener.bind(pc);
    const remove = pc.removeEventListener.bind(pc);
    pc.listeners = 0;
    pc.addEventListener = (...args) => {
      pc.listeners++;
      add(...args);
    };
    pc.removeEventListener = (...args) => {
      pc.listeners--;
      remove(...args);
    };
    return pc;
  }
  const candidateEvent = (candidate) => Object.assign(new Event('icecandidate'), { candidate });

  it('waitGathered: true when gathering completes (state change or null candidate), false after the timeout', async () => {
    assert.equal(DEFAULT_GATHER_TIMEOUT_MS, 3000);
    // already complete
    assert.equal(await waitGathered(fakePc('complete'), 10), true);

    // icegatheringstatechange to 'complete' (a change to anything else is not the end)
    const a = fakePc('new');
    const pa = waitGathered(a, 5000);
    let settled = null;
    pa.then((v) => {
      settled = v;
    });
    a.iceGatheringState = 'gathering';
    a.dispatchEvent(new Event('icegatheringstatechange'));
    a.dispatchEvent(candidateEvent({ candidate: 'candidate:1 1 udp 1 127.0.0.1 9 typ host' }));
    await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(settled, null, 'not settled by a change to gathering or by a real candidate');
    setTimeout(() => {
      a.iceGatheringState = 'complete';
      a.dispatchEvent(new Event('icegatheringstatechange'));
    }, 5);
    const started = Date.now();
    assert.equal(await pa, true);
    assert.ok(Date.now() - started < 1000, 'resolved by the event, not the timeout');
    assert.equal(a.listeners, 0, 'listeners removed');

    // the end-of-candidates null candidate, with the state never changing
    const b = fakePc();
    const pb = waitGathered(b, 5000);
    setTimeout(() => b.dispatchEvent(candidateEvent(null)), 5);
    assert.equal(await pb, true);
    assert.equal(b.iceGatheringState, 'gathering');
    assert.equal(b.listeners, 0, 'listeners removed');

    // nothing: false after the timeout, not before
    const c = fakePc();
    const t0 = Date.now();
    const pc = waitGathered(c, 60);
    c.dispatchEvent(candidateEvent({ candidate: 'candidate:2' }));
    assert.equal(await pc, false);
    assert.ok(Date.now() - t0 >= 55, `waited ${Date.now() - t0} ms`);
    assert.equal(c.listeners, 0, 'listeners removed');
    // a late completion after the timeout changes nothing (and throws nothing)
    c.iceGatheringState = 'complete';
    c.dispatchEvent(new Event('icegatheringstatechange'));
  });

  it('expectedCandidateTypes: host always (unless relay-only), srflx with a STUN url, relay with a TURN url', () => {
    const types = (configuration) => [...expectedCandidateTypes(configuration)].sort().join(',');
    assert.equal(types(undefined), 'host');
    assert.equal(types({ iceServers: [] }), 'host');
    assert.equal(types({ iceServers: [{ urls: 'stun:stun.example:3478' }] }), 'host,srflx');
    assert.equal(types({ iceServers: [{ urls: ['STUNS:a', 'turn:b?transport=tcp'] }] }), 'host,relay,srflx');
    assert.equal(types({ iceServers: [{ urls: 'turns:b' }] }), 'host,relay');
    assert.equal(types({ iceServers: [{ urls: 'turn:b' }, { urls: 'stun:a' }], iceTransportPolicy: 'relay' }), 'relay');
  });

  it('waitGathered with quietMs: settles quietMs after the last candidate once every expected type came', async () => {
    assert.equal(DEFAULT_GATHER_QUIET_MS, 20);
    const host = { candidate: 'candidate:1 1 udp 2113937151 192.0.2.2 5000 typ host', type: 'host' };
    const srflx = { candidate: 'candidate:2 1 udp 1677729535 198.51.100.7 6000 typ srflx raddr 0.0.0.0 rport 0' };
    const relay = { candidate: 'candidate:3 1 udp 33562623 203.0.113.9 7000 typ relay raddr 0.0.0.0 rport 0' };
    const settledAt = (pc, promise) => promise.then((v) => ({ v, at: Date.now(), listeners: pc.listeners }));

    // STUN: a host and a srflx candidate, then quiet -> true long before the timeout; each candidate restarts the wait
    const a = fakePc();
    a.getConfiguration = () => ({ iceServers: [{ urls: ['stun:stun.example'] }] });
    const t0 = Date.now();
    const pa = settledAt(a, waitGathered(a, 5000, 40));
    a.dispatchEvent(candidateEvent(host));
    a.dispatchEvent(candidateEvent(srflx));
    await new Promise((resolve) => setTimeout(resolve, 25));
    a.dispatchEvent(candidateEvent({ ...srflx, candidate: srflx.candidate.replace('198.51.100.7', '198.51.100.8') }));
    const ra = await pa;
    assert.equal(ra.v, true);
    assert.ok(ra.at - t0 >= 60 && ra.at - t0 < 1000, `settled ${ra.at - t0} ms after the start (25 + 40 expected)`);
    assert.equal(ra.listeners, 0, 'listeners removed');

    // no server: only host candidates can come, in one burst: the quiet time is cut to 5 ms whatever quietMs says
    const h = fakePc();
    h.getConfiguration = () => ({ iceServers: [] });
    let hSettled = null;
    waitGathered(h, 5000, 1000).then((v) => {
      hSettled = v;
    });
    h.dispatchEvent(candidateEvent(host));
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.equal(hSettled, true, 'settled 5 ms after the host candidate, not 1000');

    // STUN configured: host alone is not enough; the srflx (type read from the candidate line) completes the set
    const b = fakePc();
    b.getConfiguration = () => ({ iceServers: [{ urls: 'stun:stun.example' }] });
    let bDone = false;
    const pb = waitGathered(b, 5000, 10).then((v) => {
      bDone = true;
      return v;
    });
    b.dispatchEvent(candidateEvent(host));
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.equal(bDone, false, 'still waiting for a srflx candidate');
    b.dispatchEvent(candidateEvent(srflx));
    assert.equal(await pb, true);

    // TURN, relay-only: host candidates never come; the relay one completes it
    const c = fakePc();
    c.getConfiguration = () => ({ iceServers: [{ urls: 'turn:turn.example' }], iceTransportPolicy: 'relay' });
    const pc = waitGathered(c, 5000, 10);
    c.dispatchEvent(candidateEvent(relay));
    assert.equal(await pc, true);

    // quietMs 0 (off): candidates of every type do not settle it; only completion or the timeout does
    const d = fakePc();
    const t1 = Date.now();
    const pd = waitGathered(d, 120, 0);
    d.dispatchEvent(candidateEvent(host));
    assert.equal(await pd, false);
    assert.ok(Date.now() - t1 >= 110, `waited ${Date.now() - t1} ms`);
  });
});

describe('connection.js: DTLS roles of the first answer (passiveAnswerSdp)', () => {
  const corpus = (name) => readFileSync(new URL(`../corpus/sdp/${name}.sdp`, import.meta.url), 'utf8');

  it('an answer made by a browser other than Firefox becomes passive, every m-section; a Firefox answer stays', async () => {
    const core = await loadCore();
    for (const kind of ['datachannel-host', 'datachannel-turn', 'audio-video-turn', 'two-video-turn']) {
      for (const offerer of ['firefox', 'chromium']) {
        const answer = corpus(`${kind}-${offerer}-chromium-answer`);
        const passive = passiveAnswerSdp(answer, { firefox: false });
        const who = `${kind}, ${offerer} -> chromium`;
        assert.ok(passive, who);
        assert.doesNotMatch(passive, /a=setup:active/, who);
        assert.equal(passive.match(/a=setup:passive\r\n/g).length, answer.match(/a=setup:active\r\n/g).length, who);
        assert.equal(passive.replace(/a=setup:passive/g, 'a=setup:active'), answer, `${who}: nothing else changed`);
        assert.equal(core.unpackSdp(core.packSdp(passive)), passive, `${who}: the codec keeps it`);
        assert.equal(passiveAnswerSdp(corpus(`${kind}-${offerer}-firefox-answer`), { firefox: true }), null,
          `${kind}, ${offerer} -> firefox`);
      }
    }
    // an answer that is already passive: nothing to change; in Node (no Firefox user agent) the default is to change
    const answer = corpus('datachannel-host-firefox-chromium-answer');
    assert.equal(passiveAnswerSdp(answer.replace('a=setup:active', 'a=setup:passive'), { firefox: false }), null);
    assert.ok(passiveAnswerSdp(answer));
  });
});

describe('connection.js: the channel and control-frame registries', () => {
  /** A stand-in RTCDataChannel: readyState, send() recorded, and the events Connection listens to. */
  function fakeChannel(label, options) {
    const ch = new EventTarget();
    Object.assign(ch, { label, id: options.id, negotiated: options.negotiated, readyState: 'connecting', sent: [],
      send: (data) => ch.sent.push(data), close: () => {} });
    return ch;
  }
  /** A stand-in RTCPeerConnection: enough for a Connection that never negotiates. */
  function fakePeerConnection() {
    const pc = new EventTarget();
    pc.channels = [];
    Object.assign(pc, { connectionState: 'new', signalingState: 'stable', close: () => {},
      createDataChannel: (label, options) => pc.channels[pc.channels.push(fakeChannel(label, options)) - 1] });
    return pc;
  }
  const connectionFor = () => {
    const log = [];
    const connection = new Connection({ pc: fakePeerConnection(), polite: true, remote: { name: 'B', keyId: 'k' },
      sessionId: 's', role: 'caller', log: (m) => log.push(m) });
    return { connection, log };
  };
  const frame = (connection, value) => connection.control.dispatchEvent(Object.assign(new Event('message'),
    { data: typeof value === 'string' ? value : JSON.stringify(value) }));
  const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

  it('the channels: control 0, app 1 and content 2, pre-negotiated on every connection', () => {
    assert.deepEqual(Object.entries(CHANNELS).map(([name, c]) => [name, c.id, c.label]),
      [['control', 0, 'pushpeer-control'], ['app', 1, 'pushpeer-data'], ['content', 2, 'pushpeer-content']]);
    const { connection } = connectionFor();
    assert.deepEqual(connection.pc.channels.map((c) => [c.label, c.id, c.negotiated]),
      [['pushpeer-control', 0, true], ['pushpeer-data', 1, true], ['pushpeer-content', 2, true]]);
    assert.equal(connection.control.id, CHANNELS.control.id);
    assert.equal(connection.channel.id, CHANNELS.app.id);
    assert.equal(connection.contentChannel.id, CHANNELS.content.id);
    assert.equal(connection.contentChannel.binaryType, 'arraybuffer');
    connection.close();
  });

  const message = (channel, data) => channel.dispatchEvent(Object.assign(new Event('message'), { data }));

  it("a peer's bye that comes after its app channel's close event (a page going away closes them together) still "
    + "says why: by 'peer' with its reason; without a bye, 'network' once the control channel closed", async () => {
    // What a CI run caught (Firefox, a page reloading): the app channel's close event came before the bye's message.
    const { connection } = connectionFor();
    connection.control.readyState = 'open';
    const closed = new Promise((resolve) => connection.addEventListener('close', resolve, { once: true }));
    connection.channel.readyState = 'closed';
    connection.channel.dispatchEvent(new Event('close'));
    frame(connection, { t: 'bye', reason: 'page closed' });
    connection.control.readyState = 'closed';
    connection.control.dispatchEvent(new Event('close'));
    const e = await closed;
    assert.deepEqual([e.reason, e.by, e.peerReason], ['closed by the peer: page closed', 'peer', 'page closed']);

    const other = connectionFor().connection;
    other.control.readyState = 'open';
    const gone = new Promise((resolve) => other.addEventListener('close', resolve, { once: true }));
    other.channel.dispatchEvent(new Event('close'));
    await settle();
    assert.equal(other.closed, false, 'the control channel may still bring a bye');
    other.control.readyState = 'closed';
    other.control.dispatchEvent(new Event('close'));
    const g = await gone;
    assert.deepEqual([g.reason, g.by], ['data channel closed', 'network']);
  });

  it('content frames that arrive before the receiver is set are handed to it first, in order (none is lost)', () => {
    // What a CI run caught: the caller asked for a share the moment its end opened, and the callee's page, which had
    // not registered the connection yet, dropped the request (the caller waited 30 s for nothing).
    const { connection } = connectionFor();
    message(connection.contentChannel, 'early 1');
    message(connection.contentChannel, 'early 2');
    const got = [];
    const stop = connection.onContent((data) => got.push(data));
    message(connection.contentChannel, 'later');
    assert.deepEqual(got, ['early 1', 'early 2', 'later']);
    stop();
    message(connection.contentChannel, 'after stop');
    assert.deepEqual(got, ['early 1', 'early 2', 'later']);
    assert.throws(() => connection.onContent('no'), (e) => e.code === 'BAD_ARGUMENT');
    connection.close();
  });

  it('app messages that arrive before the connection is announced reach the listeners added meanwhile, in order', async () => {
    const { connection, log } = connectionFor();
    const got = [];
    message(connection.channel, 'early');
    connection.addEventListener('message', (e) => got.push(e.data));
    assert.deepEqual(got, [], 'held until announced');
    connection.announced();
    message(connection.channel, 'while announcing');
    await settle();
    message(connection.channel, 'later');
    assert.deepEqual(got, ['early', 'while announcing', 'later']);
    // Held, but not without bound.
    const flood = connectionFor();
    for (let i = 0; i < 100; i++) message(flood.connection.channel, `m${i}`);
    const seen = [];
    flood.connection.addEventListener('message', (e) => seen.push(e.data));
    flood.connection.announced();
    await settle();
    assert.equal(seen.length, 64);
    assert.ok(flood.log.some((m) => /app: more than 64 messages/.test(m)));
    // ... nor in bytes: 8 MiB at most (a message can be far larger than a page wants to hold unasked).
    const big = connectionFor();
    for (let i = 0; i < 5; i++) message(big.connection.contentChannel, new ArrayBuffer(3 << 20));
    const chunks = [];
    big.connection.onContent((data) => chunks.push(data.byteLength));
    assert.deepEqual(chunks, [3 << 20, 3 << 20]);
    big.connection.close();
    assert.equal(log.length, 0);
    connection.close();
    flood.connection.close();
  });

  it('a registered type gets its frames; unknown types and non-JSON are ignored; one handler per type', async () => {
    const { connection, log } = connectionFor();
    const got = [];
    const remove = connection.onControl('intro', (f) => got.push(f));
    frame(connection, { t: 'intro', to: 'abc' });
    frame(connection, { t: 'nobody-knows' });
    frame(connection, 'not json');
    frame(connection, 'null');
    await settle();
    assert.deepEqual(got, [{ t: 'intro', to: 'abc' }]);
    assert.ok(log.includes('control: no handler (yet) for frame nobody-knows'), log.join('; '));
    assert.ok(log.includes('control: not JSON, ignored'));
    for (const t of ['intro', 'sdp', 'bye']) {
      assert.throws(() => connection.onControl(t, () => {}), (e) => e instanceof PushPeerError && e.code === 'BAD_ARGUMENT', t);
    }
    // a failing handler is logged, never thrown
    connection.onControl('boom', () => Promise.reject(new Error('bad frame')));
    frame(connection, { t: 'boom' });
    await settle();
    assert.ok(log.includes('control boom: bad frame'), log.join('; '));
    remove();
    frame(connection, { t: 'intro' });
    await settle();
    assert.equal(got.length, 1, 'removed');
    connection.onControl('intro', () => {}); // free again
    connection.close();
  });

  it('frames of a type registered late are handled then, in order; only the last few are kept', async () => {
    const { connection } = connectionFor();
    frame(connection, { t: 'late', n: 1 });
    frame(connection, { t: 'other' });
    frame(connection, { t: 'late', n: 2 });
    await settle();
    const got = [];
    connection.onControl('late', (f) => got.push(f.n));
    await settle();
    assert.deepEqual(got, [1, 2]);
    frame(connection, { t: 'late', n: 3 });
    await settle();
    assert.deepEqual(got, [1, 2, 3], 'handled once each');
    for (let n = 0; n < 100; n++) frame(connection, { t: 'flood', n });
    await settle();
    const flood = [];
    connection.onControl('flood', (f) => flood.push(f.n));
    await settle();
    assert.equal(flood.length, 32);
    assert.equal(flood[0], 68, 'the newest are kept');
    connection.close();
  });

  it("sendControl: frames said before the control channel opened go out when it opens, in order; never after it "
    + "closed; the built-in 'card' and 'bye' frames", async () => {
    const { connection } = connectionFor();
    assert.equal(connection.sendControl({ t: 'group-hello', n: 1 }), true, 'queued');
    assert.equal(connection.sendControl({ t: 'fwd', n: 2 }), true, 'queued');
    assert.deepEqual(connection.control.sent, []);
    connection.control.readyState = 'open';
    connection.control.dispatchEvent(new Event('open'));
    assert.deepEqual(connection.control.sent, ['{"t":"group-hello","n":1}', '{"t":"fwd","n":2}']);
    assert.equal(connection.sendControl({ t: 'card', card: 'abc' }), true);
    assert.deepEqual(connection.control.sent.at(-1), '{"t":"card","card":"abc"}');
    const other = connectionFor().connection;
    for (let n = 0; n < 64; n++) other.sendControl({ t: 'x', n });
    assert.equal(other.sendControl({ t: 'x', n: 64 }), false, 'at most 64 wait');
    other.close();
    other.control.readyState = 'closed';
    assert.equal(other.sendControl({ t: 'x' }), false, 'nothing after close');
    const cards = [];
    connection.addEventListener('card', (e) => cards.push(e.card));
    frame(connection, { t: 'card', card: 'AAAA' });
    frame(connection, { t: 'card', card: 7 });
    await settle();
    assert.deepEqual(cards, ['AAAA']);
    const closed = new Promise((resolve) => connection.addEventListener('close', resolve));
    frame(connection, { t: 'bye', reason: 'hung up' });
    const e = await closed;
    assert.deepEqual({ by: e.by, reason: e.reason, peerReason: e.peerReason },
      { by: 'peer', reason: 'closed by the peer: hung up', peerReason: 'hung up' });
  });
});
