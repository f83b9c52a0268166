import { ExitCode } from '../app/exit-code';
import type { FakeHandoffScript } from '../testing/fake-handoff';
import { FAKE_SETTINGS, FAKE_URL, fakeGracefulRun, stepEnds } from '../testing/fake-graceful-run';
import type { FakeScript } from '../testing/fake-instance-manager';
import { runGraceful } from './graceful.flow';
import type { RestartSettings } from './restart.types';

const URL0 = FAKE_URL;
const settings = FAKE_SETTINGS;
const BROKEN = ['Error: broken build: cannot start', '    at Object.<anonymous> (/srv/api/api.js:1:7)'];
const setup = (script: FakeScript = { handoff: {} }, overrides: Partial<RestartSettings> = {}) => fakeGracefulRun(script, overrides);

/** The calls that act on the instance; readPid is polled while the old process drains. */
const actions = (calls: string[]) => calls.filter((c) => !c.endsWith(':readPid'));
const ends = stepEnds;

describe('runGraceful, hot handoff', () => {
  it('hands off by default when /health advertises it: check, trigger, successor, drain, and nothing started by the CLI', async () => {
    const { run, calls, events, world } = setup({ handoff: { bootMs: 1_000, drainMs: 700 } });
    const out = await run();
    expect(out).toMatchObject({ ok: true, exitCode: ExitCode.Ok, mode: 'handoff', oldPid: 100, newPid: 101, servingPid: 101 });
    expect(calls.slice(0, 2)).toEqual(['0:readPid', '0:hup 100']);
    expect(actions(calls)).toEqual(['0:hup 100']);
    expect(ends(events)).toEqual(['check:ok', 'trigger:ok', 'successor:ok', 'drain:ok']);
    const step = (name: string) => out.steps.find((s) => s.step === name);
    expect(step('check')?.detail).toContain('mode handoff: /health advertises hot handoff');
    expect(step('trigger')?.detail).toBe('SIGHUP sent to pid 100');
    expect(step('successor')?.detail).toBe('pid 101 answered ready 3 times in a row; pid 100 stopped accepting');
    expect(step('successor')?.durationMs).toBeGreaterThanOrEqual(1_000);
    expect(step('drain')?.detail).toMatch(/^pid 100 exited after [\d.]+m?s; fake 0 names pid 101$/);
    expect(step('drain')?.durationMs).toBeGreaterThanOrEqual(600);
    await expect(world.isAlive(100)).resolves.toBe(false);
    expect(events.some((e) => e.type === 'step-progress' && e.step === 'successor' && e.detail === 'pid 100 serves; successor pid 101 starting')).toBe(true);
  });

  it('names the verified successor in the pid file itself when the API writes none, and then finds the old pid gone', async () => {
    const { run, calls } = setup({ handoff: {}, pidFile: { reported: null } });
    const out = await run();
    expect(out).toMatchObject({ ok: true, exitCode: ExitCode.Ok, mode: 'handoff', oldPid: 100, newPid: 101 });
    expect(actions(calls)).toEqual(['0:hup 100', '0:recordPid 101']);
    expect(out.steps.find((s) => s.step === 'check')?.detail).toContain('the API writes no pid file: the CLI will name the successor in it');
    expect(out.steps.find((s) => s.step === 'successor')?.detail).toContain('wrote pid 101 to fake 0 (the API writes none)');
    expect(out.steps.find((s) => s.step === 'drain')?.detail).toMatch(/fake 0 names pid 101$/);
  });

  it('waits for the API to rewrite a pid file it writes itself, and writes nothing', async () => {
    const { run, calls } = setup({ handoff: {}, pidFile: { reported: '/run/api.pid' } });
    await expect(run()).resolves.toMatchObject({ ok: true, newPid: 101 });
    expect(actions(calls)).toEqual(['0:hup 100']);
  });

  it('refuses with a usage error before touching anything when the API writes another pid file than the CLI\'s', async () => {
    for (const mode of ['auto', 'handoff', 'replace'] as const) {
      const { run, calls } = setup({ handoff: {}, pidFile: { reported: '/elsewhere/api.pid', conflict: true } }, { mode });
      const out = await run();
      expect(out).toMatchObject({ ok: false, exitCode: ExitCode.Usage, failure: { step: 'check' } });
      expect(out.failure?.message).toContain('instance 0: --pid-file is not /elsewhere/api.pid');
      expect(actions(calls)).toEqual([]);
    }
  });

  it('needs the configured number of ready answers in a row from the new pid', async () => {
    const out = await setup(undefined, { healthyCount: 5 }).run();
    expect(out.steps.find((s) => s.step === 'successor')?.detail).toContain('answered ready 5 times in a row');
  });

  it('reports a successor that exits with the start-failed code, its message and output, and the pid that still serves', async () => {
    const { run, calls, world } = setup({ handoff: { successor: 'exits', output: BROKEN } });
    const out = await run();
    expect(out).toMatchObject({ ok: false, exitCode: ExitCode.StartFailed, mode: 'handoff', oldPid: 100, newPid: undefined, servingPid: 100, failure: { step: 'successor' } });
    expect(out.successor).toEqual({ pid: 101, reason: 'exited', message: 'successor 101 exited with code 1 before it was ready', exit: { code: 1, signal: null }, output: BROKEN });
    expect(out.failure?.message).toBe(
      'the successor (pid 101) failed: successor 101 exited with code 1 before it was ready. pid 100 still serves; fix the build at the entry path and hand off again.\n' +
        'successor output (last 2 lines):\n  | Error: broken build: cannot start\n  |     at Object.<anonymous> (/srv/api/api.js:1:7)',
    );
    expect(calls).toEqual(['0:readPid', '0:hup 100']);
    await expect(world.isAlive(100)).resolves.toBe(true);
  });

  it('reports a successor the API killed because it was never ready with the start-failed code', async () => {
    const out = await setup({ handoff: { successor: 'never-ready', timeoutMs: 1_000 } }).run();
    expect(out).toMatchObject({ ok: false, exitCode: ExitCode.StartFailed, failure: { step: 'successor' }, successor: { reason: 'timeout' } });
    expect(out.failure?.message).toContain('was not ready within 1000 ms. pid 100 still serves');
  });

  it('gives up at --timeout with the timeout code while the successor is still starting, naming both pids', async () => {
    const { run, clock } = setup({ handoff: { successor: 'never-ready', timeoutMs: 60_000 } });
    const out = await run();
    expect(out).toMatchObject({ ok: false, exitCode: ExitCode.Timeout, servingPid: 100, failure: { step: 'successor' } });
    expect(out.failure?.message).toContain('within 5.0s (last: ready HTTP 200; successor pid 101 still starting). pid 100 still serves.');
    expect(out.failure?.message).toContain('HANDOFF_TIMEOUT_MS');
    expect(clock.t).toBeLessThan(6_000);
  });

  it('does not take the failed attempt of an earlier run for this one: a good build afterwards takes over', async () => {
    const handoff: FakeHandoffScript = { successor: 'exits', output: BROKEN };
    const { run, calls } = setup({ handoff });
    expect((await run()).exitCode).toBe(ExitCode.StartFailed);
    handoff.successor = 'ready'; // the good build is back at the entry path; /health still shows the failed attempt
    const out = await run();
    expect(out).toMatchObject({ ok: true, mode: 'handoff', oldPid: 100, newPid: 101 });
    expect(actions(calls)).toEqual(['0:hup 100', '0:hup 100']);
  });

  it('times out in the drain step when the old pid never exits, saying the new one serves', async () => {
    const out = await setup({ handoff: { neverExits: true } }).run();
    expect(out).toMatchObject({ ok: false, exitCode: ExitCode.Timeout, newPid: 101, servingPid: 101, failure: { step: 'drain' } });
    expect(out.failure?.message).toMatch(/^pid 100 still running 5\.\ds after handing over to pid 101, which serves/);
  });

  it('times out in the drain step when the pid file or MainPID never names the successor', async () => {
    const out = await setup({ handoff: { pidFileStays: true } }).run();
    expect(out).toMatchObject({ ok: false, exitCode: ExitCode.Timeout, failure: { step: 'drain' } });
    expect(out.failure?.message).toContain('fake 0 names pid 100, not the successor 101');
    expect(out.failure?.message).toContain('NotifyAccess=all');
  });

  it('stops with the signal code when the trigger cannot be sent', async () => {
    const { run, calls } = setup({ handoff: {}, signalThrows: true });
    const out = await run();
    expect(out).toMatchObject({ ok: false, exitCode: ExitCode.SignalFailed, failure: { step: 'trigger' } });
    expect(out.failure?.message).toContain('EPERM');
    expect(calls).toEqual(['0:readPid', '0:hup 100']);
  });
});

