// Single-instance set-ups of restart-bench.ts: the load goes straight to one
// instance's port, no balancer in between.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { check } from '@edu-agents/health-client';
import {
  apiStartCommand, freePort, isAlive, readPid, runApi, startApi, stopProcesses, track, waitFor, waitReady, WORKSPACE, type SpawnedApi,
} from '@edu-agents/e2e-support';
import { startLoopedApi } from '../../deployment/e2e/support/restart-loop';
import { threadsSchedOf } from '../../apps/api/e2e/support/chrome-procs';
import { nodeProcessEnvironment } from '../../libs/process-handoff/src/lib/node-process-environment';
import { setGroupNice } from '../../libs/process-handoff/src/lib/successor-priority';
import { treeCpuByPid, untilQuiet } from '../../libs/qc-chrome-pool/src/lib/browser-quiet';
import { watchExits } from './restart-bench.events';
import { apiMainOf, BENCH_API_ENV, cliHasModes, readLogs, runCliRestart, waitForEvent, type Scenario, type ScenarioDef, type SetupOptions } from './restart-bench.scenario';

const NAIVE_APP = 'tools/bench/naive-app/main.js';
const PM2 = join(WORKSPACE, 'node_modules/.bin/pm2');

/** (1) `kill -HUP`: the API starts its successor on the same socket; the old one exits once it is ready. */
async function handoffOwnPort(dir: string, options: SetupOptions): Promise<Scenario> {
  const pidFile = join(dir, 'api.pid');
  const api = await startApi({ ...BENCH_API_ENV, ...options.env }, { pidFile, main: apiMainOf(options), timeoutMs: 120_000 });
  const oldPid = await waitReady(api.port, 120_000);
  const watch = watchExits();
  return {
    port: api.port, handoff: true, exits: watch.exits, logs: api.output,
    restart: async () => {
      watch.add(oldPid);
      const startAt = Date.now();
      process.kill(oldPid, 'SIGHUP');
      // The successor rewrites PID_FILE once it serves; then the predecessor drains and exits.
      const newPid = track(await waitFor('the successor to write the pid file', () => { const pid = readPid(pidFile); return pid !== oldPid && pid; }, 180_000));
      await waitFor(`predecessor ${oldPid} to exit`, () => watch.exits.has(oldPid), 120_000);
      return { startAt, endAt: watch.exits.get(oldPid) ?? Date.now(), oldPids: [oldPid], newPids: [newPid], signalAt: [startAt], note: 'kill -HUP' };
    },
    teardown: async () => {
      watch.stop();
      await stopProcesses([api.pid, ...[readPid(pidFile)].filter((p): p is number => p !== undefined)], 15_000);
    },
  };
}

/** How long the control's "restart" lasts: about as long as a hot handoff takes here. */
const CONTROL_MS = 4_000;

/**
 * (0) The control: the API of (1) under the same load, and no restart at all; the "restart"
 * window is 4 s of steady state. Every measure of a restart applied to it says how much of a
 * row's figure steady state alone produces (a 100 ms bucket above the steady worst, say).
 */
async function control(dir: string, options: SetupOptions): Promise<Scenario> {
  const api = await startApi({ ...BENCH_API_ENV, ...options.env }, { pidFile: join(dir, 'api.pid'), main: apiMainOf(options), timeoutMs: 120_000 });
  const pid = await waitReady(api.port, 120_000);
  return {
    port: api.port, handoff: false, exits: new Map(), logs: api.output,
    restart: async () => {
      const startAt = Date.now();
      await new Promise((resolve) => setTimeout(resolve, CONTROL_MS));
      return { startAt, endAt: Date.now(), oldPids: [pid], newPids: [], signalAt: [], note: `no restart (control): ${CONTROL_MS} ms of steady state` };
    },
    teardown: () => stopProcesses([api.pid], 15_000),
  };
}

/** The nice value of the API beside's scheduling group (0b): the lowest there is. */
const BESIDE_GROUP_NICE = 19;

