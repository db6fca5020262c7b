// Compiled by `tsc -p tests/types` (npm test): the package's types as an app sees them, through its exports.
// A wrong or missing declaration is a type error here.
import { PushPeer, PushPeerError, createMemoryStore, loadCore, openPagePush, type Connection, type PagePushState,
  type PushPeerErrorCode } from 'pushpeer';
import { loadCore as loadCoreOnly } from 'pushpeer/core';
import { createRelay, serveRelayNode, type RelayErrorCode } from 'pushpeer/relay';

export async function page(registration: ServiceWorkerRegistration, cardText: string): Promise<string> {
  const peer = await PushPeer.create({ serviceWorker: registration, subject: 'mailto:me@example.com', name: 'Alice',
    iceServers: [{ urls: 'stun:stun.example.org' }], relay: 'https://relay.example/push', answerTimeoutMs: 20_000,
    autoAccept: false, allowPushHosts: ['http://127.0.0.1:8090'] });
  const card = peer.card();
  const neighboursOnly: string = peer.card({ push: false }).text; // no grants: called through a neighbour only
  void neighboursOnly;
  const link: string = card.link;
  peer.addEventListener('request', (event) => {
    if (event.from.name === 'Mallory') void event.decline();
    else event.accept().then((c: Connection) => c.send('welcome'));
  });
  peer.addEventListener('siteupdate', (event) => console.log(event.version, event.previous ?? 'first'));
  void peer.siteStatus().then((status) => status?.files.filter((f) => f.source === 'peer').map((f) => f.path));
  peer.addEventListener('sitefile', (event) => console.log(event.path, event.source, event.bytes, Object.keys(event.from ?? {})));
  peer.addEventListener('connection', (event) => {
    event.connection.addEventListener('message', (m) => console.log(m.data));
    event.connection.addEventListener('track', (t) => console.log(t.track.kind));
    event.connection.addEventListener('remotechange', (r) => console.log(r.remote.name));
    event.connection.addEventListener('close', (c) => {
      const by: 'us' | 'peer' | 'network' = c.by;
      console.log(c.reason, by, c.peerReason, event.connection.closeInfo?.by);
    });
  });
  peer.addEventListener('peergone', (event) => console.log(event.keyId, event.status));
  try {
    const cancel = new AbortController();
    peer.addEventListener('progress', (p) => {
      if (p.step === 'offer-sent' && p.giveUpAt !== undefined && p.answerBy !== undefined) console.log(p.giveUpAt - p.answerBy);
    });
    const connection = await peer.connect(cardText, { answerTimeoutMs: 10_000, signal: cancel.signal });
    connection.send(new Uint8Array([1, 2, 3]));
    await connection.write(new Uint8Array(64 * 1024), { highWater: 1 << 20 });
    await peer.setName('Alicia');
    connection.addStream(await navigator.mediaDevices.getUserMedia({ audio: true }));
    connection.close();
  } catch (error) {
    if (error instanceof PushPeerError) {
      const code: PushPeerErrorCode = error.code;
      if (code === 'PEER_GONE' || code === 'RATE_LIMITED') return `${code} ${error.status} ${error.retryAfter}`;
      if (code === 'HOST_NOT_ALLOWED' || code === 'WRONG_RECIPIENT' || code === 'BAD_TEXT') return code;
      if (code === 'ABORTED' || code === 'EXPIRED') return code;
    }
    throw error;
  }
  const peers = await peer.peers();
  peer.addEventListener('requestexpired', (e) => console.log(e.request.id, e.request.expiresAt));
  for (const request of await peer.requests()) {
    if (request.known && request.age < 60) await request.accept();
    else await request.decline({ notify: false });
  }
  const share = await peer.share([new File(['hi'], 'a.txt', { type: 'text/plain' })], { title: 'T' });
  const dl = peer.fetch(share.link, { window: 4 });
  for (const kept of await peer.shares()) {
    if (!kept.complete && kept.from && kept.link) peer.fetch(kept.link).pause(); // resumes a download; pieces(0) so far
  }
  console.log(dl.pieces(0).length * dl.pieceSize, share.created);
  const swarm = peer.fetch(share.link, { strategy: 'sequential' });
  const from: { keyId: string | null; pieces: number; banned: boolean }[] = swarm.peers();
  console.log(from.length, swarm.has(0, 0));
  dl.addEventListener('progress', (p) => console.log(p.bytes / p.totalBytes, p.rate));
  dl.addEventListener('verified', (v) => console.log(v.file, v.piece));
  dl.addEventListener('manifest', (m) => console.log(m.manifest.files[0]?.root));
  const reader: ReadableStreamDefaultReader<Uint8Array> = dl.stream(0).getReader();
  await reader.cancel();
  const blob: Blob = await (await dl.done).blob(0);
  const listed: boolean = (await peer.shares()).some((s) => s.complete && s.stats().bytes >= blob.size);
  console.log(listed, await share.remove());
  const saved: string = await peer.savePeer(cardText);
  await peer.forgetPeer(saved);
  return `${link} ${peers.length} ${peers[0]?.gone}`;
}

