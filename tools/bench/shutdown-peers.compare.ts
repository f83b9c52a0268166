/**
 * What each graceful-shutdown package does with the same work (issue 17, the comparison in
 * libs/shutdown-state/README.md): a node:http server with one request in flight (its body held
 * back) and one idle keep-alive connection gets SIGTERM. Observed, per package:
 * - a new connection during the drain: refused, 503, or served;
 * - the readiness route during the drain (where the package has one);
 * - a new request on the idle keep-alive connection: closed before it, reset, or answered;
 * - the request in flight: completes or not;
 * - how the process ends: exit code or signal, and when.
 * Each package is wired as its README shows, with every delay at 0 and a 10 s bound. Ours is
 * the packed dist/libs/shutdown-state (build it first); the others come from the npm registry.
 *
 *   SWC_NODE_PROJECT=tsconfig.base.json node -r @swc-node/register tools/bench/shutdown-peers.compare.ts
 *
 * JSON on stdout, a readable table on stderr. Not a benchmark of speed: one run per package.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { http, slowPost, waitFor } from '@edu-agents/e2e-support';

const WORKSPACE = resolve(__dirname, '../..');
const VERSIONS = { stoppable: '1.1.0', 'http-terminator': '3.2.0', 'close-with-grace': '2.5.0', '@godaddy/terminus': '4.12.1', lightship: '9.0.4', 'http-graceful-shutdown': '4.0.0' };

/** The shared server: `/health` (unless the package answers it), everything else once its body arrived. */
const SERVER = `
const http = require('node:http');
const server = http.createServer((req, res) => {
  if (typeof gate === 'function' && gate(req, res)) return;
  if (req.url === '/echo') console.log('in flight');
  req.resume().once('end', () => res.end('ok\\n'));
});
`;
const listen = (health = 'null') => `server.listen(0, '127.0.0.1', () => console.log('ports ' + JSON.stringify({ http: server.address().port, health: ${health} })));`;

/** Each package wired as its README shows. `gate` (when defined) answers before the shared handler. */
const APPS: Record<string, string> = {
  '@edu-agents/shutdown-state': `${SERVER}
const { InFlightRegistry, SHUTDOWN_DEFAULTS, ShutdownCoordinator, isAdmitting, processShutdownDeps, shutdownHealth } = require('@edu-agents/shutdown-state');
const registry = new InFlightRegistry();
const coordinator = new ShutdownCoordinator(registry, { ...SHUTDOWN_DEFAULTS, timeoutMs: 10000 }, processShutdownDeps(() => {}));
var gate = (req, res) => {
  if (coordinator.state !== 'ready') res.setHeader('connection', 'close');
  if (req.url === '/health') { const h = shutdownHealth(coordinator, process.pid); res.writeHead(h.status === 'up' ? 200 : 503).end(); return true; }
  if (!isAdmitting(coordinator.state)) { res.writeHead(503, { 'retry-after': '2' }).end(); return true; }
  res.once('close', registry.begin(req.method, req.url));
  return false;
};
coordinator.addHook({ name: 'http', run: () => new Promise((r) => server.close(() => r())) });
process.on('SIGTERM', () => coordinator.handleSignal('SIGTERM'));
${listen("server.address().port")}
coordinator.markStarted();`,
  stoppable: `${SERVER}
const stoppable = require('stoppable');
stoppable(server, 10000);
process.on('SIGTERM', () => server.stop((error) => process.exit(error ? 1 : 0)));
${listen()}`,
  'http-terminator': `${SERVER}
const { createHttpTerminator } = require('http-terminator');
const terminator = createHttpTerminator({ server, gracefulTerminationTimeout: 10000 });
process.on('SIGTERM', () => terminator.terminate().then(() => process.exit(0)));
${listen()}`,
  'close-with-grace': `${SERVER}
const closeWithGrace = require('close-with-grace');
closeWithGrace({ delay: 10000 }, async () => { await new Promise((r) => server.close(r)); });
${listen()}`,
  '@godaddy/terminus': `${SERVER}
const { createTerminus } = require('@godaddy/terminus');
createTerminus(server, { signals: ['SIGTERM'], timeout: 10000, healthChecks: { '/health': async () => 'ok' }, onSignal: async () => {} });
${listen("server.address().port")}`,
  lightship: `${SERVER}
// lightship 9's CommonJS build does not load under Node 20 ("exports is not defined in ES module scope"): its ESM build.
import('lightship').then(({ createLightship }) => createLightship({ detectKubernetes: false, port: 0, shutdownDelay: 0, gracefulShutdownTimeout: 10000, shutdownHandlerTimeout: 10000 }).then((lightship) => {
  lightship.registerShutdownHandler(() => new Promise((r) => server.close(() => r())));
  server.listen(0, '127.0.0.1', () => {
    lightship.signalReady();
    waitPort();
  });
  const waitPort = () => {
    const address = lightship.server.address();
    if (!address) return setTimeout(waitPort, 10);
    console.log('ports ' + JSON.stringify({ http: server.address().port, health: address.port, healthPath: '/ready' }));
  };
}));`,
  'http-graceful-shutdown': `${SERVER}
const gracefulShutdown = require('http-graceful-shutdown');
gracefulShutdown(server, { signals: 'SIGTERM', timeout: 10000, forceExit: true });
${listen()}`,
};

