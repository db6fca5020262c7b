// A callee page that reloads at any moment of a connect, in real Firefox with the default options: the call still
// connects (the next page answers it, without asking the person again when they had accepted), or fails with a typed
// code; the next call always works. The page reloads itself at the chosen step (tests/browser/app/app.mjs
// `reloadOn`), so the moment is exact: when the request arrives, when the person accepted (the answer not sent),
// the moment the answer left (the connection not open), and once the connection opened.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { armReload, diagnose, openAliceAndBob, pollUntil, SUBJECT, startAfterReload, startWorld } from './apps.mjs';

const TEST_MS = 90_000;
const BOB = { name: 'Bob', subject: SUBJECT };

describe('reload: the callee page reloads during a connect', { timeout: 8 * 60_000 }, () => {
  let world;
  let alice;
  let bob;

  before(async () => {
    world = await startWorld();
    ({ alice, bob } = await openAliceAndBob(world));
    // Bob knows Alice from a first call, as a person who reloads mid-call usually does.
    const first = await alice.call('connect', (await bob.call('card')).text);
    assert.equal(first.error, undefined, JSON.stringify(first.error));
  });

  after(async () => {
    await world?.close();
  });

  for (const step of ['request', 'connecting', 'answer-sent', 'open']) {
    test(`Bob's page reloads at '${step}': the call connects (or fails with a code), and the next one works`,
      { timeout: TEST_MS }, async (t) => {
        try {
          // Bob's page reloads at `step`; the new page starts the app again (its PushPeer takes over what was left).
          await armReload(bob, step, BOB);
          const card = (await bob.call('card')).text;
          const since = world.service.lastSeq;
          const call = alice.call('connect', card);
          // The page reloads by itself at that step; then the app starts again on the new page.
          await startAfterReload(bob, step, BOB);
          const r = await call;
          t.diagnostic(`reload at ${step}: ${r.error ? `failed with ${r.error.code}` : 'connected'} in ${Math.round(r.ms)} ms, ` +
            `${world.pushesSince(since).length} pushes`);
          assert.equal(r.error, undefined, `the call did not survive the reload: ${JSON.stringify(r.error)}`);
          // The person had accepted (at every step but 'request'): the new page answered without asking again.
          const asked = (await bob.call('events', 'request')).length;
          assert.equal(asked, step === 'request' ? 1 : 0, 'requests on the new page');
          // On loopback the connection may have opened with the old page before it was gone: then it is reported
          // closed at once, with the reason. Otherwise it is the new page's, and messages flow.
          const closed = await pollUntil(() => alice.page.evaluate((i) => window.app.state.connections[i].closed, r.index),
            (reason) => reason !== null, { timeoutMs: 2000 });
          if (closed !== null) {
            // By the page's own bye ('closed by the peer: page closed') or, when its side had not opened yet, by the
            // data channel closing under it.
            assert.match(closed, /^(closed by the peer: page closed|data channel closed)$/);
            t.diagnostic(`reload at ${step}: the connection had opened with the old page, and was reported closed (${closed})`);
          } else {
            await alice.call('send', r.index, 'after the reload');
            const index = (await bob.call('waitConnections', 1)) - 1;
            assert.deepEqual(await bob.call('waitMessages', index, 1), ['after the reload']);
          }
          // The next call always works.
          const next = await alice.call('connect', card);
          assert.equal(next.error, undefined, `the next call: ${JSON.stringify(next.error)}`);
        } catch (error) {
          throw await diagnose(world, [alice, bob], error);
        }
      });
  }
});
