/**
 * A tiny server that hands over through the library, for the process-level suites
 * (*.process.spec.ts here, the fault campaign in ../e2e): plain node:http, no Nest. Run as
 *   SWC_NODE_PROJECT=tsconfig.base.json node -r @swc-node/register handoff-fixture.ts <dir>
 * It reads `<dir>/mode` at start, so the same entry path behaves like a new build
 * when the file changes between generations. The mode is a list of words:
 *   serve          listen, take the state, say ready (the default)
 *   gate           like serve, but say ready only once `<dir>/release` exists
 *   hold           before the library runs (no hello yet), wait until `<dir>/hello` exists
 *   hang           listen, start a detached grandchild (a stand-in for Chromium), never say ready
 *   browser        before it listens, start a detached child that starts a child of its own
 *                  (a stand-in for a browser's process group), reported as `browser`
 *   browser-shared the same in this process's group, the child's own child started from a
 *                  worker thread (as Chromium starts its helpers off its main thread)
 *   throw          write a line to stderr, then throw at start (after the library ran)
 *   early          exit 3 before the library ran (like a syntax error)
 *   throw-early    throw before the library ran (a module that fails to load)
 *   cut-channel    close the IPC channel before the library runs
 *   cut-later      close the IPC channel after the state arrived, before ready
 *   protocol-v2    a handoff variable of protocol v2, as a build of another version would get
 *   bad-env        a handoff variable that is not JSON
 *   big-state:<MB> as a predecessor, provide a state of that many MB
 *   bad-state      as a predecessor, provide a state that cannot be cloned
 * Every generation: SIGUSR2 throws an uncaught exception; GET /wait?gate=<name> answers
 * once `<dir>/<name>` exists (a request that keeps a drain going for as long as the test
 * wants); GET /busy?gate=<name> does the same while it holds `yieldStart()` (work a
 * starting successor yields to, with FIXTURE_YIELD, the upgrader's startYield as JSON);
 * every accepted connection is reported (`conn`, with the client's port).
 * SIGHUP upgrades; on ok it stops accepting, answers what arrives on its open
 * connections with `Connection: close` and exits once they closed (nothing may keep
 * it alive). With FIXTURE_HANDOVER=1 it hands its keep-alive connections over to the
 * successor instead (idle ones at once, busy ones when their response finished) and
 * exits when none is left. SIGTERM cancels a running upgrade, then drains; before
 * ready it ends the start (exit 0). `GET /slow?ms=N` answers after N ms. Every event is one JSON line on stdout; the library's log
 * lines are `log` events. FIXTURE_RETIRE_YIELD sets the upgrader's retireYield (JSON); with
 * FIXTURE_RETIRE=1 an ok upgrade calls `retiring()` before the drain (event `retiring`). FIXTURE_PID_FILE and FIXTURE_MAX_STATE_BYTES set the
 * upgrader's pidFile and maxStateBytes; FIXTURE_PREPARE=1 its prepareSuccessor; FIXTURE_YIELD_DIR its yieldDir; FIXTURE_RELEASE (set by a release's entry
 * file that loads this one) is reported, to tell which build a generation runs.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { Server as NetServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { Upgrader } from '../src/index';

const dir = process.argv[2] as string;
const words = readFileSync(join(dir, 'mode'), 'utf8').trim().split(/\s+/);
const has = (word: string) => words.includes(word);
const valueOf = (word: string) => words.find((w) => w.startsWith(`${word}:`))?.split(':')[1];
const pidFile = process.env['FIXTURE_PID_FILE'] ?? join(dir, 'fixture.pid');
const say = (event: string, fields: Record<string, unknown> = {}) => process.stdout.write(`${JSON.stringify({ event, pid: process.pid, ...fields })}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Polls for a file the test creates: a gate held open by the test, not a timing guess. */
const untilExists = async (name: string) => {
  while (!existsSync(join(dir, name))) await sleep(20);
};

// Signals are handled from the first moment (as the API installs its handlers first):
// SIGTERM before ready ends the start (exit 0); after ready it cancels a running
// upgrade, then drains. SIGHUP asks the upgrader, which refuses while it must.
const live: { upgrader?: Upgrader; ready: boolean; drain?: () => void } = { ready: false };
process.on('SIGTERM', () => {
  say('sigterm');
  const { upgrader, drain } = live;
  if (!live.ready || !upgrader || !drain) {
    upgrader?.close();
    process.exit(0);
  }
  void upgrader.cancel('SIGTERM').then(() => {
    say('cancelled', { snapshot: upgrader.snapshot() });
    drain();
  });
});
process.on('SIGHUP', () => {
  say('sighup');
  const { upgrader, drain } = live;
  if (!upgrader) {
    say('outcome', { outcome: { ok: false, reason: 'not-started' } });
    return;
  }
  void upgrader.upgrade().then((outcome) => {
    say('outcome', { outcome, snapshot: upgrader.snapshot() });
    if (outcome.ok && process.env['FIXTURE_RETIRE'] === '1') say('retiring', { offered: upgrader.retiring() });
    if (outcome.ok) drain?.();
  });
});
process.on('SIGUSR2', () => {
  say('throwing');
  setImmediate(() => {
    throw new Error('fixture: uncaught exception on SIGUSR2');
  });
});