/** How long (ms) the API beside may take to go quiet once ready: a successor's default HANDOFF_SETTLE_MS. */
const BESIDE_SETTLE_MS = 3_000;

/**
 * Puts the API beside (0b), just spawned in a session of its own under `chrt --idle 0`, into a
 * scheduling group at nice 19: the lowest place a process outside the API's session can take.
 * (A successor runs at SCHED_IDLE inside its predecessor's group instead.) A kernel without
 * autogroups leaves SCHED_IDLE alone to place it.
 */
async function placeBeside(pid: number): Promise<void> {
  const result = await setGroupNice(nodeProcessEnvironment(), pid, BESIDE_GROUP_NICE);
  if (result.startsWith('failed')) throw new Error(`could not set the scheduling group of the API beside (pid ${pid}) to nice ${BESIDE_GROUP_NICE}: ${result}`);
}

/** "SCHED_IDLE, /autogroup-12 nice 19" from /proc, or what of it could not be read. */
function describePlacement(pid: number): string {
  const policy = threadsSchedOf(pid)[0]?.policy;
  let group = 'no autogroup';
  try {
    group = readFileSync(`/proc/${pid}/autogroup`, 'utf8').trim();
  } catch {
    // gone, or no autogroups
  }
  return `${policy === 5 ? 'SCHED_IDLE' : policy === 0 ? 'SCHED_OTHER' : `policy ${policy ?? 'unknown'}`}, ${group}`;
}

/**
 * (0b) No restart, a start beside it: the API of (1) under the same load, and a second API of the
 * same build on a port of its own, with no traffic, that starts, gets ready and stops (SIGTERM)
 * while the load runs. It does to the host what a successor's start and a predecessor's exit do
 * (node loads the build, the pool launches its Chromium and renders its sample lesson, Chromium's
 * after-start work, which a successor waits out before it listens, then the pool's close and the
 * profile's removal), without any switch. Its restart window is that start and stop: what its
 * QC renders and buckets lose is what that work alone costs the serving process on this host.
 */
async function besideStart(dir: string, options: SetupOptions): Promise<Scenario> {
  const api = await startApi({ ...BENCH_API_ENV, ...options.env }, { pidFile: join(dir, 'api.pid'), main: apiMainOf(options), timeoutMs: 120_000 });
  const pid = await waitReady(api.port, 120_000);
  const beside: SpawnedApi[] = [];
  return {
    // Its log lines name it on the timeline (new listening, new ready), and the instruments count its tree as "new", not as strangers.
    port: api.port, handoff: false, exits: new Map(), logs: () => [api, ...beside].map((p) => p.output()).join('\n'),
    restart: async () => {
      const port = await freePort();
      const startAt = Date.now();
      const other = runApi({ ...BENCH_API_ENV, ...options.env }, { port, main: apiMainOf(options), launcher: ['chrt', '--idle', '0'] });
      beside.push(other);
      await placeBeside(other.pid);
      const seen = await waitFor(`the API beside (pid ${other.pid}) to be ready`, async () => {
        if (!other.isRunning()) return { exited: true as const };
        const health = await check(`http://127.0.0.1:${port}/health`);
        return health.state === 'ready' && health.pid !== undefined ? { pid: health.pid } : undefined;
      }, 120_000);
      if ('exited' in seen) {
        const { code, signal } = await other.exited;
        throw new Error(`the API beside (pid ${other.pid}) exited (${code ?? signal}) before it was ready:\n${other.output()}`);
      }
      const readyAt = Date.now();
      const placement = describePlacement(other.pid);
      // A new Chromium goes on working after its first pages are ready; a successor waits for that
      // before it listens (HANDOFF_SETTLE_MS), so that work is part of its start. Here too.
      const settled = await untilQuiet({ deadlineMs: BESIDE_SETTLE_MS }, {
        cpuByPid: () => treeCpuByPid([other.pid]), now: Date.now, sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      });
      const stopAt = Date.now();
      other.signal('SIGTERM');
      await waitFor(`the API beside (pid ${other.pid}) to exit`, () => !other.isRunning(), 60_000);
      const endAt = (await other.exited).at;
      return {
        startAt, endAt, oldPids: [pid], newPids: [other.pid], signalAt: [],
        note: `no restart: an API beside (pid ${seen.pid}, ${placement}) ready after ${readyAt - startAt} ms, ${settled.quiet ? 'quiet' : 'still busy'} ${stopAt - readyAt} ms later (${Math.round(settled.cpuMs)} ms of CPU), gone ${endAt - stopAt} ms after SIGTERM`,
      };
    },
    teardown: () => stopProcesses([api.pid, ...beside.map((p) => p.pid)], 15_000),
  };
}

