// Groups in real browsers (docs/PROTOCOL.md §7.8): Alice (Firefox) makes a group and an invite link; Bob (Firefox)
// and Carol, Dave and Erin (Chromium, one browser, a context each) join with it one after the other. Each newcomer
// costs exactly two pushes (its call to Alice) whatever the group's size, and ends connected to everyone: the others
// are introduced through Alice with no push. A group message reaches everyone; a page that reloads joins again with
// the invite (two pushes) and is connected to everyone again; a page that closes is a peerleave for the others at
// once; someone without the group's secret is refused (NOT_A_MEMBER) and nothing of theirs is kept.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { diagnose, pollUntil, startWorld, SUBJECT } from './apps.mjs';

const TEST_MS = 120_000;
const GROUP = 'club';
const connectedNames = async (app) => (await app.call('groupPeers', GROUP)).filter((p) => p.connected).map((p) => p.name).sort();

/**
 * `from` sends `data` to the group; every other page hears it once, from `from`'s key id (a member `from` is not
 * connected to may not know its name).
 */
async function sendAndHear(people, keyIds, from, data) {
  await people[from].call('groupSend', GROUP, data);
  for (const [name, app] of Object.entries(people)) {
    if (name === from) continue;
    const events = await pollUntil(() => app.call('groupEvents', GROUP), (e) => e.some((x) => x.type === 'message'),
      { timeoutMs: 10_000 });
    assert.deepEqual(events.filter((x) => x.type === 'message').map((x) => [x.keyId, x.data]), [[keyIds[from], data]], name);
  }
}

/**
 * Five pages: Alice and Bob (Firefox), Carol, Dave and Erin (Chromium, one browser, a context each), made with
 * `options`. Only Alice (whose card is in the invite) answers calls by push; the others take none but their
 * group's. Resolves to { people, keyIds } (by name).
 */
async function openFive(world, options = {}) {
  const [alice, bob, carol] = await Promise.all([world.open('firefox', 'alice'), world.open('firefox', 'bob'),
    world.open('chromium', 'carol')]);
  const dave = await world.open('chromium', 'dave', { inside: carol });
  const erin = await world.open('chromium', 'erin', { inside: carol });
  const people = { alice, bob, carol, dave, erin };
  const keyIds = {};
  for (const [name, app] of Object.entries(people)) {
    const made = await app.call('create', { name, subject: SUBJECT, hostSubscribe: name !== 'alice' && name !== 'bob',
      ...options });
    keyIds[name] = made.keyId;
    if (name !== 'alice') await app.call('setDecision', 'hold');
  }
  return { people, keyIds };
}

