// A desktop notification service on a virtual display: a private D-Bus session bus and dunst on it, so that headed
// Firefox shows notifications through its system backend (libnotify), as on a user's Linux desktop, instead of the
// built-in XUL alert windows it falls back to without one. The XUL windows cost memory per notification shown (about
// 1 MiB each, bench/RESULTS.md), which a long benchmark notices and users do not have.
// Needs the Debian packages dunst and dbus (dbus-daemon); without them startNotifier() rejects with a clear message.
import { spawn } from 'node:child_process';

import { ownChild } from './owned-child.mjs';

const START_MS = 10_000;

function started(command, args, env) {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  return { child, ...ownChild(child) };
}

const missing = (command) => new Error(`${command} not found: the notification service for headed Firefox needs the ` +
  'Debian packages dunst and dbus (apt-get install dunst dbus)');

/**
 * Starts a session bus and dunst for `display` (':N' from startXvfb). Resolves to
 * { env: { DISPLAY, DBUS_SESSION_BUS_ADDRESS }, stop() }; pass env to the browser and alerts.useSystemBackend = true.
 */
export async function startNotifier(display) {
  const bus = started('dbus-daemon', ['--session', '--nofork', '--print-address=1'], process.env);
  const address = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`dbus-daemon printed no address within ${START_MS} ms`)), START_MS);
    bus.child.once('error', (error) => {
      clearTimeout(timer);
      reject(error.code === 'ENOENT' ? missing('dbus-daemon') : error);
    });
    bus.child.stdout.on('data', (d) => {
      out += d;
      const line = out.split('\n');
      if (line.length < 2) return;
      clearTimeout(timer);
      resolve(line[0].trim());
    });
  }).catch(async (error) => {
    await bus.stop();
    throw error;
  });
  const env = { DISPLAY: display, DBUS_SESSION_BUS_ADDRESS: address };
  const dunst = started('dunst', [], { ...process.env, ...env });
  // dunst owns org.freedesktop.Notifications once it is up; it says nothing on success, so wait for an early exit.
  const early = await Promise.race([
    new Promise((r) => dunst.child.once('error', r)),
    new Promise((r) => dunst.child.once('exit', (code) => r(new Error(`dunst exited (${code}) at start`)))),
    new Promise((r) => setTimeout(() => r(null), 1000)),
  ]);
  if (early) {
    await bus.stop();
    throw early.code === 'ENOENT' ? missing('dunst') : early;
  }
  return {
    env,
    async stop() {
      await dunst.stop();
      await bus.stop();
    },
  };
}
