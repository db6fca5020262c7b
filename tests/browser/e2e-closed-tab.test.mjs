// End to end, the callee's tab closed (the issue: "the offer lands in the service worker, the inbox keeps it, the
// notification is shown; the app opened later answers and connects"). Bob is a headed Firefox on a virtual X
// display (Xvfb) with the pref `alerts.useSystemBackend = false`, the setup docs/TESTING.md §3 gives for a shown
// notification (headless Firefox's default backend rejects showNotification): Firefox's own alert service shows it
// and getNotifications() lists it. Alice is a headless Firefox. Both subscribe for real through the local push
// service (apps.mjs).
//
// Needs the Debian packages xvfb and xauth (cmake/setup.sh); without Xvfb the test fails and says so.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { diagnose, openAliceAndBob, pollUntil, SUBJECT, startWorld } from './apps.mjs';
import { startXvfb } from './xvfb.mjs';

const TEST_MS = 120_000;
const WORKER_GRACE_MS = 2000; // between the offer's ack and Bob opening the app (see the test)

describe('PushPeer end to end: the callee\'s tab is closed when the offer comes', { timeout: 6 * 60_000 }, () => {
  let world;
  let xvfb;
  let alice;
  let bob;
  let noDisplay = null; // Xvfb missing or broken: the test fails with this (never skips)

  before(async () => {
    try {
      xvfb = await startXvfb();
    } catch (error) {
      noDisplay = error;
      return;
    }
    world = await startWorld();
    ({ alice, bob } = await openAliceAndBob(world, { bob: xvfb.headedFirefox }));
  });

  after(async () => {
    await world?.close();
    await xvfb?.stop();
  });

  test('offer kept in the inbox with a notification; Bob opens the app later, accepts, and they talk',
    { timeout: TEST_MS }, async (t) => {
      if (noDisplay) throw noDisplay;
      try {
        const { card: bobCard, keyId: bobKeyId } = await bob.page.evaluate(() =>
          ({ card: window.app.card(), keyId: window.app.state.peer.keyId }));
        const subscriptionId = async (a) => (await a.page.evaluate(async () =>
          (await window.app.state.registration.pushManager.getSubscription()).endpoint)).replace(/^.*\/wpush\//, '');
        const [bobSub, aliceSub] = await Promise.all([subscriptionId(bob), subscriptionId(alice)]);
        const aliceKeyId = await alice.page.evaluate(() => window.app.state.peer.keyId);

        // Close Bob's tab; a blank tab keeps his browser (and its window) running. No window of the app's origin
        // is left, so the worker must show a notification.
        const blank = await bob.browser.newPage();
        await bob.page.close();
        const pages = await bob.browser.pages();
        assert.deepEqual(pages.map((p) => p.url()).filter((u) => u.startsWith(world.server.origin)), [],
          'no tab of the app left in Bob\'s browser');
        assert.ok(pages.includes(blank));

        const since = world.service.lastSeq;
        const t0 = Date.now();
        const connecting = alice.call('connect', bobCard.text, { answerTimeoutMs: 60_000 });
        connecting.catch(() => {});

        // The offer reaches Bob's Firefox, whose worker handles it and acks it as delivered (code 100).
        const ack = await world.service.waitFor((e) => (e.type === 'ack' || e.type === 'nack') &&
          e.subscription === bobSub, { since, timeoutMs: 30_000, what: 'the ack of the offer to Bob' });
        assert.equal(ack.type, 'ack');
        assert.equal(ack.code, 100, `offer acked with code ${ack.code} (100 = delivered)`);
        const offerPush = world.pushesSince(since);
        assert.equal(offerPush.length, 1, 'one push so far: the offer');
        assert.equal(offerPush[0].subscription, bobSub);
        assert.equal(offerPush[0].version, ack.version);
        t.diagnostic(`offer acked by Bob's Firefox ${ack.at - t0} ms after connect()`);

        // Bob opens the app later. Firefox acks a push when it dispatches the worker's push event, not when the
        // worker is done, and a visible page of the origin would stop the worker from notifying: give it time.
        await new Promise((r) => setTimeout(r, WORKER_GRACE_MS));
        await bob.reopen();
        assert.equal(await bob.page.evaluate(() => window.app.state.peer), null, 'no PushPeer yet');
        const inbox = await bob.call('rawInbox');
        assert.equal(inbox.length, 1, `Bob's inbox: ${JSON.stringify(inbox)}`);
        const [offer] = inbox;
        assert.equal(offer.type, 'offer');
        assert.equal(offer.state, 'new');
        assert.equal(offer.from, aliceKeyId);
        t.diagnostic(`offer in Bob's inbox ${offer.received - ack.at} ms after the ack`);
        assert.notEqual(offer.notified, undefined, `the worker had not reached its notification step ` +
          `${WORKER_GRACE_MS} ms after the ack (slow worker start?) when the app was opened`);
        assert.equal(offer.notified, true, `the worker's showNotification failed: ${offer.notifyError}`);
        const notifications = await pollUntil(() => bob.call('notifications'), (list) => list.length > 0);
        assert.ok(notifications.length > 0, 'a notification in Bob\'s registration: timed out after 10000 ms');
        // The caller's name quoted (a name cannot pose as our text), one tag for all requests.
        assert.deepEqual(notifications, [{ title: '“Alice” wants to connect', body: 'Open the app to answer.',
          tag: 'pushpeer-request' }]);

        // Bob's PushPeer finds the offer in the inbox and asks (manual: the app decides).
        const created = await bob.call('create', { name: 'Bob', subject: SUBJECT, manual: true });
        assert.equal(created.keyId, bobKeyId, 'same identity after reopening');
        const requests = await pollUntil(() => bob.call('events', 'request'), (r) => r.length > 0,
          { timeoutMs: 15_000 });
        assert.ok(requests.length > 0, 'a request event on Bob\'s page: timed out after 15000 ms');
        assert.deepEqual(requests.map((r) => r.from), ['Alice']);
        const accepted = await bob.call('accept', 0);
        assert.equal(accepted.error, undefined, `accept failed: ${JSON.stringify(accepted.error)}`);

        const result = await connecting;
        assert.equal(result.error, undefined, `connect failed: ${JSON.stringify(result.error)}`);
        t.diagnostic(`Alice's connect() resolved after ${Math.round(result.ms)} ms (Bob's tab closed meanwhile)`);
        const channelStates = (a) => a.page.evaluate(() =>
          window.app.state.connections.map((c) => c.connection.channel.readyState));
        assert.deepEqual(await channelStates(alice), ['open']);
        assert.deepEqual(await channelStates(bob), ['open']);

        await alice.call('send', result.index, 'hello bob');
        await bob.call('send', accepted.index, 'hello alice');
        assert.deepEqual(await bob.call('waitMessages', accepted.index, 1), ['hello bob']);
        assert.deepEqual(await alice.call('waitMessages', result.index, 1), ['hello alice']);

        // The whole call took two pushes: the offer (to Bob) and the answer (to Alice); the inbox item is done.
        const pushes = world.pushesSince(since);
        assert.equal(pushes.length, 2, `exactly two pushes (offer, answer), got ${pushes.length}`);
        assert.deepEqual(pushes.map((p) => p.subscription), [bobSub, aliceSub]);
        assert.deepEqual((await bob.call('rawInbox')).map((i) => [i.type, i.state]), [['offer', 'done']]);
      } catch (error) {
        throw await diagnose(world, [alice, bob], error,
          xvfb?.stderr().trim() ? `\nXvfb: ${xvfb.stderr().trim().slice(-1000)}` : '');
      }
    });
});
