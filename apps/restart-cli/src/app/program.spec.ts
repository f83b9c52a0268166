import type { HealthResult } from '@edu-agents/health-client';
import { captureDeps } from '../testing/capture-deps';
import { FakeInstanceManager, fakeWorld, type FakeScript } from '../testing/fake-instance-manager';
import { ExitCode } from './exit-code';
import { runCli } from './program';

const ready = (pid: number): HealthResult => ({ state: 'ready', httpStatus: 200, body: {}, latencyMs: 3, phase: 'ready', pid, inFlight: 0, reason: undefined });

async function cli(args: string[], overrides = {}) {
  const systemdUnits: string[] = [];
  const { deps, io } = captureDeps({
    systemdManager: (unit) => {
      systemdUnits.push(unit);
      throw new Error('not in unit tests');
    },
    ...overrides,
  });
  const code = await runCli(args, deps);
  return { code, systemdUnits, ...io };
}

// URLs on the reserved .invalid domain: these runs stop at argument parsing or a
// fake manager and must never reach a real port.
describe('command line', () => {
  it('lists every exit code in --help', async () => {
    const { code, out } = await cli(['--help']);
    expect(code).toBe(ExitCode.Ok);
    for (const n of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]) expect(out).toMatch(new RegExp(`^\\s+${n}  \\S`, 'm'));
    expect(out).toMatch(/graceful|rolling|status|doctor/);
  });

  it.each([
    [['graceful', '--service', 'edu_agents', '--timeout', '6x'], '--timeout'],
    [['graceful', '--service', 'edu_agents', '--healthy-count', '0'], '--healthy-count'],
    [['rolling', '--url', 'http://127.0.0.1:800%i/health', '--service', 'edu_agents@%i'], '--instances'],
    [['rolling', '--instances', '0,0', '--url', 'http://x/health', '--service', 'e@%i'], '--instances'],
    [['graceful', '--bogus'], '--bogus'],
    [['graceful'], '--service'],
    [['graceful', '--manager', 'docker', '--service', 'x'], '--manager'],
    [['graceful', '--pid-file', 'run/api.pid', '--mode', 'replace'], '--start'],
    [['graceful', '--service', 'edu_agents', '--mode', 'hot'], '--mode'],
    [['graceful', '--service', 'edu_agents', '--url', 'not a url'], '--url'],
    [['graceful', '--service', 'edu_agents@%i'], '--service'],
    [['status', '--url', 'http://127.0.0.1:800%i/health'], '--instances'],
    [['rolling', '--instances', '0', '--url', 'http://api.invalid/health', '--service', 'edu@0', '--pause', 'soon'], '--pause'],
  ])('exits with the usage code and names the argument for %j', async (args, name) => {
    const { code, err, out } = await cli(args);
    expect(code).toBe(ExitCode.Usage);
    expect(err).toContain(name);
    expect(out).toBe('');
  });

  it('explains how to quote through nx when a value was split into extra arguments', async () => {
    const { code, err } = await cli(['graceful', '--pid-file', 'a.pid', '--start', 'PORT=8000', 'node', 'main.js']);
    expect(code).toBe(ExitCode.Usage);
    expect(err).toContain('too many arguments');
    expect(err).toContain("--start='PORT=8000 node ...'");
  });

  it('refuses a unit name with shell metacharacters before creating a manager', async () => {
    const { code, err, systemdUnits } = await cli(['graceful', '--service', 'edu_agents; rm -rf /']);
    expect(code).toBe(ExitCode.Usage);
    expect(err).toContain("option --service: 'edu_agents; rm -rf /' is not a valid unit name");
    expect(systemdUnits).toEqual([]);
  });

  it('substitutes %i in rolling options for each instance', async () => {
    const { systemdUnits } = await cli(['rolling', '--instances', 'a,b', '--url', 'http://api.invalid/%i', '--service', 'edu_agents@%i']);
    expect(systemdUnits).toEqual(['edu_agents@a']);
  });

  it('fills %i in graceful options from --instance', async () => {
    const { systemdUnits } = await cli(['graceful', '--instance', '1', '--url', 'http://127.0.0.1:800%i/health', '--service', 'edu_agents@%i']);
    expect(systemdUnits).toEqual(['edu_agents@1']);
  });

  it('prints one status line per instance and exits 0 when all are ready', async () => {
    const seen: string[] = [];
    const { code, out } = await cli(['status', '--instances', '0,1', '--url', 'http://127.0.0.1:800%i/health'], {
      check: async (url: string) => (seen.push(url), ready(url.includes('8001') ? 11 : 10)),
    });
    expect(code).toBe(ExitCode.Ok);
    expect(seen.sort()).toEqual(['http://127.0.0.1:8000/health', 'http://127.0.0.1:8001/health']);
    expect(out.trim().split('\n')).toEqual([
      '0  http://127.0.0.1:8000/health  ready  phase=ready  inFlight=0  pid=10  3ms',
      '1  http://127.0.0.1:8001/health  ready  phase=ready  inFlight=0  pid=11  3ms',
    ]);
  });

  it('prints exactly one JSON object on stdout with --json and exits unhealthy when one instance is down', async () => {
    const { code, out } = await cli(['status', '--instances', '0,1', '--url', 'http://127.0.0.1:800%i/health', '--json'], {
      check: async (url: string) => (url.includes('8001') ? { ...ready(1), state: 'unreachable', httpStatus: undefined, reason: 'ECONNREFUSED' } : ready(2)),
    });
    expect(code).toBe(ExitCode.Unhealthy);
    const result = JSON.parse(out);
    expect(result).toMatchObject({ command: 'status', ok: false, exitCode: 3 });
    expect(result.instances[1]).toMatchObject({ instance: '1', state: 'unreachable', reason: 'ECONNREFUSED' });
  });

  const HEALTH = 'http://api.invalid/health';

  /** The CLI with --pid-file answered by one fake instance at HEALTH on a fake clock. */
  async function withFake(args: string[], script: FakeScript) {
    const clock = { t: 0 };
    const fake = new FakeInstanceManager('0', clock, [], script);
    const pidFiles: string[] = [];
    const world = fakeWorld({ [HEALTH]: fake }, clock);
    const out = await cli(args, { ...world, processManager: (o: { pidFile: string }) => (pidFiles.push(o.pidFile), fake) });
    return { ...out, calls: fake.calls, pidFiles };
  }

  it('hands off by default with only --pid-file and --url, and prints mode, pids and durations as JSON', async () => {
    const { code, out, err, calls } = await withFake(['graceful', '--pid-file', 'run/api.pid', '--url', HEALTH, '--json'], { handoff: {} });
    expect(code).toBe(ExitCode.Ok);
    const result = JSON.parse(out);
    expect(result).toMatchObject({ command: 'graceful', ok: true, exitCode: 0, mode: 'handoff', oldPid: 100, newPid: 101, servingPid: 101 });
    expect(result.durationMs).toBeGreaterThan(0);
    expect(result.steps.map((s: { step: string; durationMs: number }) => typeof s.durationMs === 'number' && s.step)).toEqual(['check', 'trigger', 'successor', 'drain']);
    expect(calls).toContain('0:hup 100');
    expect(err).toMatch(/^ok {3}\[default\] trigger the hot handoff: SIGHUP sent to pid 100 \(\d+ms\)$/m);
  });

  it('prints the handoff result line, and the failed successor with the pid that still serves', async () => {
    const ok = await withFake(['graceful', '--pid-file', 'run/api.pid', '--url', HEALTH], { handoff: {} });
    expect(ok.out).toMatch(/^handed off default \(fake 0\): pid 100 -> 101 in \d/);
    const bad = await withFake(['graceful', '--pid-file', 'run/api.pid', '--url', HEALTH], { handoff: { successor: 'exits', output: ['Error: boom'] } });
    expect(bad.code).toBe(ExitCode.StartFailed);
    expect(bad.out).toBe('');
    expect(bad.err).toContain('error: instance default, step successor: the successor (pid 101) failed: successor 101 exited with code 1 before it was ready. pid 100 still serves');
    expect(bad.err).toContain('  | Error: boom');
  });

  it('refuses --mode handoff where /health does not advertise it, with its own exit code and nothing touched', async () => {
    const { code, err, calls } = await withFake(['graceful', '--pid-file', 'run/api.pid', '--url', HEALTH, '--mode', 'handoff'], { handoff: { enabled: false } });
    expect(code).toBe(ExitCode.HandoffUnsupported);
    expect(err).toContain('does not support hot handoff (HANDOFF_ENABLED=false); nothing was touched');
    expect(calls).toEqual([]);
  });

  it('exits with the usage code naming --start when auto resolves to replace without a start command', async () => {
    const { code, err, calls, pidFiles } = await withFake(['graceful', '--pid-file', 'run/api.pid', '--url', HEALTH], { noStartCommand: true });
    expect(code).toBe(ExitCode.Usage);
    expect(err).toContain('option --start <command> is required');
    expect(pidFiles).toEqual(['run/api.pid']);
    expect(calls).toEqual([]);
  });
});
