// The pushpeer demo: a card to share, calls over two pushes, chat and verified file transfer, and a timeline of
// the signaling. Static files only; every path is relative, so it runs under any sub-path (GitHub Pages).
import { PushPeer } from '../js/index.js';
import { isLoopback } from '../js/push-hosts.js';
import { openStore } from '../js/store.js';
import { Exchange, deleteSavedFiles, savedFiles } from './files.js';
import { qrSvg } from './qr.js';
import { Timeline } from './timeline.js';

const $ = (id) => document.getElementById(id);
const SETTINGS_KEY = 'pushpeer-demo-settings';
const CREATE_TIMEOUT_MS = 20_000; // a browser whose push service is unreachable never settles subscribe()
const state = { peer: null, registration: null, exchange: null, connection: null, requests: [], timeline: null };
window.pushpeerDemo = state; // for automation and the curious (console)

function loadSettings() {
  let s = {};
  try {
    s = JSON.parse(localStorage.getItem(SETTINGS_KEY) ?? '{}') ?? {};
  } catch {
    s = {};
  }
  // ?relay=… and ?push=… (npm start prints such a link) are remembered.
  const query = new URLSearchParams(location.search);
  for (const key of ['relay', 'push']) {
    if (query.get(key)) s[key] = query.get(key);
  }
  if (query.get('relay') || query.get('push')) localStorage.setItem(SETTINGS_KEY, JSON.stringify(s));
  return { name: s.name ?? '', relay: s.relay ?? '', ice: s.ice ?? '', push: s.push ?? '' };
}

/**
 * The local push service `npm start` runs (?push=http://127.0.0.1:PORT): allowed only when the demo itself is served
 * from this machine, so that a link can never make a published demo push to someone's local services.
 */
function localPushHosts(push) {
  try {
    return push && isLoopback(location.hostname) && isLoopback(new URL(push).hostname) ? [new URL(push).origin] : [];
  } catch {
    return [];
  }
}

/** "stun:host:port" or "turn:user:pass@host:port" lines -> RTCIceServer[]. */
function iceServers(text) {
  return text.split('\n').map((l) => l.trim()).filter(Boolean).map((line) => {
    const m = /^(turns?):([^:@]+):([^@]+)@(.+)$/.exec(line);
    return m ? { urls: `${m[1]}:${m[4]}`, username: m[2], credential: m[3] } : { urls: line };
  });
}

function show(id) {
  for (const s of ['welcome', 'home', 'connected']) $(s).hidden = s !== id;
}

function banner(text, kind = 'error') {
  const b = $('banner');
  b.hidden = !text;
  b.className = kind === 'info' ? 'info' : '';
  b.textContent = text ?? '';
}

function describe(error) {
  const messages = {
    PEER_GONE: 'Their push address is gone: ask them for a new card.',
    TIMEOUT: 'No answer: they may be offline, or their browser did not get the push.',
    DECLINED: 'They declined the call.',
    PUSH_UNREACHABLE: 'Their push service does not accept calls from web pages: set a relay in Settings.',
    NO_USABLE_GRANT: 'Their card has expired: ask them for a new one.',
    RATE_LIMITED: 'Their push service asks us to slow down: try again in a minute.',
    BAD_CARD: 'That is not a valid card link.',
    BAD_SIGNATURE: 'That card has been tampered with.',
    BAD_BASE64: 'That is not a valid card link.',
  };
  return messages[error?.code] ?? `${error?.code ?? 'Error'}: ${error?.message ?? error}`;
}

function withTimeout(promise, ms, message) {
  let timer;
  return Promise.race([promise, new Promise((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(message), { code: 'TIMEOUT' })), ms);
  })]).finally(() => clearTimeout(timer));
}

async function hasIdentity() {
  try {
    const store = await openStore();
    const identity = await store.get('identity');
    store.close();
    return Boolean(identity);
  } catch {
    return false;
  }
}

