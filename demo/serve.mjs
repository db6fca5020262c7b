// `npm start`: serves the demo on localhost with the local push service (tests/push-service) and a local relay,
// and writes two Firefox profiles that use that push service, so two "people" can call each other on one machine
// with no internet. Ctrl+C stops everything.
//
//   node demo/serve.mjs [--port 8080] [--push-port 8090] [--relay-port 8091] [--no-cors]
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { serveRelayNode } from '../relay/relay.js';
import { firefoxPrefs, startPushService } from '../tests/push-service/service.mjs';
import { startServer } from '../tests/browser/server.mjs';

const { values } = parseArgs({ options: {
  port: { type: 'string', default: process.env.PORT ?? '8080' },
  'push-port': { type: 'string', default: '8090' },
  'relay-port': { type: 'string', default: '8091' },
  'no-cors': { type: 'boolean', default: false },
} });

/** Listens on the wanted port, or any free one when it is taken. */
async function onPort(start, port) {
  try {
    return await start(Number(port));
  } catch (error) {
    if (error?.code !== 'EADDRINUSE') throw error;
    return start(0);
  }
}

const service = await onPort((port) => startPushService({ port, cors: !values['no-cors'] }), values['push-port']);
const relay = await onPort((port) => serveRelayNode({ port, allowHosts: [service.httpOrigin] }), values['relay-port']);
const server = await onPort((port) => startServer({ port }), values.port);
// pagepush: the push service's WebSocket, for a browser whose own push service is out of reach (call-only mode).
const url = `${server.origin}/demo/?relay=${encodeURIComponent(`${relay.url}/push`)}&push=${encodeURIComponent(service.httpOrigin)}` +
  `&pagepush=${encodeURIComponent(service.wsUrl)}`;

// Firefox reads dom.push.serverURL at start-up: a profile per person, with the prefs in user.js.
const profiles = path.join(os.tmpdir(), 'pushpeer-demo-profiles');
const prefs = firefoxPrefs(service);
const userJs = Object.entries({ ...prefs, 'media.peerconnection.ice.obfuscate_host_addresses': false,
  'browser.shell.checkDefaultBrowser': false }).map(([k, v]) => `user_pref(${JSON.stringify(k)}, ${JSON.stringify(v)});`)
  .join('\n');
for (const who of ['alice', 'bob']) {
  mkdirSync(path.join(profiles, who), { recursive: true });
  writeFileSync(path.join(profiles, who, 'user.js'), `${userJs}\n`);
}

console.log(`pushpeer demo
  local push service  ${service.wsUrl} (Firefox) and ${service.httpOrigin} (RFC 8030)${values['no-cors'] ? ', CORS off' : ''}
  local relay         ${relay.url}/push

Open the demo:
${url}

Try it with two browser profiles (each is one person; both use the local push service):
  firefox-esr --no-remote --profile ${path.join(profiles, 'alice')} '${url}' &
  firefox-esr --no-remote --profile ${path.join(profiles, 'bob')} '${url}' &
Create a card in each, copy Alice's card link into Bob's "Call someone" box, accept in Alice's window, then chat
and drop a file. Close Alice's tab first to see the call arrive as a notification.
Chromium's push service is out of reach offline: after 20 s the demo there goes to call-only mode (this push
service holds a line open to the page), so it calls Firefox users and is reachable while its tab is open.
Ctrl+C stops.`);

async function stop() {
  await Promise.allSettled([server.close(), relay.close(), service.close()]);
  process.exit(0);
}
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
