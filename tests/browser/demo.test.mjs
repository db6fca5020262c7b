// The demo (demo/) in real browsers, driven through its UI like a person would: Chromium ("Carla", its push leg
// played from Node) calls Firefox ("Fiona", a real subscription through the local push service). They chat with a
// long word at two widths, send files in the call (shared by link on the call itself: every piece checked; a large
// one asked for first; an altered one refused), change a name mid-call, hang up and call again, lose a transfer to a
// reload and resume it, share a video and a note by link and play it, cancel a call, let a request go stale; a third person, in
// a Chromium whose push service never answers, starts in call-only mode and still calls. Screenshots of the main
// screens go to build/screenshots/ (docs/screenshots/ with `npm run screenshots`, which the README shows). No
// console errors anywhere, and no error code in what a person reads.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { pollUntil, startWorld } from './apps.mjs';
import { repoRoot, startServer } from './server.mjs';

const DEMO = '/demo/';
const SHOTS = process.env.PUSHPEER_SCREENSHOTS_DIR
  ? path.resolve(repoRoot, process.env.PUSHPEER_SCREENSHOTS_DIR) : path.join(repoRoot, 'build', 'screenshots');
const TEST_MS = 120_000;
const shown = (id) => `#${id}:not([hidden])`;
const demoReady = () => Boolean(document.querySelector('#welcome:not([hidden]), #home:not([hidden]), #banner:not([hidden])'));
// What a person reads: the page without the timeline (which may show codes).
const CODE = /\b[A-Z]{2,}_[A-Z_]{2,}\b/;

