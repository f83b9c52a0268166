// Rolling set-ups of restart-bench.ts: two API instances behind a real nginx
// with the shipped deployment/nginx/edu_agents.conf, restarted one at a time by
// the restart CLI (process manager); the load goes to nginx.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  apiStartCommand, freePort, readPid, startApi, startNginxForLoad, stopProcesses, track, waitFor, waitReady, type ApiProcess,
} from '@edu-agents/e2e-support';
import { watchExits } from './restart-bench.events';
import { apiMainOf, BENCH_API_ENV, cliHasModes, pidFileOf, readLogs, runCliRestart, type Scenario, type ScenarioDef, type SetupOptions } from './restart-bench.scenario';

/** `restart-cli rolling --mode <mode>` over two instances named by their ports. */
async function rolling(dir: string, mode: 'handoff' | 'replace', options: SetupOptions): Promise<Scenario> {
  const ports = [await freePort(), await freePort()];
  // The instances share a yield directory, as the shipped template unit has them do (RuntimeDirectory=edu_agents):
  // a start or a retirement yields to both instances' renders. A variant's HANDOFF_YIELD_DIR= (empty) turns it off.
  // (The CLI's --start command, used by the replace mode only, starts instances without it.)
  const yieldDir = join(dir, 'yield');
  mkdirSync(yieldDir, { recursive: true });
  const env = { ...BENCH_API_ENV, HANDOFF_YIELD_DIR: yieldDir, ...options.env };
  const apis: ApiProcess[] = [];
  for (const port of ports) apis.push(await startApi(env, { port, pidFile: pidFileOf(dir, port), main: apiMainOf(options), timeoutMs: 120_000 }));
  const oldPids = await Promise.all(ports.map((port) => waitReady(port, 120_000)));
  const nginx = await startNginxForLoad(ports, { serverConf: options.nginxConf, ownSession: options.nginxSession !== 'shared', workerProcesses: options.nginxWorkers });
  const watch = watchExits();
  const pidFiles = ports.map((port) => pidFileOf(dir, port));
  // Successors write to their predecessor's output (ours); instances the CLI starts, to <pid file>.log.
  const logs = () => [...apis.map((api) => api.output()), readLogs(...pidFiles.map((f) => `${f}.log`))].join('\n');
  const withModes = cliHasModes();
  return {
    port: nginx.port, handoff: mode === 'handoff', exits: watch.exits, logs, nginx,
    restart: async () => {
      oldPids.forEach(watch.add);
      if (mode === 'handoff' && !withModes) return handoffBySignals(oldPids, pidFiles, watch);
      const cli = await runCliRestart(['rolling', '--manager', 'process', '--instances', ports.join(','), '--url', 'http://127.0.0.1:%i/health',
        '--pid-file', pidFileOf(dir, '%i'), '--start', apiStartCommand({ ...BENCH_API_ENV, PORT: '%i' }),
        '--lb-url', `http://127.0.0.1:${nginx.port}/health`, ...(withModes ? ['--mode', mode] : [])], options.env);
      const newPids = pidFiles.map((f) => track(readPid(f)) ?? 0);
      return { startAt: cli.startAt, endAt: cli.endAt, oldPids, newPids, signalAt: [], note: `restart-cli rolling --mode ${mode} --lb-url ${cli.note}`.trim() };
    },
    teardown: async () => {
      watch.stop();
      await stopProcesses([...apis.map((a) => a.pid), ...pidFiles.map((f) => readPid(f)).filter((p): p is number => p !== undefined)], 15_000);
      await nginx.stop();
    },
  };
}

/**
 * A rolling handoff without the CLI's `--mode handoff` (the built CLI predates
 * it): SIGHUP to each instance in turn, the next only once the previous
 * successor serves and its predecessor exited.
 */
async function handoffBySignals(oldPids: number[], pidFiles: string[], watch: ReturnType<typeof watchExits>) {
  const signalAt: number[] = [];
  const newPids: number[] = [];
  for (const [k, oldPid] of oldPids.entries()) {
    signalAt.push(Date.now());
    process.kill(oldPid, 'SIGHUP');
    newPids.push(track(await waitFor(`the successor of ${oldPid} to write its pid file`, () => { const pid = readPid(pidFiles[k]); return pid !== oldPid && pid; }, 180_000)));
    await waitFor(`predecessor ${oldPid} to exit`, () => watch.exits.has(oldPid), 120_000);
  }
  const endAt = Math.max(...oldPids.map((pid) => watch.exits.get(pid) ?? Date.now()));
  return { startAt: signalAt[0], endAt, oldPids, newPids, signalAt, note: 'SIGHUP to each instance in turn (the built CLI has no --mode handoff yet)' };
}

export const ROLLING_SCENARIOS: ScenarioDef[] = [
  { name: 'rolling-handoff', label: '(5) rolling via nginx: handoff', group: 'rolling', setup: (dir, options) => rolling(dir, 'handoff', options) },
  { name: 'rolling-replace', label: '(6) rolling via nginx: replace', group: 'rolling', setup: (dir, options) => rolling(dir, 'replace', options) },
];