async function main(): Promise<void> {
  say('loaded', { mode: words.join(' '), release: process.env['FIXTURE_RELEASE'], entry: process.argv[1], cwd: process.cwd() });
  if (has('early')) process.exit(3);
  if (has('throw-early')) throw new Error('fixture: a module failed to load');
  if (has('hold')) await untilExists('hello');
  if (has('cut-channel')) process.disconnect?.();
  if (has('protocol-v2')) process.env['PROCESS_HANDOFF'] = JSON.stringify({ ...JSON.parse(process.env['PROCESS_HANDOFF'] ?? '{}'), v: 2 });
  if (has('bad-env')) process.env['PROCESS_HANDOFF'] = 'not json {';
  const upgrader = Upgrader.create({
    readyTimeoutMs: Number(process.env['HANDOFF_TIMEOUT_MS'] ?? 30_000),
    maxStateBytes: process.env['FIXTURE_MAX_STATE_BYTES'] ? Number(process.env['FIXTURE_MAX_STATE_BYTES']) : undefined,
    pidFile,
    prepareSuccessor: process.env['FIXTURE_PREPARE'] === '1',
    startYield: process.env['FIXTURE_YIELD'] ? (JSON.parse(process.env['FIXTURE_YIELD']) as boolean | { maxStopMs?: number }) : undefined,
    retireYield: process.env['FIXTURE_RETIRE_YIELD'] ? (JSON.parse(process.env['FIXTURE_RETIRE_YIELD']) as boolean | { maxStopMs?: number }) : undefined,
    yieldDir: process.env['FIXTURE_YIELD_DIR'],
    log: (level, message, fields) => say('log', { level, message, fields }),
  });
  live.upgrader = upgrader;
  say('starting', { mode: words.join(' '), predecessorPid: upgrader.predecessorPid, successor: upgrader.isSuccessor });
  if (has('throw')) {
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
    const gate = /^\/(?:wait|busy)\?gate=(\w+)/.exec(req.url ?? '')?.[1];
    const slow = /^\/slow\?ms=(\d+)$/.exec(req.url ?? '');
    const release = req.url?.startsWith('/busy') ? upgrader.yieldStart() : undefined;
    if (release) say('busy', { gate });
    if (gate) void untilExists(gate).then(() => (release?.(), res.end(String(process.pid))));
    else setTimeout(() => res.end(String(process.pid)), slow ? Number(slow[1]) : 0);
  });
  server.keepAliveTimeout = 60_000; // the clients close, after a `Connection: close` answer; a server-side close races their next request
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    say('conn', { port: socket.remotePort });
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const inherited = (await upgrader.inheritedState(10_000)) as { generation: number } | undefined;
  const generation = (inherited?.generation ?? 0) + 1;
  const bigMb = valueOf('big-state');
  upgrader.provideState(() => {
    if (bigMb !== undefined) return { generation, ballast: Buffer.alloc(Number(bigMb) * 1024 * 1024, 1) };
    if (has('bad-state')) return { generation, notCloneable: () => generation };
    return { generation };
  });
  if (has('browser') || has('browser-shared')) {
    // Two processes, as a browser and its helper: a group of its own (puppeteer's detached Chromium), or in this
    // process's group with the helper started from a worker thread (the API's pool). The fixture dir on their
    // command lines is for the cleanup.
    const KEEP = `setInterval(() => {}, 60_000)`;
    const helper = `require('node:child_process').spawn(process.execPath, ['-e', '${KEEP}', ${JSON.stringify(dir)}], { stdio: 'ignore' })`;
    const start = has('browser') ? helper : `new (require('node:worker_threads').Worker)(${JSON.stringify(helper)}, { eval: true })`;
    const browser = spawn(process.execPath, ['-e', `${start}; ${KEEP}`, dir], { detached: has('browser'), stdio: 'ignore' });
    browser.unref();
    say('browser', { browser: browser.pid });
  }
  const address = await upgrader.listen('http', server, { port: 0, host: '127.0.0.1' });
  say('listening', { port: address.port, generation, inherited: upgrader.isSuccessor, state: inherited === undefined ? 'none' : 'received' });
  if (has('cut-later')) process.disconnect?.();

  live.drain = () => {
    draining = true;
    if (!handover) {
      // Stop accepting; connections go on until their clients close them (after a `Connection: close` answer).
      NetServer.prototype.close.call(server as Server, () => say('closed'));
      const linger = setTimeout(() => server.closeIdleConnections(), 10_000);
      linger.unref();
      upgrader.close();
      return;
    }
    // Stop accepting only (http.Server.close would cut idle connections), then move every connection.
    NetServer.prototype.close.call(server as Server, () => {
      say('closed');
      upgrader.close();
    });
    for (const socket of sockets) offer(socket);
  };

  if (has('hang')) {
    // The fixture dir on its command line lets the test's cleanup find it even when it was never reported.
    const grandchild = spawn(process.execPath, ['-e', 'setInterval(() => {}, 60_000)', dir], { detached: true, stdio: 'ignore' });
    grandchild.unref();
    say('grandchild', { grandchild: grandchild.pid });
    return;
  }
  if (has('gate')) await untilExists('release');
  await upgrader.ready();
  live.ready = true;
  say('ready', { generation, snapshot: upgrader.snapshot() });
}

main().catch((error: Error) => {
  say('failed', { error: error.message });
  // As an app does: a start that fails is fatal (the predecessor reports it).
  setImmediate(() => {
    throw error;
  });
});
