// Node entry of the relay: `node relay/node/main.js` (PORT, default 8787, and HOST, default 127.0.0.1), behind a
// TLS-terminating proxy. Configured by environment variables: see ../env.js (RELAY_MAX_CONNECTIONS_PER_CLIENT=0 behind
// a proxy: every client then has the proxy's address).
import { serveRelayNode } from '../relay.js';
import { nodeRelayOptionsFromEnv } from '../env.js';

const env = (name) => process.env[name];
const options = nodeRelayOptionsFromEnv(env);

const relay = await serveRelayNode({ port: Number(env('PORT') ?? 8787), host: env('HOST') ?? '127.0.0.1', ...options });
console.log(`pushpeer relay listening on ${relay.url}`);
