// A virtual X display for headed browsers in tests: headed Firefox (with alerts.useSystemBackend = false) is the
// only way to get notifications that are really shown (docs/TESTING.md §3), which push-quota tests need.
// Needs the Debian packages xvfb and xauth (cmake/setup.sh); without Xvfb, startXvfb() rejects with a clear message.
import { spawn } from 'node:child_process';

import { ownChild } from './owned-child.mjs';

const XVFB = process.env.PUSHPEER_XVFB ?? 'Xvfb';
const XVFB_START_MS = 15_000;

/**
 * Starts Xvfb on a free display (Xvfb picks it and writes its number to -displayfd). Resolves to
 * { display: ':N', headedFirefox, stderr(), stop() }; rejects with a clear message when Xvfb is not installed or
 * does not start.
 */
export function startXvfb() {
  return new Promise((resolve, reject) => {
    const child = spawn(XVFB, ['-displayfd', '3', '-screen', '0', '1280x800x24', '-nolisten', 'tcp'],
      { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
    let err = '';
    let out = '';
    let settled = false;
    const { stop } = ownChild(child);
    const fail = (message) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void stop();
      reject(new Error(message));
    };
    const timer = setTimeout(() => fail(`Xvfb did not report a display within ${XVFB_START_MS} ms: ${err.trim()}`),
      XVFB_START_MS);
    child.stderr.on('data', (d) => {
      err = (err + d).slice(-4000);
    });
    child.once('error', (error) => fail(error.code === 'ENOENT'
      ? `${XVFB} not found: this test needs a virtual X display for headed Firefox; install the Debian packages ` +
        'xvfb and xauth (bash cmake/setup.sh)'
      : `starting ${XVFB} failed: ${error.message}`));
    child.once('exit', (code, signal) =>
      fail(`Xvfb exited (${signal ?? code}) before reporting a display: ${err.trim()}`));
    child.stdio[3].on('data', (d) => {
      out += d;
      const m = /^(\d+)\n/.exec(out);
      if (!m || settled) return;
      settled = true;
      clearTimeout(timer);
      const display = `:${m[1]}`;
      // world.open options for a headed Firefox on this display that shows notifications in its own alert windows.
      const headedFirefox = { headless: false, env: { DISPLAY: display },
        extraPrefs: { 'alerts.useSystemBackend': false } };
      resolve({ display, headedFirefox, stderr: () => err, stop });
    });
  });
}

