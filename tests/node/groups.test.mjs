// A group's rules (js/mesh/groups.js, docs/PROTOCOL.md §7.8) with stand-in connections and the real core: who is a
// member (a proof for its own key id), what a member list may hold, who gets told what when a newcomer says hello,
// duplicate suppression, and the refusals. Five real pages: tests/browser/mesh-groups.test.mjs; thousands of
// simulated ones: bench/sim/groups.mjs.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import { loadCore } from '../../js/core.js';
import { Groups } from '../../js/mesh/groups.js';
import { FakeConnection, randomBytes } from './helpers.mjs';

const SUBJECT = 'mailto:groups@pushpeer.invalid';

describe('groups', () => {
  let core;
  const people = {};

  before(async () => {
    core = await loadCore();
    for (const name of ['me', 'ann', 'ben', 'cat', 'dan']) people[name] = person(name);
  });

  /** Someone else (a card of their own). */
  function person(name) {
    const identity = core.generateVapidKeys();
    const subscription = { endpoint: `https://updates.push.services.mozilla.com/wpush/v2/${name}`,
      keys: { p256dh: core.base64urlEncode(core.generateVapidKeys().publicKey), auth: core.base64urlEncode(randomBytes(16)) } };
    const card = core.createCard({ identity, subject: SUBJECT, name, subscription });
    // The same card without grants: what an open group's members get (PushPeer.card({ push: false })).
    const openCard = core.createCard({ identity, subject: SUBJECT, name, subscription, grants: [] });
    return { name, card, openCard, keyId: core.base64urlEncode(core.keyIdOf(identity.publicKey)) };
  }

  /** Our Groups, as `me`; cards of our peers from `people`. */
  function ours(options = {}, host = {}) {
    const errors = [];
    const groups = new Groups({ core, keyId: people.me.keyId, options, card: ({ push = true } = {}) => {
      const card = push ? people.me.card : people.me.openCard;
      return { text: card.text, link: `https://app.example/#card=${card.text}` };
    }, cardBytes: async (c) => c,
    connect: async () => { throw new Error('no calls in this test'); }, connectionTo: () => null,
    peerCard: async (keyId) => Object.values(people).find((p) => p.keyId === keyId)?.card.bytes ?? null,
    error: (e) => errors.push(e), ...host });
    return { groups, errors };
  }
  const who = (card) => Object.values(people).find((p) => [p.card, p.openCard].some((c) => c.text === card || c.bytes === card))?.name;
  const open = (groups, who) => {
    const c = new FakeConnection(people[who].keyId, who);
    groups.attach(c);
    return c;
  };
  const proofOf = (secret, who) => core.base64urlEncode(core.groupProof({ secret, keyId: people[who].keyId }));
  const settle = () => new Promise((resolve) => setTimeout(resolve, 10));
  /** A newcomer's hello (join) on `connection` from `who`, for the group of `secret`. */
  const joinHello = (connection, group, secret, who) => connection.receive({ t: 'group-hello', group: group.id,
    proof: proofOf(secret, who), join: true });

  it('a hello with the proof for the sender\'s key id makes a member; any other proof, or another group, is refused alike',
    async () => {
      const { groups } = ours();
      const secret = randomBytes(32);
      const group = groups.group('club', { secret });
      const joins = [];
      group.addEventListener('peerjoin', (e) => joins.push(e.name));
      const ann = open(groups, 'ann');
      await ann.receive({ t: 'group-hello', group: group.id, proof: proofOf(secret, 'ben') }); // Ben's proof, Ann's link
      await ann.receive({ t: 'group-hello', group: group.id, proof: proofOf(randomBytes(32), 'ann') });
      await ann.receive({ t: 'group-hello', group: core.base64urlEncode(randomBytes(16)), proof: proofOf(secret, 'ann') });
      assert.deepEqual(ann.sent.map((f) => [f.t, f.code]), [['group-no', 'NOT_A_MEMBER'], ['group-no', 'NOT_A_MEMBER'],
        ['group-no', 'NOT_A_MEMBER']]);
      assert.deepEqual(group.peers(), []);
      await ann.receive({ t: 'group-hello', group: group.id, proof: proofOf(secret, 'ann'), join: true });
      await settle();
      assert.deepEqual(joins, ['ann']);
      assert.deepEqual(group.peers(), [{ keyId: people.ann.keyId, name: 'ann', connected: true }]);
      assert.deepEqual(ann.sent.slice(3).map((f) => f.t), ['group-hello', 'group-members'], 'our hello, then the members');
    });

  /** Ann joins our club, then Ben (his join hello `times` times): their connections. */
  async function annThenBen(times = 1) {
    const { groups } = ours();
    const secret = randomBytes(32);
    const group = groups.group('club', { secret });
    const ann = open(groups, 'ann');
    await joinHello(ann, group, secret, 'ann');
    const ben = open(groups, 'ben');
    for (let i = 0; i < times; i++) await joinHello(ben, group, secret, 'ben');
    await settle();
    return { secret, ann, ben };
  }

  it('a join hello repeated on one connection is answered as a join once (15 s): no flood of the members', async () => {
    const { ann, ben } = await annThenBen(5);
    assert.equal(ann.sent.filter((f) => f.t === 'group-members').length, 2, 'one list as a newcomer, one entry about Ben');
    assert.equal(ben.sent.filter((f) => f.t === 'group-members').length, 1);
    assert.equal(ben.sent.filter((f) => f.t === 'group-hello').length, 1);
  });

  it('a newcomer\'s hello: the members hear of it first, then it gets their list (cards with proofs)', async () => {
    const { secret, ann, ben } = await annThenBen();
    const toAnn = ann.sent.filter((f) => f.t === 'group-members').at(-1);
    assert.deepEqual(toAnn.members.map((m) => core.decodeCard(m.card).name), ['ben']);
    assert.equal(toAnn.members[0].proof, proofOf(secret, 'ben'));
    const toBen = ben.sent.find((f) => f.t === 'group-members');
    assert.deepEqual(toBen.members.map((m) => core.decodeCard(m.card).name), ['ann']);
    assert.ok(ann.sent.indexOf(toAnn) >= 0 && toBen, 'both told');
  });

  it('a member list keeps only entries whose card and proof hold, and only from a member', async () => {
    const { groups } = ours();
    const secret = randomBytes(32);
    const group = groups.group('club', { secret });
    const dan = open(groups, 'dan'); // not a member (no hello)
    await dan.receive({ t: 'group-members', group: group.id, members: [{ card: people.cat.card.text, proof: proofOf(secret, 'cat') }] });
    assert.deepEqual(group.peers(), [], 'not from a non-member');
    const ann = open(groups, 'ann');
    await ann.receive({ t: 'group-hello', group: group.id, proof: proofOf(secret, 'ann'), join: true });
    const altered = `${people.cat.card.text.slice(0, -4)}AAAA`;
    for (const entry of [
      { card: people.cat.card.text, proof: proofOf(secret, 'ben') }, // a proof for someone else
      { card: altered, proof: proofOf(secret, 'cat') }, // a card whose signature fails
      { card: 'not a card', proof: 'x' },
      { card: people.ben.card.text, proof: proofOf(secret, 'ben') },
    ]) await ann.receive({ t: 'group-members', group: group.id, members: [entry] }); // a newcomer each
    assert.deepEqual(group.peers().map((p) => [p.name, p.connected]).sort(), [['ann', true], ['ben', false]]);
  });

  it('a group message is delivered once however many members pass it on; only members\' messages count', async () => {
    const { groups } = ours();
    const secret = randomBytes(32);
    const group = groups.group('club', { secret });
    const got = [];
    group.addEventListener('message', (e) => got.push([e.from, e.data]));
    const ann = open(groups, 'ann');
    const ben = open(groups, 'ben');
    for (const [c, who] of [[ann, 'ann'], [ben, 'ben']]) await c.receive({ t: 'group-hello', group: group.id, proof: proofOf(secret, who), join: true });
    const frame = { t: 'group-msg', group: group.id, mid: 'AAAAAAAAAAAA', from: people.ann.keyId, data: 'hi' };
    ann.receive(frame);
    ben.receive(frame);
    open(groups, 'dan').receive({ ...frame, mid: 'BBBBBBBBBBBB' });
    ann.receive({ ...frame, mid: 'CCCCCCCCCCCC', data: 'x'.repeat(20_000) });
    assert.deepEqual(got, [[people.ann.keyId, 'hi']]);
    // Our own message goes to every connected member and is not delivered back to us.
    group.send('hello');
    const mine = ann.sent.find((f) => f.t === 'group-msg');
    assert.equal(mine.data, 'hello');
    ben.receive(ben.sent.find((f) => f.t === 'group-msg'));
    assert.equal(got.length, 1);
    assert.throws(() => group.send('x'.repeat(20_000)), { code: 'BAD_ARGUMENT' });
  });

  /** Ann, Ben and Cat said hello to us (they are connected members); their links by name. */
  async function withMembers(groups, group, secret, names = ['ann', 'ben', 'cat']) {
    const links = {};
    for (const name of names) {
      links[name] = open(groups, name);
      await links[name].receive({ t: 'group-hello', group: group.id, proof: proofOf(secret, name), join: true });
      await settle();
    }
    for (const l of Object.values(links)) l.sent.length = 0; // the walks for the third (beyond full mesh) and such
    return links;
  }
  const walksIn = (links) => Object.entries(links).flatMap(([name, l]) => l.sent.filter((f) => f.t === 'group-walk')
    .map((f) => ({ to: name, ...f })));
  const FAR = 'XXXXXXXXXXX'; // a member further along a walk, not connected to us

  it('beyond full mesh, a newcomer\'s hello sends neighbourLimit walks into the group instead of a member list', async () => {
    const { groups } = ours({ maxFullMesh: 2, neighbourLimit: 2 });
    const secret = randomBytes(32);
    const group = groups.group('club', { secret });
    const links = await withMembers(groups, group, secret);
    links.dan = open(groups, 'dan');
    await links.dan.receive({ t: 'group-hello', group: group.id, proof: proofOf(secret, 'dan'), join: true });
    await settle();
    assert.deepEqual(links.dan.sent.filter((f) => f.t === 'group-members'), [{ t: 'group-members', group: group.id, members: [], walks: 2 }]);
    const walks = walksIn(links);
    assert.equal(walks.length, 2);
    for (const w of walks) {
      assert.notEqual(w.to, 'dan');
      assert.deepEqual([who(w.card), w.proof, w.trail], ['dan', proofOf(secret, 'dan'), []]);
    }
    assert.ok(!['ann', 'ben', 'cat'].some((n) => links[n].sent.some((f) => f.t === 'group-members')), 'nobody is told of Dan');
  });

  it('a walk goes walkLength hops; the member at its end calls the newcomer back along it, vouched for by its proof',
    async () => {
      const secret = randomBytes(32);
      const calls = [];
      const { groups, errors } = ours({ maxFullMesh: 2, walkLength: 2 }, {
        connect: async (card, options) => {
          calls.push({ name: who(card), via: options.via.remote.name, carriers: options.carriers, vouch: options.vouch });
          return new FakeConnection(people[who(card)].keyId, who(card));
        },
      });
      const group = groups.group('club', { secret });
      const links = await withMembers(groups, group, secret);
      const walk = { t: 'group-walk', group: group.id, card: people.dan.card.text, proof: proofOf(secret, 'dan') };
      // Two hops so far (FAR, then Ann): its end is here.
      await links.ann.receive({ ...walk, trail: [FAR] });
      await settle();
      assert.deepEqual(calls, [{ name: 'dan', via: 'ann', carriers: [FAR],
        vouch: { group: group.id, proof: proofOf(secret, 'me') } }]);
      assert.deepEqual(group.peers().find((p) => p.keyId === people.dan.keyId), { keyId: people.dan.keyId, name: 'dan',
        connected: false }, 'Dan is a member to us now');
      assert.deepEqual(walksIn(links), []);
      // One hop so far (Ann): passed on to another member of ours, with the trail so far.
      const { groups: g2 } = ours({ maxFullMesh: 2, walkLength: 2 });
      const group2 = g2.group('club', { secret });
      const links2 = await withMembers(g2, group2, secret);
      await links2.ann.receive({ ...walk, group: group2.id, trail: [] });
      const passed = walksIn(links2);
      assert.equal(passed.length, 1);
      assert.ok(['ben', 'cat'].includes(passed[0].to), 'not back to the sender');
      assert.deepEqual(passed[0].trail, [people.ann.keyId]);
      assert.deepEqual(errors, []);
    });

  it('a full member passes a walk on past walkLength and drops it at MAX_HOPS; walks from non-members or with a wrong '
    + 'proof go nowhere', async () => {
    const secret = randomBytes(32);
    const calls = [];
    const { groups } = ours({ maxFullMesh: 2, neighbourLimit: 2, maxNeighbours: 3, walkLength: 2 }, {
      connect: async (card) => calls.push(who(card)),
    });
    const group = groups.group('club', { secret });
    const links = await withMembers(groups, group, secret); // 3 connections: full
    const walk = { t: 'group-walk', group: group.id, card: people.dan.card.text, proof: proofOf(secret, 'dan') };
    const farther = (n) => Array.from({ length: n }, (_, i) => `${'Y'.repeat(10)}${i}`);
    await links.ann.receive({ ...walk, trail: farther(3) });
    assert.equal(walksIn(links).length, 1, 'passed on');
    assert.equal(walksIn(links)[0].trail.length, 4);
    await links.ann.receive({ ...walk, trail: farther(7) }); // with Ann, MAX_HOPS (8) behind it
    await links.ann.receive({ ...walk, proof: proofOf(secret, 'ben'), trail: farther(3) });
    const stranger = open(groups, 'dan'); // connected, never said hello
    await stranger.receive({ ...walk, card: people.cat.card.text, proof: proofOf(secret, 'cat'), trail: [] });
    assert.equal(walksIn({ ...links, stranger }).length, 1);
    assert.deepEqual(calls, []);
  });

  it('Groups.vouch: a member we have not heard of is one when the proof that came with its call is for its key id', async () => {
    const { groups } = ours();
    const secret = randomBytes(32);
    const group = groups.group('club', { secret });
    await withMembers(groups, group, secret, ['ann']);
    const item = { from: people.dan.keyId, via: people.ann.keyId };
    groups.vouch(people.dan.keyId, { group: group.id, proof: proofOf(secret, 'ben') });
    groups.vouch(people.dan.keyId, { group: core.base64urlEncode(randomBytes(16)), proof: proofOf(secret, 'dan') });
    assert.equal(groups.admits(item), null);
    // A carrier's 'group' rule for a call passed on: the vouch for the caller, both ends members.
    const vouch = { group: group.id, proof: proofOf(secret, 'dan') };
    assert.equal(groups.vouches(people.dan.keyId, vouch, people.ann.keyId, people.me.keyId), true);
    assert.equal(groups.vouches(people.dan.keyId, { ...vouch, proof: proofOf(secret, 'ben') }, people.ann.keyId,
      people.me.keyId), false);
    assert.equal(groups.vouches(people.dan.keyId, vouch, people.ann.keyId, people.cat.keyId), false, 'Cat is no member');
    groups.vouch(people.dan.keyId, vouch);
    assert.deepEqual(groups.admits(item), { group, accept: true, transient: false });
    assert.deepEqual(group.peers().find((p) => p.keyId === people.dan.keyId)?.connected, false);
  });

  /** We join the group through Ann (`ann`, her connection): she answers our hello, and `walks` go out for us. */
  async function joinLarge(groups, ann, secret, walks) {
    groups.attach(ann);
    const group = groups.group('club', { secret });
    const joined = group.join(people.ann.card.text);
    await settle();
    await ann.receive({ t: 'group-hello', group: group.id, proof: proofOf(secret, 'ann') });
    await joined;
    await ann.receive({ t: 'group-members', group: group.id, members: [], walks });
    return group;
  }

  it('a member in the list we are connected to already: a hello on that connection makes it the group\'s, no call',
    async () => {
      const secret = randomBytes(32);
      const ann = new FakeConnection(people.ann.keyId, 'ann');
      const ben = new FakeConnection(people.ben.keyId, 'ben');
      const calls = [];
      const { groups, errors } = ours({}, {
        connectionTo: (keyId) => ({ [people.ann.keyId]: ann, [people.ben.keyId]: ben })[keyId] ?? null,
        connect: async (card) => calls.push(who(card)),
      });
      groups.attach(ann);
      groups.attach(ben); // a call from before the group: no hello on it yet
      const group = groups.group('club', { secret });
      const joins = [];
      group.addEventListener('peerjoin', (e) => joins.push(e.name));
      const joined = group.join(people.ann.card.text);
      await settle();
      await ann.receive({ t: 'group-hello', group: group.id, proof: proofOf(secret, 'ann') });
      await joined;
      assert.equal(ben.sent.length, 0);
      await ann.receive({ t: 'group-members', group: group.id,
        members: [{ card: people.ben.card.text, proof: proofOf(secret, 'ben') }] });
      await settle();
      assert.deepEqual(ben.sent.map((f) => [f.t, f.group]), [['group-hello', group.id]]);
      await ben.receive({ t: 'group-hello', group: group.id, proof: proofOf(secret, 'ben') });
      await settle();
      assert.deepEqual(joins, ['ann', 'ben']);
      assert.deepEqual(calls, [], 'no call: the connection was there');
      assert.deepEqual(group.peers().map((p) => [p.name, p.connected]), [['ann', true], ['ben', true]]);
      assert.deepEqual(errors, []);
    });

  it('joining a large group: the connection join() made is closed once neighbourLimit walk calls came; one that was '
    + 'there before stays', async () => {
    const secret = randomBytes(32);
    for (const before of [false, true]) {
      const ann = new FakeConnection(people.ann.keyId, 'ann');
      const { groups, errors } = ours({ maxFullMesh: 2, neighbourLimit: 2 }, {
        connectionTo: (keyId) => (before && keyId === people.ann.keyId ? ann : null),
        connect: async () => ann,
      });
      const group = await joinLarge(groups, ann, secret, 2);
      // The walks' ends call us (vouched), and say hello as their connections open.
      for (const name of ['ben', 'cat']) {
        groups.vouch(people[name].keyId, { group: group.id, proof: proofOf(secret, name) });
        assert.equal(groups.admits({ from: people[name].keyId, via: people.ann.keyId })?.accept, true);
        const c = open(groups, name);
        assert.ok(c.sent.some((f) => f.t === 'group-hello'), 'a vouched member is greeted');
        await c.receive({ t: 'group-hello', group: group.id, proof: proofOf(secret, name) });
        assert.equal(ann.closed, false, 'not before the grace time');
      }
      await new Promise((resolve) => setTimeout(resolve, 3000));
      assert.equal(ann.closed, !before, before ? 'ours before the join: kept' : 'made by join(): closed');
      assert.deepEqual(errors, []);
    }
  });

  it('a member of a large group tells its neighbours when it is full and when it has room again; a walk that must go '
    + 'on past a full member goes to one that said it has room', async () => {
    const secret = randomBytes(32);
    const { groups } = ours({ maxFullMesh: 2, neighbourLimit: 1, maxNeighbours: 3, walkLength: 1 });
    const group = groups.group('club', { secret });
    const links = {};
    for (const name of ['ann', 'ben', 'cat']) {
      links[name] = open(groups, name);
      await links[name].receive({ t: 'group-hello', group: group.id, proof: proofOf(secret, name), join: true });
      await settle();
    }
    const rooms = (l) => l.sent.filter((f) => f.t === 'group-room').map((f) => f.full);
    assert.deepEqual(['ann', 'ben', 'cat'].map((n) => rooms(links[n])), [[true], [true], [true]], 'full at 3');
    links.cat.close();
    assert.deepEqual(['ann', 'ben'].map((n) => rooms(links[n])), [[true, false], [true, false]], 'room again');
    // We are full again (Dan), and Ann says she is full, Ben that he has room: a walk past its length goes to Ben.
    links.dan = open(groups, 'dan');
    await links.dan.receive({ t: 'group-hello', group: group.id, proof: proofOf(secret, 'dan'), join: true });
    await settle();
    await links.ann.receive({ t: 'group-room', group: group.id, full: true });
    await links.ben.receive({ t: 'group-room', group: group.id, full: false });
    for (const l of Object.values(links)) l.sent.length = 0;
    const walk = { t: 'group-walk', group: group.id, card: people.cat.card.text, proof: proofOf(secret, 'cat') };
    for (let i = 0; i < 5; i++) await links.dan.receive({ ...walk, trail: [`${'Y'.repeat(10)}${i}`] });
    assert.deepEqual(walksIn(links).map((w) => w.to), ['ben', 'ben', 'ben', 'ben', 'ben']);
  });

  it('a hello that says join is a newcomer\'s even when we know its key id (a walk\'s call to it that failed); one '
    + 'that does not is a member\'s', async () => {
    const secret = randomBytes(32);
    const { groups } = ours({ maxFullMesh: 2, walkLength: 1 }, {
      connect: async () => { throw Object.assign(new Error('no route'), { code: 'NO_ROUTE' }); },
    });
    const group = groups.group('club', { secret });
    const links = await withMembers(groups, group, secret);
    await links.ann.receive({ t: 'group-walk', group: group.id, card: people.dan.card.text, proof: proofOf(secret, 'dan'),
      trail: [FAR] });
    await settle();
    assert.ok(group.peers().some((p) => p.name === 'dan'), 'Dan is known (the walk ended here; the call failed)');
    const dan = open(groups, 'dan');
    await dan.receive({ t: 'group-hello', group: group.id, proof: proofOf(secret, 'dan'), join: true });
    await settle();
    assert.deepEqual(dan.sent.find((f) => f.t === 'group-members'), { t: 'group-members', group: group.id, members: [], walks: 4 });
    const eve = open(groups, 'cat'); // a second connection of Cat's, opened by a call: no join
    await eve.receive({ t: 'group-hello', group: group.id, proof: proofOf(secret, 'cat') });
    await settle();
    assert.ok(!eve.sent.some((f) => f.t === 'group-members'), 'no members for a member\'s hello');
  });

  it('joining a large group: no walk\'s call in time, the joined-through connection stays and we walk again through '
    + 'it, less often each time; neighbourLimit calls that come later close it all the same', async () => {
    const secret = randomBytes(32);
    const ann = new FakeConnection(people.ann.keyId, 'ann');
    const { groups, errors } = ours({ maxFullMesh: 2, neighbourLimit: 1 }, { connect: async () => ann });
    const group = await joinLarge(groups, ann, secret, 1);
    await new Promise((resolve) => setTimeout(resolve, 7000)); // walks at 2 s and 6 s (then 14 s)
    assert.equal(ann.sent.filter((f) => f.t === 'group-walk').length, 2, 'walked again twice, through Ann');
    assert.equal(ann.closed, false, 'kept');
    groups.vouch(people.ben.keyId, { group: group.id, proof: proofOf(secret, 'ben') });
    const ben = open(groups, 'ben');
    await ben.receive({ t: 'group-hello', group: group.id, proof: proofOf(secret, 'ben') });
    await new Promise((resolve) => setTimeout(resolve, 3000));
    assert.equal(ann.closed, true, 'closed once Ben came');
    assert.deepEqual(errors, []);
  });

  it('a member of a large group whose neighbours went walks for itself, for as many as it is short', async () => {
    const { groups } = ours({ maxFullMesh: 2, neighbourLimit: 3 });
    const secret = randomBytes(32);
    const group = groups.group('club', { secret });
    const links = await withMembers(groups, group, secret);
    links.ann.close();
    const walks = walksIn(links);
    assert.equal(walks.length, 1, 'two left of three: one walk');
    assert.deepEqual([who(walks[0].card), walks[0].proof, walks[0].trail], ['me', proofOf(secret, 'me'), []]);
    assert.ok(['ben', 'cat'].includes(walks[0].to));
    // Nobody came of it: it walks again 2 s later (then after 4 s, 8 s, ...).
    await new Promise((resolve) => setTimeout(resolve, 3500));
    assert.equal(walksIn(links).length, 2, 'walked again');
  });

  it('a member whose connection ended and who says hello again is a newcomer again (gets the members)', async () => {
    const { groups } = ours();
    const secret = randomBytes(32);
    const group = groups.group('club', { secret });
    const leaves = [];
    group.addEventListener('peerleave', (e) => leaves.push(e.name));
    const ann = open(groups, 'ann');
    await joinHello(ann, group, secret, 'ann');
    const ben = open(groups, 'ben');
    await joinHello(ben, group, secret, 'ben');
    await settle();
    ben.close();
    assert.deepEqual(leaves, ['ben']);
    const again = open(groups, 'ben');
    await again.receive({ t: 'group-hello', group: group.id, proof: proofOf(secret, 'ben'), join: true });
    await settle();
    assert.deepEqual(again.sent.find((f) => f.t === 'group-members')?.members.map((m) => core.decodeCard(m.card).name), ['ann']);
  });

  it('a page back after a reload joins through a member that knew it: that member\'s hello and its list can come '
    + 'before our call to it resolved; the hello answers the join, and the members in the list are called', async () => {
    const secret = randomBytes(32);
    const calls = [];
    let link;
    const { groups, errors } = ours({ joinTimeoutMs: 300 }, {
      connect: async (card, { via } = {}) => {
        calls.push([who(card), via?.remote.name ?? 'push']);
        const c = new FakeConnection(people[who(card)].keyId, who(card));
        if (via) return c;
        // PushPeer registers a connection (attach) as it opens, before connect() resolves; Ann knows us already,
        // so her hello is the first frame, we answer it, and her list follows: all before connect() is back.
        link = c;
        groups.attach(c);
        const id = groups.byName.get('club').id;
        await c.receive({ t: 'group-hello', group: id, proof: proofOf(secret, 'ann') });
        await c.receive({ t: 'group-members', group: id, members: [{ card: people.ben.card.text, proof: proofOf(secret, 'ben') }] });
        return c;
      },
    });
    const group = groups.group('club', { secret });
    const peers = await group.join(people.ann.card.text);
    assert.deepEqual(peers.map((p) => [p.name, p.connected]).sort(), [['ann', true], ['ben', false]]);
    assert.ok(link.sent.some((f) => f.t === 'group-hello'), 'we said hello (Ann sends the members for it)');
    await settle();
    assert.deepEqual(calls, [['ann', 'push'], ['ben', 'ann']], 'Ben called through Ann');
    assert.deepEqual(errors, []);
  });

  it('a newcomer whose introduction fails calls the next member in the list instead', async () => {
    const secret = randomBytes(32);
    const calls = [];
    const { groups, errors } = ours({ maxFullMesh: 3, neighbourLimit: 3, joinTimeoutMs: 1000 }, {
      connect: async (card, { via } = {}) => {
        const name = who(card);
        calls.push([name, via?.remote.name ?? 'push']);
        const c = new FakeConnection(people[name].keyId, name);
        if (via && calls.length === 2) throw Object.assign(new Error('no route'), { code: 'NO_ROUTE' });
        if (!via) {
          groups.attach(c);
          const id = groups.byName.get('club').id;
          queueMicrotask(async () => {
            await c.receive({ t: 'group-hello', group: id, proof: proofOf(secret, 'ann') });
            await c.receive({ t: 'group-members', group: id,
              members: ['ben', 'cat', 'dan'].map((m) => ({ card: people[m].card.text, proof: proofOf(secret, m) })) });
          });
        }
        return c;
      },
    });
    await groups.group('club', { secret }).join(people.ann.card.text);
    await settle();
    assert.equal(calls.length, 4, `calls: ${JSON.stringify(calls)}`);
    assert.deepEqual(calls.slice(1).map(([, via]) => via), ['ann', 'ann', 'ann']);
    assert.deepEqual(new Set(calls.slice(1).map(([name]) => name)).size, 3, 'three different members');
    assert.deepEqual(errors.map((e) => e.code), ['NO_ROUTE']);
  });

  it('names and secrets: the same name gives the same group; a short secret or another secret under a taken name is refused; '
    + 'an invite carries the secret and the name', () => {
    const { groups } = ours();
    const club = groups.group('club');
    assert.equal(groups.group('club'), club);
    assert.throws(() => groups.group('other', { secret: randomBytes(8) }), { code: 'BAD_ARGUMENT' });
    assert.throws(() => groups.group('club', { secret: randomBytes(32) }), { code: 'BAD_ARGUMENT' });
    const { group, card } = ours().groups.fromLink(club.invite());
    assert.equal(group.id, club.id);
    assert.equal(group.name, 'club');
    assert.equal(card, people.me.card.text);
    assert.throws(() => groups.fromLink('https://app.example/#card=abc'), { code: 'BAD_ARGUMENT' });
  });

  // A member holding the secret (in a swarm: anyone holding its link) is the attacker below.

  it('a group message must come from the member who sent it (full mesh), never makes us pass messages on, and is '
    + 'bounded per connection; an open group (a swarm) takes none', async () => {
    const { groups } = ours();
    const secret = randomBytes(32);
    const group = groups.group('club', { secret });
    const got = [];
    group.addEventListener('message', (e) => got.push(e.from));
    const links = await withMembers(groups, group, secret, ['ann', 'ben']);
    // Ann says Ben (connected to us) wrote it: made up, dropped. Dan (a member we do not know) may have: taken, but
    // it does not make us pass messages on.
    await links.ann.receive({ t: 'group-msg', group: group.id, mid: 'AAAAAAAAAAAA', from: people.ben.keyId, data: 'x' });
    await links.ann.receive({ t: 'group-msg', group: group.id, mid: 'BBBBBBBBBBBB', from: people.dan.keyId, data: 'x' });
    assert.deepEqual(got, [people.dan.keyId]);
    got.length = 0;
    await links.ann.receive({ t: 'group-msg', group: group.id, mid: 'DDDDDDDDDDDD', from: people.ann.keyId, data: 'x' });
    assert.ok(!links.ben.sent.some((f) => f.t === 'group-msg'), 'nothing passed on');
    for (let i = 0; i < 200; i++) {
      await links.ann.receive({ t: 'group-msg', group: group.id, mid: `m${String(i).padStart(11, '0')}`, from: people.ann.keyId, data: 'x' });
    }
    assert.equal(got.length, 120 - 1, 'at most 120 a minute from one connection (Dan\'s went first)');
    // A swarm's group carries no messages at all (its members are whoever holds a link).
    const swarmSecret = randomBytes(32);
    const swarm = groups.openGroup('pushpeer-swarm:test', { secret: swarmSecret });
    const heard = [];
    swarm.addEventListener('message', (e) => heard.push(e));
    const s = await withMembers(groups, swarm, swarmSecret, ['cat']);
    await s.cat.receive({ t: 'group-msg', group: swarm.id, mid: 'CCCCCCCCCCCC', from: people.cat.keyId, data: 'x' });
    assert.deepEqual(heard, []);
    assert.throws(() => swarm.send('x'), { code: 'BAD_ARGUMENT' });
  });

  it('member lists: a full list only from the member we join through (at most maxFullMesh entries), a newcomer at a '
    + 'time from the others, at most 30 a minute per connection, and at most 64 members not connected', async () => {
    const secret = randomBytes(32);
    const { groups } = ours({ maxFullMesh: 3 });
    const group = groups.group('club', { secret });
    const links = await withMembers(groups, group, secret, ['ann']);
    const entry = (p) => ({ card: p.card.text, proof: core.base64urlEncode(core.groupProof({ secret, keyId: core.base64urlDecode(p.keyId) })) });
    const crowd = [];
    for (let i = 0; i < 140; i++) crowd.push(person(`s${i}`));
    // Ann is a member, but we are not joining through her: one entry (the newcomer she tells us of) per list.
    await links.ann.receive({ t: 'group-members', group: group.id, members: crowd.slice(0, 5).map(entry) });
    assert.equal(group.peers().length, 2, 'Ann and her newcomer');
    for (let i = 5; i < 60; i++) await links.ann.receive({ t: 'group-members', group: group.id, members: [entry(crowd[i])] });
    assert.equal(group.peers().length, 2 + 29, 'at most 30 lists a minute from one connection');
    // From many connections: the members we are not connected to stay at most 64 (the oldest go).
    for (let i = 60; i < 100; i++) {
      const c = new FakeConnection(crowd[i].keyId, crowd[i].name);
      groups.attach(c);
      await c.receive({ t: 'group-hello', group: group.id, proof: entry(crowd[i]).proof });
      await c.receive({ t: 'group-members', group: group.id, members: [entry(crowd[i + 40])] });
    }
    await settle();
    const unconnected = group.peers().filter((p) => !p.connected).map((p) => p.name);
    // s0 and s5..s33 from Ann (30), s100..s139 from the others (40): s0 and s5..s9 went.
    assert.deepEqual(unconnected, [...crowd.slice(10, 34), ...crowd.slice(100)].map((p) => p.name),
      'not connected: the newest 64');
    assert.equal(group.peers().filter((p) => p.connected).length, 41, 'connected members are never dropped');
    // Joining through Ben: his list counts, up to maxFullMesh entries.
    let ben;
    const { groups: g2 } = ours({ maxFullMesh: 3 }, { connectionTo: (keyId) => (keyId === people.ben.keyId ? ben : null) });
    ben = open(g2, 'ben');
    const club = g2.group('club', { secret });
    const joined = club.join(people.ben.card.text);
    await settle();
    await ben.receive({ t: 'group-hello', group: club.id, proof: proofOf(secret, 'ben') });
    await joined;
    await ben.receive({ t: 'group-members', group: club.id, members: crowd.slice(0, 10).map(entry) });
    assert.equal(club.peers().length, 1 + 3);
  });

  it('a vouch that came with a carried call makes its caller a member only once the call is admitted (its envelope '
    + 'opened); the carrier rule counts only members connected to us', async () => {
    const { groups } = ours();
    const secret = randomBytes(32);
    const group = groups.group('club', { secret });
    const links = await withMembers(groups, group, secret, ['ann']);
    groups.vouch(people.dan.keyId, { group: group.id, proof: proofOf(secret, 'dan') });
    assert.deepEqual(group.peers().map((p) => p.name), ['ann'], 'not a member on an unopened envelope\'s word');
    assert.equal(groups.routesTo(people.dan.keyId).length, 0);
    assert.deepEqual(groups.admits({ from: people.dan.keyId, via: people.ann.keyId }), { group, accept: true, transient: false });
    assert.deepEqual(group.peers().map((p) => [p.name, p.connected]), [['ann', true], ['', false]]);
    // Ann tells us of Ben (a newcomer, not connected to us): no carrying between Ben and Ann on that word.
    await links.ann.receive({ t: 'group-members', group: group.id, members: [{ card: people.ben.card.text, proof: proofOf(secret, 'ben') }] });
    assert.equal(groups.shared(people.ben.keyId, people.ann.keyId), null);
    assert.equal(groups.vouches(people.cat.keyId, { group: group.id, proof: proofOf(secret, 'cat') }, people.ann.keyId,
      people.ben.keyId), false);
    const ben = open(groups, 'ben');
    await ben.receive({ t: 'group-hello', group: group.id, proof: proofOf(secret, 'ben') });
    assert.equal(groups.shared(people.ben.keyId, people.ann.keyId), group);
  });

  it('an open group (a swarm): its members are kept as transient peers, and at most maxNeighbours of them are taken '
    + 'without asking; beyond, their calls are declined', async () => {
    const { groups } = ours({ maxNeighbours: 2, neighbourLimit: 2 });
    const secret = randomBytes(32);
    const swarm = groups.openGroup('pushpeer-swarm:x', { secret });
    await withMembers(groups, swarm, secret, ['ann']);
    const call = (who) => { groups.vouch(people[who].keyId, { group: swarm.id, proof: proofOf(secret, who) });
      return groups.admits({ from: people[who].keyId, via: people.ann.keyId }); };
    assert.deepEqual(call('dan'), { group: swarm, accept: true, transient: true });
    const ben = open(groups, 'ben');
    await ben.receive({ t: 'group-hello', group: swarm.id, proof: proofOf(secret, 'ben') });
    assert.deepEqual(call('cat'), { group: swarm, accept: false, transient: true }, 'two connected: full');
  });

  it('an open group hands out no grants: our hello carries our card without them, a member is listed with the '
    + 'card its hello carried (never the one we keep for it), and a listed card with grants is not taken', async () => {
    const { groups } = ours();
    const secret = randomBytes(32);
    const swarm = groups.openGroup('pushpeer-swarm:z', { secret });
    const ann = open(groups, 'ann');
    await ann.receive({ t: 'group-hello', group: swarm.id, proof: proofOf(secret, 'ann'), card: people.ann.openCard.text, join: true });
    await settle();
    assert.equal(ann.sent.find((f) => f.t === 'group-hello').card, people.me.openCard.text);
    // Ben's hello carries his card with grants (an older page, or a trick): he is a member, but never listed.
    const ben = open(groups, 'ben');
    await ben.receive({ t: 'group-hello', group: swarm.id, proof: proofOf(secret, 'ben'), card: people.ben.card.text, join: true });
    await settle();
    assert.deepEqual(ann.sent.filter((f) => f.t === 'group-members').flatMap((f) => f.members), [],
      'peerCard holds Ben\'s card with grants: not listed');
    assert.deepEqual(ben.sent.find((f) => f.t === 'group-members').members.map((m) => m.card), [people.ann.openCard.text]);
    // Cat's hello carries Dan's card: not taken either.
    const cat = open(groups, 'cat');
    await cat.receive({ t: 'group-hello', group: swarm.id, proof: proofOf(secret, 'cat'), card: people.dan.openCard.text, join: true });
    await settle();
    assert.deepEqual(cat.sent.find((f) => f.t === 'group-members').members.map((m) => m.card), [people.ann.openCard.text]);
    // A member's list (one entry: a newcomer it tells us of): one with grants is dropped.
    await ann.receive({ t: 'group-members', group: swarm.id, members: [{ card: people.dan.card.text, proof: proofOf(secret, 'dan') }] });
    assert.ok(!swarm.peers().some((p) => p.name === 'dan'));
    await ann.receive({ t: 'group-members', group: swarm.id, members: [{ card: people.dan.openCard.text, proof: proofOf(secret, 'dan') }] });
    assert.ok(swarm.peers().some((p) => p.name === 'dan' && !p.connected));
  });

  it('a carried call from a member of a closed group of ours who is also in a swarm with us is the group\'s (a peer for '
    + 'good), whichever group was made first, and a full swarm does not decline it', async () => {
    for (const options of [{}, { maxNeighbours: 1, neighbourLimit: 1 }]) {
      const { groups } = ours(options);
      const swarmSecret = randomBytes(32);
      const clubSecret = randomBytes(32);
      // The site's swarm is joined as soon as a connection opens; the app's group comes later.
      const swarm = groups.openGroup('pushpeer-swarm:site', { secret: swarmSecret });
      const club = groups.group('club', { secret: clubSecret });
      for (const who of ['ann', 'ben']) {
        const c = open(groups, who);
        await c.receive({ t: 'group-hello', group: swarm.id, proof: proofOf(swarmSecret, who), card: people[who].openCard.text });
        await c.receive({ t: 'group-hello', group: club.id, proof: proofOf(clubSecret, who) });
        await settle();
      }
      assert.deepEqual(groups.admits({ via: people.ann.keyId, from: people.ben.keyId }), { group: club, accept: true, transient: false });
    }
  });

  it('walks from one connection: at most 60 a minute; calls at walks\' ends: at most 12 a minute (each makes an '
    + 'RTCPeerConnection for a card a member chose); an open group\'s is transient', async () => {
    const secret = randomBytes(32);
    const calls = [];
    const { groups } = ours({ maxFullMesh: 2, walkLength: 8 }, { connect: async (card, o) => calls.push([who(card), o.transient]) });
    const group = groups.group('club', { secret });
    const links = await withMembers(groups, group, secret);
    const walk = { t: 'group-walk', group: group.id, card: people.dan.card.text, proof: proofOf(secret, 'dan'), trail: [] };
    for (let i = 0; i < 70; i++) await links.ann.receive(walk);
    assert.equal(walksIn(links).length, 60);
    await links.ben.receive(walk);
    assert.equal(walksIn(links).length, 61, 'another connection has its own budget');
    // Walks that end here, each for another member: 12 calls, the rest dropped.
    const ended = [];
    const { groups: g3 } = ours({ maxFullMesh: 2, walkLength: 1, maxNeighbours: 100 }, { connect: async (card) => ended.push(card) });
    const club3 = g3.group('club', { secret });
    const l3 = await withMembers(g3, club3, secret, ['ann', 'ben']);
    for (let i = 0; i < 20; i++) {
      const p = person(`w${i}`);
      await l3.ann.receive({ t: 'group-walk', group: club3.id, card: p.card.text,
        proof: core.base64urlEncode(core.groupProof({ secret, keyId: core.base64urlDecode(p.keyId) })), trail: [FAR] });
    }
    await settle();
    assert.equal(ended.length, 12);
    const { groups: g2 } = ours({ maxFullMesh: 2, walkLength: 1 }, { connect: async (card, o) => calls.push([who(card), o.transient]) });
    const swarm = g2.openGroup('pushpeer-swarm:y', { secret });
    const s = await withMembers(g2, swarm, secret, ['ann', 'ben']);
    await s.ann.receive({ ...walk, group: swarm.id, trail: [FAR] }); // a card with grants: not an open group's
    await settle();
    assert.deepEqual(calls, []);
    await s.ann.receive({ ...walk, group: swarm.id, card: people.dan.openCard.text, trail: [FAR] });
    await settle();
    assert.deepEqual(calls, [['dan', true]]);
  });

  it('names beginning with pushpeer- are the library\'s: a page\'s group() or an invite cannot take one', () => {
    const { groups } = ours();
    assert.throws(() => groups.group('pushpeer-swarm:abc'), { code: 'BAD_ARGUMENT' });
    const invite = groups.group('club').invite().replace('gname=club', 'gname=pushpeer-swarm%3Aabc');
    assert.throws(() => ours().groups.fromLink(invite), { code: 'BAD_ARGUMENT' });
    assert.throws(() => groups.openGroup('mine', { secret: randomBytes(32) }), { code: 'BAD_ARGUMENT' });
    const swarm = groups.openGroup('pushpeer-swarm:abc', { secret: randomBytes(32) });
    assert.equal(swarm.open, true);
    assert.equal(groups.group('club').open, false);
  });
});
