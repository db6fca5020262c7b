// js/store/store.js over its in-memory backend (js/store/memory.js): the same methods as over IndexedDB, written
// once over the backends' primitives (the IndexedDB backend runs in the browser tests, under every page).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { createMemoryStore } from '../../js/store/store.js';

describe('store.js: createMemoryStore', () => {
  it('claimInbox is true for exactly one of two concurrent claims, and only for a new item', async () => {
    const store = createMemoryStore();
    const id = await store.addInbox({ type: 'offer', from: 'x' });
    assert.equal((await store.getInbox(id)).state, 'new');
    const results = await Promise.all([store.claimInbox(id, 'page-a'), store.claimInbox(id, 'page-b')]);
    assert.deepEqual(results, [true, false]);
    const item = await store.getInbox(id);
    assert.equal(item.state, 'claimed');
    assert.equal(item.owner, 'page-a');
    assert.equal(await store.claimInbox(id, 'page-c'), false);
    assert.equal(await store.claimInbox(12345, 'page-c'), false, 'no such item');
    // many at once: still one
    const id2 = await store.addInbox({ type: 'offer' });
    const many = await Promise.all(Array.from({ length: 10 }, (_, i) => store.claimInbox(id2, `p${i}`)));
    assert.equal(many.filter(Boolean).length, 1);
    // a declined or done item is not claimable
    const id3 = await store.addInbox({ type: 'offer' });
    await store.updateInbox(id3, { state: 'declined' });
    assert.equal(await store.claimInbox(id3, 'p'), false);
    assert.equal((await store.getInbox(id3)).state, 'declined');
  });

  it('values are copies: changing what went in or came out does not change the store', async () => {
    const store = createMemoryStore();
    const identity = { privateKey: new Uint8Array([1, 2, 3]), publicKey: new Uint8Array([4]) };
    await store.set('identity', identity);
    identity.privateKey[0] = 99;
    const got = await store.get('identity');
    assert.deepEqual(got.privateKey, new Uint8Array([1, 2, 3]));
    got.privateKey[1] = 99;
    got.extra = true;
    assert.deepEqual(await store.get('identity'), { privateKey: new Uint8Array([1, 2, 3]), publicKey: new Uint8Array([4]) });

    const peer = { keyId: 'k1', identity: new Uint8Array([7]), card: new Uint8Array([8]), name: 'A', updated: 1 };
    await store.putPeer(peer);
    peer.name = 'changed';
    const p = await store.getPeer('k1');
    p.name = 'changed too';
    p.card[0] = 0;
    (await store.peers())[0].name = 'and again';
    assert.deepEqual(await store.getPeer('k1'), { keyId: 'k1', identity: new Uint8Array([7]), card: new Uint8Array([8]), name: 'A', updated: 1 });

    const item = { type: 'offer', body: new Uint8Array([5]) };
    const id = await store.addInbox(item);
    item.type = 'bye';
    assert.equal(item.id, undefined, 'the caller\'s object is not given an id');
    const i1 = await store.getInbox(id);
    i1.state = 'done';
    i1.body[0] = 0;
    (await store.inbox())[0].state = 'declined';
    const updated = await store.updateInbox(id, { state: 'claimed', owner: 'me' });
    updated.owner = 'someone else';
    assert.deepEqual(await store.getInbox(id), { id, type: 'offer', body: new Uint8Array([5]), state: 'claimed', owner: 'me' });
    assert.equal(await store.updateInbox(999, { state: 'done' }), null);

    const session = { key: 'k1:s', sessionId: 's', peer: 'k1', role: 'caller', answer: new Uint8Array([1]) };
    await store.putSession(session);
    session.role = 'callee';
    (await store.getSession('k1:s')).answer[0] = 9;
    assert.deepEqual(await store.getSession('k1:s'), { key: 'k1:s', sessionId: 's', peer: 'k1', role: 'caller', answer: new Uint8Array([1]) });
    assert.equal(await store.get('missing'), undefined);
    assert.equal(await store.getPeer('missing'), undefined);
  });

  it('ids increase, delete removes, clear() empties kv, peers, inbox and sessions', async () => {
    const store = createMemoryStore({ name: 'mine' });
    assert.equal(store.name, 'mine');
    await store.set('identity', { a: 1 });
    await store.set('replay', new Uint8Array([1]));
    await store.putPeer({ keyId: 'k', name: 'K' });
    const a = await store.addInbox({ type: 'offer' });
    const b = await store.addInbox({ type: 'answer' });
    assert.ok(b > a);
    await store.putSession({ key: 'k1:s', sessionId: 's' });
    await store.delete('replay');
    assert.equal(await store.get('replay'), undefined);
    await store.deleteInbox(a);
    assert.deepEqual((await store.inbox()).map((i) => i.id), [b]);

    await store.clear();
    assert.equal(await store.get('identity'), undefined);
    assert.deepEqual(await store.peers(), []);
    assert.deepEqual(await store.inbox(), []);
    assert.equal(await store.getInbox(b), undefined);
    assert.equal(await store.getSession('k1:s'), undefined);
    // usable afterwards, with fresh ids (no reuse of old ones)
    const c = await store.addInbox({ type: 'bye' });
    assert.ok(c > b);
    assert.equal((await store.inbox()).length, 1);
  });
});
