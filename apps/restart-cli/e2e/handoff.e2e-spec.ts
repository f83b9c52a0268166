import { check } from '@edu-agents/health-client';
import {
  ApiRelease, formatSummary, freePort, isAlive, killLeftoverApis, LOAD_API_ENV, qcMix, readPid, runCli, startApi, startLoad, startNginx, STATS_ONLY,
  summarize, track, waitReady, type ApiProcess, type LoadOptions, type RunningNginx,
} from '@edu-agents/e2e-support';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectExit, runCliJson, stepList, type InstanceJson } from './handoff-support';

/** Generous bounds: two cores shared with other suites, and a successor that boots Nest (and Chromium) next to its predecessor. */
const WAITS = ['--timeout', '120s', '--interval', '100ms', '--check-timeout', '10s'];
const HANDOFF_STEPS = ['check:ok', 'trigger:ok', 'successor:ok', 'drain:ok'];
const BROKEN_BUILD = "throw new Error('broken build: the lesson store driver is missing');\n";

/** Runs an open-loop client (no retries) while `during` runs; returns what `during` returned, the request count and a report of failures. */
async function underLoad<T>(options: Omit<LoadOptions, 'maxDurationMs'>, during: () => Promise<T>) {
  const load = startLoad({ maxDurationMs: 600_000, baseClients: 8, ...options });
  let value: T;
  try {
    value = await during();
  } finally {
    load.stop();
  }
  const summary = summarize(await load.done);
  // The report names every failure by kind; it is empty when none failed, so a failed expectation shows it.
  const failures = summary.all.failed === 0 ? '' : formatSummary('load during the handoff', summary);
  return { value, requests: summary.all.requests, failures };
}

