import { spawn } from 'node:child_process';
import { cpuBetween, treeCpuByPid, untilQuiet, type QuietDeps } from './browser-quiet';

/**
 * A clock under the test's control and browser processes whose CPU totals (ms, by pid)
 * are `readings[i]` after window i (`readings[0]` before the first).
 */
function browsers(readings: Record<number, number>[]): QuietDeps & { sleeps: number[] } {
  let now = 0;
  let window = 0;
  const sleeps: number[] = [];
  return {
    sleeps,
    cpuByPid: () => new Map(Object.entries(readings[Math.min(window, readings.length - 1)] ?? {}).map(([pid, ms]) => [Number(pid), ms])),
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
      window += 1;
    },
  };
}

describe('untilQuiet', () => {
  it('resolves quiet at the first window under the share of a core, with the CPU used on the way', async () => {
    const deps = browsers([{ 1: 0, 2: 0 }, { 1: 300, 2: 100 }, { 1: 400, 2: 180 }, { 1: 410, 2: 190 }]);
    const result = await untilQuiet({ deadlineMs: 3_000, windowMs: 250, maxCores: 0.1 }, deps);
    expect(result).toEqual({ quiet: true, waitedMs: 750, cpuMs: 600 });
    expect(deps.sleeps).toEqual([250, 250, 250]);
  });

  it('counts a window at exactly the limit as quiet', async () => {
    const result = await untilQuiet({ deadlineMs: 1_000, windowMs: 200, maxCores: 0.5 }, browsers([{ 1: 0 }, { 1: 100 }]));
    expect(result.quiet).toBe(true);
  });

  it('gives up at the deadline without a window past it', async () => {
    const deps = browsers([{ 1: 0 }, { 1: 200 }, { 1: 400 }, { 1: 600 }, { 1: 800 }]);
    const result = await untilQuiet({ deadlineMs: 1_000, windowMs: 300 }, deps);
    expect(result).toEqual({ quiet: false, waitedMs: 900, cpuMs: 600 });
    expect(deps.sleeps).toEqual([300, 300, 300]);
  });

  it('resolves at once with a deadline shorter than one window', async () => {
    const deps = browsers([{ 1: 0 }, { 1: 500 }]);
    expect(await untilQuiet({ deadlineMs: 100, windowMs: 250 }, deps)).toEqual({ quiet: false, waitedMs: 0, cpuMs: 0 });
    expect(deps.sleeps).toEqual([]);
  });

  it('is not fooled by a busy process that ended: the others still count, and a new one counts whole', async () => {
    // Pid 2 (400 ms so far) is gone by the second reading; pid 1 and the new pid 3 used 60 ms.
    const deps = browsers([{ 1: 100, 2: 400 }, { 1: 140, 3: 20 }, { 1: 140, 3: 20 }]);
    const result = await untilQuiet({ deadlineMs: 5_000, windowMs: 250, maxCores: 0.1 }, deps);
    expect(result).toEqual({ quiet: true, waitedMs: 500, cpuMs: 60 });
  });

  it.each([
    [{ deadlineMs: -1 }, 'deadlineMs must be a number >= 0, got -1'],
    [{ deadlineMs: 1_000, windowMs: 0 }, 'windowMs must be a number > 0, got 0'],
    [{ deadlineMs: 1_000, maxCores: Number.NaN }, 'maxCores must be a number >= 0, got NaN'],
  ])('refuses %j', async (options, message) => {
    await expect(untilQuiet(options, browsers([{}]))).rejects.toThrow(message);
  });
});

describe('cpuBetween', () => {
  it('adds what each process used since the first reading, a new one whole, a gone one not at all', () => {
    expect(cpuBetween(new Map([[1, 100], [2, 50]]), new Map([[1, 130], [3, 40]]))).toBe(70);
  });
});

describe('treeCpuByPid', () => {
  it('reads the CPU of a process and its children from /proc, and nothing once it is gone', async () => {
    // Uses 300 ms of CPU, then idles until killed: its time stays readable until then.
    const burn = 'const s = process.cpuUsage(); while (process.cpuUsage(s).user < 300_000); setInterval(() => {}, 1_000);';
    const child = spawn(process.execPath, ['-e', burn], { stdio: 'ignore' });
    const pid = child.pid as number;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      let seen = 0;
      const deadline = Date.now() + 10_000;
      while (seen < 300 && Date.now() < deadline) {
        seen = treeCpuByPid([pid]).get(pid) ?? 0;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(seen).toBeGreaterThanOrEqual(300);
      // The test process's own tree holds the child.
      expect(treeCpuByPid([process.pid]).has(pid)).toBe(true);
    } finally {
      child.kill('SIGKILL');
    }
    await exited;
    expect(treeCpuByPid([pid]).size).toBe(0);
  });

  it("counts a process's own time, not the time of children it reaped", async () => {
    // A child that uses 300 ms of CPU and exits: once reaped, its time is in this process's cutime.
    const burn = 'const s = process.cpuUsage(); while (process.cpuUsage(s).user < 300_000);';
    const child = spawn(process.execPath, ['-e', burn], { stdio: 'ignore' });
    await new Promise((resolve) => child.once('exit', resolve));
    const own = process.cpuUsage();
    // Clock ticks are 10 ms: allow one either way.
    expect(treeCpuByPid([process.pid]).get(process.pid)).toBeLessThanOrEqual((own.user + own.system) / 1000 + 10);
  });
});
