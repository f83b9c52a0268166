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
 * by itself (nothing may keep it alive). SIGTERM cancels a running upgrade, then
 * does the same. Every event is one JSON line on stdout.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
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
  const server = createServer((_req, res) => {
    if (draining) res.setHeader('connection', 'close');
    res.end(String(process.pid));
  });
  const inherited = (await upgrader.inheritedState(10_000)) as { generation: number } | undefined;
  const generation = (inherited?.generation ?? 0) + 1;
  upgrader.provideState(() => ({ generation }));
  const address = await upgrader.listen('http', server, { port: 0, host: '127.0.0.1' });
  say('listening', { port: address.port, generation, inherited: upgrader.isSuccessor });

  const drain = () => {
    draining = true;
    server.close(() => say('closed'));
    upgrader.close();
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