export async function node(): Promise<void> {
  const core = await loadCore({ flavor: 'debug' });
  const hasher = core.contentHasher();
  hasher.update(new Uint8Array(100));
  const tree = hasher.finish();
  const loaded = core.contentTree(tree);
  const data = loaded.encodeData(1, 0, 0, 1, new Uint8Array(100));
  loaded.release();
  const checked: { data: Uint8Array; leaves: Uint8Array } = core.openContentData({ frame: data, root: tree.root,
    size: tree.size, file: 0, first: 0, count: 1 });
  const sharer = core.generateVapidKeys();
  const manifest = core.createManifest({ privateKey: sharer.privateKey, files: [{ name: 'a', size: 100, root: tree.root }] });
  const m = core.openManifest(manifest, { id: core.manifestId(manifest) });
  const site = core.openSiteManifest(core.createSiteManifest({ privateKey: sharer.privateKey, version: 2,
    files: [{ name: 'app.js', size: 100, type: 'text/javascript', root: tree.root }] }));
  const version: number = site.version;
  console.log(version, site.manifest.files.length, site.manifestBytes.length, core.limits.content.maxSiteManifestLength);
  console.log(checked.data.length, m.files[0]?.name, core.limits.content.leafSize,
    core.decodeContentFrame(core.encodeContentFrame({ type: 'cancel', request: 1 })).type);
  const have = core.decodeContentFrame(core.encodeContentFrame({ type: 'have', request: 2, share: tree.root, file: 0,
    first: 0, count: core.limits.content.pieceLeaves, bits: Uint8Array.of(0xff) }));
  const bits: Uint8Array | undefined = have.bits;
  console.log(bits?.length, core.limits.content.maxPieces);
  const other = await loadCoreOnly();
  const keys = core.generateVapidKeys();
  const grants = other.issueGrants({ privateKey: keys.privateKey, endpoint: 'https://push.example/x', subject: 'mailto:a@b.c' });
  const bob = core.keyIdOf(core.generateVapidKeys().publicKey);
  const offer = core.sealEnvelope({ type: 'offer', privateKey: keys.privateKey, recipient: bob });
  const opened = core.openEnvelope(offer, { self: bob, replay: false });
  const topic: string = core.pushTopic('answer', opened.sender, opened.sessionId);
  const ref: Uint8Array = core.envelopeReference(offer);
  console.log(topic, ref.length, core.limits.maxPayload, core.generation, opened.typeName === 'offer', core.testing?.heapSnapshot().length);
  await core.ready();
  const store = createMemoryStore();
  await store.set('x', grants.length);
  const handler = createRelay({ allowHosts: ['push.example'], timeoutMs: 8000, bodyTimeoutMs: 3000 });
  const response: Response = await handler(new Request('https://relay.example/push', { method: 'OPTIONS' }));
  const relay = await serveRelayNode({ port: 0, headersTimeoutMs: 5000, requestTimeoutMs: 9000, maxConnectionsPerClient: Infinity });
  await relay.close();
  const codes: RelayErrorCode[] = ['BODY_TIMEOUT', 'REQUEST_TIMEOUT', 'TOO_MANY_CONNECTIONS'];
  console.log(response.status, codes);
}

/** Call-only mode: the page holds its push channel (js/push/page-push.d.ts) and hands its subscribe to PushPeer. */
export async function callOnly(wsUrl: string, cardText: string): Promise<void> {
  const core = await loadCore();
  const channel = await openPagePush({ url: wsUrl, core, connectTimeoutMs: 5000 });
  channel.addEventListener('statechange', (e) => console.log(e.state));
  channel.addEventListener('subscriptionchange', (e) => console.log(e.subscription.endpoint));
  const state: PagePushState = channel.state;
  const peer = await PushPeer.create({ core, subscribe: channel.subscribe, name: state });
  await peer.connect(cardText);
  channel.close();
}
