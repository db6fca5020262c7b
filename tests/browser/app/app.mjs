// Test app for tests/browser/e2e.test.mjs: window.app drives the public PushPeer API (js/index.js) and records
// what a user would see (connections, messages, tracks, requests, errors).
import { loadCore, PushPeer } from '/js/index.js';
import { openStore } from '/js/store/store.js';

const state = { peer: null, registration: null, connections: [], events: [], requests: [], errors: [], connecting: [] };

function toB64u(bytes) {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function waitFor(check, timeoutMs, what) {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const tick = () => {
      const v = check();
      if (v) resolve(v);
      else if (Date.now() - t0 > timeoutMs) reject(new Error(`${what}: timed out after ${timeoutMs} ms`));
      else setTimeout(tick, 20);
    };
    tick();
  });
}

const earlyTracks = new WeakMap();

function track(connection) {
  // The same array the 'connecting' listener fills keeps filling.
  const tracks = earlyTracks.get(connection) ?? [];
  const entry = { connection, messages: [], tracks, negotiations: [], closed: null, closeInfo: null, remoteNames: [] };
  connection.addEventListener('message', (e) => entry.messages.push(typeof e.data === 'string' ? e.data : `[${e.data.byteLength} bytes]`));
  if (!earlyTracks.has(connection)) connection.addEventListener('track', (e) => entry.tracks.push(e.track.kind));
  connection.addEventListener('negotiation', (e) => entry.negotiations.push(`${e.direction}:${e.sdpType}`));
  connection.addEventListener('close', (e) => {
    entry.closed = e.reason;
    entry.closeInfo = { reason: e.reason, by: e.by, peerReason: e.peerReason };
  });
  connection.addEventListener('remotechange', (e) => entry.remoteNames.push(e.remote.name));
  state.connections.push(entry);
  return state.connections.length - 1;
}

/** Deterministic content: byte i = (i * 13 + seed) mod 256. */
function patternBytes(size, seed) {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (i * 13 + seed) & 0xff;
  return out;
}

async function sha256Hex(blob) {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await blob.arrayBuffer()));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

function describeError(error) {
  return { code: error?.code ?? null, message: String(error?.message ?? error), status: error?.status ?? null,
    reason: error?.reason ?? null };
}

