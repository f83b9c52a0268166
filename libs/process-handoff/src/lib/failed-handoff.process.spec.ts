import { askPid, FixtureRun, isAlive, waitFor, type FixtureEvent } from '../../test-support/fixture-process';

type Outcome = { ok: boolean; reason?: string; successorPid?: number; message?: string; output?: string[]; exit?: { code: number | null; signal: string | null } };
const outcomeOf = (e: FixtureEvent) => e['outcome'] as Outcome;

/** A fixture serving as generation 1, with the port it listens on. */
async function serving(env: Record<string, string> = {}): Promise<{ run: FixtureRun; port: number; first: number }> {
  const run = new FixtureRun('serve', env);
  const { port } = (await run.next('the first generation to listen', (e) => e.event === 'listening')) as FixtureEvent & { port: number };
  await run.next('the first generation to be ready', (e) => e.event === 'ready');
  return { run, port, first: run.firstPid };
}

/** The n-th outcome the predecessor printed (1-based). */
const nthOutcome = (run: FixtureRun, n: number) => run.nth(`outcome #${n}`, (e) => e.event === 'outcome', n);

describe('a handoff that fails', () => {
  let run: FixtureRun | undefined;
  afterEach(() => run?.cleanup());

  it('a successor that throws at start is reported with its error text; the predecessor serves on, keeps its pid file, and a good build then takes over', async () => {
    const started = await serving();
    run = started.run;
    run.setMode('throw');
    run.signal(started.first, 'SIGHUP');
    const failed = outcomeOf(await nthOutcome(run, 1));
    expect(failed).toMatchObject({ ok: false, reason: 'exited', exit: { code: 1, signal: null } });
    expect(failed.output).toEqual(expect.arrayContaining(['fixture: about to fail at start', expect.stringContaining('Error: fixture: broken build at start')]));
    expect(await askPid(started.port)).toBe(started.first);
    expect(run.pidFile()).toBe(started.first);

    run.setMode('early');
    run.signal(started.first, 'SIGHUP');
    expect(outcomeOf(await nthOutcome(run, 2))).toMatchObject({
      reason: 'exited',
      exit: { code: 3 },
      message: expect.stringContaining('no output captured before exit; its own output went to the same stdout/stderr as this process'),
      output: [],
    });

    run.setMode('serve');
    run.signal(started.first, 'SIGHUP');
    const ok = outcomeOf(await nthOutcome(run, 3));
    expect(ok).toMatchObject({ ok: true });
    await waitFor('the first generation to exit', () => run?.exit);
    expect(run.exit).toEqual({ code: 0, signal: null });
    expect(await askPid(started.port)).toBe(ok.successorPid);
  });

  it('a successor that never gets ready is killed at the timeout together with the detached grandchild it started', async () => {
    // 15 s: the successor must have started its grandchild before the timeout, also on a loaded 2-core machine.
    const started = await serving({ HANDOFF_TIMEOUT_MS: '15000' });
    run = started.run;
    run.setMode('hang');
    run.signal(started.first, 'SIGHUP');
    const grandchild = (await run.next('the grandchild', (e) => e.event === 'grandchild'))['grandchild'] as number;
    expect(isAlive(grandchild)).toBe(true);
    const failed = outcomeOf(await nthOutcome(run, 1));
    expect(failed).toMatchObject({ ok: false, reason: 'timeout', exit: { signal: 'SIGKILL' }, message: expect.stringContaining('was not ready within 15000 ms') });
    expect(isAlive(failed.successorPid as number)).toBe(false);
    expect(isAlive(grandchild)).toBe(false);
    expect(await askPid(started.port)).toBe(started.first);
    expect(run.exit).toBeUndefined();
  });

  it('refuses a second SIGHUP while a successor starts, then completes the first handoff', async () => {
    const started = await serving();
    run = started.run;
    run.setMode('gate');
    run.signal(started.first, 'SIGHUP');
    await run.next('the successor to listen', (e) => e.event === 'listening' && e.pid !== started.first);
    run.signal(started.first, 'SIGHUP');
    expect(outcomeOf(await nthOutcome(run, 1))).toMatchObject({ ok: false, reason: 'busy' });
    run.release();
    expect(outcomeOf(await nthOutcome(run, 2))).toMatchObject({ ok: true });
    await waitFor('the first generation to exit', () => run?.exit);
    expect(run.exit).toEqual({ code: 0, signal: null });
  });

  it('SIGKILL of the successor while it starts is a failed upgrade and nothing more', async () => {
    const started = await serving();
    run = started.run;
    run.setMode('hang');
    run.signal(started.first, 'SIGHUP');
    const successor = (await run.next('the successor to listen', (e) => e.event === 'listening' && e.pid !== started.first)).pid;
    run.signal(successor, 'SIGKILL');
    expect(outcomeOf(await nthOutcome(run, 1))).toMatchObject({ ok: false, reason: 'exited', successorPid: successor, exit: { code: null, signal: 'SIGKILL' } });
    const answers = await Promise.all(Array.from({ length: 10 }, () => askPid(started.port)));
    expect(new Set(answers)).toEqual(new Set([started.first]));
    expect(run.events.find((e) => e.event === 'outcome')?.['snapshot']).toMatchObject({ state: 'idle', attempts: 1, last: { reason: 'exited' } });
  });

  it('SIGTERM during an upgrade cancels it: the successor and its grandchild are killed, then the predecessor drains and exits 0', async () => {
    const started = await serving();
    run = started.run;
    run.setMode('hang');
    run.signal(started.first, 'SIGHUP');
    const grandchild = (await run.next('the grandchild', (e) => e.event === 'grandchild'))['grandchild'] as number;
    const successor = (run.events.find((e) => e.event === 'grandchild') as FixtureEvent).pid;
    run.signal(started.first, 'SIGTERM');
    expect(outcomeOf(await nthOutcome(run, 1))).toMatchObject({ ok: false, reason: 'cancelled', successorPid: successor });
    await run.next('the cancel to resolve', (e) => e.event === 'cancelled');
    expect(isAlive(successor)).toBe(false);
    expect(isAlive(grandchild)).toBe(false);
    await waitFor('the predecessor to exit', () => run?.exit);
    expect(run.exit).toEqual({ code: 0, signal: null });
  });
});
