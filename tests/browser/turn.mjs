// STUN and TURN for the browser tests and the SDP capture: Debian's coturn (`turnserver`), started here with a
// throw-away configuration, behind a small user-space NAT so that one host sees the candidates a real network gives.
//
//   const turn = await startTurn();      // { iceServers, address, log(), close() }
//   new RTCPeerConnection({ iceServers: turn.iceServers })   // in the pages
//   await turn.close();
//
// Why a NAT: on one host a STUN server sees a browser's packets come from the browser's own host address, so the
// server-reflexive address equals the host candidate and both browsers drop it as redundant (no `typ srflx`). The
// NAT below gives every browser socket its own outside port, as a home router does: the browser talks to the NAT's
// port, the NAT talks to coturn from a socket of its own, and coturn reports that socket as the mapped address. So
// the browsers gather `typ srflx` (the NAT's port, `raddr`/`rport` = the host candidate) and `typ relay` (coturn's
// relayed port, `raddr`/`rport` = the mapped address), exactly as behind a router. The NAT only passes traffic to and
// from coturn (an address-restricted NAT), so srflx pairs do not connect; host and relay pairs do.
//
// Everything listens on this machine's own non-loopback IPv4 address (browsers gather no candidates on loopback) and
// coturn relays only to that address: no packet leaves the machine.
import { spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { ownChild } from './owned-child.mjs';

export const TURN_BINARY = process.env.PUSHPEER_TURNSERVER ?? '/usr/bin/turnserver';
export const TURN_USER = 'pushpeer';
export const TURN_PASSWORD = 'pushpeer-test';

/** This machine's first non-internal IPv4 address (where the browsers gather host candidates). */
export function hostAddress() {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.family === 'IPv4' && !a.internal) return a.address;
    }
  }
  throw new Error('no non-loopback IPv4 interface: browsers gather no candidates on loopback alone');
}

function bindUdp(address, port = 0) {
  const socket = dgram.createSocket('udp4');
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, address, () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });
}

/**
 * An address-restricted NAT for UDP: clients send to `front`; each client address gets its own outside socket, which
 * talks to `server` only. Returns { port, mappings (count), close() }.
 */
export async function startNat(address, server) {
  const front = await bindUdp(address);
  const outside = new Map(); // "ip:port" of a client -> its socket
  const pending = new Map(); // the same key -> packets waiting for the socket
  front.on('message', (msg, client) => {
    const key = `${client.address}:${client.port}`;
    const socket = outside.get(key);
    if (socket) {
      socket.send(msg, server.port, server.address);
      return;
    }
    if (pending.has(key)) {
      pending.get(key).push(msg);
      return;
    }
    pending.set(key, [msg]);
    bindUdp(address).then((s) => {
      s.on('message', (reply, from) => {
        if (from.address === server.address && from.port === server.port) front.send(reply, client.port, client.address);
      });
      s.on('error', () => {});
      outside.set(key, s);
      for (const m of pending.get(key)) s.send(m, server.port, server.address);
      pending.delete(key);
    }, () => pending.delete(key));
  });
  front.on('error', () => {});
  return {
    port: front.address().port,
    get mappings() {
      return outside.size;
    },
    close() {
      for (const s of outside.values()) s.close();
      outside.clear();
      front.close();
    },
  };
}

async function freeUdpPort(address) {
  const s = await bindUdp(address);
  const { port } = s.address();
  await new Promise((resolve) => s.close(resolve));
  return port;
}

/** Starts coturn and the NAT in front of it. Fails at once if `turnserver` is missing (cmake/setup.sh installs it). */
export async function startTurn({ address = hostAddress() } = {}) {
  if (spawnSync(TURN_BINARY, ['--help'], { stdio: 'ignore' }).error) {
    throw new Error(`${TURN_BINARY} not found: install Debian's coturn (cmake/setup.sh does)`);
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pushpeer-turn-'));
  const port = await freeUdpPort(address);
  const config = [
    `listening-ip=${address}`,
    `relay-ip=${address}`,
    `listening-port=${port}`,
    // Relayed ports: a range of its own, away from the browsers' ephemeral ports.
    'min-port=40000',
    'max-port=40999',
    'fingerprint',
    'lt-cred-mech',
    `user=${TURN_USER}:${TURN_PASSWORD}`,
    'realm=pushpeer.test',
    // Relay to this machine only.
    'denied-peer-ip=0.0.0.0-255.255.255.255',
    'denied-peer-ip=::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
    `allowed-peer-ip=${address}`,
    'no-tls',
    'no-dtls',
    'no-tcp-relay',
    'no-cli',
    'no-rfc5780',
    'no-stun-backward-compatibility',
    'no-software-attribute',
    `pidfile=${path.join(dir, 'turnserver.pid')}`,
    `log-file=${path.join(dir, 'turnserver.log')}`,
    'simple-log',
    `userdb=${path.join(dir, 'turndb')}`,
  ];
  const configFile = path.join(dir, 'turnserver.conf');
  writeFileSync(configFile, `${config.join('\n')}\n`);
  const output = [];
  const child = spawn(TURN_BINARY, ['-c', configFile, '--log-file', 'stdout'], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (d) => output.push(String(d)));
  child.stderr.on('data', (d) => output.push(String(d)));
  // A test process that dies leaves no turnserver behind.
  const { exited, stop } = ownChild(child, { graceMs: 5000 });
  const log = () => output.join('');

  // Ready when a STUN binding request is answered.
  const probe = await bindUdp(address);
  try {
    const request = Buffer.alloc(20);
    request.writeUInt16BE(0x0001, 0); // Binding request
    request.writeUInt32BE(0x2112a442, 4); // magic cookie (RFC 5389)
    for (let i = 8; i < 20; i++) request[i] = (Math.random() * 256) | 0;
    const answered = new Promise((resolve) => probe.once('message', resolve));
    const deadline = Date.now() + 15_000;
    let done = false;
    answered.then(() => {
      done = true;
    });
    while (!done) {
      const state = await Promise.race([exited.then((e) => ({ exited: e })), new Promise((r) => setTimeout(r, 100))]);
      if (state?.exited) throw new Error(`turnserver exited (${JSON.stringify(state.exited)}):\n${log()}`);
      if (Date.now() > deadline) throw new Error(`turnserver did not answer STUN on ${address}:${port}:\n${log()}`);
      probe.send(request, port, address);
    }
  } catch (error) {
    child.kill('SIGKILL');
    await stop();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  } finally {
    probe.close();
  }

  const nat = await startNat(address, { address, port });
  const url = `${address}:${nat.port}`;
  let closed = false;
  return {
    address,
    port,
    natPort: nat.port,
    iceServers: [
      { urls: `stun:${url}` },
      { urls: `turn:${url}?transport=udp`, username: TURN_USER, credential: TURN_PASSWORD },
    ],
    get mappings() {
      return nat.mappings;
    },
    log,
    async close() {
      if (closed) return;
      closed = true;
      nat.close();
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
