// Launch helpers for the real-browser tests: Debian's headless Chromium (CDP over a pipe) and headless Firefox ESR
// (WebDriver BiDi), driven by puppeteer-core. Each helper returns a puppeteer Browser whose close() always ends the
// browser (gracefully, then SIGKILL) and removes its fresh temporary profile. Nothing is ever downloaded: the
// browsers are the Debian packages (cmake/setup.sh installs them).
//
//   const browser = await launchBrowser('chromium' | 'firefox', { extraArgs, extraPrefs, dumpio, headless });
//   ...
//   await browser.close();
//
// Flags and prefs are those of docs/TESTING.md §2/§3: as root Chromium needs --no-sandbox; the closed network needs
// background networking off; WebRTC between two browsers on one host needs host candidates with real addresses
// (no mDNS obfuscation) and, for Firefox, loopback allowed.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import puppeteer from 'puppeteer-core';

export const BROWSERS = ['chromium', 'firefox'];

export const CHROMIUM_PATH = process.env.PUSHPEER_CHROMIUM ?? '/usr/bin/chromium';
export const FIREFOX_PATH = process.env.PUSHPEER_FIREFOX ?? '/usr/bin/firefox-esr';

const LAUNCH_TIMEOUT_MS = 60_000; // browser start + first page target (a cold Firefox start takes a few seconds)
const PROTOCOL_TIMEOUT_MS = 60_000; // any single CDP/BiDi command
const CLOSE_GRACE_MS = 5_000; // graceful close before SIGKILL

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // WebRTC on one host: real host candidates (no mDNS .local names), fake media devices without prompts.
  '--disable-features=WebRtcHideLocalIpsWithMdns',
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
  // Quiet, deterministic automation on a closed network.
  '--disable-domain-reliability',
  '--no-default-browser-check',
  '--no-pings',
  '--disable-dev-shm-usage',
];

export const FIREFOX_PREFS = {
  // WebRTC on one host.
  'media.peerconnection.ice.obfuscate_host_addresses': false,
  'media.peerconnection.ice.loopback': true,
  'media.navigator.streams.fake': true,
  'media.navigator.permission.disabled': true,
  // A closed network: nothing to fetch, nothing to report.
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'app.update.enabled': false,
  'app.update.auto': false,
  'browser.safebrowsing.update.enabled': false,
  'extensions.update.enabled': false,
  'toolkit.telemetry.enabled': false,
  'datareporting.healthreport.uploadEnabled': false,
  'datareporting.policy.dataSubmissionEnabled': false,
};

// Every browser launched by this process, so that an unexpected exit still kills them and removes the profiles.
const live = new Set();
const PROFILE_PREFIX = 'pushpeer-'; // + `${name}-${owner pid}-XXXXXX` under os.tmpdir()
const PROFILE_RE = /^pushpeer-(chromium|firefox)-(\d+)-[A-Za-z0-9]{6}$/;

function processesUsing(marker) {
  // Processes whose command line names a profile directory of ours (unique per launch).
  const pids = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'latin1');
      if (cmdline.split('\0').some((arg) => arg === marker || arg.endsWith(`=${marker}`))) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

function isGroupLeader(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // state ppid pgrp ...
    return Number(fields[2]) === pid;
  } catch {
    return false;
  }
}

function killPids(pids) {
  for (const p of pids) {
    // puppeteer starts a browser as a process-group leader; Firefox's content processes stay in that group but
    // do not name the profile on their command line.
    if (isGroupLeader(p)) {
      try {
        process.kill(-p, 'SIGKILL');
      } catch {
        // no such group
      }
    }
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

function killAll(record) {
  const pids = new Set(processesUsing(record.profile));
  const pid = record.browser?.process()?.pid;
  if (pid) pids.add(pid);
  killPids(pids);
  return pids.size;
}

function cleanupSync() {
  for (const record of live) {
    killAll(record);
    try {
      rmSync(record.profile, { recursive: true, force: true });
    } catch {
      // best effort at exit
    }
  }
  live.clear();
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

/**
 * Removes what an earlier run left behind when it was killed outright (SIGKILL, a CI timeout): browsers whose
 * owner (the pid in the profile name) is gone, and their profiles. Browsers of a live run are left alone, so that
 * runs in parallel (another checkout) do not disturb each other.
 */
export function sweepStaleProfiles() {
  const dir = os.tmpdir();
  let swept = 0;
  for (const entry of readdirSync(dir)) {
    const m = PROFILE_RE.exec(entry);
    if (!m || alive(Number(m[2]))) continue;
    const profile = path.join(dir, entry);
    killPids(processesUsing(profile));
    try {
      rmSync(profile, { recursive: true, force: true });
      swept++;
    } catch {
      // someone else's, or already gone
    }
  }
  return swept;
}

let processHooksInstalled = false;
function installProcessHooks() {
  if (processHooksInstalled) return;
  processHooksInstalled = true;
  process.once('exit', cleanupSync);
  // Ours instead of puppeteer's (which, on SIGTERM, closes the browser but keeps the process running).
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]]) {
    process.once(signal, () => {
      cleanupSync();
      process.exit(code);
    });
  }
  sweepStaleProfiles();
}

