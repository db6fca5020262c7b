// The pushpeer demo: a card to share, calls over two pushes, chat and verified files (in a call, or shared by link),
// and a timeline of the signaling. Static files only; every path is relative, so it runs under any sub-path (GitHub Pages).
import { PushPeer } from '../js/index.js';
import { isLoopback } from '../js/push/hosts.js';
import { openStore } from '../js/store/store.js';
import { CallView } from './call.js';
import { GroupsView } from './group.js';
import { PushMode } from './push-mode.js';
import { qrSvg } from './qr.js';
import { Requests } from './requests.js';
import { SharesView } from './shares.js';
import { Timeline } from './timeline.js';
import { formatDate, remaining, sentence } from './words.js';

const $ = (id) => document.getElementById(id);
const SETTINGS_KEY = 'pushpeer-demo-settings';
const DEFAULT_ASK_MIB = 50;
const state = { peer: null, registration: null, call: null, calling: null, requests: null, timeline: null,
  pushMode: null, peerList: [] };
window.pushpeerDemo = state; // for automation and the curious (console)

function loadSettings() {
  let s = {};
  try {
    s = JSON.parse(localStorage.getItem(SETTINGS_KEY) ?? '{}') ?? {};
  } catch {
    s = {};
  }
  // ?relay=…, ?push=… and ?pagepush=… (npm start prints such a link) are remembered.
  const query = new URLSearchParams(location.search);
  let changed = false;
  for (const key of ['relay', 'push', 'pagepush']) {
    if (query.get(key) && s[key] !== query.get(key)) {
      s[key] = query.get(key);
      changed = true;
    }
  }
  if (changed) localStorage.setItem(SETTINGS_KEY, JSON.stringify(s));
  return { name: s.name ?? '', relay: s.relay ?? '', ice: s.ice ?? '', push: s.push ?? '', pagepush: s.pagepush ?? '',
    askMiB: Number.isFinite(s.askMiB) ? s.askMiB : DEFAULT_ASK_MIB };
}

function saveSettings(changes) {
  localStorage.setItem(SETTINGS_KEY, JSON.stringify({ ...loadSettings(), ...changes }));
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
  // Requests and groups stay in sight during a call too.
  $('requests-box').hidden = id === 'welcome';
  $('groups-box').hidden = id === 'welcome' || !$('groups').children.length;
}

function banner(text, kind = 'error') {
  const b = $('banner');
  b.hidden = !text;
  b.className = kind === 'info' ? 'info' : '';
  b.textContent = text ?? '';
}

const SAMPLE = 'demo/media/tones.wav'; // the media sample the published site lists (demo/build-site.sh)

/**
 * The signed site (the published demo: demo/build-site.sh): its version, and where each listed file came from
 * (the worker's store, other visitors, the origin), on the timeline; new versions and files as they come.
 */
async function showSite(peer) {
  const where = (source) => ({ cache: 'the store', peer: 'other visitors', origin: 'the origin' }[source] ?? 'not loaded yet');
  const status = await peer.siteStatus();
  if (!status) return; // npm start: no signed site
  state.timeline.add('ok', `site version ${status.version}, signed by ${status.publisher.slice(0, 12)}…, checked: `
    + status.files.map((f) => `${f.path} from ${where(f.source)}`).join('; '));
  peer.addEventListener('sitefile', (e) => {
    const peers = Object.keys(e.from ?? {}).length;
    state.timeline.add(e.source === 'peer' ? 'ok' : 'push', `${e.path} (${Math.round(e.bytes / 1024)} KiB) from `
      + `${e.source === 'peer' ? `${peers} visitor${peers === 1 ? '' : 's'}` : 'the origin'}, every piece checked`);
  });
  peer.addEventListener('siteupdate', (e) => state.timeline.add('ok', `site version ${e.version} checked and in use`
    + `${e.previous ? ` (was ${e.previous})` : ''}: its changed files came first`));
  const box = document.getElementById('site-box');
  document.getElementById('site-summary').textContent = `version ${status.version}.`;
  if (status.files.some((f) => f.path === SAMPLE)) document.getElementById('site-sample').src = new URL(`../${SAMPLE}`, location.href).href;
  box.hidden = false;
}