async function start() {
  const settings = loadSettings();
  banner('Creating your card…', 'info');
  state.registration = await navigator.serviceWorker.register('./sw.js', { type: 'module' });
  const options = { serviceWorker: state.registration, name: settings.name || undefined,
    relay: settings.relay || null, iceServers: iceServers(settings.ice), appUrl: location.href.split('#')[0],
    linkBase: location.href.split(/[?#]/)[0], allowPushHosts: localPushHosts(settings.push) };
  // Automation without a reachable push service (headless Chromium offline) provides the subscription itself.
  if (typeof window.pushpeerSubscribe === 'function') {
    options.subscribe = (key) => window.pushpeerSubscribe(btoa(String.fromCharCode(...key))
      .replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''));
  }
  try {
    state.peer = await withTimeout(PushPeer.create(options), CREATE_TIMEOUT_MS,
      "This browser's push service did not answer, so others cannot reach you here. You can still call people.");
  } catch (error) {
    banner(error.code === 'TIMEOUT' ? error.message : describe(error));
    return;
  }
  banner(null);
  const peer = state.peer;
  state.timeline.watchPeer(peer);
  peer.addEventListener('request', onRequest);
  peer.addEventListener('connecting', (e) => state.timeline.watchConnection(e.connection));
  peer.addEventListener('connection', (e) => {
    if (e.connection.role === 'callee') onConnected(e.connection);
  });
  peer.addEventListener('error', (e) => console.warn('pushpeer:', e.error));
  renderCard();
  await renderPeers();
  await renderSavedFiles();
  show('home');
  offerCallFromHash();
}

function renderCard() {
  const card = state.peer.card();
  $('card-link').value = card.link;
  $('qr').innerHTML = qrSvg(card.link, { ecc: 'L', scale: 3, title: 'QR code of my card link' });
  const decoded = state.peer.core.decodeCard(card.bytes);
  const until = new Date(Math.max(...decoded.grants.map((g) => g.exp)) * 1000);
  $('card-info').textContent = `${card.bytes.length} bytes, ${decoded.grants.length} grants; reachable with this card ` +
    `until ${until.toLocaleString()} (it renews itself while this page is open).`;
}

async function renderPeers() {
  const list = $('peers');
  const peers = await state.peer.peers();
  list.replaceChildren();
  if (peers.length === 0) {
    list.innerHTML = '<li class="empty">No one yet.</li>';
    return;
  }
  for (const p of peers) {
    const li = document.createElement('li');
    li.textContent = p.name || `(no name) ${p.keyId}`;
    const call = document.createElement('button');
    call.type = 'button';
    call.textContent = 'Call';
    call.setAttribute('aria-label', `Call ${p.name || p.keyId}`);
    call.addEventListener('click', () => void call_(p.keyId));
    li.append(call);
    list.append(li);
  }
}

async function renderSavedFiles() {
  let files = [];
  try {
    files = await savedFiles();
  } catch {
    return;
  }
  let section = $('saved');
  if (!section) {
    const h = document.createElement('h2');
    h.textContent = 'Received files';
    section = document.createElement('ul');
    section.id = 'saved';
    $('home').append(h, section);
  }
  section.replaceChildren();
  if (files.length === 0) section.innerHTML = '<li class="empty">None yet.</li>';
  for (const f of files) section.append(fileLink(f.name, f.blob, `${formatBytes(f.size)} from ${f.from || 'someone'}, SHA-256 verified`));
}

function fileLink(name, blob, note) {
  const li = document.createElement('li');
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  a.textContent = name;
  li.append(a, ` ${note}`);
  return li;
}

function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 2 ** 20) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 2 ** 20).toFixed(1)} MiB`;
}

function offerCallFromHash() {
  const m = /card=([A-Za-z0-9_-]+)/.exec(location.hash);
  if (!m) return;
  let name = '';
  try {
    name = state.peer.core.decodeCard(m[1]).name;
  } catch (error) {
    banner(describe(error));
    return;
  }
  $('offer-call-text').textContent = `This link is ${name || 'someone'}'s card. Connect to ${name || 'them'}?`;
  $('offer-call').hidden = false;
  $('offer-call-yes').onclick = () => {
    $('offer-call').hidden = true;
    history.replaceState(null, '', location.href.split('#')[0]);
    void call_(m[1]);
  };
  $('offer-call-no').onclick = () => {
    $('offer-call').hidden = true;
  };
  $('offer-call-yes').focus();
}

async function call_(card) {
  banner('Calling… (one push there, one push back)', 'info');
  $('call-button').disabled = true;
  try {
    const connection = await state.peer.connect(card);
    banner(null);
    onConnected(connection);
  } catch (error) {
    banner(describe(error));
  } finally {
    $('call-button').disabled = false;
  }
}

function onRequest(event) {
  event.preventDefault(); // we decide with the user
  state.requests.push(event);
  const list = $('requests');
  list.querySelector('.empty')?.remove();
  const li = document.createElement('li');
  li.textContent = `${event.from.name || 'Someone'} wants to connect.`;
  const accept = document.createElement('button');
  accept.type = 'button';
  accept.className = 'primary';
  accept.textContent = 'Accept';
  const decline = document.createElement('button');
  decline.type = 'button';
  decline.textContent = 'Decline';
  accept.addEventListener('click', async () => {
    li.remove();
    banner('Answering… (one push back)', 'info');
    try {
      await event.accept(); // the 'connection' event shows the call
      banner(null);
    } catch (error) {
      banner(describe(error));
    }
  });
  decline.addEventListener('click', () => {
    li.remove();
    event.decline().catch((error) => banner(describe(error)));
  });
  li.append(accept, decline);
  list.append(li);
  accept.focus();
}

function onConnected(connection) {
  state.connection = connection;
  const name = connection.remote.name || 'someone';
  $('peer-name').textContent = name;
  $('messages').replaceChildren();
  $('transfers').replaceChildren();
  const exchange = new Exchange(connection, state.peer.core, { peerName: name });
  state.exchange = exchange;
  exchange.addEventListener('chat', (e) => addMessage(e.mine ? 'me' : name, e.text, e.mine));
  exchange.addEventListener('transfer', (e) => renderTransfer(e.transfer));
  connection.addEventListener('close', () => {
    if (state.connection !== connection) return;
    state.connection = null;
    state.timeline.add('bad', `connection closed: ${connection.closed ? 'ended' : ''}`);
    show('home');
    void renderPeers();
    void renderSavedFiles();
  });
  show('connected');
  void renderPeers();
  $('chat-input').focus();
}

