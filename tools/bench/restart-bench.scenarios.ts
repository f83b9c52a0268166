// The three set-ups of restart-bench.ts: each starts two instances behind nginx,
// restarts both its own way while the benchmark's load runs, and cleans up.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import {
  apiStartCommand, freePort, httpRequest, isAlive, LOAD_API_ENV, readPid, runCli, startApi, startNginxForLoad, stopProcesses, waitFor, waitReady, WORKSPACE,
  type RunningNginx,
} from '@edu-agents/e2e-support';

export const ORIGINAL_NGINX_CONF = join(__dirname, 'restart-original-nginx.conf');
const NAIVE_APP = 'tools/bench/naive-app/main.js';
const PM2 = join(WORKSPACE, 'node_modules/.bin/pm2');

/** Two instances behind nginx, ready for load; `restart()` is the procedure being compared. */
export interface Scenario {
  nginx: RunningNginx;
  /** Restarts both instances; resolves with the pids before and after and what the tool said. */
  restart(): Promise<{ oldPids: number[]; newPids: number[]; note: string }>;
  teardown(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs a command without blocking the event loop (the load keeps its schedule). */
function run(file: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd: WORKSPACE, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.once('error', (error) => reject(new Error(`could not run ${file}`, { cause: error })));
    child.once('close', (code) => resolve({ code, out }));
  });
}

async function waitHealthy(port: number, timeoutMs = 30_000): Promise<void> {
  await waitFor(`port ${port} to answer /health`, async () => (await httpRequest(port, 'GET', '/health')).status === 200, timeoutMs);
}

/** (a) This project: the built API (QC on, real Chromium), the shipped nginx config, `restart-cli rolling`. */
export async function projectScenario(dir: string): Promise<Scenario> {
  const ports = [await freePort(), await freePort()];
  const pidFile = join(dir, 'api-%i.pid');
  const start = apiStartCommand({ ...LOAD_API_ENV, PORT: '%i' });
  const started = new Set<number>();
  for (const port of ports) started.add((await startApi(LOAD_API_ENV, { port, pidFile: pidFile.replace('%i', String(port)) })).pid);
  const oldPids = await Promise.all(ports.map((port) => waitReady(port)));
  const nginx = await startNginxForLoad(ports);
  return {
    nginx,
    restart: async () => {
      const cli = await runCli(['rolling', '--manager', 'process', '--instances', ports.join(','), '--url', 'http://127.0.0.1:%i/health',
        '--pid-file', pidFile, '--start', start, '--lb-url', `http://127.0.0.1:${nginx.port}/health`, '--timeout', '60s', '--interval', '100ms', '--check-timeout', '10s', '--json']).done;
      const newPids = ports.map((port) => readPid(pidFile.replace('%i', String(port))) ?? 0);
      newPids.forEach((pid) => started.add(pid));
      if (cli.code !== 0) throw new Error(`restart-cli rolling exited with ${cli.code}:\n${cli.stderr}`);
      return { oldPids, newPids, note: 'restart-cli rolling (process manager, --lb-url)' };
    },
    teardown: async () => {
      await stopProcesses(started);
      await nginx.stop();
    },
  };
}

/**
 * (b) The original procedure: a NestJS app with defaults, the original nginx
 * config, `systemctl restart` of instance 1 (SIGTERM, wait for the exit,
 * start), `sleep 10`, the same for instance 0.
 */
export async function naiveScenario(dir: string): Promise<Scenario> {
  const ports = [await freePort(), await freePort()];
  const pids: number[] = [];
  const started = new Set<number>();
  const startOne = async (k: number) => {
    const { pid } = await startApi({}, { main: NAIVE_APP, port: ports[k] });
    started.add(pid);
    pids[k] = pid;
    await waitHealthy(ports[k]);
  };
  await Promise.all([startOne(0), startOne(1)]);
  const nginx = await startNginxForLoad(ports, { serverConf: ORIGINAL_NGINX_CONF });
  return {
    nginx,
    restart: async () => {
      const oldPids = [...pids];
      for (const k of [1, 0]) {
        process.kill(pids[k], 'SIGTERM');
        await waitFor(`naive instance ${k} to exit`, () => !isAlive(pids[k]), 30_000);
        await startOne(k);
        if (k === 1) await sleep(10_000);
      }
      return { oldPids, newPids: [...pids], note: 'SIGTERM, start again; instance 1, sleep 10, instance 0' };
    },
    teardown: async () => {
      await stopProcesses(started);
      await nginx.stop();
    },
  };
}

interface Pm2Process { pid: number; pm2_env?: { status?: string } }

/** (c) `pm2 reload` of the naive app in cluster mode, two instances on one port, behind the original nginx config. */
export async function pm2Scenario(dir: string): Promise<Scenario> {
  const port = await freePort();
  const env = { ...process.env, PM2_HOME: join(dir, 'pm2'), PORT: String(port), HOST: '127.0.0.1' };
  const pm2 = async (...args: string[]) => {
    const result = await run(PM2, args, env);
    if (result.code !== 0) throw new Error(`pm2 ${args.join(' ')} exited with ${result.code}:\n${result.out}`);
    return result.out;
  };
  const online = async () => {
    const out = await pm2('jlist');
    const list = JSON.parse(out.slice(out.indexOf('['))) as Pm2Process[];
    return list.filter((p) => p.pm2_env?.status === 'online').map((p) => p.pid);
  };
  await pm2('start', join(WORKSPACE, NAIVE_APP), '-i', '2', '--name', 'naive-bench');
  await waitFor('two pm2 instances online', async () => (await online()).length === 2, 30_000);
  await waitHealthy(port);
  // Both upstream lines point at pm2's one port: pm2's cluster module balances between its workers.
  const nginx = await startNginxForLoad([port, port], { serverConf: ORIGINAL_NGINX_CONF });
  return {
    nginx,
    restart: async () => {
      const oldPids = await online();
      await pm2('reload', 'naive-bench');
      const newPids = await online();
      return { oldPids, newPids, note: 'pm2 reload (cluster mode, 2 instances)' };
    },
    teardown: async () => {
      const daemon = readPid(join(dir, 'pm2', 'pm2.pid'));
      await run(PM2, ['kill'], env);
      // pm2 kill ends the daemon and its workers; should it not have, end the daemon by its pid.
      if (daemon !== undefined && isAlive(daemon)) process.kill(daemon, 'SIGKILL');
      await nginx.stop();
    },
  };
}

export const SCENARIOS = { project: projectScenario, naive: naiveScenario, pm2: pm2Scenario } as const;
export type ScenarioName = keyof typeof SCENARIOS;
