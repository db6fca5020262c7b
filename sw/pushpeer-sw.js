// A ready-made module service worker: register it with { type: 'module' } from a page in its directory (or give
// it a wider scope with the Service-Worker-Allowed header). Apps with their own worker import sw/handler.js.
import { installPushPeer } from './handler.js';

installPushPeer(self);