export interface PeerResult {
  package: string;
  newConnection: string[];
  readinessDuringDrain: string;
  idleKeepAliveNextRequest: string;
  inFlight: string;
  end: string;
}

function npm(args: string[], cwd: string): string {
  const ran = spawnSync('npm', [...args, '--no-audit', '--no-fund'], { cwd, encoding: 'utf8' });
  if (ran.status !== 0) throw new Error(`npm ${args.join(' ')}: ${ran.stderr}`);
  return ran.stdout;
}

const outcome = async (promise: Promise<{ status: number }>) => {
  try {
    return String((await promise).status);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? (error as Error).message;
  }
};

/** A keep-alive connection used once, then left idle. `next()` sends a second request on it. */
async function idleConnection(port: number): Promise<{ next(): Promise<string> }> {
  const socket: Socket = connect({ host: '127.0.0.1', port });
  let closed = false;
  let data = '';
  socket.on('data', (c) => (data += c.toString()));
  socket.on('close', () => (closed = true));
  socket.on('error', () => undefined);
  const request = 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';
  socket.write(request);
  await waitFor('the first answer on the keep-alive connection', () => /\r\n\r\nok\n$/.test(data), 5_000);
  return {
    async next() {
      if (closed) return 'closed by the server before it';
      data = '';
      socket.write(request);
      const status = await waitFor('an answer or a close', () => (closed ? 'closed' : /^HTTP\/1\.1 (\d+)[\s\S]*\r\n\r\n/.exec(data)?.[1]), 5_000).catch(() => 'no answer in 5 s');
      socket.destroy();
      const answered = /^HTTP\/1\.1 (\d+)/.exec(data)?.[1];
      if (status !== 'closed') return `answered ${status}`;
      return answered ? `answered ${answered}, then closed` : 'closed without an answer';
    },
  };
}

async function observe(name: string, dir: string): Promise<PeerResult> {
  const file = join(dir, `${name.replace(/[@/]/g, '_')}.cjs`);
  writeFileSync(file, APPS[name] as string);
  const child = spawn(process.execPath, [file], { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  createInterface({ input: child.stdout }).on('line', (l) => lines.push(l));
  let gone = false;
  const exited = new Promise<string>((r) =>
    child.once('exit', (code, signal) => {
      gone = true;
      r(signal ? `signal ${signal}` : `exit ${code}`);
    }),
  );
  try {
    const ports = JSON.parse((await waitFor(`${name} to listen`, () => {
      if (gone) throw new Error(`${name} exited before it listened`);
      return lines.find((l) => l.startsWith('ports '));
    }, 15_000)).slice(6)) as { http: number; health: number | null; healthPath?: string };
    const base = `http://127.0.0.1:${ports.http}`;
    const idle = await idleConnection(ports.http);
    const held = slowPost(`${base}/echo`, { lesson: 'fractions' });
    await waitFor('the held request to reach the server', () => lines.includes('in flight'), 5_000);
    const signalledAt = Date.now();
    child.kill('SIGTERM');
    const newConnection: string[] = [];
    let readiness = 'no readiness route';
    // A bounded window: what new connections get during the first 1.5 s of the drain.
    while (Date.now() - signalledAt < 1_500) {
      const got = await outcome(http(`${base}/`, { timeoutMs: 2_000 }));
      if (newConnection.at(-1) !== got) newConnection.push(got);
      if (ports.health !== null && readiness === 'no readiness route') {
        readiness = await outcome(http(`http://127.0.0.1:${ports.health}${ports.healthPath ?? '/health'}`, { timeoutMs: 2_000 }));
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const keepAlive = await idle.next();
    held.finish();
    const inFlight = await outcome(held.answer);
    const finishedAt = Date.now();
    const end = await Promise.race([exited.then((e) => `${e}, ${Date.now() - finishedAt} ms after the request in flight completed`), new Promise<string>((r) => setTimeout(() => r('still running 15 s after SIGTERM'), 15_000))]);
    return { package: name, newConnection, readinessDuringDrain: readiness, idleKeepAliveNextRequest: keepAlive, inFlight, end };
  } finally {
    child.kill('SIGKILL');
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'shutdown-peers-'));
  try {
    const [packed] = JSON.parse(npm(['pack', join(WORKSPACE, 'dist/libs/shutdown-state'), '--json', '--pack-destination', dir], dir)) as { filename: string }[];
    npm(['init', '-y'], dir);
    npm(['install', join(dir, packed?.filename as string), ...Object.entries(VERSIONS).map(([n, v]) => `${n}@${v}`)], dir);
    const results: PeerResult[] = [];
    for (const name of Object.keys(APPS)) {
      process.stderr.write(`trying ${name} ...\n`);
      results.push(await observe(name, dir));
    }
    process.stderr.write(
      `\n| package | new connection while draining | readiness while draining | next request on an idle keep-alive connection | request in flight | end |\n|---|---|---|---|---|---|\n${results
        .map((r) => `| ${r.package} | ${r.newConnection.join(' then ')} | ${r.readinessDuringDrain} | ${r.idleKeepAliveNextRequest} | ${r.inFlight} | ${r.end} |`)
        .join('\n')}\n`,
    );
    process.stdout.write(`${JSON.stringify({ at: new Date().toISOString(), node: process.version, versions: VERSIONS, results }, null, 2)}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