/**
 * (2) A systemd-held socket: systemd-socket-activate holds the listening socket,
 * restart-loop.sh starts the API again each time it exits (Restart=always);
 * SIGTERM to the API. Connections made meanwhile wait in the kernel backlog.
 */
async function heldSocket(dir: string, options: SetupOptions): Promise<Scenario> {
  const port = await freePort();
  const env = { ...Object.fromEntries(Object.entries(BENCH_API_ENV).map(([k, v]) => [k, String(v)])), ...options.env };
  const looped = await startLoopedApi(port, true, dir, env);
  let apiPid: number | undefined = await waitReady(port, 120_000);
  const watch = watchExits();
  return {
    port, handoff: false, exits: watch.exits, logs: looped.output,
    restart: async () => {
      const oldPid = apiPid as number;
      watch.add(oldPid);
      const startAt = Date.now();
      process.kill(oldPid, 'SIGTERM');
      const ready = await waitForEvent(looped.output, 'the next API to be ready', (e) => e.pid !== oldPid && e.msg === 'phase ready', 180_000);
      apiPid = ready.pid;
      await waitFor(`pid ${oldPid} to exit`, () => watch.exits.has(oldPid), 60_000);
      return { startAt, endAt: Math.max(ready.at, watch.exits.get(oldPid) ?? 0), oldPids: [oldPid], newPids: [ready.pid], signalAt: [startAt], note: 'SIGTERM; restart-loop.sh starts the next on the held socket' };
    },
    teardown: async () => {
      watch.stop();
      await looped.stop(apiPid);
    },
  };
}

/** (3) Stop, then start, on the instance's own port: `restart-cli graceful --mode replace` (process manager). */
async function replaceOwnPort(dir: string, options: SetupOptions): Promise<Scenario> {
  const pidFile = join(dir, 'api.pid');
  const port = await freePort();
  const api = await startApi({ ...BENCH_API_ENV, ...options.env }, { pidFile, port, timeoutMs: 120_000 });
  const oldPid = await waitReady(port, 120_000);
  const watch = watchExits();
  const logs = () => `${api.output()}\n${readLogs(`${pidFile}.log`)}`;
  return {
    port, handoff: false, exits: watch.exits, logs,
    restart: async () => {
      watch.add(oldPid);
      const cli = await runCliRestart(['graceful', '--manager', 'process', '--pid-file', pidFile, '--start', apiStartCommand({ ...BENCH_API_ENV, PORT: port }),
        '--url', `http://127.0.0.1:${port}/health`, ...(cliHasModes() ? ['--mode', 'replace'] : [])], options.env);
      const newPid = track(readPid(pidFile));
      return { startAt: cli.startAt, endAt: cli.endAt, oldPids: [oldPid], newPids: newPid && newPid !== oldPid ? [newPid] : [], signalAt: [], note: `restart-cli graceful --mode replace ${cli.note}`.trim() };
    },
    teardown: async () => {
      watch.stop();
      await stopProcesses([api.pid, ...[readPid(pidFile)].filter((p): p is number => p !== undefined)], 15_000);
    },
  };
}

interface Pm2Process { pid: number; pm2_env?: { status?: string } }

