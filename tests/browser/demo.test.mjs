// The demo (demo/) in real browsers, driven through its UI like a person would: headless Chromium renders every
// main screen (screenshots in build/screenshots/), then Chromium calls Firefox (a real push subscription through
// the local push service), they chat, and a file dropped in Chromium arrives in Firefox with every chunk's
// SHA-256 checked, offered for download and kept across a reload. No console errors anywhere.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { startWorld } from './apps.mjs';
import { repoRoot, startServer } from './server.mjs';

const DEMO = '/demo/';
// The demo allows the local push service when it is served from this machine and told where it is (npm start).
let demoPath = () => DEMO;
const SHOTS = path.join(repoRoot, 'build', 'screenshots');
const TEST_MS = 90_000;
const shown = (id) => `#${id}:not([hidden])`;
const demoReady = () => Boolean(document.querySelector('#welcome:not([hidden]), #home:not([hidden]), #banner:not([hidden])'));

async function screenshot(app, name) {
  mkdirSync(SHOTS, { recursive: true });
  const png = await app.page.screenshot({ fullPage: true });
  writeFileSync(path.join(SHOTS, `${name}.png`), png);
  return png;
}

/** The element is displayed with a non-empty box (not hidden, not zero-sized). */
async function assertVisible(app, selector) {
  const box = await app.page.$eval(selector, (el) => {
    const r = el.getBoundingClientRect();
    return { w: r.width, h: r.height, display: getComputedStyle(el).display };
  });
  assert.ok(box.w > 0 && box.h > 0 && box.display !== 'none', `${selector} is visible (${JSON.stringify(box)})`);
}

function consoleErrors(app) {
  return app.consoleLines.filter((l) => /^(error|pageerror)/.test(l) && !/favicon/.test(l));
}

