// `npm start`'s server (demo/serve.mjs): it prints the demo's URL on a line of its own, and that URL, the local
// push service and the relay all answer. Started as a child process, as npm start does.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('demo/serve.mjs', { timeout: 30_000 }, () => {
  let child;
  let output = '';
  let demoUrl;

  before(async () => {
    child = spawn(process.execPath, ['demo/serve.mjs', '--port', '0', '--push-port', '0', '--relay-port', '0'],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no URL printed:\n${output}`)), 15_000);
      const check = () => {
        if (/Ctrl\+C stops/.test(output)) {
          clearTimeout(timer);
          resolve();
        } else if (child.exitCode !== null) {
          reject(new Error(`exited ${child.exitCode}:\n${output}`));
        } else {
          setTimeout(check, 50);
        }
      };
      check();
    });
    demoUrl = output.split('\n').find((line) => /^http:\/\/localhost:\d+\/demo\//.test(line));
  });

  after(() => child?.kill('SIGTERM'));

  it('prints the demo URL on a line of its own, and it serves the demo', async () => {
    assert.ok(demoUrl, `a line with only the URL in:\n${output}`);
    const response = await fetch(demoUrl);
    assert.equal(response.status, 200);
    assert.match(await response.text(), /<title>pushpeer demo/);
    const core = await fetch(new URL('../js/wasm/pushpeer-core.wasm', demoUrl));
    assert.equal(core.status, 200);
    assert.equal(core.headers.get('content-type'), 'application/wasm');
  });

  it('the relay in the URL answers CORS, and the push service takes WebSocket clients', async () => {
    const relay = new URL(demoUrl).searchParams.get('relay');
    const preflight = await fetch(relay, { method: 'OPTIONS', headers: { Origin: new URL(demoUrl).origin,
      'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization,ttl' } });
    assert.equal(preflight.status, 204);
    const wsUrl = /(ws:\/\/127\.0\.0\.1:\d+\/)/.exec(output)[1];
    const ws = new (await import('ws')).default(wsUrl, 'push-notification');
    const hello = await new Promise((resolve, reject) => {
      ws.on('open', () => ws.send(JSON.stringify({ messageType: 'hello', use_webpush: true })));
      ws.on('message', (m) => resolve(JSON.parse(m)));
      ws.on('error', reject);
    });
    ws.close();
    assert.equal(hello.status, 200);
  });

  it('writes two Firefox profiles that use the local push service', () => {
    const profiles = [...output.matchAll(/--profile (\S+)/g)].map((m) => m[1]);
    assert.equal(profiles.length, 2);
    for (const p of profiles) {
      const userJs = readFileSync(path.join(p, 'user.js'), 'utf8');
      assert.match(userJs, /user_pref\("dom\.push\.serverURL", "ws:\/\/127\.0\.0\.1:\d+\/"\);/);
      assert.match(userJs, /user_pref\("dom\.push\.connection\.enabled", true\);/);
    }
  });
});