/** A failure for the person (a sentence) and for the timeline (the code and message). */
function report(error, what) {
  banner(sentence(error));
  state.timeline?.add('bad', `${what}: ${error?.code ?? 'error'} ${error?.message ?? error}`);
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
  state.pushMode = new PushMode({ registration: state.registration, pagePushUrl: settings.pagepush });
  try {
    state.peer = await state.pushMode.create(options);
  } catch (error) {
    if (state.pushMode.callOnly) showNoPush(error);
    else report(error, 'creating the card');
    return;
  }
  banner(null);
  const peer = state.peer;
  state.timeline.watchPeer(peer);
  state.requests.watch(peer);
  peer.addEventListener('connecting', (e) => state.timeline.watchConnection(e.connection));
  // A call view opens for the calls the person made or accepted (not for a group's introductions, which join quietly).
  peer.addEventListener('cardchange', () => renderCard());
  state.groups = new GroupsView(peer, { banner, report });
  state.shares = new SharesView(peer, { report });
  void showSite(peer);
  peer.addEventListener('error', (e) => console.warn('pushpeer:', e.error));
  renderCard();
  renderCallOnly();
  await renderPeers();
  await state.shares.render();
  show('home');
  offerCallFromHash();
}

/** No push service at all (and no page-held one): say what this browser can and cannot do, plainly. */
function showNoPush(error) {
  banner(null);
  show('home');
  $('card-box').hidden = true;
  $('call-form').hidden = true;
  renderCallOnly();
  state.timeline.add('bad', `no push: ${error?.code ?? 'error'} ${error?.message ?? error}`);
}

function renderCallOnly() {
  const mode = state.pushMode;
  $('call-only').hidden = !mode?.callOnly;
  if (!mode?.callOnly) return;
  $('call-only-text').textContent = state.peer
    ? `Call-only mode: ${mode.reason} You can call people whose card you have; they can reach you only while this ` +
      'tab is open (a push service keeps a line open to this page).'
    : `${mode.reason} A call needs one push back to you, so calls cannot be made or received in this browser. ` +
      'Use a browser whose push service works, or set a push service for call-only mode in Settings.';
  $('card-share').textContent = state.peer
    ? 'Share this link only for now: it reaches you while this tab is open.'
    : 'Share this link. Anyone who opens it can call you.';
}

function renderCard() {
  const card = state.peer.card();
  $('card-box').hidden = false;
  $('card-link').value = card.link;
  $('qr').innerHTML = qrSvg(card.link, { ecc: 'L', scale: 3, title: 'QR code of my card link' });
  const decoded = state.peer.core.decodeCard(card.bytes);
  const until = Math.max(...decoded.grants.map((g) => g.exp)) * 1000;
  $('card-info').textContent = `${decoded.name ? `On the card: "${decoded.name}". ` : ''}Reachable with this card ` +
    `${remaining(until)}, until ${formatDate(until)}; it renews itself while this page is open. ` +
    `(${card.bytes.length} bytes, ${decoded.grants.length} push grants.)`;
}

async function renderPeers() {
  const list = $('peers');
  const peers = await state.peer.peers();
  state.peerList = peers;
  list.replaceChildren();
  if (peers.length === 0) {
    list.innerHTML = '<li class="empty">No one yet.</li>';
    return;
  }
  for (const p of peers) {
    const li = document.createElement('li');
    li.textContent = p.name || 'Someone without a name';
    const call = document.createElement('button');
    call.type = 'button';
    call.className = 'call-action';
    call.textContent = 'Call';
    call.setAttribute('aria-label', `Call ${p.name || 'them'}`);
    call.disabled = Boolean(state.calling);
    call.addEventListener('click', () => void callSomeone(p.keyId, p.name));
    li.append(call);
    if (p.gone) li.append(' (their card is out of date: ask them for a new link)');
    list.append(li);
  }
}

/** A group invite link (`#card=…&group=…&gname=…`): offer to join. */
function offerJoinFromHash() {
  const params = new URLSearchParams(location.hash.slice(1));
  if (!params.get('group') || !params.get('card')) return false;
  let inviter = '';
  try {
    inviter = state.peer.core.decodeCard(params.get('card')).name;
  } catch (error) {
    report(error, 'opening the invite link');
    return true;
  }
  const link = location.href;
  $('offer-join-text').textContent = `${inviter || 'Someone'} invites you to the group "${params.get('gname') || 'group'}". Join?`;
  $('offer-join').hidden = false;
  $('offer-join-yes').onclick = () => {
    $('offer-join').hidden = true;
    history.replaceState(null, '', location.href.split('#')[0]);
    void state.groups.join(link);
  };
  $('offer-join-no').onclick = () => {
    $('offer-join').hidden = true;
  };
  $('offer-join-yes').focus();
  return true;
}