describe('the demo: screens in Chromium, a call and a verified file transfer to Firefox', { timeout: 6 * 60_000 }, () => {
  let world;
  let chromium;
  let firefox;

  before(async () => {
    world = await startWorld();
    demoPath = () => `${DEMO}?push=${encodeURIComponent(world.service.httpOrigin)}`;
    [chromium, firefox] = await Promise.all([
      world.open('chromium', 'chromium', { path: demoPath(), ready: demoReady }),
      world.open('firefox', 'firefox', { path: demoPath(), ready: demoReady }),
    ]);
  });

  after(async () => {
    await world?.close();
  });

  test('first visit: the welcome screen explains and waits for a click', { timeout: TEST_MS }, async () => {
    await chromium.page.waitForSelector(shown('welcome'));
    await assertVisible(chromium, '#welcome h2');
    await assertVisible(chromium, '#start');
    assert.equal(await chromium.page.$eval('#home', (el) => el.hidden), true);
    const png = await screenshot(chromium, '1-welcome');
    assert.ok(png.length > 10_000, `a rendered page, not a blank one (${png.length} bytes)`);
    // Nothing asked for yet: no identity before the click.
    assert.equal(await chromium.page.evaluate(() => window.pushpeerDemo.peer), null);
  });

  test('after the click: my card as QR code and link, keyboard reachable', { timeout: TEST_MS }, async () => {
    for (const app of [chromium, firefox]) {
      await app.page.click('#start');
      await app.page.waitForSelector(shown('home'), { timeout: 30_000 });
    }
    await assertVisible(chromium, '#qr svg');
    const link = await chromium.page.$eval('#card-link', (el) => el.value);
    assert.match(link, new RegExp(`^${world.server.origin}/demo/#card=[A-Za-z0-9_-]{600,}$`));
    assert.match(await chromium.page.$eval('#qr svg', (el) => el.outerHTML), /<path/);
    // Every control is reachable with Tab.
    const tabbable = await chromium.page.evaluate(() => [...document.querySelectorAll('#home button, #home input, #home textarea')]
      .filter((el) => el.offsetParent !== null).every((el) => el.tabIndex >= 0));
    assert.equal(tabbable, true);
    await screenshot(chromium, '2-my-card');
  });

  test('settings: a dialog with name, relay, ICE servers and forget', { timeout: TEST_MS }, async () => {
    await chromium.page.click('#open-settings');
    await assertVisible(chromium, '#settings');
    for (const id of ['#set-name', '#set-relay', '#set-ice', '#forget']) await assertVisible(chromium, id);
    await screenshot(chromium, '3-settings');
    await chromium.page.keyboard.press('Escape');
    await chromium.page.waitForFunction(() => !document.getElementById('settings').open);
  });

  test('Chromium opens Firefox\'s card link, Firefox accepts, they chat: two pushes', { timeout: TEST_MS }, async () => {
    const since = world.service.lastSeq;
    const link = await firefox.page.$eval('#card-link', (el) => el.value);
    // Opening a card link offers to connect.
    await chromium.page.goto(link);
    await chromium.page.waitForSelector('#offer-call:not([hidden])', { timeout: 30_000 });
    assert.match(await chromium.page.$eval('#offer-call-text', (el) => el.textContent), /Connect to/);
    await chromium.page.click('#offer-call-yes');
    await firefox.page.waitForSelector('#requests button.primary', { timeout: 30_000 });
    await firefox.page.click('#requests button.primary');
    await Promise.all([chromium.page.waitForSelector(shown('connected'), { timeout: 30_000 }),
      firefox.page.waitForSelector(shown('connected'), { timeout: 30_000 })]);
    assert.equal(world.pushesSince(since).length, 2);
    await chromium.page.type('#chat-input', 'hi from chromium');
    await chromium.page.keyboard.press('Enter');
    await firefox.page.waitForFunction(() => document.getElementById('messages').textContent.includes('hi from chromium'));
    // The timeline shows the pushes with sizes and the total time.
    const timeline = await chromium.page.$eval('#timeline', (el) => el.textContent);
    assert.match(timeline, /push sent to 127\.0\.0\.1:\d+: \d+ B/);
    assert.match(timeline, /push received: answer, \d+ B/);
    assert.match(timeline, /connected in \d+ ms with two pushes/);
    await screenshot(chromium, '4-connected');
  });

  test('a file dropped in Chromium arrives in Firefox, every chunk checked, kept after a reload', { timeout: TEST_MS },
    async () => {
      const data = randomBytes(300_000); // 5 chunks of 64 KiB
      const file = path.join(os.tmpdir(), `pushpeer-demo-${process.pid}.bin`);
      writeFileSync(file, data);
      const input = await chromium.page.$('#file-input');
      await input.uploadFile(file);
      await firefox.page.waitForSelector('#transfers li[data-state="verified"]', { timeout: 30_000 });
      const status = await firefox.page.$eval('#transfers li[data-state="verified"] .status', (el) => el.textContent);
      assert.match(status, /all 5 chunks match their SHA-256/);
      // The bytes offered for download are the file's bytes.
      const got = await firefox.page.evaluate(async () => {
        const a = document.querySelector('#transfers li[data-state="verified"] a');
        return Array.from(new Uint8Array(await (await fetch(a.href)).arrayBuffer()));
      });
      assert.equal(createHash('sha256').update(Buffer.from(got)).digest('hex'), createHash('sha256').update(data).digest('hex'));
      await chromium.page.waitForSelector('#transfers li[data-state="sent"]');
      await screenshot(chromium, '5-file-sent');
      // Drag and drop works too (a synthetic drop of a second file on the drop zone).
      await chromium.page.evaluate(() => {
        const dt = new DataTransfer();
        dt.items.add(new File([new Uint8Array(70_000).fill(7)], 'dropped.bin'));
        document.getElementById('drop').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
      });
      await firefox.page.waitForFunction(() => [...document.querySelectorAll('#transfers li[data-state="verified"] .name')]
        .some((el) => el.textContent.includes('dropped.bin')), { timeout: 30_000 });
      // A chunk altered on the way (one bit flipped by a patched sender): the receiver refuses the file.
      await chromium.page.evaluate(() => {
        const c = window.pushpeerDemo.exchange.connection;
        const send = c.send.bind(c);
        c.send = (data) => {
          if (data instanceof Uint8Array && data.length > 100) {
            data[100] ^= 1;
            c.send = send;
          }
          send(data);
        };
      });
      await chromium.page.evaluate(() => window.pushpeerDemo.exchange.sendFile(new File([new Uint8Array(1000)], 'altered.bin')));
      await firefox.page.waitForSelector('#transfers li[data-state="failed"]', { timeout: 30_000 });
      assert.match(await firefox.page.$eval('#transfers li[data-state="failed"]', (el) => el.textContent),
        /altered\.bin[\s\S]*failed: chunk 0 does not match its hash/);
      assert.equal(await firefox.page.$$eval('#transfers li[data-state="failed"] a', (a) => a.length), 0, 'no download offered');
      // Kept in IndexedDB: after a reload it is listed under "Received files".
      await firefox.page.reload({ waitUntil: 'load' });
      await firefox.page.waitForSelector('#saved li a', { timeout: 30_000 });
      const saved = await firefox.page.$eval('#saved', (el) => el.textContent);
      assert.match(saved, new RegExp(`${path.basename(file)}.*SHA-256 verified`));
      assert.doesNotMatch(saved, /altered\.bin/);
      for (const app of [chromium, firefox]) assert.deepEqual(consoleErrors(app), [], `${app.label} console`);
    });

  test('settings: a new display name goes on a new card; forget returns to the first visit', { timeout: TEST_MS },
    async () => {
      await chromium.page.goto(world.server.url(demoPath()), { waitUntil: 'load' });
      await chromium.page.waitForSelector(shown('home'), { timeout: 30_000 });
      const before = await chromium.page.$eval('#card-link', (el) => el.value);
      await chromium.page.click('#open-settings');
      await chromium.page.$eval('#set-name', (el) => { el.value = ''; });
      await chromium.page.type('#set-name', 'Carla');
      await Promise.all([chromium.page.waitForNavigation({ waitUntil: 'load' }),
        chromium.page.click('#settings button[value="save"]')]);
      await chromium.page.waitForSelector(shown('home'), { timeout: 30_000 });
      const after = await chromium.page.$eval('#card-link', (el) => el.value);
      assert.notEqual(after, before);
      const name = await chromium.page.evaluate((link) => window.pushpeerDemo.peer.core.decodeCard(link).name, after);
      assert.equal(name, 'Carla');
      await chromium.page.click('#open-settings');
      await Promise.all([chromium.page.waitForNavigation({ waitUntil: 'load' }), chromium.page.click('#forget')]);
      await chromium.page.waitForSelector(shown('welcome'), { timeout: 30_000 });
      assert.deepEqual(consoleErrors(chromium), []);
    });

  test('the site GitHub Pages publishes (demo/build-site.sh) runs under a sub-path', { timeout: TEST_MS }, async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pushpeer-site-'));
    const site = await (async () => {
      execFileSync('bash', [path.join(repoRoot, 'demo/build-site.sh'), path.join(dir, 'pushpeer')], { stdio: 'pipe' });
      return startServer({ root: dir });
    })();
    const page = await chromium.browser.newPage();
    const errors = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(e.message));
    // A console 404 does not say which URL; this does (any request of the site's, the favicon included).
    page.on('response', (r) => r.status() >= 400 && errors.push(`${r.status()} ${r.url()}`));
    try {
      await page.goto(site.url('/pushpeer/'), { waitUntil: 'load' });
      await page.waitForSelector('#welcome:not([hidden])', { timeout: 30_000 });
      assert.equal(new URL(page.url()).pathname, '/pushpeer/demo/');
      // The core loads from the published files and works.
      const keyLength = await page.evaluate(async () => {
        const { loadCore } = await import('../js/core.js');
        return (await loadCore()).generateVapidKeys().publicKey.length;
      });
      assert.equal(keyLength, 65);
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
      await site.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
