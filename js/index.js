// pushpeer's page API. The Wasm core (js/core.js), the service-worker handler (sw/handler.js) and the relay
// (relay/relay.js) have their own entry points.
export { PushPeer, RequestEvent } from './pushpeer.js';
export { Connection } from './connection/connection.js';
export { PushPeerError } from './errors.js';
export { loadCore } from './core.js';
export { createPushSender } from './push/sender.js';
export { openStore, createMemoryStore } from './store/store.js';
export { openPagePush, PagePushChannel } from './push/page-push.js';