describe('restart-cli hot handoff against real API processes', () => {
  let dir: string;
  let nginx: RunningNginx | undefined;
  let release: ApiRelease | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'restart-cli-handoff-'));
  });

  afterEach(async () => {
    await nginx?.stop();
    nginx = undefined;
    for (const name of await readdir(dir)) if (name.endsWith('.pid')) track(readPid(join(dir, name)));
    await killLeftoverApis();
    release?.remove();
    release = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  /** The successor took over: it is in the pid file and answers ready; the old pid is gone and exited 0. */
  async function expectHandedOver(api: ApiProcess, pidFile: string, result: InstanceJson) {
    expect(result).toMatchObject({ mode: 'handoff', ok: true, exitCode: 0, oldPid: api.pid, servingPid: result.newPid });
    expect(stepList(result.steps)).toEqual(HANDOFF_STEPS);
    expect(result.newPid).toEqual(expect.any(Number));
    expect(result.newPid).not.toBe(api.pid);
    expect(readPid(pidFile)).toBe(result.newPid);
    expect(isAlive(api.pid)).toBe(false);
    expect((await api.exited).code).toBe(0);
    await expect(check(api.healthUrl, { timeoutMs: 10_000 })).resolves.toMatchObject({ state: 'ready', pid: result.newPid });
  }

  it('graceful hands off by default with the process manager (QC on): new pid in the pid file, old pid gone, no request of a concurrent client failed', async () => {
    const pidFile = join(dir, 'api.pid');
    const api = await startApi({ ...LOAD_API_ENV }, { pidFile, timeoutMs: 90_000 });
    await waitReady(api.port, 120_000); // the Chromium pool is up

    const { value: { run, result }, requests, failures } = await underLoad({ port: api.port, ratePerSec: 20, request: qcMix(10) }, () =>
      runCliJson<InstanceJson>(['graceful', '--pid-file', pidFile, '--url', api.healthUrl, ...WAITS]),
    );

    expectExit(run, 0);
    await expectHandedOver(api, pidFile, result);
    expect(requests).toBeGreaterThan(20);
    expect(failures).toBe('');
  }, 360_000);

  it('a broken build at the entry path: exit 5 with the successor\'s error, the old pid still serves and stays in the pid file; the good build then takes over', async () => {
    release = new ApiRelease('broken');
    const pidFile = join(dir, 'api.pid');
    const api = await startApi({ HANDOFF_TIMEOUT_MS: 60_000 }, { main: release.main, pidFile, timeoutMs: 90_000 });
    await waitReady(api.port, 60_000);
    const graceful = ['graceful', '--pid-file', pidFile, '--url', api.healthUrl, ...WAITS];

    release.deployBroken(BROKEN_BUILD);
    const broken = await underLoad({ port: api.port, ratePerSec: 50, request: STATS_ONLY }, () => runCliJson<InstanceJson>(graceful));
    const { run, result } = broken.value;
    expectExit(run, 5);
    expect(result).toMatchObject({ mode: 'handoff', ok: false, exitCode: 5, oldPid: api.pid, servingPid: api.pid, failure: { step: 'successor' }, successor: { reason: 'exited' } });
    expect(result.newPid).toBeUndefined();
    expect(stepList(result.steps)).toEqual(['check:ok', 'trigger:ok', 'successor:failed']);
    expect(run.stderr).toContain('broken build: the lesson store driver is missing');
    expect(run.stderr).toContain(`pid ${api.pid} still serves`);
    expect(readPid(pidFile)).toBe(api.pid);
    expect(api.isRunning()).toBe(true);
    await expect(check(api.healthUrl, { timeoutMs: 10_000 })).resolves.toMatchObject({ state: 'ready', pid: api.pid });
    expect(broken.failures).toBe('');

    release.deployGood();
    const good = await runCliJson<InstanceJson>(graceful);
    expectExit(good.run, 0);
    await expectHandedOver(api, pidFile, good.result);
  }, 360_000);

  it('refuses --mode handoff on an instance with HANDOFF_ENABLED=false with its own exit code, and touches nothing', async () => {
    const pidFile = join(dir, 'api.pid');
    const api = await startApi({ HANDOFF_ENABLED: 'false' }, { pidFile, timeoutMs: 90_000 });
    await waitReady(api.port, 60_000);

    const refused = await runCli(['graceful', '--pid-file', pidFile, '--url', api.healthUrl, '--mode', 'handoff', ...WAITS]).done;
    expectExit(refused, 9);
    expect(refused.stderr).toContain('does not support hot handoff (HANDOFF_ENABLED=false); nothing was touched');
    expect(refused.stdout).toBe('');
    // auto falls back to replace there, which needs --start: a usage error, again before anything is touched.
    const noStart = await runCli(['graceful', '--pid-file', pidFile, '--url', api.healthUrl, ...WAITS]).done;
    expectExit(noStart, 2);
    expect(noStart.stderr).toContain('option --start <command> is required');

    expect(readPid(pidFile)).toBe(api.pid);
    expect(api.isRunning()).toBe(true);
    await expect(check(api.healthUrl, { timeoutMs: 10_000 })).resolves.toMatchObject({ state: 'ready', pid: api.pid });
    expect(api.output()).not.toContain('SIGHUP');
  }, 240_000);

  it('rolling hands off two instances behind the shipped nginx one at a time, checking the balancer after each, and no request through it fails', async () => {
    const apis: ApiProcess[] = [];
    for (let k = 0; k < 2; k++) {
      const port = await freePort();
      apis.push(await startApi({}, { pidFile: join(dir, `api-${port}.pid`), port, timeoutMs: 90_000 }));
    }
    for (const api of apis) await waitReady(api.port, 60_000);
    nginx = await startNginx(apis.map((a) => a.port));
    const lb = nginx.port;

    const { value: { run, result }, requests, failures } = await underLoad({ port: lb, ratePerSec: 30, request: STATS_ONLY }, () =>
      runCliJson<{ instances: InstanceJson[]; untouched: string[] }>([
        'rolling', '--instances', apis.map((a) => a.port).join(','), '--url', 'http://127.0.0.1:%i/health',
        '--pid-file', join(dir, 'api-%i.pid'), '--lb-url', `http://127.0.0.1:${lb}/health`, ...WAITS,
      ]),
    );

    expectExit(run, 0);
    expect(result.untouched).toEqual([]);
    for (const [k, api] of apis.entries()) {
      const instance = result.instances[k];
      expect(instance.instance).toBe(String(api.port));
      expect(stepList(instance.steps)).toEqual([...HANDOFF_STEPS, 'lb-check:ok']);
      await expectHandedOver(api, join(dir, `api-${api.port}.pid`), { ...instance, steps: instance.steps.slice(0, 4) });
    }
    // One at a time: instance 1 was checked only after the balancer answered ready for instance 0.
    const lines = run.stderr.split('\n');
    const balanced0 = lines.findIndex((l) => l.startsWith('ok') && l.includes(`[${apis[0].port}] check through the load balancer`));
    const checked1 = lines.findIndex((l) => l.includes(`[${apis[1].port}] check current health`));
    expect(balanced0).toBeGreaterThan(-1);
    expect(checked1).toBeGreaterThan(balanced0);
    expect(requests).toBeGreaterThan(30);
    expect(failures).toBe('');
  }, 360_000);
});
