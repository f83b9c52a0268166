import { check } from '@edu-agents/health-client';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { API_MAIN, freePort, isAlive, killLeftoverApis, readPid, runCli, slowPost, startApi, track, waitFor, type ApiProcess, type SlowPost } from '@edu-agents/e2e-support';

const START = `QC_ENABLED=false LOG_FORMAT=text HOST=127.0.0.1 node ${API_MAIN}`;
/** Not valid QC input: once its body is complete the API answers 400, i.e. the request was served normally. */
const NOT_QC = { notHtml: 'x'.repeat(64) };

describe('restart-cli against real API processes (process manager)', () => {
  let dir: string;
  const slow: SlowPost[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'restart-cli-e2e-'));
  });

  afterEach(async () => {
    for (const s of slow.splice(0)) s.destroy();
    for (const name of ['api.pid', 'api-a.pid', 'api-b.pid']) track(readPid(join(dir, name)));
    await killLeftoverApis();
    await rm(dir, { recursive: true, force: true });
  });

  it('graceful restart in replace mode gives a new healthy pid and completes a request that was in flight when it began', async () => {
    const pidFile = join(dir, 'api.pid');
    const api = await startApi({}, { pidFile });
    await waitFor('pid file', () => readPid(pidFile));

    const request = slowPost(`http://127.0.0.1:${api.port}/qc/check`, NOT_QC);
    slow.push(request);
    await waitFor('the request to be in flight', async () => ((await check(api.healthUrl)).inFlight ?? 0) >= 1);

    const cli = runCli([
      'graceful', '--mode', 'replace', '--manager', 'process', '--pid-file', pidFile, '--start', `PORT=${api.port} ${START}`,
      '--url', api.healthUrl, '--timeout', '30s', '--interval', '100ms', '--json',
    ]);
    // The restart has begun and the CLI follows the drain of our request; only then does the body complete.
    await waitFor('the CLI to follow the drain', async () => cli.output().stderr.includes(`draining pid ${api.pid}: 1 in flight`));
    expect((await check(api.healthUrl)).state).toBe('draining');
    request.finish();
    expect((await request.answer).status).toBe(400);

    const run = await cli.done;
    const result = JSON.parse(run.stdout);
    track(result.newPid);
    expect({ code: run.code, stderr: run.stderr }).toMatchObject({ code: 0 });
    expect(result).toMatchObject({ command: 'graceful', ok: true, exitCode: 0, oldPid: api.pid });
    expect(result.newPid).not.toBe(api.pid);
    expect(result.steps.map((s: { step: string; status: string }) => `${s.step}:${s.status}`)).toEqual(['check:ok', 'signal:ok', 'ack:ok', 'restart:ok', 'verify:ok']);
    const after = await check(api.healthUrl);
    expect(after).toMatchObject({ state: 'ready', pid: result.newPid });
    expect(Number((await readFile(pidFile, 'utf8')).trim())).toBe(result.newPid);
    expect(isAlive(api.pid)).toBe(false);
  });

  /** Two APIs on OS-chosen ports; the instance names are the ports, so `%i` finds url, pid file and port. */
  async function twoInstances() {
    const apis: ApiProcess[] = [];
    for (let n = 0; n < 2; n++) {
      const port = await freePort();
      apis.push(await startApi({}, { pidFile: join(dir, `api-${port}.pid`), port }));
    }
    const rolling = (start: string) => [
      'rolling', '--mode', 'replace', '--instances', apis.map((a) => a.port).join(','), '--url', 'http://127.0.0.1:%i/health',
      '--pid-file', join(dir, 'api-%i.pid'), '--start', start, '--timeout', '30s', '--interval', '100ms', '--json',
    ];
    return { apis, rolling };
  }

  it('rolling restart of two instances in replace mode gives both new healthy pids', async () => {
    const { apis, rolling } = await twoInstances();
    const run = await runCli(rolling(`PORT=%i ${START}`)).done;
    const result = JSON.parse(run.stdout);
    result.instances.forEach((i: { newPid: number }) => track(i.newPid));
    expect({ code: run.code, stderr: run.stderr }).toMatchObject({ code: 0 });
    expect(result.instances.map((i: { instance: string; oldPid: number }) => [i.instance, i.oldPid])).toEqual(apis.map((a) => [String(a.port), a.pid]));
    for (const [k, api] of apis.entries()) {
      const newPid = result.instances[k].newPid;
      expect(newPid).not.toBe(api.pid);
      await expect(check(api.healthUrl)).resolves.toMatchObject({ state: 'ready', pid: newPid });
    }
    // One at a time: instance 1 was checked only after instance 0 verified.
    const lines = run.stderr.split('\n');
    const verified0 = lines.findIndex((l) => l.startsWith('ok') && l.includes(`[${apis[0].port}] verify`));
    const checked1 = lines.findIndex((l) => l.includes(`[${apis[1].port}] check`));
    expect(verified0).toBeGreaterThan(-1);
    expect(checked1).toBeGreaterThan(verified0);
  });

  it('rolling restart stops with the start-failed exit code when the first new start fails, and never signals the second', async () => {
    const { apis, rolling } = await twoInstances();
    const run = await runCli(rolling(`PORT=99999 ${START}`)).done;
    expect(run.code).toBe(5);
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({ ok: false, exitCode: 5, untouched: [String(apis[1].port)], failure: { instance: String(apis[0].port), step: 'verify' } });
    expect(result.failure.message).toMatch(/exited with code [1-9]/);
    expect(result.failure.message).toContain('PORT');
    // The second instance: same process, still serving.
    expect(isAlive(apis[1].pid)).toBe(true);
    await expect(check(apis[1].healthUrl)).resolves.toMatchObject({ state: 'ready', pid: apis[1].pid });
  });

  it('refuses to restart an instance that is not ready, and leaves it alone', async () => {
    const pidFile = join(dir, 'api.pid');
    const api = await startApi({}, { pidFile });
    const request = slowPost(`http://127.0.0.1:${api.port}/qc/check`, NOT_QC);
    slow.push(request);
    await waitFor('the request to be in flight', async () => ((await check(api.healthUrl)).inFlight ?? 0) >= 1);
    process.kill(api.pid, 'SIGTERM'); // draining: /health answers 503 while the request is held
    await waitFor('the instance to drain', async () => (await check(api.healthUrl)).state === 'draining');

    const run = await runCli(['graceful', '--pid-file', pidFile, '--start', `PORT=${api.port} ${START}`, '--url', api.healthUrl]).done;
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('is draining');
    expect(run.stderr).toContain('--force');
    expect(readPid(pidFile)).toBe(api.pid); // nothing new was started
    request.finish();
    expect((await request.answer).status).toBe(400);
  });

  it('bad arguments give the usage exit code and a message naming the argument', async () => {
    const bad = await runCli(['graceful', '--pid-file', 'x.pid', '--start', 'node x', '--timeout', 'soon']).done;
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("option '--timeout <duration>' argument 'soon' is invalid");
    const missing = await runCli(['rolling', '--url', 'http://api.invalid/health', '--service', 'edu_agents@%i']).done;
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("required option '--instances <list>' not specified");
    const shell = await runCli(['graceful', '--service', 'edu_agents;reboot']).done;
    expect(shell.code).toBe(2);
    expect(shell.stderr).toContain("option --service: 'edu_agents;reboot' is not a valid unit name");
    expect(bad.stdout + missing.stdout + shell.stdout).toBe('');
  });
});
