// The demo's service worker (module): pushpeer's handler, with the demo page opened from notifications.
import { installPushPeer } from '../sw/handler.js';

// demo/build-site.sh writes the publisher's key here when it signs the published site: its Wasm core and media
// sample are then served verified, from the worker's store, from other visitors or from the origin
// (docs/PROTOCOL.md §10). Empty: no site files (npm start).
const SITE_PUBLISHER_KEY = '';

installPushPeer(self, { appUrl: new URL('./', self.location).href,
  ...(SITE_PUBLISHER_KEY ? { site: { publisherKey: SITE_PUBLISHER_KEY, manifest: '../pushpeer-site.bin' } } : {}) });