describe('runGraceful, choosing the mode', () => {
  it('replaces an instance whose /health has no handoff entry, and says why', async () => {
    const { run, calls } = setup({});
    const out = await run();
    expect(out).toMatchObject({ ok: true, mode: 'replace', newPid: 101 });
    expect(calls).toEqual(['0:readPid', '0:signal 100', '0:start']);
    expect(out.steps[0].detail).toContain('mode replace: no hot handoff advertised (its /health has no details.handoff: an API without hot handoff)');
  });

  it('replaces an instance with HANDOFF_ENABLED=false in auto mode', async () => {
    const out = await setup({ handoff: { enabled: false } }).run();
    expect(out).toMatchObject({ ok: true, mode: 'replace' });
    expect(out.steps[0].detail).toContain('HANDOFF_ENABLED=false');
  });

  it('replaces when asked to, even where a handoff is possible', async () => {
    const { run, calls } = setup({ handoff: {} }, { mode: 'replace' });
    expect(await run()).toMatchObject({ ok: true, mode: 'replace' });
    expect(calls).toEqual(['0:readPid', '0:signal 100', '0:start']);
  });

  it('refuses --mode handoff on an instance that does not support it before touching anything, with its own code', async () => {
    const { run, calls } = setup({ handoff: { enabled: false } }, { mode: 'handoff' });
    const out = await run();
    expect(out).toMatchObject({ ok: false, exitCode: ExitCode.HandoffUnsupported, mode: undefined, failure: { step: 'check' } });
    expect(out.failure?.message).toBe(`instance 0 at ${URL0} does not support hot handoff (HANDOFF_ENABLED=false); nothing was touched. Enable it, or restart with --mode replace.`);
    expect(calls).toEqual([]);
    const older = await setup({}, { mode: 'handoff' }).run();
    expect(older).toMatchObject({ exitCode: ExitCode.HandoffUnsupported });
    expect(older.failure?.message).toContain('an API without hot handoff');
  });

  it('refuses --mode handoff on an instance that is not ready, --force or not', async () => {
    const { run, calls } = setup({ readyBefore: 'down', handoff: {} }, { mode: 'handoff', force: true });
    const out = await run();
    expect(out).toMatchObject({ ok: false, exitCode: ExitCode.Unhealthy, failure: { step: 'check' } });
    expect(out.failure?.message).toContain('--mode replace --force');
    expect(calls).toEqual([]);
  });

  it('falls back to a forced replace in auto mode when the instance is not ready', async () => {
    const out = await setup({ readyBefore: 'down', handoff: {} }, { force: true }).run();
    expect(out).toMatchObject({ ok: true, mode: 'replace' });
    expect(out.steps[0].detail).toContain('mode replace: the instance is not ready (--force)');
  });

  it('exits with the usage code, naming --start, when auto resolves to replace and there is no start command', async () => {
    const { run, calls } = setup({ noStartCommand: true });
    const out = await run();
    expect(out).toMatchObject({ ok: false, exitCode: ExitCode.Usage, failure: { step: 'check' } });
    expect(out.failure?.message).toContain('option --start <command> is required');
    expect(out.failure?.message).toContain('no hot handoff advertised');
    expect(calls).toEqual([]);
    expect(await setup({ noStartCommand: true, handoff: {} }).run()).toMatchObject({ ok: true, mode: 'handoff' });
  });

  it('refuses while a handoff is already running', async () => {
    const { run, instance, calls } = setup({ handoff: { bootMs: 60_000 } });
    await instance.triggerHandoff(100);
    const out = await run();
    expect(out).toMatchObject({ ok: false, exitCode: ExitCode.Unhealthy });
    expect(out.failure?.message).toContain('already handing over (state starting, successor pid 101)');
    expect(calls).toEqual(['0:hup 100', '0:readPid']);
  });

  it('refuses when the pid file names another process than the one answering', async () => {
    const { instance, world } = setup();
    const manager = Object.assign(instance, { readPid: async () => 4242 });
    const out = await runGraceful({ instance: '0', url: URL0, manager }, settings, { ...world, emit: () => undefined });
    expect(out).toMatchObject({ ok: false, exitCode: ExitCode.SignalFailed, failure: { step: 'check' } });
    expect(out.failure?.message).toContain('names pid 4242, but http://127.0.0.1:8000/health answers as pid 100');
  });
});
