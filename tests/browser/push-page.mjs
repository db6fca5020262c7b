// The page of push-firefox.test.mjs: registers push-sw.mjs (a module service worker), subscribes with a given
// applicationServerKey, and collects what the service worker posts back. Everything is on window.pushTest.
const received = [];
let registration = null;

navigator.serviceWorker.addEventListener('message', (event) => {
  received.push(event.data);
});
navigator.serviceWorker.startMessages();

function fromBase64url(text) {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/');
  const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Registers the service worker and waits until it is active. */
async function register({ timeoutMs = 15000 } = {}) {
  registration = await withTimeout(
    navigator.serviceWorker.register('./push-sw.mjs', { type: 'module', scope: './' }), timeoutMs, 'register');
  await withTimeout(navigator.serviceWorker.ready, timeoutMs, 'serviceWorker.ready');
  return { scope: registration.scope, active: Boolean(registration.active) };
}

/** pushManager.subscribe with the application server key (base64url); resolves to the subscription's JSON. */
async function subscribe(applicationServerKey, { timeoutMs = 15000 } = {}) {
  if (!registration) await register();
  const subscription = await withTimeout(registration.pushManager.subscribe({
    userVisibleOnly: true,
    applicationServerKey: fromBase64url(applicationServerKey),
  }), timeoutMs, 'pushManager.subscribe');
  return subscription.toJSON();
}

async function currentSubscription() {
  const s = await registration?.pushManager.getSubscription();
  return s ? s.toJSON() : null;
}

async function unsubscribe({ timeoutMs = 15000 } = {}) {
  const s = await registration?.pushManager.getSubscription();
  return s ? withTimeout(s.unsubscribe(), timeoutMs, 'unsubscribe') : false;
}

/** Waits until `count` messages have arrived from the service worker; resolves to all of them. */
function waitMessages(count, { timeoutMs = 15000 } = {}) {
  return withTimeout(new Promise((resolve) => {
    const check = () => {
      if (received.length >= count) resolve(received.slice());
      else setTimeout(check, 20);
    };
    check();
  }), timeoutMs, `waiting for ${count} message(s) from the service worker (have ${received.length})`);
}

/** Sends a push from this page (the Wasm core in the page, then fetch): needs CORS on the push service. */
async function sendFromPage({ subscription, payload, publicKey, privateKey, subject, ttl = 60 }) {
  const { loadCore } = await import('/js/core.js');
  const core = await loadCore();
  const request = core.buildPushRequest({
    subscription, payload, subject, ttl, urgency: 'high',
    vapidKeys: { publicKey: fromBase64url(publicKey), privateKey: fromBase64url(privateKey) },
  });
  try {
    const response = await fetch(request.endpoint, { method: request.method, headers: request.headers,
      body: request.body });
    return { status: response.status, location: response.headers.get('Location') };
  } catch (error) {
    return { error: `${error.name}: ${error.message}` };
  }
}

window.pushTest = { received, register, subscribe, currentSubscription, unsubscribe, waitMessages, sendFromPage };
window.pushReady = true;
