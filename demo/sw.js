// The demo's service worker (module): pushpeer's handler, with the demo page opened from notifications.
import { installPushPeer } from '../sw/handler.js';

installPushPeer(self, { appUrl: new URL('./', self.location).href });
