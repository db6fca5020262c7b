// The service-worker entry point's types (in a worker, `self` is the ServiceWorkerGlobalScope).
import { installPushPeer } from 'pushpeer/sw';

installPushPeer(self, { appUrl: '/app/', notify: true, storeName: 'pushpeer' });
installPushPeer(self, { site: { publisherKey: 'BPublisherKeyInBase64url', manifest: './pushpeer-site.bin', peers: true } });