async function screenshot(app, name, selector) {
  mkdirSync(SHOTS, { recursive: true });
  const target = selector ? await app.page.$(selector) : app.page;
  const image = await target.screenshot({ type: 'webp', quality: 80, ...(selector ? {} : { fullPage: true }) });
  writeFileSync(path.join(SHOTS, `${name}.webp`), image);
  return image;
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

/** Nothing a person reads (banner, screens) shows an error code. */
async function assertNoCodes(app) {
  const text = await app.page.evaluate(() => [...document.querySelectorAll('#banner, main > section:not([hidden])')]
    .filter((el) => !el.hidden).map((el) => el.innerText).join('\n'));
  assert.doesNotMatch(text, CODE, `${app.label} shows an error code: ${text}`);
}

const text = (app, selector) => app.page.$eval(selector, (el) => el.textContent);
const waitText = (app, selector, pattern, timeout = 30_000) => app.page.waitForFunction(
  (s, source) => new RegExp(source).test(document.querySelector(s)?.textContent ?? ''), { timeout }, selector, pattern.source);

describe('the demo, through its UI: Chromium and Firefox people, and one without push', { timeout: 12 * 60_000 }, () => {
  let world;
  let chromium;
  let firefox;
  let pushless;
  let demoPath;

  before(async () => {
    world = await startWorld();
    demoPath = `${DEMO}?push=${encodeURIComponent(world.service.httpOrigin)}`;
    [chromium, firefox] = await Promise.all([
      world.open('chromium', 'chromium', { path: demoPath, ready: demoReady }),
      world.open('firefox', 'firefox', { path: demoPath, ready: demoReady }),
    ]);
  });

  after(async () => {
    await world?.close();
  });

  async function hangUp(app, other, otherSays) {
    await app.page.click('#hang-up');
    await waitText(app, '#call-status', /You hung up/);
    await waitText(other, '#call-status', otherSays);
    for (const a of [app, other]) {
      await a.page.click('#hang-up'); // "Back to my card"
      await a.page.waitForSelector(shown('home'));
    }
  }

  /** The page hangs up a call the other side shows no view for (a download's), and goes back to its card. */
  async function hangUpAlone(app) {
    await app.page.waitForSelector(shown('connected'));
    await app.page.click('#hang-up');
    await waitText(app, '#call-status', /You hung up/);
    await app.page.click('#hang-up');
    await app.page.waitForSelector(shown('home'));
  }

  async function call(from, to) {
    const link = await to.page.$eval('#card-link', (el) => el.value);
    await from.page.$eval('#call-card', (el) => { el.value = ''; });
    await from.page.type('#call-card', link);
    await from.page.click('#call-button');
    await to.page.waitForSelector('#requests button.primary', { timeout: 30_000 });
    await to.page.click('#requests button.primary');
    await Promise.all([from.page.waitForSelector(shown('connected'), { timeout: 30_000 }),
      to.page.waitForSelector(shown('connected'), { timeout: 30_000 })]);
  }

  async function dropFile(app, name, bytes) {
    const file = path.join(os.tmpdir(), `pushpeer-demo-${process.pid}-${name}`);
    writeFileSync(file, bytes);
    await (await app.page.$('#file-input')).uploadFile(file);
    return file;
  }

  test('first visit: the welcome screen explains, asks for a name and waits for a click', { timeout: TEST_MS }, async () => {
    await chromium.page.waitForSelector(shown('welcome'));
    for (const id of ['#welcome h2', '#welcome-name', '#start']) await assertVisible(chromium, id);
    assert.equal(await chromium.page.$eval('#home', (el) => el.hidden), true);
    const png = await screenshot(chromium, '1-welcome');
    assert.ok(png.length > 5_000, `a rendered page, not a blank one (${png.length} bytes)`);
    // Nothing asked for yet: no identity before the click.
    assert.equal(await chromium.page.evaluate(() => window.pushpeerDemo.peer), null);
  });

  test('the name typed on the welcome screen goes on the card; the card says how long it reaches us',
    { timeout: TEST_MS }, async () => {
      for (const [app, name] of [[chromium, 'Carla'], [firefox, 'Fiona']]) {
        await app.page.type('#welcome-name', name);
        await app.page.click('#start');
        await app.page.waitForSelector(shown('home'), { timeout: 30_000 });
        const link = await app.page.$eval('#card-link', (el) => el.value);
        assert.equal(await app.page.evaluate((l) => window.pushpeerDemo.peer.core.decodeCard(l).name, link), name);
      }
      await assertVisible(chromium, '#qr svg');
      const link = await chromium.page.$eval('#card-link', (el) => el.value);
      assert.match(link, new RegExp(`^${world.server.origin}/demo/#card=[A-Za-z0-9_-]{600,}$`));
      assert.match(await chromium.page.$eval('#qr svg', (el) => el.outerHTML), /<path/);
      assert.match(await text(chromium, '#card-info'), /Reachable with this card for \d+ more (days|hours)/);
      assert.match(await text(chromium, '#requests'), /Nobody is calling\./);
      // Every control is reachable with Tab.
      const tabbable = await chromium.page.evaluate(() => [...document.querySelectorAll('#home button, #home input, #home textarea')]
        .filter((el) => el.offsetParent !== null).every((el) => el.tabIndex >= 0));
      assert.equal(tabbable, true);
      // "Copied." says so, then fades.
      await chromium.page.click('#copy-link');
      await waitText(chromium, '#copy-status', /Copied|Ctrl\+C/);
      await chromium.page.waitForSelector('#copy-status.fade', { timeout: 5000 });
      await screenshot(chromium, '2-my-card');
    });

  test('settings: a dialog with name, file question, relay, ICE and push servers, and forget', { timeout: TEST_MS }, async () => {
    await chromium.page.click('#open-settings');
    await assertVisible(chromium, '#settings');
    for (const id of ['#set-name', '#set-ask', '#set-relay', '#set-ice', '#set-page-push', '#forget']) {
      await assertVisible(chromium, id);
    }
    await screenshot(chromium, '3-settings');
    await chromium.page.keyboard.press('Escape');
    await chromium.page.waitForFunction(() => !document.getElementById('settings').open);
  });

  test('Chromium opens Fiona\'s card link, Fiona accepts (two pushes); the timeline is in order', { timeout: TEST_MS }, async () => {
    const since = world.service.lastSeq;
    const link = await firefox.page.$eval('#card-link', (el) => el.value);
    // Opening a card link offers to connect, at the top of the page.
    await chromium.page.goto(link);
    await chromium.page.waitForSelector('#offer-call:not([hidden])', { timeout: 30_000 });
    assert.match(await text(chromium, '#offer-call-text'), /Connect to Fiona\?/);
    const first = await chromium.page.$eval('#home', (el) => el.querySelector(':scope > :not([hidden])').id);
    assert.equal(first, 'offer-call', 'the prompt is the first thing on the page');
    await chromium.page.click('#offer-call-yes');
    await firefox.page.waitForSelector('#requests button.primary', { timeout: 30_000 });
    // The request says who and how long ago.
    assert.match(await text(firefox, '#requests'), /Carla wants to connect \((just now|\d+ seconds? ago)\)/);
    await firefox.page.click('#requests button.primary');
    await Promise.all([chromium.page.waitForSelector(shown('connected'), { timeout: 30_000 }),
      firefox.page.waitForSelector(shown('connected'), { timeout: 30_000 })]);
    assert.equal(world.pushesSince(since).length, 2);
    assert.match(await text(firefox, '#requests'), /Nobody is calling\./, 'the placeholder is back');
    await chromium.page.type('#chat-input', 'hi from chromium');
    await chromium.page.keyboard.press('Enter');
    await waitText(firefox, '#messages', /hi from chromium/);
    // The timeline: sizes, steps in the order they happened, times from this call's start.
    const lines = await chromium.page.$$eval('#timeline li', (items) => items.map((li) => li.textContent));
    const at = (pattern) => {
      const i = lines.findIndex((l) => pattern.test(l));
      assert.ok(i >= 0, `timeline has ${pattern}: ${lines.join(' | ')}`);
      return i;
    };
    assert.ok(at(/offer sealed: \d+ B envelope/) < at(/push sent to 127\.0\.0\.1:\d+: \d+ B/));
    assert.ok(at(/DTLS handshake done/) < at(/data channel open/));
    assert.match(lines[at(/push received: answer/)], /push received: answer, \d+ B, \d+ ms after our push for this call/);
    at(/connected in \d+ ms with two pushes/);
    assert.equal(lines.filter((l) => /gathering gathering/.test(l)).length, 0);
    assert.match(lines[at(/calling/)], /^\+0 ms/);
    await screenshot(chromium, '4-call');
    await screenshot(chromium, '7-timeline', '#timeline-box');
  });

  test('a long word in the chat wraps: the Files pane keeps its width at 1280 and 375 px', { timeout: TEST_MS }, async () => {
    // No hyphen or slash to break at after the host: only overflow-wrap lets it wrap.
    const url = `https://example.org/${'averylongpathsegment'.repeat(8)}`;
    await chromium.page.type('#chat-input', url);
    await chromium.page.keyboard.press('Enter');
    await waitText(firefox, '#messages', /averylongpathsegment/);
    for (const width of [1280, 375]) {
      for (const app of [chromium, firefox]) {
        await app.page.setViewport({ width, height: 900 });
        const layout = await app.page.evaluate(() => {
          const drop = document.getElementById('drop').getBoundingClientRect();
          const files = document.querySelector('.files').getBoundingClientRect();
          const panes = document.querySelector('.panes').getBoundingClientRect();
          const hit = document.elementFromPoint(drop.x + drop.width / 2, drop.y + drop.height / 2);
          return { files: files.width, panes: panes.width, scroll: document.documentElement.scrollWidth,
            view: window.innerWidth, hit: Boolean(hit && (hit.id === 'drop' || hit.closest('#drop'))) };
        });
        assert.ok(layout.scroll <= layout.view, `${app.label} at ${width}: no horizontal scrolling (${JSON.stringify(layout)})`);
        const share = width > 600 ? 0.4 : 0.9;
        assert.ok(layout.files >= share * layout.panes, `${app.label} at ${width}: the Files pane keeps its share (${JSON.stringify(layout)})`);
        assert.ok(layout.hit, `${app.label} at ${width}: a click on the drop zone reaches it`);
        if (app === chromium) await screenshot(chromium, `5-chat-${width}`);
      }
    }
    for (const app of [chromium, firefox]) await app.page.setViewport({ width: 1280, height: 900 });
  });

  /** The SHA-256 (hex) of what a link on the page serves (a Save link: a blob: URL or the worker's share URL). */
  const servedSha256 = (app, selector) => app.page.$eval(selector, async (a) => {
    const digest = await crypto.subtle.digest('SHA-256', await (await fetch(a.href)).arrayBuffer());
    return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
  });
  const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');
  /** The transfer item in the call pane whose name has `name`, waiting until it is in `state`. */
  const transfer = (app, name, state) => app.page.waitForFunction((n, st) => [...document.querySelectorAll(
    `#transfers > li[data-state="${st}"]`)].find((li) => li.querySelector('.name').textContent.includes(n)),
  { timeout: 60_000 }, name, state);

  test('files in a call: shared by link on the call itself (no push), every piece verified, a large one asked for first',
    { timeout: TEST_MS }, async () => {
      const since = world.service.lastSeq;
      const data = randomBytes(300_000); // 3 pieces of 128 KiB
      const file = await dropFile(chromium, 'photo.bin', data);
      await transfer(firefox, 'photo.bin', 'verified');
      assert.match(await text(firefox, '#transfers > li[data-state="verified"] .status'), /received in [\d.]+ m?s; verified: every piece matched/);
      // The bytes offered to save are the file's bytes; the piece map is there.
      await firefox.page.waitForSelector('#transfers > li[data-state="verified"] a[download]', { timeout: 30_000 });
      assert.equal(await servedSha256(firefox, '#transfers > li[data-state="verified"] a[download]'), sha256(data));
      assert.equal(await firefox.page.$$eval('#transfers > li[data-state="verified"] canvas.piece-map', (c) => c.length), 1);
      await transfer(chromium, 'photo.bin', 'sent');
      assert.match(await text(chromium, '#transfers > li[data-state="sent"] .status'), /Fiona says it arrived with every piece verified/);
      assert.equal(world.pushesSince(since).length, 0, 'no push: the file went over the call');
      // Fiona asks before files over 0 MiB now: the file waits for her; declined, Carla is told.
      await setAsk(firefox, 0);
      await dropFile(chromium, 'asked.bin', randomBytes(2000));
      await firefox.page.waitForSelector('#transfers > li[data-state="asking"] button', { timeout: 30_000 });
      await waitText(chromium, '#transfers', /waiting for Fiona to accept it/);
      await screenshot(firefox, '6-files-asking');
      await firefox.page.$$eval('#transfers > li[data-state="asking"] button', (b) => b.find((x) => x.textContent === 'Decline').click());
      await waitText(chromium, '#transfers', /Fiona declined it/);
      await dropFile(chromium, 'taken.bin', randomBytes(2000));
      await firefox.page.waitForSelector('#transfers > li[data-state="asking"] button.primary', { timeout: 30_000 });
      await firefox.page.click('#transfers > li[data-state="asking"] button.primary');
      await transfer(firefox, 'taken.bin', 'verified');
      await setAsk(firefox, 50);
      // An offer that claims less than its signed manifest says (a patched sender: 10 bytes claimed, 300 KB shared)
      // is refused once the manifest is in, with nothing asked for. A flood: at most eight offers a call (four at
      // once) start by themselves, the next ones wait for the person.
      await chromium.page.evaluate(async () => {
        const { call, peer } = window.pushpeerDemo;
        const share = await peer.share(new File([new Uint8Array(300_000).fill(7)], 'liar.bin'));
        call.connection.send(JSON.stringify({ t: 'file', id: 900, link: share.link, name: 'liar.bin', size: 10 }));
      });
      await transfer(firefox, 'liar.bin', 'failed');
      assert.match(await firefox.page.$$eval('#transfers > li[data-state="failed"]', (items) => items
        .find((li) => li.textContent.includes('liar.bin')).textContent), /failed: it is larger than offered \(293\.0 KiB, not 10 B\)/);
      await chromium.page.evaluate(async () => {
        const { call, peer } = window.pushpeerDemo;
        const shares = [];
        for (let i = 0; i < 10; i++) shares.push(await peer.share(new File([new Uint8Array(1 << 20).fill(i)], `flood-${i}.bin`)));
        shares.forEach((share, i) => call.connection.send(JSON.stringify({ t: 'file', id: 910 + i, link: share.link,
          name: `flood-${i}.bin`, size: share.files[0].size })));
      });
      await pollUntil(() => firefox.page.$$eval('#transfers > li', (items) => items.filter((li) => li.textContent.includes('flood-'))
        .map((li) => li.dataset.state)), (states) => states.length === 10, { timeoutMs: 60_000 });
      const flood = await firefox.page.$$eval('#transfers > li', (items) => items.filter((li) => li.textContent.includes('flood-'))
        .map((li) => li.dataset.state));
      assert.ok(flood.filter((st) => st === 'asking').length >= 2, `at most eight offers a call start by themselves: ${flood}`);
      await firefox.page.$$eval('#transfers > li[data-state="asking"] button', (b) => b.filter((x) => x.textContent === 'Decline')
        .forEach((x) => x.click()));
      await firefox.page.evaluate(() => window.pushpeerDemo.shares.live.forEach((v) => void v.download.cancel()));
      await screenshot(chromium, '6-files');
      await screenshot(firefox, '6-files-received');
      rmSync(file, { force: true });
    });

  async function setAsk(app, mib) {
    await app.page.click('#open-settings');
    await app.page.$eval('#set-ask', (el, v) => { el.value = v; }, String(mib));
    await app.page.click('#settings button[value="save"]');
    await app.page.waitForFunction(() => !document.getElementById('settings').open);
  }

  test('a new name mid-call reaches the other side at once; the call stays up; hanging up says who', { timeout: TEST_MS },
    async () => {
      await firefox.page.click('#open-settings');
      await firefox.page.$eval('#set-name', (el) => { el.value = ''; });
      await firefox.page.type('#set-name', 'Fiona B.');
      await firefox.page.click('#settings button[value="save"]');
      await waitText(chromium, '#peer-name', /Fiona B\./);
      assert.equal(await chromium.page.evaluate(() => window.pushpeerDemo.call.live), true);
      const link = await firefox.page.$eval('#card-link', (el) => el.value);
      assert.equal(await firefox.page.evaluate((l) => window.pushpeerDemo.peer.core.decodeCard(l).name, link), 'Fiona B.');
      await chromium.page.type('#chat-input', 'still here');
      await chromium.page.keyboard.press('Enter');
      await waitText(firefox, '#messages', /still here/);
      await hangUp(chromium, firefox, /Carla hung up\./);
      await assertNoCodes(firefox);
    });

  test('a second call on the same pages shows its transfers on both sides; a piece altered on the way is refused, '
    + 'nothing of it kept, and the sender cut off', { timeout: TEST_MS }, async () => {
    await call(chromium, firefox);
    for (const app of [chromium, firefox]) assert.equal(await app.page.$$eval('#transfers li', (l) => l.length), 0);
    await dropFile(chromium, 'second.bin', randomBytes(100_000));
    await transfer(firefox, 'second.bin', 'verified');
    await transfer(chromium, 'second.bin', 'sent');
    // One bit flipped in the first piece Carla's page sends (a patched sender): Fiona's page refuses the piece.
    await chromium.page.evaluate(() => {
      const c = window.pushpeerDemo.call.connection;
      const write = c.writeContent.bind(c);
      c.writeContent = (frame, options) => {
        if (frame.length > 1000) {
          frame = frame.slice();
          frame[frame.length - 1] ^= 1;
          c.writeContent = write;
        }
        return write(frame, options);
      };
    });
    await chromium.page.evaluate(() => window.pushpeerDemo.call.sendFile(new File([new Uint8Array(5000)], 'altered.bin')));
    await transfer(firefox, 'altered.bin', 'failed');
    const failed = await firefox.page.$$eval('#transfers > li[data-state="failed"]', (items) => items
      .find((li) => li.textContent.includes('altered.bin')).textContent);
    assert.match(failed, /failed: a piece did not match the signed list of files/);
    assert.equal(await firefox.page.$$eval('#transfers > li[data-state="failed"] a[download]', (a) => a.length), 0, 'nothing to save');
    // The sender of a bad piece is dropped: the call ends on both sides.
    await waitText(chromium, '#call-status', /Fiona B\. ended the call|lost/);
    await assertNoCodes(firefox);
    for (const app of [chromium, firefox]) {
      await app.page.click('#hang-up'); // "Back to my card"
      await app.page.waitForSelector(shown('home'));
    }
  });

  test('a transfer cut by a reload of the receiver: both sides say why, and the next page resumes it (two pushes), '
    + 'asking only for what is missing', { timeout: 2 * TEST_MS }, async () => {
    await call(chromium, firefox);
    const data = randomBytes(64 * 2 ** 20);
    const file = await dropFile(chromium, 'big.bin', data);
    // Over Fiona's 50 MiB threshold: she takes it; her page reloads once some of it arrived.
    await firefox.page.waitForSelector('#transfers > li[data-state="asking"] button.primary', { timeout: 60_000 });
    await firefox.page.click('#transfers > li[data-state="asking"] button.primary');
    await pollUntil(() => firefox.page.evaluate(() => {
      const p = [...document.querySelectorAll('#transfers > li')].find((li) => li.textContent.includes('big.bin'))
        ?.querySelector('progress');
      return p ? p.value : 0;
    }), (v) => v > 0.08, { timeoutMs: 60_000, intervalMs: 50 });
    await firefox.page.reload({ waitUntil: 'load' });
    await transfer(chromium, 'big.bin', 'failed');
    assert.match(await chromium.page.$$eval('#transfers > li[data-state="failed"]', (items) => items
      .find((li) => li.textContent.includes('big.bin')).textContent), /big\.bin[\s\S]*failed: Fiona B\.'s page closed/);
    assert.match(await text(chromium, '#call-status'), /Fiona B\.'s page closed\./);
    await chromium.page.click('#hang-up');
    await chromium.page.waitForSelector(shown('home'));
    // Fiona's new page lists it as interrupted, with what was verified kept; Resume calls Carla (two pushes).
    await firefox.page.waitForSelector(shown('home'), { timeout: 30_000 });
    await waitText(firefox, '#downloads', /big\.bin from Carla[\s\S]*Not finished: the verified pieces are kept/);
    assert.match(await text(firefox, '#downloads'), /photo\.bin[\s\S]*every piece verified/, 'kept across the reload');
    const since = world.service.lastSeq;
    // (altered.bin, refused earlier, is listed the same way: its verified pieces, if any, are kept.)
    assert.equal(await firefox.page.$$eval('#downloads > li[data-state="interrupted"]', (items) => items
      .filter((li) => li.textContent.includes('big.bin')).length), 1);
    await firefox.page.$$eval('#downloads > li[data-state="interrupted"]', (items) => items
      .find((li) => li.textContent.includes('big.bin')).querySelector('button.primary').click());
    await chromium.page.waitForSelector('#requests button.primary', { timeout: 30_000 });
    await chromium.page.click('#requests button.primary');
    await firefox.page.waitForFunction(() => [...document.querySelectorAll('#downloads > li[data-state="done"]')]
      .some((li) => li.textContent.includes('big.bin')), { timeout: 90_000 });
    assert.equal(world.pushesSince(since).length, 2, 'one push each way');
    // Only what was missing came: the resumed download received less than the file.
    const received = await firefox.page.evaluate(() => [...window.pushpeerDemo.shares.live.values()]
      .map((v) => v.download).find((d) => d.manifest?.files[0].name.includes('big.bin')).progress());
    assert.ok(received.bytes < received.totalBytes && received.bytes > 0, JSON.stringify(received));
    await screenshot(firefox, '11-downloads');
    const save = await firefox.page.waitForFunction(() => [...document.querySelectorAll('#downloads > li[data-state="done"]')]
      .find((li) => li.textContent.includes('big.bin'))?.querySelector('a[download]'), { timeout: 30_000 });
    const got = await save.evaluate(async (a) => {
      const digest = await crypto.subtle.digest('SHA-256', await (await fetch(a.href)).arrayBuffer());
      return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
    });
    assert.equal(got, sha256(data));
    // Carla accepted Fiona's call for it: she hangs up (Fiona's page shows no call for a download).
    await hangUpAlone(chromium);
    await assertNoCodes(chromium);
    rmSync(file, { force: true });
  });

  test('the Share section: Carla shares a recorded video and a note by link and QR code; Fiona opens the link (two '
    + 'pushes), the video plays, both verified; Stop sharing takes it away', { timeout: TEST_MS }, async () => {
    const clip = Buffer.from(await chromium.page.evaluate(async () => {
      const canvas = document.createElement('canvas');
      canvas.width = 320;
      canvas.height = 180;
      const g = canvas.getContext('2d');
      let frame = 0;
      const draw = setInterval(() => {
        frame++;
        g.fillStyle = `hsl(${(frame * 11) % 360} 80% 50%)`;
        g.fillRect((frame * 13) % 320, (frame * 7) % 180, 60, 60);
      }, 33);
      const recorder = new MediaRecorder(canvas.captureStream(30), { mimeType: 'video/webm' });
      const parts = [];
      recorder.ondataavailable = (e) => parts.push(e.data);
      const stopped = new Promise((resolve) => { recorder.onstop = resolve; });
      recorder.start(250);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      recorder.stop();
      await stopped;
      clearInterval(draw);
      const bytes = new Uint8Array(await new Blob(parts).arrayBuffer());
      let text = '';
      for (const b of bytes) text += String.fromCharCode(b);
      return btoa(text);
    }), 'base64');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pushpeer-demo-share-'));
    const note = Buffer.from('a note that travels with the clip\n');
    writeFileSync(path.join(dir, 'clip.webm'), clip);
    writeFileSync(path.join(dir, 'note.txt'), note);
    await (await chromium.page.$('#share-input')).uploadFile(path.join(dir, 'clip.webm'), path.join(dir, 'note.txt'));
    // Newest first: the files shared in the calls before are listed below it.
    await chromium.page.waitForFunction(() => document.querySelector('#my-shares > li.share .name')?.textContent
      .includes('clip.webm'), { timeout: 30_000 });
    assert.equal(await chromium.page.$$eval('#my-shares > li.share:first-child .qr-small svg', (svg) => svg.length), 1);
    const link = await chromium.page.$eval('#my-shares > li.share .share-link', (el) => el.value);
    assert.match(link, /#share=[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]+$/);
    assert.match(await text(chromium, '#my-shares'), /clip\.webm, note\.txt \(2 files/);
    await screenshot(chromium, '10-share');
    const since = world.service.lastSeq;
    await firefox.page.goto(link, { waitUntil: 'load' });
    await firefox.page.waitForSelector(`${shown('offer-share')} #offer-share-yes`, { timeout: 30_000 });
    assert.match(await text(firefox, '#offer-share-text'), /a share from Carla/);
    await firefox.page.click('#offer-share-yes');
    await chromium.page.waitForSelector('#requests button.primary', { timeout: 30_000 });
    await chromium.page.click('#requests button.primary');
    // A player is made on a click (a share of many media files does not start as many players).
    await firefox.page.waitForSelector('#downloads > li.download[data-state="done"] button.play', { timeout: 60_000 });
    await firefox.page.click('#downloads > li.download[data-state="done"] button.play');
    await firefox.page.waitForSelector('#downloads > li.download[data-state="done"] video', { timeout: 10_000 });
    assert.equal(world.pushesSince(since).length, 2, 'one push each way');
    const rows = await firefox.page.$$eval('#downloads > li.download[data-state="done"]:has(video) .file-list > li',
      (items) => items.map((li) => [li.querySelector('.file-name').textContent, li.dataset.state]));
    assert.equal(rows.length, 2);
    assert.match(rows[0][0], /^clip\.webm \([\d.]+ (KiB|MiB)\)$/);
    assert.deepEqual([rows[1][0], rows[0][1], rows[1][1]], ['note.txt (34 B)', 'verified', 'verified']);
    // The video plays from the worker's URL (the verified pieces in storage).
    // (The click above may have started it already: what counts is that its time moves.)
    const played = await firefox.page.$eval('#downloads > li.download[data-state="done"]:has(video) video', (video) => new Promise((resolve) => {
      video.muted = true;
      const moved = () => video.currentTime > 0 && resolve(true);
      video.addEventListener('timeupdate', moved);
      video.addEventListener('error', () => resolve(`error ${video.error?.code}`), { once: true });
      setTimeout(() => resolve(`no progress: readyState ${video.readyState}, paused ${video.paused}`), 20_000);
      video.play().catch((e) => resolve(String(e)));
      moved();
    }));
    assert.equal(played, true);
    await firefox.page.waitForFunction(() => document.querySelectorAll('#downloads > li.download[data-state="done"]:has(video) a[download]').length === 2,
      { timeout: 30_000 });
    const saved = await firefox.page.$$eval('#downloads > li.download[data-state="done"]:has(video) a[download]', (a) => a.map((x) => x.download));
    assert.deepEqual(saved, ['clip.webm', 'note.txt']);
    assert.equal(await servedSha256(firefox, '#downloads > li.download[data-state="done"]:has(video) .file-list > li:nth-child(2) a[download]'),
      sha256(note));
    await screenshot(firefox, '10-share-received');
    await hangUpAlone(chromium);
    // Carla stops sharing: the share and its link are gone from her list.
    await chromium.page.click('#my-shares > li.share button.danger');
    await chromium.page.waitForFunction(() => !document.querySelector('#my-shares').textContent.includes('clip.webm'));
    await assertNoCodes(firefox);
    rmSync(dir, { recursive: true, force: true });
  });

  test('calling: a countdown and Cancel; other Call buttons are off meanwhile; the request goes stale at the callee',
    { timeout: TEST_MS }, async () => {
      const link = await firefox.page.$eval('#card-link', (el) => el.value);
      await chromium.page.$eval('#call-card', (el) => { el.value = ''; });
      await chromium.page.type('#call-card', link);
      await chromium.page.click('#call-button');
      await chromium.page.waitForSelector(shown('calling'));
      await waitText(chromium, '#calling-countdown', /^\d+ s left$/);
      assert.equal(await chromium.page.$$eval('.call-action', (b) => b.every((x) => x.disabled)), true);
      assert.ok(await chromium.page.$$eval('#peers button.call-action', (b) => b.length) >= 1);
      await firefox.page.waitForSelector('#requests button.primary', { timeout: 30_000 });
      await chromium.page.click('#cancel-call');
      await waitText(chromium, '#banner', /Call cancelled\./);
      assert.equal(await chromium.page.$$eval('.call-action', (b) => b.some((x) => x.disabled)), false);
      // Fiona was away: the request shows its age, then goes once Carla stopped waiting (the library knows when).
      await waitText(firefox, '#requests', /Missed: Carla called at .* and gave up waiting\./, 60_000);
      assert.equal(await firefox.page.$$eval('#requests button', (b) => b.length), 0);
      assert.match(await text(firefox, '#requests'), /Nobody is calling\./);
      await assertNoCodes(firefox);
    });

  test('a browser whose push service never answers starts in call-only mode, calls, and does not wait again',
    { timeout: TEST_MS }, async () => {
      const pageUrl = `${demoPath}&pagepush=${encodeURIComponent(world.service.wsUrl)}`;
      pushless = await world.open('chromium', 'pushless', { path: pageUrl, ready: demoReady, inside: chromium,
        hostPush: false });
      // Its push service never answers (Chromium offline): subscribe() does not settle. Counted across reloads.
      const hang = () => {
        window.pushpeerDemoPushWaitMs = 3000;
        PushManager.prototype.subscribe = function subscribe() {
          sessionStorage.setItem('subscribes', String(Number(sessionStorage.getItem('subscribes') ?? 0) + 1));
          return new Promise(() => {});
        };
      };
      await pushless.page.evaluateOnNewDocument(hang);
      await pushless.page.reload({ waitUntil: 'load' });
      await pushless.page.waitForSelector(shown('welcome'));
      await pushless.page.type('#welcome-name', 'Pat');
      await pushless.page.click('#start');
      await pushless.page.waitForSelector(shown('call-only'), { timeout: 30_000 });
      assert.match(await text(pushless, '#call-only-text'), /Call-only mode: .*push service does not answer.*You can call people/);
      await screenshot(pushless, '8-call-only');
      const since = world.service.lastSeq;
      await call(pushless, firefox);
      assert.equal(world.pushesSince(since).length, 2);
      await hangUp(pushless, firefox, /Pat hung up\./);
      // The next visit starts in call-only mode at once: the push service is not asked (nor waited for) again.
      await pushless.page.reload({ waitUntil: 'load' });
      await pushless.page.waitForSelector(shown('call-only'), { timeout: 30_000 });
      assert.equal(await pushless.page.evaluate(() => sessionStorage.getItem('subscribes')), '1');
      await assertNoCodes(pushless);
      assert.deepEqual(consoleErrors(pushless), []);
      for (const app of [chromium, firefox]) assert.deepEqual(consoleErrors(app), [], `${app.label} console`);
    });

  test('a group: Carla starts one, Fiona and Pat join with its invite link (two pushes each), Pat meets Fiona through '
    + 'Carla with no push', { timeout: TEST_MS }, async () => {
    const group = 'section.group[data-group="Friends"]';
    await chromium.page.type('#group-name', 'Friends');
    await chromium.page.click('#group-start');
    await chromium.page.waitForSelector(`${group} .invite`);
    const invite = await chromium.page.$eval(`${group} .invite`, (el) => el.value);
    assert.match(invite, /#card=[A-Za-z0-9_-]+&group=[A-Za-z0-9_-]+&gname=Friends$/);
    const join = async (app) => {
      const since = world.service.lastSeq;
      await app.page.goto(invite);
      await app.page.waitForSelector('#offer-join:not([hidden])', { timeout: 30_000 });
      assert.match(await text(app, '#offer-join-text'), /Carla invites you to the group "Friends"\. Join\?/);
      await app.page.click('#offer-join-yes');
      // Carla decides on the call, as on any other (her call view opens; requests stay in sight).
      await chromium.page.waitForSelector('#requests button.primary', { timeout: 30_000 });
      await chromium.page.click('#requests button.primary');
      await app.page.waitForSelector(`${group} .members li[data-kind="push"]`, { timeout: 30_000 });
      return since;
    };
    let since = await join(firefox);
    assert.equal(world.pushesSince(since).length, 2, 'Fiona joined with two pushes');
    since = await join(pushless);
    // Pat is introduced to Fiona through Carla: no push, no question to Fiona.
    await pushless.page.waitForSelector(`${group} .members li[data-kind="introduction"]`, { timeout: 30_000 });
    await firefox.page.waitForSelector(`${group} .members li[data-kind="introduction"]`, { timeout: 30_000 });
    assert.equal(world.pushesSince(since).length, 2, 'Pat joined with two pushes, whatever the group\'s size');
    assert.match(await text(pushless, `${group} .pushes`), /2 of 2 members connected to you; joining cost 2 pushes/);
    assert.match(await text(pushless, `${group} .members`), /Carla: called by push[\s\S]*Fiona B\.: introduced by a member \(no push\)/);
    assert.equal(await pushless.page.$$eval(`${group} .graph line.introduction`, (l) => l.length), 1);
    assert.equal(await pushless.page.$$eval(`${group} .graph line.push`, (l) => l.length), 1);
    // A message to the group reaches both.
    await pushless.page.type(`${group} .group-say input`, 'hi friends');
    await pushless.page.click(`${group} .group-say button`);
    for (const app of [chromium, firefox]) await waitText(app, `${group} .group-log`, /Pat: hi friends/);
    await screenshot(pushless, '9-group');
    for (const app of [chromium, firefox, pushless]) await assertNoCodes(app);
  });

  test('a share opened by a third person (the swarm): Pat\'s download lists Carla and Fiona, each with the colour of '
    + 'the pieces they sent on the map', { timeout: TEST_MS }, async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pushpeer-demo-swarm-'));
    const data = Buffer.alloc(6 * 1024 * 1024);
    for (let i = 0; i < data.length; i += 4) data.writeUInt32LE((i * 2654435761) >>> 0, i);
    writeFileSync(path.join(dir, 'swarm.bin'), data);
    await (await chromium.page.$('#share-input')).uploadFile(path.join(dir, 'swarm.bin'));
    await chromium.page.waitForFunction(() => document.querySelector('#my-shares > li.share .name')?.textContent
      .includes('swarm.bin'), { timeout: 30_000 });
    const link = await chromium.page.$eval('#my-shares > li.share .share-link', (el) => el.value);
    const open = async (app) => {
      await app.page.goto(link, { waitUntil: 'load' });
      await app.page.waitForSelector(`${shown('offer-share')} #offer-share-yes`, { timeout: 30_000 });
      await app.page.click('#offer-share-yes');
    };
    const done = '#downloads > li.download[data-state="done"]:has(.file-name)';
    // Fiona and Pat are connected to Carla already (the group): no call, no question to Carla.
    await open(firefox);
    await firefox.page.waitForFunction((s) => [...document.querySelectorAll(s)]
      .some((li) => li.textContent.includes('swarm.bin')), { timeout: 60_000 }, done);
    await open(pushless);
    await pushless.page.waitForFunction((s) => [...document.querySelectorAll(s)]
      .some((li) => li.textContent.includes('swarm.bin')), { timeout: 60_000 }, done);
    const sources = await pushless.page.$$eval(done, (items) => {
      const li = items.find((x) => x.textContent.includes('swarm.bin'));
      return [...li.querySelectorAll('.sources li')].map((s) => [s.textContent, s.querySelector('.swatch').style.background]);
    });
    assert.ok(sources.length >= 2, JSON.stringify(sources));
    assert.match(sources.map(([t]) => t).join('\n'), /Carla \(the link\): \d+ pieces?[\s\S]*Fiona B\.: \d+ pieces?|Fiona B\.: \d+ pieces?[\s\S]*Carla \(the link\): \d+ pieces?/);
    assert.equal(new Set(sources.map(([, colour]) => colour)).size, sources.length, 'a colour each');
    await screenshot(pushless, '12-swarm');
    for (const app of [chromium, firefox, pushless]) await assertNoCodes(app);
    rmSync(dir, { recursive: true, force: true });
  });

  test('forget returns to the first visit', { timeout: TEST_MS }, async () => {
    await chromium.page.click('#open-settings');
    await Promise.all([chromium.page.waitForNavigation({ waitUntil: 'load' }), chromium.page.click('#forget')]);
    await chromium.page.waitForSelector(shown('welcome'), { timeout: 30_000 });
    assert.deepEqual(consoleErrors(chromium), []);
  });

  test('the site GitHub Pages publishes (demo/build-site.sh) runs under a sub-path and links its repository',
    { timeout: TEST_MS }, async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'pushpeer-site-'));
      execFileSync('bash', [path.join(repoRoot, 'demo/build-site.sh'), path.join(dir, 'pushpeer')], { stdio: 'pipe',
        env: { ...process.env, GITHUB_SERVER_URL: 'https://github.com', GITHUB_REPOSITORY: 'someone/pushpeer' } });
      const site = await startServer({ root: dir });
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
        assert.equal(await page.$eval('#repo-link', (a) => a.href), 'https://github.com/someone/pushpeer');
        // The core loads from the published files and works.
        const keyLength = await page.evaluate(async () => {
          const { loadCore } = await import('../js/core.js');
          return (await loadCore()).generateVapidKeys().publicKey.length;
        });
        assert.equal(keyLength, 65);
        // Signed (docs/PROTOCOL.md §10): once the worker controls the page, the core and the media sample are
        // answered by it, checked against the published manifest: from the origin first, then from its store.
        // (The demo registers its worker when the person starts; here at once, as it does.)
        await page.evaluate(async () => {
          await navigator.serviceWorker.register('./sw.js', { type: 'module' });
          await navigator.serviceWorker.ready;
        });
        await page.reload({ waitUntil: 'load' });
        await page.waitForFunction(() => Boolean(navigator.serviceWorker.controller), { timeout: 20_000 });
        const get = (url) => page.evaluate(async (u) => {
          const r = await fetch(u);
          const size = (await r.arrayBuffer()).byteLength;
          return { status: r.status, size, type: r.headers.get('Content-Type'), source: r.headers.get('X-PushPeer-Source'),
            version: r.headers.get('X-PushPeer-Site-Version') };
        }, url);
        const listed = JSON.parse(readFileSync(path.join(dir, 'pushpeer', 'pushpeer-site.json'), 'utf8'));
        const wasm = await get('../js/wasm/pushpeer-core.wasm');
        assert.deepEqual([wasm.status, wasm.type, wasm.version], [200, 'application/wasm', String(listed.version)]);
        const sample = [await get('media/tones.wav'), await get('media/tones.wav')];
        assert.deepEqual(sample.map((r) => [r.status, r.type, r.source]), [[200, 'audio/wav', 'origin'], [200, 'audio/wav', 'cache']]);
        assert.deepEqual(errors, []);
      } finally {
        await page.close();
        await site.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
});