window.app = {
  state,
  /** The script URL of the active service worker (which build runs). */
  workerScript: () => state.registration?.active?.scriptURL ?? null,
  async create(options = {}) {
    // reloadOn: reload this page the moment the callee reaches a step ('request', 'connecting', 'answer-sent',
    // 'open'), once: the reload tests.
    // pagePush: the push service's WebSocket URL; the page holds its push channel itself (call-only mode).
    const { hostSubscribe, manual, swType = 'module', reloadOn, pagePush, ...rest } = options;
    state.registration = swType === 'classic'
      ? await navigator.serviceWorker.register('./sw-classic.js', { scope: './' })
      : await navigator.serviceWorker.register('./sw.mjs', { type: 'module', scope: './' });
    await navigator.serviceWorker.ready;
    const peerOptions = { serviceWorker: state.registration, ...rest };
    // Browsers without a reachable push service (Chromium offline): the test makes the subscription.
    if (hostSubscribe) peerOptions.subscribe = (key) => window.pushpeerSubscribe(toB64u(key));
    if (pagePush) {
      const { openPagePush } = await import('/js/push/page-push.js');
      peerOptions.core = await loadCore();
      state.pagePush = await openPagePush({ url: pagePush, core: peerOptions.core, store: rest.store });
      peerOptions.subscribe = state.pagePush.subscribe;
    }
    const peer = await PushPeer.create(peerOptions);
    state.peer = peer;
    if (reloadOn) {
      const reload = () => {
        sessionStorage.setItem('reloaded', reloadOn);
        location.reload();
      };
      if (reloadOn === 'request') peer.addEventListener('request', (e) => { e.preventDefault(); reload(); });
      if (reloadOn === 'connecting') peer.addEventListener('connecting', (e) => e.role === 'callee' && reload());
      if (reloadOn === 'answer-sent') peer.addEventListener('progress', (e) => e.step === 'answer-sent' && reload());
      if (reloadOn === 'open') peer.addEventListener('connection', (e) => e.connection.role === 'callee' && reload());
    }
    // Tracks of media sent from the start arrive with the offer, before the connection opens.
    peer.addEventListener('connecting', (e) => {
      state.connecting.push(e.connection);
      // ICE and connection states with times, for the timelines the reload tests read.
      e.connection.addEventListener('statechange', (s) => state.events.push({ type: 'pcstate', at: Date.now(),
        detail: `${e.connection.role}:${s.state}`, code: e.connection.sessionId }));
      const early = [];
      earlyTracks.set(e.connection, early);
      e.connection.addEventListener('track', (t) => early.push(t.track.kind));
    });
    peer.addEventListener('connection', (e) => {
      if (!state.connections.some((c) => c.connection === e.connection)) track(e.connection);
      state.events.push({ type: 'connection', at: Date.now() });
    });
    peer.addEventListener('request', (e) => {
      state.events.push({ type: 'request', from: e.from.name, via: e.via, at: Date.now() });
      // The app decides (pushpeer answers nobody on its own: autoAccept is off by default).
      if (reloadOn === 'request') return; // reloading instead (see above)
      if (manual || state.decision === 'hold') {
        e.preventDefault();
        state.requests.push(e);
      } else if (state.decision === 'decline') {
        void e.decline();
      } else if (state.decision !== 'ignore') {
        e.accept().catch((error) => state.events.push({ type: 'accept-failed', code: error?.code, at: Date.now() }));
      }
    });
    peer.addEventListener('carried', (e) => state.events.push({ type: 'carried', from: e.from, to: e.to, hops: e.hops, at: Date.now() }));
    for (const type of ['error', 'rejected', 'peergone', 'progress', 'push', 'log']) {
      peer.addEventListener(type, (e) => state.events.push({ type, at: Date.now(), code: e.code ?? e.error?.code,
        detail: e.detail ?? e.step ?? e.message ?? null, status: e.status ?? null,
        ...(e.step === 'offer-sent' ? { answerBy: e.answerBy, giveUpAt: e.giveUpAt, attempt: e.attempt } : {}) }));
    }
    peer.addEventListener('requestexpired', (e) => state.events.push({ type: 'requestexpired', at: Date.now(),
      id: e.request.id, sessionId: e.request.sessionId, from: e.request.from.name }));
    peer.addEventListener('siteupdate', (e) => state.events.push({ type: 'siteupdate', at: Date.now(), version: e.version }));
    peer.addEventListener('sitefile', (e) => state.events.push({ type: 'sitefile', at: Date.now(), path: e.path,
      source: e.source, bytes: e.bytes, from: e.from }));
    peer.addEventListener('cardchange', (e) => state.events.push({ type: 'cardchange', at: Date.now(), detail: e.card.text }));
    return { card: peer.card(), keyId: peer.keyId };
  },
  card: () => state.peer.card(),
  /** 'decline' makes the page decline the requests that come, 'ignore' leaves them pending (default: accepted). */
  setDecision(decision) {
    state.decision = decision;
  },
  async connect(card, options = {}) {
    const t0 = performance.now();
    // abortAfter: 'now' (a signal aborted before the call) or a progress step ('offer-sent') at which to abort.
    const { abortAfter, ...rest } = options;
    let signal;
    if (abortAfter) {
      const controller = new AbortController();
      signal = controller.signal;
      if (abortAfter === 'now') controller.abort();
      else {
        state.peer.addEventListener('progress', function onStep(e) {
          if (e.step !== abortAfter) return;
          state.peer.removeEventListener('progress', onStep);
          controller.abort();
        });
      }
    }
    try {
      // { media: true }: call with the (fake) camera and microphone from the start.
      const media = rest.media ? await navigator.mediaDevices.getUserMedia({ audio: true, video: true }) : undefined;
      const connection = await state.peer.connect(card, { ...rest, media, ...(signal ? { signal } : {}) });
      const index = state.connections.findIndex((c) => c.connection === connection);
      return { index: index >= 0 ? index : track(connection), ms: performance.now() - t0 };
    } catch (error) {
      return { error: describeError(error), ms: performance.now() - t0 };
    }
  },
  waitConnections: (n, timeoutMs = 30000) => waitFor(() => state.connections.length >= n, timeoutMs,
    `${n} connection(s)`).then(() => state.connections.length),
  send(index, text) {
    state.connections[index].connection.send(text);
  },
  waitMessages: (index, n, timeoutMs = 15000) => waitFor(() => state.connections[index]?.messages.length >= n &&
    state.connections[index].messages.slice(), timeoutMs, `${n} message(s)`),
  async addMedia(index) {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    state.connections[index].connection.addStream(stream);
    return stream.getTracks().map((t) => t.kind);
  },
  waitTracks: (index, n, timeoutMs = 20000) => waitFor(() => state.connections[index]?.tracks.length >= n &&
    state.connections[index].tracks.slice(), timeoutMs, `${n} track(s)`),
  negotiations: (index) => state.connections[index].negotiations.slice(),
  iceUfrags(index) {
    const pc = state.connections[index].connection.pc;
    const ufrag = (d) => /a=ice-ufrag:(\S+)/.exec(d?.sdp ?? '')?.[1] ?? null;
    return { local: ufrag(pc.currentLocalDescription), remote: ufrag(pc.currentRemoteDescription) };
  },
  /** The a=setup roles of a connection's local and remote descriptions (connection.js passiveAnswerSdp). */
  dtlsSetup(index) {
    const pc = state.connections[index].connection.pc;
    const setup = (d) => /a=setup:(\S+)/.exec(d?.sdp ?? '')?.[1] ?? null;
    return { local: setup(pc.currentLocalDescription), remote: setup(pc.currentRemoteDescription) };
  },
  restartIce(index) {
    state.connections[index].connection.restartIce();
  },
  accept: async (i) => {
    try {
      const c = await state.requests[i].accept();
      return { index: state.connections.findIndex((e) => e.connection === c) };
    } catch (error) {
      return { error: describeError(error) };
    }
  },
  decline: (i) => state.requests[i].decline().then(() => true, (error) => ({ error: describeError(error) })),
  inbox: async () => (await state.peer.store.inbox()).map(({ body, ...rest }) => rest),
  // The inbox as the service worker left it, read without creating a PushPeer (which would process it).
  async rawInbox() {
    const store = await openStore();
    try {
      return (await store.inbox()).map(({ body, ...rest }) => rest);
    } finally {
      store.close();
    }
  },
  peers: () => state.peer.peers(),
  events: (type) => state.events.filter((e) => !type || e.type === type),
  notifications: async () => (await (state.registration ?? await navigator.serviceWorker.ready).getNotifications())
    .map((n) => ({ title: n.title, body: n.body, tag: n.tag })),
  visibility: () => document.visibilityState,
  /** The browser's own push subscription's endpoint (null: none, as in call-only mode). */
  browserSubscription: async () => (await state.registration.pushManager.getSubscription())?.endpoint ?? null,
  /** Asks the service worker to re-subscribe (what pushsubscriptionchange does); resolves to its reply. */
  refreshSubscription: () => new Promise((resolve) => {
    navigator.serviceWorker.addEventListener('message', function once(e) {
      if (e.data?.pushpeer !== 'subscription') return;
      navigator.serviceWorker.removeEventListener('message', once);
      resolve(e.data);
    });
    navigator.serviceWorker.startMessages();
    state.registration.active.postMessage({ pushpeer: 'refresh-subscription' });
  }),
  close(index, reason) {
    state.connections[index].connection.close(reason);
  },
  /** How connection `index` ended: the close event's { reason, by, peerReason } and connection.closeInfo. */
  closeInfo: (index) => ({ event: state.connections[index].closeInfo, property: state.connections[index].connection.closeInfo ?? null }),
  /** The last connection created (also one that never opened): its state and how it ended. */
  lastConnecting: () => {
    const c = state.connecting.at(-1);
    return c ? { state: c.state, closeInfo: c.closeInfo ?? null, listed: state.peer.connections.has(c) } : null;
  },
  remoteNames: (index) => ({ names: state.connections[index].remoteNames.slice(),
    remote: state.connections[index].connection.remote.name, state: state.connections[index].connection.state }),
  setName: (name) => state.peer.setName(name).then(() => ({ card: state.peer.card().text }),
    (error) => ({ error: describeError(error) })),
  /** One connection.write(); resolves to {} or { error }. */
  write: (index, text, options) => state.connections[index].connection.write(text, options).then(() => ({}),
    (error) => ({ error: describeError(error) })),
  /**
   * A send loop like a file transfer's: connection.write() of `chunkBytes` at a time for ever, until a write fails.
   * writer(index) reports it: writes done, how many had waited on back-pressure, and the failure (and whether that
   * write was waiting on back-pressure).
   */
  startWriting(index, { chunkBytes = 64 * 1024, highWater = 256 * 1024 } = {}) {
    const entry = state.connections[index];
    const chunk = new Uint8Array(chunkBytes);
    const writer = { writes: 0, waited: 0, error: null, failedWhileWaiting: null, done: false };
    entry.writer = writer;
    void (async () => {
      for (;;) {
        const waiting = entry.connection.channel.bufferedAmount > highWater;
        try {
          await entry.connection.write(chunk, { highWater });
        } catch (error) {
          Object.assign(writer, { error: describeError(error), failedWhileWaiting: waiting, done: true });
          return;
        }
        writer.writes++;
        if (waiting) writer.waited++;
      }
    })();
  },
  writer: (index) => ({ ...state.connections[index].writer }),
  /** The requests peer.requests() lists now. */
  /** Groups: make (or take) one, with its events recorded; join by invite link; peers, send, events. */
  group(name, secret) {
    const group = state.peer.group(name, secret ? { secret } : undefined);
    state.groupEvents ??= new Map();
    if (!state.groupEvents.has(group)) {
      const events = [];
      state.groupEvents.set(group, events);
      for (const type of ['peerjoin', 'peerleave', 'message']) {
        group.addEventListener(type, (e) => events.push({ type, keyId: e.keyId ?? e.from, name: e.name, data: e.data,
          at: Date.now() }));
      }
    }
    return { id: group.id, invite: group.invite() };
  },
  /** Joins by invite link (the group's name and secret come from it), or the group `name` through `card`. */
  async joinGroup(link, { name, card } = {}) {
    try {
      const found = name ? { group: state.peer.group(name), card } : state.peer.groups.fromLink(link);
      window.app.group(found.group.name);
      await found.group.join(found.card);
      return { peers: found.group.peers() };
    } catch (error) {
      return { error: describeError(error) };
    }
  },
  groupPeers: (name) => state.peer.group(name).peers(),
  /** peer.savePeer(card): a peer of ours without a call. */
  savePeer: async (card) => {
    await state.peer.savePeer(card);
    return {};
  },
  groupSend: (name, data) => state.peer.group(name).send(data),
  groupEvents: (name) => state.groupEvents?.get(state.peer.group(name))?.slice() ?? [],
  pendingRequests: async () => (await state.peer.requests()).map((r) => ({ id: r.id, sessionId: r.sessionId,
    from: r.from.name, received: r.received, expiresAt: r.expiresAt })),
  /** accept() of the held request (decision 'hold') of a session: { index } or { error }. */
  async acceptSession(sessionId) {
    const request = state.requests.find((r) => r.sessionId === sessionId);
    try {
      const c = await request.accept();
      return { index: state.connections.findIndex((e) => e.connection === c) };
    } catch (error) {
      return { error: describeError(error) };
    }
  },
  heldSessions: () => state.requests.map((r) => r.sessionId),
  /**
   * Share by link: files made in the page from a pattern ({ name, type, size, seed }), shared; { id, link, root,
   * files (with their SHA-256), ms }.
   */
  async share(files, options = {}) {
    const t0 = performance.now();
    const made = files.map((f) => new File([patternBytes(f.size, f.seed ?? 1)], f.name, { type: f.type ?? '' }));
    try {
      const share = await state.peer.share(made, options);
      return { id: share.id, link: share.link, root: share.root, ms: performance.now() - t0,
        files: await Promise.all(made.map(async (f) => ({ name: f.name, size: f.size, sha256: await sha256Hex(f) }))) };
    } catch (error) {
      return { error: describeError(error) };
    }
  },
  shares: async () => (await state.peer.shares()).map((s) => ({ id: s.id, complete: s.complete, files: s.files })),
  /** Starts a download; its events are recorded: { index }. */
  fetchShare(link, options) {
    const dl = state.peer.fetch(link, options);
    state.downloads ??= [];
    const entry = { dl, events: [], t0: performance.now() };
    for (const type of ['manifest', 'progress', 'verified', 'error', 'done']) {
      dl.addEventListener(type, (e) => entry.events.push({ type, at: performance.now() - entry.t0,
        code: e.error?.code, piece: e.piece, file: e.file, bytes: e.bytes }));
    }
    state.downloads.push(entry);
    return { index: state.downloads.length - 1 };
  },
  /** Waits for a download: { state, error, progress, files: [{ name, size, sha256, type }], streamed (sha256 of stream(0)) }. */
  async download(index, { stream = false } = {}) {
    const { dl, events } = state.downloads[index];
    const streamed = stream ? sha256Hex(await new Response(dl.stream(0)).blob()) : null;
    try {
      await dl.done;
    } catch (error) {
      return { state: dl.state, error: describeError(error), events: events.slice(), progress: dl.progress() };
    }
    const files = await Promise.all(dl.manifest.files.map(async (f, i) => {
      const blob = await dl.blob(i);
      return { name: f.name, size: blob.size, type: blob.type, sha256: await sha256Hex(blob) };
    }));
    return { state: dl.state, files, progress: dl.progress(), streamed: await streamed, events: events.slice() };
  },
  downloadEvents: (index) => state.downloads[index].events.slice(),
  /** Who download `index` got what from: dl.peers(). */
  downloadPeers: (index) => state.downloads[index].dl.peers(),
  /**
   * Makes the peer `keyId` a source of download `index`, over our live connection to it, or a new call to `card`
   * (text): { added }.
   */
  async addSource(index, { keyId, card }) {
    let connection = state.connections.map((c) => c.connection).find((c) => !c.closed && c.remote.keyId === keyId);
    connection ??= await state.peer.connect(card);
    return { added: state.downloads[index].dl.addSource(connection) };
  },
  cancelDownload: (index) => state.downloads[index].dl.cancel().then(() => ({ state: state.downloads[index].dl.state })),
  /** Undoes lieInRanges and slowRanges. */
  honest() {
    if (state.honestRead) state.peer.content.server._read = state.honestRead;
  },
  /** Records `seconds` of an animated canvas as WebM (MediaRecorder) and shares it: { id, link, size, sha256 }. */
  async shareRecording(seconds, name = 'clip.webm') {
    const canvas = document.createElement('canvas');
    canvas.width = 640;
    canvas.height = 360;
    const g = canvas.getContext('2d');
    let frame = 0;
    const draw = setInterval(() => {
      frame++;
      for (let i = 0; i < 40; i++) {
        g.fillStyle = `hsl(${(frame * 7 + i * 37) % 360} 80% 50%)`;
        g.fillRect((frame * 13 + i * 53) % 640, (frame * 7 + i * 29) % 360, 60, 60);
      }
    }, 33);
    const stream = canvas.captureStream(30);
    const recorder = new MediaRecorder(stream, { mimeType: 'video/webm', videoBitsPerSecond: 4_000_000 });
    const parts = [];
    recorder.ondataavailable = (e) => parts.push(e.data);
    const stopped = new Promise((resolve) => { recorder.onstop = resolve; });
    recorder.start(250);
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    recorder.stop();
    await stopped;
    clearInterval(draw);
    const file = new File(parts, name, { type: 'video/webm' });
    const share = await state.peer.share(file);
    return { id: share.id, link: share.link, size: file.size, sha256: await sha256Hex(file) };
  },
  /** Caps what our content server sends each peer (the maxUploadRate option, set on a page created without it). */
  capUploads(bytesPerSecond) {
    state.peer.content.server._maxUploadRate = bytesPerSecond ?? Infinity;
  },
  /** Our server waits `ms` before each range it sends (a slow sharer). */
  slowRanges(ms) {
    const server = state.peer.content.server;
    state.honestRead ??= server._read;
    const read = state.honestRead.bind(server);
    server._read = async (...args) => {
      await new Promise((resolve) => setTimeout(resolve, ms));
      return read(...args);
    };
  },
  /**
   * Fetches a link and plays file 0 from download.url(0) as soon as the manifest is verified: { playingAt (ms after
   * fetch()), doneAt, piecesAtPlaying, totalPieces, stateAtPlaying, error }.
   */
  async playWhileFetching(link) {
    const t0 = performance.now();
    const dl = state.peer.fetch(link);
    const video = document.createElement('video');
    video.muted = true;
    document.body.append(video);
    const out = {};
    const playing = new Promise((resolve, reject) => {
      dl.done.catch(reject);
      video.addEventListener('playing', resolve, { once: true });
      video.addEventListener('error', () => reject(new Error(`video error ${video.error?.code} ${video.error?.message}`)), { once: true });
    });
    dl.addEventListener('manifest', () => {
      video.src = dl.url(0);
      video.play().catch(() => {});
    }, { once: true });
    try {
      await playing;
      out.playingAt = performance.now() - t0;
      out.stateAtPlaying = dl.state;
      out.piecesAtPlaying = dl.progress().pieces;
      await dl.done;
      out.doneAt = performance.now() - t0;
      out.totalPieces = dl.progress().totalPieces;
    } catch (error) {
      out.error = describeError(error);
    } finally {
      video.pause();
      video.remove();
    }
    return out;
  },
  /** GET of a share file's URL in this page: { status, headers, bytes (hex of at most 64), length }. */
  async fetchShareUrl(id, file, range) {
    const url = new URL(`pushpeer-share/${id}/${file}`, state.registration.scope).href;
    const r = await fetch(url, range ? { headers: { Range: range } } : {});
    const body = new Uint8Array(await r.arrayBuffer());
    const headers = {};
    for (const name of ['content-type', 'content-range', 'content-length', 'content-security-policy', 'x-content-type-options', 'content-disposition']) {
      headers[name] = r.headers.get(name);
    }
    return { status: r.status, headers, length: body.length, sha256: await sha256Hex(new Blob([body])) };
  },
  /** Our own share's file as served: the SHA-256 of a byte range of the original (for comparing with fetchShareUrl). */
  async rangeSha(id, file, start, end) {
    const share = (await state.peer.shares()).find((s) => s.id === id);
    return sha256Hex(await (await fetch(share.url(file))).blob().then((b) => b.slice(start, end + 1)));
  },
  /** Makes our server send one wrong byte in every `every`-th range from now on (a lying sharer). */
  lieInRanges(every = 3) {
    const server = state.peer.content.server;
    state.honestRead ??= server._read;
    const read = state.honestRead.bind(server);
    let n = 0;
    server._read = async (...args) => {
      const bytes = await read(...args);
      if (bytes && bytes.length > 0 && ++n % every === 0) bytes[bytes.length >> 1] ^= 0x55;
      return bytes;
    };
  },
  connectionStates: () => state.connections.map((c) => c.connection.state),
  closes: () => state.connections.map((c) => c.closeInfo).filter(Boolean),
  /** A site's files (the page's worker has the `site` option): each fetched as the page would, with its digest. */
  async siteGet(names) {
    const out = [];
    for (const name of names) {
      const r = await fetch(name);
      const body = await r.blob();
      out.push({ name, status: r.status, length: body.size, sha256: await sha256Hex(body),
        source: r.headers.get('X-PushPeer-Source'), version: r.headers.get('X-PushPeer-Site-Version') });
    }
    return out;
  },
  /** Controlled by the worker, and the worker has the site manifest: its version. */
  async siteReady() {
    await waitFor(() => navigator.serviceWorker.controller, 20_000, 'a controlling worker');
    return new Promise((resolve) => {
      const { port1, port2 } = new MessageChannel();
      port1.onmessage = (e) => resolve(e.data);
      navigator.serviceWorker.controller.postMessage({ pushpeer: 'site-refresh' }, [port2]);
    });
  },
};
window.appReady = true;
