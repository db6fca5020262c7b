// Bun entry of the relay: `bun relay/bun/main.js` (PORT, default 8787, and HOST, default 127.0.0.1), behind a
// TLS-terminating proxy. Configured by environment variables: see ../env.js.
import { createRelay } from '../relay.js';
import { relayOptionsFromEnv } from '../env.js';

const relay = createRelay(relayOptionsFromEnv((name) => Bun.env[name]));

const server = Bun.serve({
  port: Number(Bun.env.PORT ?? 8787),
  hostname: Bun.env.HOST ?? '127.0.0.1',
  fetch: (request) => relay(request),
});
console.log(`pushpeer relay listening on http://${server.hostname}:${server.port}`);