/** Runs a command without blocking the event loop. */
function run(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd: WORKSPACE, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.once('error', (error) => reject(new Error(`could not run ${file}`, { cause: error })));
    child.once('close', (code) => resolve({ code, out }));
  });
}

/**
 * (4) `pm2 reload` of two cluster workers on one port (private PM2_HOME, `pm2 kill`
 * at the end). The app is tools/bench/naive-app (NestJS defaults, no Chromium:
 * its /qc/check answers at once), as in the earlier benchmark.
 */
async function pm2Reload(dir: string, options: SetupOptions): Promise<Scenario> {
  const port = await freePort();
  const home = join(dir, 'pm2');
  const env = { ...process.env, ...options.env, PM2_HOME: home, PORT: String(port), HOST: '127.0.0.1' };
  const pm2 = async (...args: string[]) => {
    const result = await run(PM2, args, env);
    if (result.code !== 0) throw new Error(`pm2 ${args.join(' ')} exited with ${result.code}:\n${result.out}`);
    return result.out;
  };
  const online = async () => {
    const out = await pm2('jlist');
    return (JSON.parse(out.slice(out.indexOf('['))) as Pm2Process[]).filter((p) => p.pm2_env?.status === 'online').map((p) => p.pid);
  };
  await pm2('start', join(WORKSPACE, NAIVE_APP), '-i', '2', '--name', 'naive-bench');
  await waitFor('two pm2 workers online', async () => (await online()).length === 2, 60_000);
  // The naive app has no shutdown phase for waitReady: any 200 will do.
  await waitFor(`pm2's port ${port} to answer`, async () => (await fetch(`http://127.0.0.1:${port}/health`)).ok, 60_000);
  const logs = () => readLogs(...readdirSync(join(home, 'logs')).map((f) => join(home, 'logs', f)));
  const watch = watchExits();
  return {
    port, handoff: false, exits: watch.exits, logs,
    restart: async () => {
      const oldPids = await online();
      oldPids.forEach(watch.add);
      const startAt = Date.now();
      await pm2('reload', 'naive-bench');
      const reloaded = Date.now();
      const newPids = await online();
      // pm2 takes a worker as up at its `listening` event or after listen_timeout (3 s), whichever
      // comes first: on a slow host reload returns before the new workers listen. Over when they do.
      const listening = await Promise.all(newPids.map((pid) => waitForEvent(logs, `pm2 worker ${pid} to listen`, (e) => e.pid === pid && e.msg === 'listening', 60_000)));
      const endAt = Math.max(reloaded, ...listening.map((e) => e.at), ...oldPids.map((pid) => watch.exits.get(pid) ?? 0));
      return { startAt, endAt, oldPids, newPids, signalAt: oldPids.map(() => startAt), note: 'pm2 reload (cluster mode, 2 workers)' };
    },
    teardown: async () => {
      watch.stop();
      const daemon = readPid(join(home, 'pm2.pid'));
      await run(PM2, ['kill'], env);
      // pm2 kill ends the daemon and its workers; should it not have, end the daemon by its pid.
      if (daemon !== undefined && isAlive(daemon)) await stopProcesses([daemon], 0);
    },
  };
}

export const SINGLE_SCENARIOS: ScenarioDef[] = [
  { name: 'control', label: '(0) no restart (control)', group: 'single', setup: control },
  { name: 'beside', label: '(0b) no restart, an API starts and stops beside it', group: 'single', setup: besideStart },
  { name: 'handoff', label: '(1) hot handoff, own port', group: 'single', setup: handoffOwnPort },
  { name: 'socket', label: '(2) restart on a systemd-held socket', group: 'single', setup: heldSocket },
  { name: 'replace', label: '(3) stop and start, own port', group: 'single', setup: replaceOwnPort },
  { name: 'pm2', label: '(4) pm2 reload, cluster x2 (naive app)', group: 'single', setup: pm2Reload },
];