describe('a group of five: each newcomer costs two pushes, everyone connects to everyone', { timeout: 8 * 60_000 }, () => {
  let world;
  let people;
  let keyIds;

  before(async () => {
    world = await startWorld();
    ({ people, keyIds } = await openFive(world));
  });

  after(async () => {
    await world?.close();
  });

  test('newcomers join one after the other with the invite link: 2 pushes each, a full mesh', { timeout: TEST_MS }, async (t) => {
    const { alice } = people;
    try {
      const { invite } = await alice.call('group', GROUP);
      assert.match(invite, /#card=[A-Za-z0-9_-]+&group=[A-Za-z0-9_-]{43}&gname=club$/);
      const joined = ['alice'];
      for (const name of ['bob', 'carol', 'dave', 'erin']) {
        const since = world.service.lastSeq;
        const result = await people[name].call('joinGroup', invite);
        assert.equal(result.error, undefined, `${name} joined: ${JSON.stringify(result.error)}`);
        joined.push(name);
        // Everyone who joined so far is connected to everyone else.
        for (const who of joined) {
          const expected = joined.filter((n) => n !== who).sort();
          const names = await pollUntil(() => connectedNames(people[who]), (n) => n.length === expected.length,
            { timeoutMs: 30_000 });
          assert.deepEqual(names, expected, `${who} after ${name} joined`);
        }
        const pushes = world.pushesSince(since).length;
        t.diagnostic(`${name} joined a group of ${joined.length - 1}: ${pushes} pushes`);
        assert.equal(pushes, 2, `${name}: exactly two pushes`);
      }
    } catch (error) {
      throw await diagnose(world, Object.values(people), error);
    }
  });

  test('a group message reaches every member once', { timeout: TEST_MS }, async () => {
    await sendAndHear(people, keyIds, 'carol', 'hello club');
  });

  test('a member calls another with no `via`: the call goes through a member they share, no push', { timeout: TEST_MS },
    async (t) => {
      const { bob, dave } = people;
      // Bob hangs up on Dave; then calls him again the ordinary way.
      const index = await bob.page.evaluate((keyId) => window.app.state.connections
        .findIndex((c) => c.connection.remote.keyId === keyId && !c.connection.closed), keyIds.dave);
      await bob.call('close', index, 'hung up');
      assert.ok(!(await pollUntil(() => connectedNames(dave), (n) => !n.includes('bob'), { timeoutMs: 10_000 })).includes('bob'));
      // Dave heard Bob's bye (not 8 s of silence): a page that hangs up right after sending still gets it out.
      const heard = await dave.page.evaluate((keyId) => window.app.state.connections
        .filter((c) => c.connection.remote.keyId === keyId).map((c) => c.connection.closeInfo), keyIds.bob);
      assert.deepEqual(heard.at(-1), { reason: 'closed by the peer: hung up', by: 'peer', peerReason: 'hung up' });
      const since = world.service.lastSeq;
      const result = await bob.call('connect', (await dave.call('card')).text);
      assert.equal(result.error, undefined, JSON.stringify(result.error));
      const missed = (await bob.call('events', 'progress')).filter((e) => e.detail === 'route-missed');
      t.diagnostic(`Bob -> Dave routed in ${Math.round(result.ms)} ms; ${JSON.stringify(missed)}`);
      assert.equal(world.pushesSince(since).length, 0, 'routed through the group: no push');
      // The new connection is a member's for both of them again.
      for (const [a, b] of [[dave, 'bob'], [bob, 'dave']]) {
        assert.ok((await pollUntil(() => connectedNames(a), (n) => n.includes(b), { timeoutMs: 10_000 })).includes(b));
      }
    });

  test('a member whose page reloads joins again with the invite: 2 pushes, connected to everyone again', { timeout: TEST_MS },
    async (t) => {
      const { alice, dave } = people;
      try {
        const { invite } = await alice.call('group', GROUP);
        await dave.page.reload({ waitUntil: 'load' });
        await dave.page.waitForFunction(() => window.appReady === true);
        const made = await dave.call('create', { name: 'dave', subject: SUBJECT, hostSubscribe: true });
        assert.equal(made.keyId, keyIds.dave, 'the same identity after the reload');
        await dave.call('setDecision', 'hold');
        for (const name of ['alice', 'bob', 'carol', 'erin']) {
          assert.ok(!(await pollUntil(() => connectedNames(people[name]), (n) => !n.includes('dave'), { timeoutMs: 15_000 }))
            .includes('dave'), `${name} saw the old page go`);
        }
        const since = world.service.lastSeq;
        const result = await dave.call('joinGroup', invite);
        assert.equal(result.error, undefined, JSON.stringify(result.error));
        const names = await pollUntil(() => connectedNames(dave), (n) => n.length === 4, { timeoutMs: 30_000 });
        assert.deepEqual(names, ['alice', 'bob', 'carol', 'erin']);
        for (const name of ['alice', 'bob', 'carol', 'erin']) {
          assert.ok((await pollUntil(() => connectedNames(people[name]), (n) => n.includes('dave'), { timeoutMs: 15_000 }))
            .includes('dave'), `${name} is connected to dave again`);
        }
        // Calls are urgent pushes (an offer, an answer); a page that starts may also send its peers a new card
        // (urgency normal, a day's TTL), which has nothing to do with joining.
        const all = world.pushesSince(since);
        const calls = all.filter((p) => p.urgency === 'high');
        t.diagnostic(`dave back: ${calls.length} call pushes (${all.length - calls.length} card updates)`);
        assert.equal(calls.length, 2, 'the call to Alice, and nothing else');
        assert.ok(all.every((p) => p.urgency === 'high' || p.ttl === 86400), JSON.stringify(all));
      } catch (error) {
        throw await diagnose(world, Object.values(people), error);
      }
    });

  test('someone without the secret is refused (NOT_A_MEMBER), and the group keeps nothing of theirs', { timeout: TEST_MS },
    async () => {
      // Erin leaves the page; the others see her go at once.
      const before = Date.now();
      await people.erin.page.close();
      for (const name of ['alice', 'bob', 'carol', 'dave']) {
        const events = await pollUntil(() => people[name].call('groupEvents', GROUP),
          (e) => e.some((x) => x.type === 'peerleave' && x.name === 'erin'), { timeoutMs: 10_000 });
        const left = events.find((x) => x.type === 'peerleave' && x.name === 'erin');
        assert.ok(left && left.at - before < 5000, `${name} saw erin leave within 5 s`);
      }
      // Mallory: a Firefox page of her own with a group of the same name and another secret, calls Alice to join.
      const mallory = await world.open('firefox', 'mallory');
      await mallory.call('create', { name: 'mallory', subject: SUBJECT });
      await mallory.call('group', GROUP);
      const aliceCard = (await people.alice.call('card')).text;
      const result = await mallory.call('joinGroup', null, { name: GROUP, card: aliceCard });
      assert.equal(result.error?.code, 'NOT_A_MEMBER', JSON.stringify(result));
      // She has heard the group's id (it is no secret) and says hello with it and a made-up proof.
      const { id } = await people.alice.call('group', GROUP);
      await mallory.page.evaluate((groupId) => {
        const c = window.app.state.connections.at(-1).connection;
        const proof = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))))
          .replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
        c.sendControl({ t: 'group-hello', group: groupId, proof });
      }, id);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const names = (await people.alice.call('groupPeers', GROUP)).map((p) => p.name);
      assert.ok(!names.includes('mallory'), `Alice's group does not list Mallory: ${names}`);
      const joins = (await people.alice.call('groupEvents', GROUP)).filter((e) => e.type === 'peerjoin').map((e) => e.name);
      assert.ok(!joins.includes('mallory'), `no peerjoin for Mallory: ${joins}`);
      // Nor can a member's carrier introduce her into the group: Alice carries for members only.
      const bobCard = (await people.bob.call('card')).text;
      const carried = await mallory.call('connect', bobCard, { via: keyIds.alice });
      assert.equal(carried.error?.code, 'INTRODUCTION_REFUSED', JSON.stringify(carried));
    });
});

