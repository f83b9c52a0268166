import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { API_MAIN, freePort, killLeftoverApis, readPid, runCli, startApi, startNginx, track, type ApiProcess, type RunningNginx } from '@edu-agents/e2e-support';

const START = `QC_ENABLED=false LOG_FORMAT=text HOST=127.0.0.1 node ${API_MAIN}`;

describe('rolling restart behind the shipped nginx config', () => {
  let dir: string;
  let nginx: RunningNginx | undefined;
  const apis: ApiProcess[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'restart-cli-lb-'));
  });

  afterEach(async () => {
    await nginx?.stop();
    nginx = undefined;
    for (const api of apis.splice(0)) track(readPid(join(dir, `api-${api.port}.pid`)));
    await killLeftoverApis();
    await rm(dir, { recursive: true, force: true });
  });

  it('restarts both instances, checks through the balancer after each, and no request through it fails', async () => {
    for (let k = 0; k < 2; k++) {
      const port = await freePort();
      apis.push(await startApi({}, { pidFile: join(dir, `api-${port}.pid`), port }));
    }
    nginx = await startNginx(apis.map((a) => a.port));
    const lb = `http://127.0.0.1:${nginx.port}`;

    // Open-loop client: one request every 20 ms, each with exactly one outcome, no retries by the client.
    const outcomes: string[] = [];
    const pending: Promise<void>[] = [];
    const send = (k: number) => {
      const req = k % 2 === 0
        ? fetch(`${lb}/qc-stats`)
        : fetch(`${lb}/qc/check`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"nothtml":1}' });
      pending.push(req.then(async (r) => { await r.arrayBuffer(); outcomes.push(String(r.status)); }, (e: Error) => { outcomes.push(`error ${e.message}`); }));
    };
    let k = 0;
    const timer = setInterval(() => send(k++), 20);

    const run = await runCli([
      'rolling', '--instances', apis.map((a) => a.port).join(','), '--url', 'http://127.0.0.1:%i/health',
      '--pid-file', join(dir, 'api-%i.pid'), '--start', `PORT=%i ${START}`, '--lb-url', `${lb}/health`,
      '--timeout', '30s', '--interval', '100ms', '--json',
    ]).done;
    clearInterval(timer);
    await Promise.all(pending);

    const result = JSON.parse(run.stdout);
    result.instances.forEach((i: { newPid: number }) => track(i.newPid));
    expect({ code: run.code, stderr: run.stderr }).toMatchObject({ code: 0 });
    expect(result.instances.map((i: { steps: { step: string }[] }) => i.steps.at(-1)?.step)).toEqual(['lb-check', 'lb-check']);
    if (process.env['RESTART_E2E_REPORT']) console.log(JSON.stringify({ requests: outcomes.length, byOutcome: outcomes.reduce<Record<string, number>>((m, o) => ((m[o] = (m[o] ?? 0) + 1), m), {}), restartMs: result.instances.map((i: { durationMs: number }) => i.durationMs) }));
    const failed = outcomes.filter((o) => !['200', '400'].includes(o));
    expect(outcomes.length).toBeGreaterThan(50);
    expect(failed).toEqual([]);
  }, 120_000);
});