function addMessage(who, text, mine) {
  const li = document.createElement('li');
  if (mine) li.className = 'me';
  const w = document.createElement('span');
  w.className = 'who';
  w.textContent = who;
  li.append(w, text);
  $('messages').append(li);
  li.scrollIntoView?.({ block: 'nearest' });
}

const transferItems = new Map();
function renderTransfer(t) {
  const key = `${t.direction}-${t.id}`;
  let li = transferItems.get(key);
  if (!li) {
    li = document.createElement('li');
    li.dataset.state = t.state;
    li.innerHTML = '<div class="name"></div><progress max="1" value="0"></progress><div class="status"></div>';
    transferItems.set(key, li);
    $('transfers').append(li);
  }
  li.dataset.state = t.state;
  li.querySelector('.name').textContent = `${t.direction === 'out' ? '↑' : '↓'} ${t.name} (${formatBytes(t.size)})`;
  const progress = li.querySelector('progress');
  progress.value = t.size ? t.done / t.size : 1;
  progress.setAttribute('aria-label', `${t.name}: ${Math.round(progress.value * 100)}%`);
  const seconds = (performance.now() - t.startedAt) / 1000;
  const speed = seconds > 0 ? `${formatBytes(Math.round(t.done / seconds))}/s` : '';
  const status = li.querySelector('.status');
  status.className = 'status';
  if (t.state === 'failed') {
    status.className = 'status bad';
    status.textContent = `failed: ${t.error}`;
  } else if (t.state === 'verified') {
    status.className = 'status ok';
    status.textContent = `all ${Math.max(1, Math.ceil(t.size / 65536))} chunks match their SHA-256; root ${t.root.slice(0, 12)}… `;
    const a = document.createElement('a');
    a.href = URL.createObjectURL(t.blob);
    a.download = t.name;
    a.textContent = 'Download';
    status.append(a);
  } else if (t.state === 'sent') {
    status.className = 'status ok';
    status.textContent = `sent, ${speed}`;
  } else {
    status.textContent = `${t.state} ${formatBytes(t.done)} of ${formatBytes(t.size)}, ${speed}`;
  }
}

function sendFiles(files) {
  for (const file of files) void state.exchange?.sendFile(file);
}

function wireUi() {
  state.timeline = new Timeline($('timeline'), $('timeline-summary'));
  $('start').addEventListener('click', async () => {
    // Only on a click: browsers block (and users hate) permission prompts on load.
    if ('Notification' in window && Notification.permission === 'default') {
      const answer = await Notification.requestPermission().catch(() => 'default');
      if (answer === 'denied') banner('Without notifications, calls reach you only while this page is open.', 'info');
    }
    await start();
  });
  $('copy-link').addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText($('card-link').value);
      $('copy-status').textContent = 'Copied.';
    } catch {
      $('card-link').select();
      $('copy-status').textContent = 'Press Ctrl+C to copy.';
    }
  });
  $('call-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void call_($('call-card').value.trim());
  });
  $('chat-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const text = $('chat-input').value;
    if (!text || !state.exchange) return;
    try {
      state.exchange.sendChat(text);
      $('chat-input').value = '';
    } catch (error) {
      banner(describe(error));
    }
  });
  $('hang-up').addEventListener('click', () => state.connection?.close());
  $('file-input').addEventListener('change', (e) => {
    sendFiles(e.target.files);
    e.target.value = '';
  });
  const drop = $('drop');
  drop.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      $('file-input').click();
    }
  });
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    sendFiles(e.dataTransfer.files);
  });
  $('open-settings').addEventListener('click', () => {
    const s = loadSettings();
    $('set-name').value = s.name;
    $('set-relay').value = s.relay;
    $('set-ice').value = s.ice;
    $('settings').showModal();
  });
  $('settings').addEventListener('close', () => {
    if ($('settings').returnValue !== 'save') return;
    localStorage.setItem(SETTINGS_KEY, JSON.stringify({ ...loadSettings(), name: $('set-name').value.trim(),
      relay: $('set-relay').value.trim(), ice: $('set-ice').value }));
    location.reload(); // the new name goes on a new card, the relay and ICE servers into a new PushPeer
  });
  $('forget').addEventListener('click', async () => {
    $('settings').close();
    await state.peer?.forget();
    await deleteSavedFiles().catch(() => {});
    localStorage.removeItem(SETTINGS_KEY);
    location.replace(location.href.split('#')[0]);
  });
  window.addEventListener('hashchange', () => state.peer && offerCallFromHash());
}

async function main() {
  wireUi();
  if (!('serviceWorker' in navigator) || !window.isSecureContext) {
    banner('This browser cannot run the demo here: it needs service workers (https or localhost).');
    return;
  }
  if (await hasIdentity()) await start();
  else show('welcome');
  $('version').textContent = 'demo';
}

main().catch((error) => banner(describe(error)));
