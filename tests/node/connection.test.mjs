// The pure parts of js/peer.js: isPolite and waitGathered (the rest runs in real browsers).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { loadCore, PushPeerError } from '../../js/core.js';
import { DEFAULT_GATHER_TIMEOUT_MS, isPolite, waitGathered } from '../../js/peer.js';

describe('peer.js: isPolite and waitGathered', () => {
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
});