// Beyond full mesh (docs/PROTOCOL.md §7.8, "Large groups"): small limits make five pages a large group. A newcomer
// still costs two pushes (its call to Alice); walks from Alice find its neighbours, who call it back over one or
// more carriers, and the connection it joined through goes once they came. Nobody ends with more than
// maxNeighbours connections, and the five stay one group that a message crosses.
describe('a large group (maxFullMesh 2, neighbourLimit 2, maxNeighbours 3): walks, not a hub', { timeout: 8 * 60_000 }, () => {
  const LIMITS = { maxFullMesh: 2, neighbourLimit: 2, maxNeighbours: 3 };
  let world;
  let people;
  let keyIds;

  before(async () => {
    world = await startWorld();
    ({ people, keyIds } = await openFive(world, LIMITS));
  });

  after(async () => {
    await world?.close();
  });
  /** Who is connected to whom, as each page says: name -> names. */
  const graph = async () => Object.fromEntries(await Promise.all(Object.entries(people)
    .map(async ([name, app]) => [name, await connectedNames(app)])));
  const parts = (g) => {
    const seen = new Set();
    let count = 0;
    for (const start of Object.keys(g)) {
      if (seen.has(start)) continue;
      count++;
      const queue = [start];
      seen.add(start);
      while (queue.length) for (const next of g[queue.shift()]) if (!seen.has(next)) seen.add(next) && queue.push(next);
    }
    return count;
  };

  test('five join with the invite: 2 pushes each; walks bring each its neighbours; nobody above maxNeighbours; one group',
    { timeout: 4 * TEST_MS }, async (t) => {
      const { alice } = people;
      try {
        const { invite } = await alice.call('group', GROUP);
        for (const name of ['bob', 'carol', 'dave', 'erin']) {
          const since = world.service.lastSeq;
          const result = await people[name].call('joinGroup', invite);
          assert.equal(result.error, undefined, `${name} joined: ${JSON.stringify(result.error)}`);
          // Beyond full mesh the newcomer's neighbours come by walks; the call to Alice goes once they are there
          // (or, with fewer than neighbourLimit, after a few seconds), unless a walk brings Alice back.
          const names = await pollUntil(() => connectedNames(people[name]), (n) => n.some((x) => x !== 'alice'),
            { timeoutMs: 30_000 });
          t.diagnostic(`${name}: connected to ${names.join(', ')}`);
          const calls = world.pushesSince(since).filter((p) => p.urgency === 'high');
          assert.equal(calls.length, 2, `${name}: the call to Alice, and nothing else`);
        }
        // Walks settle within a few seconds (WALK_WAIT_MS 5 s, then the grace before a join's connection closes).
        await new Promise((resolve) => setTimeout(resolve, 12_000));
        const g = await graph();
        t.diagnostic(`the group: ${JSON.stringify(g)}`);
        for (const [name, names] of Object.entries(g)) {
          assert.ok(names.length >= 1 && names.length <= LIMITS.maxNeighbours, `${name}: ${names.length} connections`);
          for (const other of names) assert.ok(g[other].includes(name), `${name} and ${other} agree`);
        }
        assert.equal(parts(g), 1, 'one group');
        const hops = (await Promise.all(Object.values(people).map((app) => app.call('events', 'carried'))))
          .flat().map((e) => e.hops ?? 1);
        t.diagnostic(`carried frames: ${hops.length}; carriers per route: ${JSON.stringify(hops)}`);
        assert.ok(hops.some((h) => h >= 2), 'some walks\' calls were carried over more than one carrier');
        assert.equal(world.pushesSince(0).filter((p) => p.urgency === 'high').length, 8, '2 per newcomer in all');
      } catch (error) {
        throw await diagnose(world, Object.values(people), error);
      }
    });

  test('a group message reaches every member once, flooded', { timeout: TEST_MS }, async () => {
    await sendAndHear(people, keyIds, 'erin', 'hello large club');
  });
});
