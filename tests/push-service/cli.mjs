#!/usr/bin/env node
// Runs the local push service until Ctrl-C / SIGTERM.
//   node tests/push-service/cli.mjs [--port N] [--no-cors] [--quiet]
// Prints the WebSocket URL (Firefox's dom.push.serverURL), the HTTP origin (push endpoints are
// <origin>/wpush/<id>) and the Firefox prefs; with --quiet only the first two lines.
import { parseArgs } from 'node:util';
import { firefoxPrefs, startPushService } from './service.mjs';

let options;
try {
  ({ values: options } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      'no-cors': { type: 'boolean', default: false },
      quiet: { type: 'boolean', short: 'q', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }));
} catch (error) {
  console.error(`${error.message}\nusage: node tests/push-service/cli.mjs [--port N] [--no-cors] [--quiet]`);
  process.exit(2);
}
if (options.help) {
  console.log('usage: node tests/push-service/cli.mjs [--port N] [--no-cors] [--quiet]');
  process.exit(0);
}
const port = Number(options.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`bad --port ${options.port}`);
  process.exit(2);
}

const service = await startPushService({
  port,
  cors: !options['no-cors'],
  log: options.quiet ? null : (line) => console.log(`${new Date().toISOString()} ${line}`),
});
console.log(`ws URL:      ${service.wsUrl}`);
console.log(`HTTP origin: ${service.httpOrigin}`);
if (!options.quiet) {
  console.log(`CORS:        ${service.cors ? 'on (like Mozilla)' : 'off (like FCM)'}`);
  console.log('Firefox prefs (user.js):');
  for (const [name, value] of Object.entries(firefoxPrefs(service))) {
    console.log(`  user_pref(${JSON.stringify(name)}, ${JSON.stringify(value)});`);
  }
}

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    await service.close();
    process.exit(0);
  });
}