async function waitGone(record, ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (processesUsing(record.profile).length === 0) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return processesUsing(record.profile).length === 0;
}

async function shutdown(record, originalClose) {
  if (record.closing) return record.closing;
  // Assigned before any work starts, so that a 'disconnected' event fired from inside close() joins this shutdown.
  record.closing = Promise.resolve().then(async () => {
    if (originalClose) {
      let timer;
      await Promise.race([
        originalClose().catch(() => {}),
        new Promise((r) => {
          timer = setTimeout(r, CLOSE_GRACE_MS);
        }),
      ]);
      clearTimeout(timer);
    }
    if (!(await waitGone(record, 1000))) {
      killAll(record);
      await waitGone(record, 5000);
    }
    await rm(record.profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    live.delete(record);
  });
  return record.closing;
}

function chromiumOptions(profile, { extraArgs = [], headless = true } = {}) {
  const args = [...CHROMIUM_ARGS, ...extraArgs].filter((a) => headless || !a.startsWith('--headless'));
  return {
    browser: 'chrome',
    executablePath: CHROMIUM_PATH,
    headless,
    pipe: true,
    userDataDir: profile,
    args, // puppeteer merges our --disable-features with its own list
  };
}

function firefoxOptions(profile, { extraArgs = [], extraPrefs = {}, headless = true } = {}) {
  return {
    browser: 'firefox',
    protocol: 'webDriverBiDi',
    executablePath: FIREFOX_PATH,
    headless,
    userDataDir: profile,
    args: [...extraArgs],
    extraPrefsFirefox: { ...FIREFOX_PREFS, ...extraPrefs },
  };
}

/**
 * Launches 'chromium' or 'firefox' headless with a fresh temporary profile. Options: extraArgs, extraPrefs
 * (Firefox), headless (default true), dumpio (browser stdout/stderr to ours; also env PUSHPEER_BROWSER_DUMPIO=1),
 * env, launchTimeoutMs (default 60 s). Returns a puppeteer Browser; its close() is bounded and also removes the
 * profile.
 */
export async function launchBrowser(name, options = {}) {
  if (!BROWSERS.includes(name)) throw new Error(`unknown browser ${name} (one of ${BROWSERS.join(', ')})`);
  const executable = name === 'chromium' ? CHROMIUM_PATH : FIREFOX_PATH;
  if (!existsSync(executable)) {
    throw new Error(`${executable} not found: install the Debian package (bash cmake/setup.sh)`);
  }
  installProcessHooks();
  const profile = await mkdtemp(path.join(os.tmpdir(), `${PROFILE_PREFIX}${name}-${process.pid}-`));
  const record = { name, profile, browser: null, closing: null };
  live.add(record);
  const base = name === 'chromium' ? chromiumOptions(profile, options) : firefoxOptions(profile, options);
  let browser;
  try {
    browser = await puppeteer.launch({
      ...base,
      dumpio: options.dumpio ?? process.env.PUSHPEER_BROWSER_DUMPIO === '1',
      env: { ...process.env, ...(options.env ?? {}) },
      timeout: options.launchTimeoutMs ?? LAUNCH_TIMEOUT_MS,
      protocolTimeout: PROTOCOL_TIMEOUT_MS,
      // Waiting for the first page inside launch() leaks the process if it times out; we do without it.
      waitForInitialPage: false,
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
    });
  } catch (error) {
    await shutdown(record, null);
    throw new Error(`launching ${name} failed: ${error.message}`, { cause: error });
  }
  record.browser = browser;
  const originalClose = browser.close.bind(browser);
  browser.close = () => shutdown(record, originalClose);
  browser.pushpeer = { name, profile, executable };
  // If the browser dies by itself, still clean up its profile.
  browser.once('disconnected', () => {
    void shutdown(record, null);
  });
  return browser;
}

export async function launchChromium(options) {
  return launchBrowser('chromium', options);
}

export async function launchFirefox(options) {
  return launchBrowser('firefox', options);
}

/** Version strings, e.g. for diagnostics: 'HeadlessChrome/156…' / 'Firefox/153…'. */
export async function browserVersion(browser) {
  try {
    return await browser.version();
  } catch {
    return 'unknown';
  }
}
