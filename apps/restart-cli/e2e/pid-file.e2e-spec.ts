import { check } from '@edu-agents/health-client';
import {
  apiStartCommand, formatSummary, freePort, isAlive, killLeftoverApis, readPid, startApi, startLoad, startNginx, STATS_ONLY, summarize, track, waitFor,
  waitReady, type ApiProcess, type RunningNginx,
} from '@edu-agents/e2e-support';
import { writeFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectExit, runCliJson, stepList, type InstanceJson } from './handoff-support';

const WAITS = ['--timeout', '120s', '--interval', '100ms', '--check-timeout', '10s'];
const HANDOFF_STEPS = ['check:ok', 'trigger:ok', 'successor:ok', 'drain:ok'];

/**
 * The pid file in every set-up an operator has (process manager, default mode): the
 * original guide's flow, where the operator starts the instances without PID_FILE and
 * writes the pid files; an API that writes another pid file than the CLI's.
 */
describe('restart-cli keeps its pid file true through real handoffs', () => {
  let dir: string;
  let nginx: RunningNginx | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'restart-cli-pid-file-'));
  });

  afterEach(async () => {
    await nginx?.stop();
    nginx = undefined;
    for (const name of await readdir(dir)) if (name.endsWith('.pid')) track(readPid(join(dir, name)));
    await killLeftoverApis();
    await rm(dir, { recursive: true, force: true });
  });

  /** As the original guide does it: started by hand, no PID_FILE, the pid written by the operator (`echo $! > run/api-0.pid`). */
  async function startByHand(port: number): Promise<{ api: ApiProcess; pidFile: string }> {
    const api = await startApi({}, { port, timeoutMs: 90_000 });
    await waitReady(port, 60_000);
    const pidFile = join(dir, `api-${port}.pid`);
    writeFileSync(pidFile, `${api.pid}\n`);
    await expect(check(api.healthUrl)).resolves.toMatchObject({ pidFile: null });
    return { api, pidFile };
  }

  it('graceful, then rolling behind nginx, with --pid-file and --start against instances started without PID_FILE: both exit 0 and every instance ends on a new pid named in its pid file', async () => {
    const ports = [await freePort(), await freePort()];
    const [a, b] = [await startByHand(ports[0]), await startByHand(ports[1])];
    const start = apiStartCommand({ HOST: '127.0.0.1', QC_ENABLED: 'false', PORT: '%i' });

    const graceful = await runCliJson<InstanceJson>([
      'graceful', '--pid-file', a.pidFile, '--start', start.replace('%i', String(ports[0])), '--url', a.api.healthUrl, ...WAITS,
    ]);
    expectExit(graceful.run, 0);
    expect(graceful.result).toMatchObject({ mode: 'handoff', ok: true, oldPid: a.api.pid });
    expect(stepList(graceful.result.steps)).toEqual(HANDOFF_STEPS);
    const first = graceful.result.newPid as number;
    expect(graceful.result.steps[2].detail).toContain(`wrote pid ${first} to pid file ${a.pidFile} (the API writes none)`);
    expect(readPid(a.pidFile)).toBe(first);
    expect(isAlive(a.api.pid)).toBe(false);

    nginx = await startNginx(ports);
    const load = startLoad({ port: nginx.port, ratePerSec: 30, request: STATS_ONLY, maxDurationMs: 600_000, baseClients: 8 });
    let rolling;
    try {
      rolling = await runCliJson<{ instances: InstanceJson[]; untouched: string[] }>([
        'rolling', '--instances', ports.join(','), '--url', 'http://127.0.0.1:%i/health', '--pid-file', join(dir, 'api-%i.pid'), '--start', start,
        '--lb-url', `http://127.0.0.1:${nginx.port}/health`, ...WAITS,
      ]);
    } finally {
      load.stop();
    }
    const summary = summarize(await load.done);
    expectExit(rolling.run, 0);
    expect(rolling.result.untouched).toEqual([]);
    expect(rolling.result.instances.map((i) => [i.mode, i.oldPid])).toEqual([['handoff', first], ['handoff', b.api.pid]]);
    for (const [k, port] of ports.entries()) {
      const instance = rolling.result.instances[k];
      expect(stepList(instance.steps)).toEqual([...HANDOFF_STEPS, 'lb-check:ok']);
      expect(readPid(join(dir, `api-${port}.pid`))).toBe(instance.newPid);
      await expect(check(`http://127.0.0.1:${port}/health`, { timeoutMs: 10_000 })).resolves.toMatchObject({ state: 'ready', pid: instance.newPid, pidFile: null });
    }
    expect(new Set([a.api.pid, b.api.pid, first, ...rolling.result.instances.map((i) => i.newPid)]).size).toBe(5);
    expect(summary.all.failed === 0 ? '' : formatSummary('load through nginx', summary)).toBe('');
  }, 420_000);

  it('refuses with exit 2 before touching anything when the API writes another pid file than --pid-file, naming both', async () => {
    const own = join(dir, 'own.pid');
    const api = await startApi({}, { pidFile: own, timeoutMs: 90_000 });
    await waitReady(api.port, 60_000);
    const theirs = join(dir, 'operator.pid');
    writeFileSync(theirs, `${api.pid}\n`);

    for (const mode of ['auto', 'replace']) {
      const { run, result } = await runCliJson<InstanceJson>([
        'graceful', '--pid-file', theirs, '--start', 'node never-started.js', '--url', api.healthUrl, '--mode', mode, ...WAITS,
      ]);
      expectExit(run, 2);
      expect(stepList(result.steps)).toEqual(['check:failed']);
      expect(run.stderr).toContain(`--pid-file ${theirs}`);
      expect(run.stderr).toContain(`its PID_FILE, ${own}`);
    }
    // Nothing was touched: same pid, no handoff attempted, both files as they were.
    await expect(check(api.healthUrl)).resolves.toMatchObject({ state: 'ready', pid: api.pid, pidFile: own, handoff: { attempts: 0 } });
    expect([readPid(own), readPid(theirs)]).toEqual([api.pid, api.pid]);
    expect(api.output()).not.toContain('SIGHUP');
    expect(api.output()).not.toContain('SIGTERM');
  }, 240_000);

  it('waits for the API to rewrite the pid file it writes itself (PID_FILE is --pid-file), and the CLI writes nothing', async () => {
    const pidFile = join(dir, 'api.pid');
    const api = await startApi({}, { pidFile, timeoutMs: 90_000 });
    await waitReady(api.port, 60_000);
    await expect(check(api.healthUrl)).resolves.toMatchObject({ pidFile });
    const { run, result } = await runCliJson<InstanceJson>(['graceful', '--pid-file', pidFile, '--url', api.healthUrl, ...WAITS]);
    expectExit(run, 0);
    expect(result.steps[2].detail).not.toContain('wrote pid');
    expect(readPid(pidFile)).toBe(result.newPid);
    await waitFor('the old API to exit', () => !isAlive(api.pid), 30_000);
  }, 240_000);
});
