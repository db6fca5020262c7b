// Helpers the browser benchmarks share, on the app pages of tests/browser/app/, and for their reports.

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** Progress goes to stderr; the report (Markdown) to stdout. */
export const say = (line) => process.stderr.write(`${line}\n`);

/** The q-quantile by nearest rank of the finite values; NaN when there are none. */
export function quantile(values, q) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return NaN;
  return v[Math.min(v.length - 1, Math.max(0, Math.ceil(q * v.length) - 1))];
}

/** Milliseconds (or any count) for a table: rounded, '–' when not a number. */
export const fmt = (x) => (Number.isFinite(x) ? String(Math.round(x)) : '–');

/** The median of the finite values (the mean of the middle two for an even count); NaN when there are none. */
export function median(values) {
  const s = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** 'lo–hi' of the finite values for a table (one number when they are all the same, '–' when there are none). */
export function range(values) {
  const s = values.filter((x) => Number.isFinite(x));
  if (!s.length) return '–';
  const lo = Math.min(...s);
  const hi = Math.max(...s);
  return lo === hi ? fmt(lo) : `${fmt(lo)}–${fmt(hi)}`;
}

/**
 * --pairs "firefox-chromium,chromium-chromium" -> [{ [first]: 'firefox', [second]: 'chromium' }, …], each name
 * one of `names`' keys; `roles` names the two sides (e.g. ['caller', 'callee']).
 */
export function parsePairs(text, names, roles) {
  return text.split(',').map((p) => p.trim()).filter(Boolean).map((p) => {
    const [a, b, extra] = p.split('-');
    if (extra !== undefined || !names[a] || !names[b]) {
      throw new Error(`--pairs: ${roles.join('-')} with firefox or chromium, e.g. firefox-chromium, not ${p}`);
    }
    return { [roles[0]]: a, [roles[1]]: b };
  });
}

/** The page's stamps since the last take (window.__bench.log, which a benchmark's instrument() fills). */
export const takeLog = (app) => app.page.evaluate(() => window.__bench.log.splice(0));

/** Whether the page's app has the connection of `sessionId` (its data channel open) within timeoutMs. */
export function waitConnection(app, sessionId, timeoutMs = 20_000) {
  return app.page.evaluate(async (sid, ms) => {
    const t0 = Date.now();
    while (Date.now() - t0 < ms) {
      if (window.app.state.connections.some((c) => c.connection?.sessionId === sid)) return true;
      await new Promise((r) => setTimeout(r, 10));
    }
    return false;
  }, sessionId, timeoutMs);
}

/**
 * Closes the connection of `sessionId` (null: every connection) in this page, with app.close when the app has
 * it, waits until its RTCPeerConnection is closed, and drops the app's entry: PushPeer forgets a connection on
 * 'close', so nothing in the page keeps it (or its RTCPeerConnection) alive afterwards.
 */
export function closeAndDrop(app, sessionId) {
  return app.page.evaluate(async (sid) => {
    const { state } = window.app;
    const entries = state.connections.filter((c) => sid === null || c.connection?.sessionId === sid);
    let closed = true;
    for (const entry of entries) {
      const i = state.connections.indexOf(entry);
      if (typeof window.app.close === 'function') window.app.close(i);
      else entry.connection.close();
      const t0 = Date.now();
      while (entry.connection.pc.signalingState !== 'closed' && Date.now() - t0 < 5000) {
        await new Promise((r) => setTimeout(r, 20));
      }
      closed &&= entry.connection.pc.signalingState === 'closed';
      state.connections.splice(state.connections.indexOf(entry), 1);
    }
    return { found: entries.length > 0, closed, live: state.peer.connections.size };
  }, sessionId);
}

/**
 * The baseline for a call: a raw RTCPeerConnection with one RTCDataChannel from `caller`'s page to `callee`'s, its
 * SDP carried by this process (no push, no pushpeer code), open, then closed on both sides and dropped. Resolves to
 * { ms } (from the caller's new RTCPeerConnection to its channel open) or { error }.
 */
export async function rawDataChannelCall(caller, callee) {
  try {
    const offer = await caller.page.evaluate(async () => {
      const pc = new RTCPeerConnection();
      const channel = pc.createDataChannel('raw');
      window.__raw = { pc, t0: Date.now(), open: new Promise((r) => { channel.onopen = r; }) };
      await pc.setLocalDescription();
      if (pc.iceGatheringState !== 'complete') {
        await new Promise((r) => pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && r()));
      }
      return pc.localDescription.sdp;
    });
    const answer = await callee.page.evaluate(async (sdp) => {
      const pc = new RTCPeerConnection();
      window.__raw = { pc, open: new Promise((r) => { pc.ondatachannel = (e) => { e.channel.onopen = r; }; }) };
      await pc.setRemoteDescription({ type: 'offer', sdp });
      await pc.setLocalDescription();
      if (pc.iceGatheringState !== 'complete') {
        await new Promise((r) => pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && r()));
      }
      return pc.localDescription.sdp;
    }, offer);
    const ms = await caller.page.evaluate(async (sdp) => {
      await window.__raw.pc.setRemoteDescription({ type: 'answer', sdp });
      await window.__raw.open;
      return Date.now() - window.__raw.t0;
    }, answer);
    await callee.page.evaluate(() => window.__raw.open);
    return { ms };
  } catch (error) {
    return { error: { code: 'RAW', message: String(error?.message ?? error) } };
  } finally {
    await Promise.all([caller, callee].map((a) => a.page.evaluate(() => {
      window.__raw?.pc.close();
      delete window.__raw;
    }).catch(() => {})));
  }
}

/**
 * A Blob of `n` MiB made in the page from one 1 MiB pattern (so the page does not hold n MiB), shared by its peer:
 * { link, id, ms (hashing and storing) }. A content of its own each time: a receiver that holds the same file (the
 * same root) would not fetch it again.
 */
let shareSeed = Date.now() & 0xffff;
export async function shareInPage(app, n) {
  shareSeed++;
  // Started in one evaluate and polled: a large share outlasts one protocol command's timeout on a slow host.
  await app.page.evaluate((count, s) => {
    const chunk = new Uint8Array(1 << 20);
    for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 13 + s) & 0xff;
    new DataView(chunk.buffer).setUint32(0, s);
    const blob = new Blob(Array.from({ length: count }, (_, i) => (i === 0 ? chunk : chunk.slice(0, chunk.length))),
      { type: 'application/octet-stream' });
    const t0 = performance.now();
    window.__benchShare = null;
    window.app.state.peer.share(blob, { name: `bench-${s}-${count}.bin` }).then(
      (share) => { window.__benchShare = { link: share.link, id: share.id, ms: performance.now() - t0 }; },
      (error) => { window.__benchShare = { error: `${error.code}: ${error.message}` }; });
  }, n, shareSeed);
  for (;;) {
    const result = await app.page.evaluate(() => window.__benchShare);
    if (result?.error) throw new Error(`share failed: ${result.error}`);
    if (result) return result;
    await new Promise((r) => setTimeout(r, 500));
  }
}
