// Test service worker for push-firefox.test.mjs (registered as a module worker by push-page.html): every `push`
// event's data goes to all window clients of the origin as { type: 'push', text, bytes, at }, so that a test can
// see what the browser decrypted. Nothing else: production code lives in sw/.
self.addEventListener('install', (event) => {
  event.waitUntil(self.skipWaiting());
});

self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});

async function tellClients(message) {
  const clients = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  for (const client of clients) client.postMessage(message);
}

self.addEventListener('push', (event) => {
  const data = event.data;
  const message = {
    type: 'push',
    text: data ? data.text() : null,
    bytes: data ? Array.from(new Uint8Array(data.arrayBuffer())) : null,
    at: Date.now(),
  };
  event.waitUntil(tellClients(message));
});

self.addEventListener('pushsubscriptionchange', (event) => {
  event.waitUntil(tellClients({ type: 'pushsubscriptionchange', at: Date.now() }));
});
