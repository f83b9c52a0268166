import { ExitCode } from '../app/exit-code';
import { FAKE_SETTINGS, FAKE_URL, fakeGracefulRun, stepEnds } from '../testing/fake-graceful-run';
import { FakeInstanceManager, fakeWorld, type FakeScript } from '../testing/fake-instance-manager';
import { runGraceful } from './graceful.flow';
import type { RestartDeps, RestartSettings } from './restart.types';

const URL0 = FAKE_URL;
const settings = FAKE_SETTINGS;
const setup = (script: FakeScript = {}, overrides: Partial<RestartSettings> = {}) => fakeGracefulRun(script, overrides);
const ends = stepEnds;

describe('runGraceful', () => {
  it('runs check, signal, ack, restart and verify in order and reports the new pid', async () => {
    const { run, calls, events } = setup();
    const out = await run();
    expect(out).toMatchObject({ ok: true, exitCode: ExitCode.Ok, oldPid: 100, newPid: 101 });
    expect(calls).toEqual(['0:readPid', '0:signal 100', '0:start']);
    expect(ends(events)).toEqual(['check:ok', 'signal:ok', 'ack:ok', 'restart:ok', 'verify:ok']);
    expect(events.filter((e) => e.type === 'step-start').map((e) => e.step)).toEqual(['check', 'signal', 'ack', 'restart', 'verify']);
  });

  it('gives every health request the --check-timeout bound', async () => {
    const clock = { t: 0 };
    const instance = new FakeInstanceManager('0', clock, [], {});
    const world = fakeWorld({ [URL0]: instance }, clock);
    const timeouts = new Set<number | undefined>();
    const check: RestartDeps['check'] = (url, options) => {
      timeouts.add(options.timeoutMs);
      return world.check(url);
    };
    const out = await runGraceful({ instance: '0', url: URL0, manager: instance }, { ...settings, checkTimeoutMs: 7_500 }, { ...world, check, emit: () => undefined });
    expect(out.ok).toBe(true);
    expect([...timeouts].every((t) => t !== undefined && t <= 7_500)).toBe(true);
    expect(timeouts.has(7_500)).toBe(true);
  });

  it('starts the new instance only after the old process has exited', async () => {
    const { run, events } = setup({ drainMs: 1_000 });
    const out = await run();
    expect(out.ok).toBe(true);
    const restart = out.steps.find((s) => s.step === 'restart');
    expect(restart?.detail).toMatch(/pid 100 exited after 1\.\ds; started pid 101/);
    expect(events.some((e) => e.type === 'step-progress' && e.detail.includes('1 in flight'))).toBe(true);
  });

  it('times every step', async () => {
    const out = await setup({ drainMs: 600 }).run();
    expect(out.steps.find((s) => s.step === 'restart')?.durationMs).toBeGreaterThanOrEqual(600);
    expect(out.durationMs).toBeGreaterThanOrEqual(out.steps.reduce((a, s) => a + s.durationMs, 0));
  });

  it('refuses to touch an instance that is not ready, with the unhealthy exit code', async () => {
    const { run, calls } = setup({ readyBefore: 'down' });
    const out = await run();
    expect(out).toMatchObject({ ok: false, exitCode: ExitCode.Unhealthy, failure: { step: 'check' } });
    expect(out.failure?.message).toContain('--force');
    expect(calls).toEqual([]);
  });

  it('restarts an instance that is not ready when forced', async () => {
    const out = await setup({ readyBefore: 'down' }, { force: true }).run();
    expect(out).toMatchObject({ ok: true, newPid: 101 });
  });

  it('starts an instance that is not running at all when forced, skipping signal and ack', async () => {
    const { run, calls, events } = setup({ noPid: true }, { force: true });
    const out = await run();
    expect(out.ok).toBe(true);
    expect(calls).toEqual(['0:readPid', '0:start']);
    expect(ends(events)).toEqual(['check:ok', 'signal:skipped', 'ack:skipped', 'restart:ok', 'verify:ok']);
  });

  it('stops with the signal exit code when the signal cannot be sent, and starts nothing', async () => {
    const { run, calls } = setup({ signalThrows: true });
    const out = await run();
    expect(out).toMatchObject({ ok: false, exitCode: ExitCode.SignalFailed, failure: { step: 'signal' } });
    expect(out.failure?.message).toContain('EPERM');
    expect(calls).not.toContain('0:start');
  });

  it('stops with the timeout exit code when the shutdown is never acknowledged', async () => {
    const { run, calls, clock } = setup({ ignoresSignal: true });
    const out = await run();
    expect(out).toMatchObject({ ok: false, exitCode: ExitCode.Timeout, failure: { step: 'ack' } });
    expect(out.failure?.message).toMatch(/did not acknowledge SIGTERM within 5\.0s/);
    expect(calls).not.toContain('0:start');
    expect(clock.t).toBeLessThan(6_000);
  });

  it('stops with the timeout exit code when the old process does not exit, and starts nothing', async () => {
    const { run, calls } = setup({ neverExits: true });
    const out = await run();
    expect(out).toMatchObject({ ok: false, exitCode: ExitCode.Timeout, failure: { step: 'restart' } });
    expect(out.failure?.message).toContain('still running');
    expect(calls).not.toContain('0:start');
  });

  it('stops with the start-failed exit code when the start command cannot run', async () => {
    const out = await setup({ startThrows: true }).run();
    expect(out).toMatchObject({ ok: false, exitCode: ExitCode.StartFailed, failure: { step: 'restart' } });
    expect(out.failure?.message).toContain('ENOENT');
  });

  it('stops with the start-failed exit code when the new instance dies at once', async () => {
    const out = await setup({ diesAfterStart: true }).run();
    expect(out).toMatchObject({ ok: false, exitCode: ExitCode.StartFailed, failure: { step: 'verify' } });
    expect(out.failure?.message).toContain('exited with code 1');
  });

  it('stops with the verify exit code when the new instance never becomes ready', async () => {
    const out = await setup({ neverReady: true }).run();
    expect(out).toMatchObject({ ok: false, exitCode: ExitCode.VerifyFailed, failure: { step: 'verify' } });
    expect(out.failure?.message).toContain('3 times in a row');
  });

  it('needs the configured number of consecutive ready answers', async () => {
    const out = await setup({}, { healthyCount: 5 }).run();
    expect(out.steps.find((s) => s.step === 'verify')?.detail).toBe('5 consecutive ready answers from pid 101');
  });

  it('mentions the unit stop timeout and warns when --timeout is shorter', async () => {
    const { run } = setup({}, { timeoutMs: 10_000 });
    const clock = { t: 0 };
    const calls: string[] = [];
    const instance = Object.assign(new FakeInstanceManager('0', clock, calls), { stopTimeoutMs: async () => 30_000 });
    const world = fakeWorld({ [URL0]: instance }, clock);
    const out = await runGraceful({ instance: '0', url: URL0, manager: instance }, { ...settings, timeoutMs: 10_000 }, { ...world, emit: () => undefined });
    expect(out.steps.find((s) => s.step === 'signal')?.detail).toBe('SIGTERM sent to pid 100 (unit TimeoutStopSec 30.0s; note: --timeout 10.0s is below it, a long drain may outlast the CLI\'s wait)');
    expect((await run()).steps.find((s) => s.step === 'signal')?.detail).toBe('SIGTERM sent to pid 100');
  });
});
