import { ExitCode } from '../app/exit-code';
import { FakeInstanceManager, fakeWorld, type FakeScript } from '../testing/fake-instance-manager';
import { runRolling, type RollingSettings } from './rolling.flow';
import type { StepEvent } from './step-event';

const url = (i: string) => `http://127.0.0.1:800${i}/health`;
const LB = 'http://127.0.0.1:8080/health';
const settings: RollingSettings = { mode: 'auto', timeoutMs: 5_000, healthyCount: 2, force: false, intervalMs: 50, checkTimeoutMs: 2_000, pauseMs: 0, lbUrl: undefined };

function setup(scripts: FakeScript[], lbScript?: FakeScript) {
  const clock = { t: 0 };
  const calls: string[] = [];
  const instances = scripts.map((s, i) => new FakeInstanceManager(String(i), clock, calls, s, 100 + i * 10));
  const routes: Record<string, FakeInstanceManager> = Object.fromEntries(instances.map((inst) => [url(inst.name), inst]));
  if (lbScript) routes[LB] = new FakeInstanceManager('lb', clock, [], lbScript, 900); // a pid of its own: isAlive asks every fake
  const events: StepEvent[] = [];
  const deps = { ...fakeWorld(routes, clock), emit: (e: StepEvent) => events.push(e) };
  const targets = instances.map((inst) => ({ instance: inst.name, url: url(inst.name), manager: inst }));
  return { run: (s: Partial<RollingSettings> = {}) => runRolling(targets, { ...settings, ...s }, deps), calls, events, clock };
}

describe('runRolling', () => {
  it('restarts instances one at a time, the next only after the previous is verified', async () => {
    const { run, calls, events } = setup([{}, {}]);
    const out = await run();
    expect(out).toMatchObject({ ok: true, exitCode: ExitCode.Ok, untouched: [] });
    expect(out.instances.map((i) => [i.oldPid, i.newPid])).toEqual([[100, 101], [110, 111]]);
    expect(calls).toEqual(['0:readPid', '0:signal 100', '0:start', '1:readPid', '1:signal 110', '1:start']);
    const verify0 = events.findIndex((e) => e.type === 'step-end' && e.instance === '0' && e.step === 'verify');
    const check1 = events.findIndex((e) => e.type === 'step-start' && e.instance === '1');
    expect(verify0).toBeGreaterThan(-1);
    expect(check1).toBeGreaterThan(verify0);
  });

  it('stops at the first failure, names the instance and step, and never touches the rest', async () => {
    const { run, calls } = setup([{ diesAfterStart: true }, {}]);
    const out = await run();
    expect(out).toMatchObject({ ok: false, exitCode: ExitCode.StartFailed, untouched: ['1'], failure: { instance: '0', step: 'verify' } });
    expect(calls.filter((c) => c.startsWith('1:'))).toEqual([]);
  });

  it('stops when the second instance is unhealthy before its turn', async () => {
    const { run, calls } = setup([{}, { readyBefore: 'down' }]);
    const out = await run();
    expect(out).toMatchObject({ ok: false, exitCode: ExitCode.Unhealthy, failure: { instance: '1', step: 'check' } });
    expect(calls).not.toContain('1:signal 110');
  });

  it('pauses between instances but not after the last one', async () => {
    const { run, events } = setup([{}, {}, {}]);
    await run({ pauseMs: 1_000 });
    const pauses = events.filter((e) => e.type === 'step-end' && e.step === 'pause');
    expect(pauses.map((p) => p.instance)).toEqual(['0', '1']);
    expect(pauses.every((p) => p.type === 'step-end' && p.durationMs >= 1_000)).toBe(true);
  });

  it('checks the load balancer after each instance and stops when it is not ready', async () => {
    const ok = setup([{}, {}], {});
    const good = await ok.run({ lbUrl: LB });
    expect(good.ok).toBe(true);
    expect(good.instances.map((i) => i.steps.at(-1)?.step)).toEqual(['lb-check', 'lb-check']);

    const bad = setup([{}, {}], { readyBefore: 'down' });
    const out = await bad.run({ lbUrl: LB });
    expect(out).toMatchObject({ ok: false, exitCode: ExitCode.VerifyFailed, untouched: ['1'], failure: { instance: '0', step: 'lb-check' } });
    expect(bad.calls.filter((c) => c.startsWith('1:'))).toEqual([]);
  });

  it('hands off each instance in turn when they advertise it, never starting anything, checking the balancer after each', async () => {
    const { run, calls, events } = setup([{ handoff: {} }, { handoff: {} }], {});
    const out = await run({ lbUrl: LB });
    expect(out).toMatchObject({ ok: true, exitCode: ExitCode.Ok, untouched: [] });
    expect(out.instances.map((i) => [i.mode, i.oldPid, i.newPid])).toEqual([['handoff', 100, 101], ['handoff', 110, 111]]);
    expect(calls.filter((c) => !c.endsWith(':readPid'))).toEqual(['0:hup 100', '1:hup 110']);
    expect(out.instances.map((i) => i.steps.map((s) => s.step))).toEqual([
      ['check', 'trigger', 'successor', 'drain', 'lb-check'],
      ['check', 'trigger', 'successor', 'drain', 'lb-check'],
    ]);
    const drained0 = events.findIndex((e) => e.type === 'step-end' && e.instance === '0' && e.step === 'lb-check');
    expect(events.findIndex((e) => e.type === 'step-start' && e.instance === '1')).toBeGreaterThan(drained0);
  });

  it('stops at the first failed handoff: the failed instance and the rest keep serving their old pids', async () => {
    const { run, calls } = setup([{ handoff: { successor: 'exits' } }, { handoff: {} }]);
    const out = await run();
    expect(out).toMatchObject({ ok: false, exitCode: ExitCode.StartFailed, untouched: ['1'], failure: { instance: '0', step: 'successor' } });
    expect(out.instances[0]).toMatchObject({ mode: 'handoff', servingPid: 100 });
    expect(out.failure?.message).toContain('pid 100 still serves');
    expect(calls).toEqual(['0:readPid', '0:hup 100']);
  });

  it('names each successor in its pid file when the APIs write none (the original guide), so every instance ends on a new pid', async () => {
    const { run, calls } = setup([{ handoff: {}, pidFile: { reported: null } }, { handoff: {}, pidFile: { reported: null } }]);
    const out = await run();
    expect(out).toMatchObject({ ok: true, exitCode: ExitCode.Ok, untouched: [] });
    expect(out.instances.map((i) => [i.oldPid, i.newPid])).toEqual([[100, 101], [110, 111]]);
    expect(calls.filter((c) => !c.endsWith(':readPid'))).toEqual(['0:hup 100', '0:recordPid 101', '1:hup 110', '1:recordPid 111']);
  });

  it('refuses the whole run before touching instance 0 when instance 1 names another pid file than its API writes', async () => {
    const { run, calls } = setup([{ handoff: {} }, { handoff: {}, pidFile: { reported: '/other/api.pid', conflict: true } }]);
    const out = await run();
    expect(out).toMatchObject({ ok: false, exitCode: ExitCode.Usage, untouched: ['0'], failure: { instance: '1', step: 'check' } });
    expect(out.failure?.message).toContain('/other/api.pid');
    expect(calls).toEqual([]);
  });
});