function offerCallFromHash() {
  if (offerJoinFromHash() || state.shares.offerFromHash()) return;
  const m = /card=([A-Za-z0-9_-]+)/.exec(location.hash);
  if (!m) return;
  let name = '';
  try {
    name = state.peer.core.decodeCard(m[1]).name;
  } catch (error) {
    report(error, 'opening the card link');
    return;
  }
  if (state.peer.card().text === m[1]) {
    banner(sentence({ code: 'BAD_ARGUMENT', message: 'own card' }), 'info');
    return;
  }
  $('offer-call-text').textContent = `This link is ${name || 'someone'}'s card. Connect to ${name || 'them'}?`;
  $('offer-call').hidden = false;
  $('offer-call-yes').onclick = () => {
    $('offer-call').hidden = true;
    history.replaceState(null, '', location.href.split('#')[0]);
    void callSomeone(m[1], name);
  };
  $('offer-call-no').onclick = () => {
    $('offer-call').hidden = true;
  };
  $('offer-call-yes').focus();
}

function setCalling(abort, name) {
  state.calling = abort;
  for (const b of document.querySelectorAll('.call-action')) b.disabled = Boolean(abort);
  $('calling').hidden = !abort;
  clearInterval(state.countdown);
  $('calling-countdown').textContent = '';
  if (abort) {
    $('calling-text').textContent = `Calling ${name || 'them'}… (one push there, one push back)`;
    $('cancel-call').focus();
  }
}

/** Calls a card (link, text or a known peer's key id): Cancel and a countdown while it rings. */
async function callSomeone(card, name) {
  if (state.calling || !state.peer) return;
  if (!name) {
    try {
      name = typeof card === 'string' && /^[A-Za-z0-9_-]{11}$/.test(card)
        ? state.peerList.find((p) => p.keyId === card)?.name
        : state.peer.core.decodeCard(/card=([A-Za-z0-9_-]+)/.exec(card)?.[1] ?? card).name;
    } catch {
      name = '';
    }
  }
  const abort = new AbortController();
  setCalling(abort, name);
  banner(null);
  const onProgress = (e) => {
    if (e.step !== 'offer-sent' || !e.giveUpAt) return;
    clearInterval(state.countdown);
    const tick = () => {
      const s = Math.max(0, Math.ceil((e.giveUpAt - Date.now()) / 1000));
      $('calling-countdown').textContent = `${s} s left`;
    };
    tick();
    state.countdown = setInterval(tick, 1000);
  };
  state.peer.addEventListener('progress', onProgress);
  const started = Date.now();
  try {
    const connection = await state.peer.connect(card, { signal: abort.signal });
    openCall(connection);
  } catch (error) {
    if (error?.code === 'ABORTED') {
      banner('Call cancelled.', 'info');
      state.timeline.add('bad', 'call cancelled');
    } else if (error?.code === 'TIMEOUT') {
      banner(sentence(error));
      state.timeline.add('bad', `no answer: the call timed out after ${Math.round((Date.now() - started) / 1000)} s`);
    } else {
      report(error, 'the call failed');
    }
  } finally {
    state.peer.removeEventListener('progress', onProgress);
    setCalling(null);
    void renderPeers();
  }
}

function openCall(connection) {
  if (state.call?.live) {
    // One call view at a time in this demo: the new connection stays up (a group's link, say) without a view.
    banner(`${connection.remote.name || 'Someone'} is connected too; this call with ${state.call.connection.remote.name ||
      'them'} stays on screen.`, 'info');
    return;
  }
  state.call = new CallView(connection, { peer: state.peer, shares: state.shares,
    askAbove: () => loadSettings().askMiB * 2 ** 20, onEnd: () => {
      void renderPeers();
      void state.shares.render();
    } });
  show('connected');
  void renderPeers();
  $('chat-input').focus();
}

