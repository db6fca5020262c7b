// Deno entry of the relay. Locally: `deno run --allow-net --allow-env relay/deno/main.js` (PORT, default 8787, and
// HOST, default 127.0.0.1); on Deno Deploy, make this file the app's entrypoint (the platform picks the address).
// Configured by environment variables: see ../env.js.
import { createRelay } from '../relay.js';
import { relayOptionsFromEnv } from '../env.js';

const env = (name) => Deno.env.get(name);
const relay = createRelay(relayOptionsFromEnv(env));

Deno.serve({
  port: Number(env('PORT') ?? 8787),
  hostname: env('HOST') ?? '127.0.0.1',
  onListen: ({ hostname, port }) => console.log(`pushpeer relay listening on http://${hostname}:${port}`),
}, (request) => relay(request));
