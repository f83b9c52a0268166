/**
 * A tiny server that hands over through the library, for the *.process.spec.ts
 * suites: plain node:http, no Nest. Run as
 *   SWC_NODE_PROJECT=tsconfig.base.json node -r @swc-node/register handoff-fixture.ts <dir>
 * It reads `<dir>/mode` at start, so the same entry path behaves like a new build
 * when the file changes between generations:
 *   serve  listen, take the state, say ready
 *   gate   like serve, but say ready only once `<dir>/release` exists
 *   hang   listen, start a detached grandchild (a stand-in for Chromium), never say ready
 *   throw  write a line to stderr, then throw at start
 *   early  exit 3 before the library ran (like a syntax error)
 * SIGHUP upgrades; on ok it stops accepting, lets its connections finish and exits
 * by itself (nothing may keep it alive). With FIXTURE_HANDOVER=1 it hands its
 * keep-alive connections over to the successor instead (idle ones at once, busy
 * ones when their response finished) and exits when none is left. SIGTERM cancels
 * a running upgrade, then drains. `GET /slow?ms=N` answers after N ms. Every event
 * is one JSON line on stdout.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { Server as NetServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { Upgrader } from '../src/index';

const dir = process.argv[2] as string;
const mode = readFileSync(join(dir, 'mode'), 'utf8').trim();
const say = (event: string, fields: Record<string, unknown> = {}) => process.stdout.write(`${JSON.stringify({ event, pid: process.pid, ...fields })}\n`);

async function main(): Promise<void> {
  if (mode === 'early') process.exit(3);
  const upgrader = Upgrader.create({ readyTimeoutMs: Number(process.env['HANDOFF_TIMEOUT_MS'] ?? 30_000), pidFile: join(dir, 'fixture.pid') });
  say('starting', { mode, predecessorPid: upgrader.predecessorPid });
  if (mode === 'throw') {
    console.error('fixture: about to fail at start');
    throw new Error('fixture: broken build at start');
  }
  let draining = false;
  const handover = process.env['FIXTURE_HANDOVER'] === '1';
  const offer = (socket: Socket) =>
    void upgrader.handOver('http', socket).then((result) => say('handover', { result, remote: socket.remotePort }));
  const server = createServer((req, res) => {
    if (draining && !handover) res.setHeader('connection', 'close');
    // A connection busy at the switch moves once its response finished.
    res.once('finish', () => draining && handover && setImmediate(() => offer(req.socket)));
    const slow = /^\/slow\?ms=(\d+)$/.exec(req.url ?? '');
    setTimeout(() => res.end(String(process.pid)), slow ? Number(slow[1]) : 0);
  });
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const inherited = (await upgrader.inheritedState(10_000)) as { generation: number } | undefined;
  const generation = (inherited?.generation ?? 0) + 1;
  upgrader.provideState(() => ({ generation }));
  const address = await upgrader.listen('http', server, { port: 0, host: '127.0.0.1' });
  say('listening', { port: address.port, generation, inherited: upgrader.isSuccessor });

  const drain = () => {
    draining = true;
    if (!handover) {
      server.close(() => say('closed'));
      upgrader.close();
      return;
    }
    // Stop accepting only (http.Server.close would cut idle connections), then move every connection.
    NetServer.prototype.close.call(server, () => {
      say('closed');
      upgrader.close();
    });
    for (const socket of sockets) offer(socket);
  };
  process.on('SIGHUP', () => {
    say('sighup');
    void upgrader.upgrade().then((outcome) => {
      say('outcome', { outcome, snapshot: upgrader.snapshot() });
      if (outcome.ok) drain();
    });
  });
  process.on('SIGTERM', () => {
    say('sigterm');
    void upgrader.cancel('SIGTERM').then(() => {
      say('cancelled', { snapshot: upgrader.snapshot() });
      drain();
    });
  });

  if (mode === 'hang') {
    // The fixture dir on its command line lets the test's cleanup find it even when it was never reported.
    const grandchild = spawn(process.execPath, ['-e', 'setInterval(() => {}, 60_000)', dir], { detached: true, stdio: 'ignore' });
    grandchild.unref();
    say('grandchild', { grandchild: grandchild.pid });
    return;
  }
  while (mode === 'gate' && !existsSync(join(dir, 'release'))) await new Promise((resolve) => setTimeout(resolve, 50));
  await upgrader.ready();
  say('ready', { generation });
}

void main();