function wireUi() {
  state.timeline = new Timeline($('timeline'), $('timeline-summary'));
  state.requests = new Requests($('requests'), { banner, onAccepted: (connection) => openCall(connection) });
  $('welcome-name').value = loadSettings().name;
  $('welcome-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    saveSettings({ name: $('welcome-name').value.trim() });
    // Only on a click: browsers block (and people hate) permission prompts on load.
    if ('Notification' in window && Notification.permission === 'default') {
      const answer = await Notification.requestPermission().catch(() => 'default');
      if (answer === 'denied') banner('Without notifications, calls reach you only while this page is open.', 'info');
    }
    await start();
  });
  $('copy-link').addEventListener('click', async () => {
    const status = $('copy-status');
    try {
      await navigator.clipboard.writeText($('card-link').value);
      status.textContent = 'Copied.';
    } catch {
      $('card-link').select();
      status.textContent = 'Press Ctrl+C to copy.';
    }
    status.classList.remove('fade');
    clearTimeout(state.copyTimer);
    state.copyTimer = setTimeout(() => status.classList.add('fade'), 2000);
  });
  $('call-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void callSomeone($('call-card').value.trim());
  });
  $('cancel-call').addEventListener('click', () => state.calling?.abort());
  $('group-form').addEventListener('submit', (e) => {
    e.preventDefault();
    try {
      state.groups?.start($('group-name').value.trim());
      $('group-name').value = '';
    } catch (error) {
      report(error, 'starting a group');
    }
  });
  $('chat-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const text = $('chat-input').value;
    if (!text || !state.call?.live) return;
    try {
      state.call.sendChat(text);
      $('chat-input').value = '';
    } catch (error) {
      report(error, 'sending a message');
    }
  });
  $('hang-up').addEventListener('click', () => {
    if (state.call?.live) state.call.connection.close('hung up');
    else show('home');
  });
  wireDrop($('drop'), $('file-input'), (files) => state.call?.sendFiles(files));
  wireDrop($('share-drop'), $('share-input'), (files) => void state.shares?.shareFiles(files));
  $('open-settings').addEventListener('click', () => {
    const s = loadSettings();
    $('set-name').value = s.name;
    $('set-ask').value = String(s.askMiB);
    $('set-relay').value = s.relay;
    $('set-ice').value = s.ice;
    $('set-page-push').value = s.pagepush;
    $('settings').showModal();
  });
  $('settings').addEventListener('close', () => void saveSettingsDialog());
  $('retry-push').addEventListener('click', () => {
    state.pushMode?.forgetFailure();
    location.reload();
  });
  $('forget').addEventListener('click', async () => {
    $('settings').close();
    await state.peer?.forget();
    state.pushMode?.forgetFailure();
    localStorage.removeItem(SETTINGS_KEY);
    location.replace(location.href.split('#')[0]);
  });
  window.addEventListener('hashchange', () => state.peer && offerCallFromHash());
}

/** A drop zone with its file input: a click or Enter opens the picker; dropped or picked files go to `take`. */
function wireDrop(drop, input, take) {
  input.addEventListener('change', () => {
    take([...input.files]);
    input.value = '';
  });
  drop.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      input.click();
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
    take([...e.dataTransfer.files]);
  });
}

/** Settings: the name changes live (a new card, sent to whoever is connected); relay, ICE and push need a reload. */
async function saveSettingsDialog() {
  if ($('settings').returnValue !== 'save') return;
  const before = loadSettings();
  const ask = Number($('set-ask').value);
  const after = { name: $('set-name').value.trim(), relay: $('set-relay').value.trim(), ice: $('set-ice').value,
    pagepush: $('set-page-push').value.trim(), askMiB: Number.isFinite(ask) && ask >= 0 ? ask : before.askMiB };
  if (after.name !== before.name && state.peer) {
    try {
      await state.peer.setName(after.name);
    } catch (error) {
      report(error, 'changing the name');
      return;
    }
  }
  saveSettings(after);
  if (after.relay !== before.relay || after.ice !== before.ice || after.pagepush !== before.pagepush) {
    if (state.call?.live) banner('Saved: the new relay, ICE and push settings apply after this call, when you reload.', 'info');
    else location.reload(); // the relay and ICE servers go into a new PushPeer
  } else if (after.name !== before.name) {
    banner(`Saved: your card now says "${after.name}".`, 'info');
  }
}

async function main() {
  wireUi();
  const repo = document.querySelector('meta[name="pushpeer-repository"]')?.content;
  if (repo) $('repo-link').href = repo;
  if (!('serviceWorker' in navigator) || !window.isSecureContext) {
    banner('This browser cannot run the demo here: it needs service workers (https or localhost).');
    return;
  }
  if (await hasIdentity()) await start();
  else show('welcome');
  $('version').textContent = 'demo';
}

main().catch((error) => report(error, 'starting'));
