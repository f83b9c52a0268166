import { setAutogroup, type AutogroupSystem } from './chrome-priority';
import { StarvationEscape, type StarvationEscapeEnv } from './starvation-escape';

/** A clock and a group under the test's control: what was written, what was logged. */
function harness(afterMs = 3_000, lowNice = 19) {
  let now = 0;
  let timer: (() => void) | undefined;
  let checkEvery: number | undefined;
  const writes: number[] = [];
  const logs: { level: string; message: string }[] = [];
  const env: StarvationEscapeEnv = {
    write: async (nice) => {
      writes.push(nice);
      return 'set';
    },
    log: (level, message) => logs.push({ level, message }),
    now: () => now,
    every: (ms, fn) => {
      checkEvery = ms;
      timer = fn;
      return () => (timer = undefined);
    },
  };
  const escape = new StarvationEscape({ pid: 42, lowNice, afterMs }, env);
  /** Moves the clock and runs one check, as the timer would. */
  const at = async (ms: number) => {
    now = ms;
    await escape.check();
  };
  return { escape, writes, logs, at, timerRunning: () => timer !== undefined, checkEvery: () => checkEvery };
}

describe('StarvationEscape', () => {
  it('leaves the group low while work finishes within the threshold', async () => {
    const h = harness();
    const done = h.escape.begin('render');
    await h.at(2_999);
    done();
    await h.at(10_000);
    expect(h.writes).toEqual([]);
    expect(h.escape.raised).toBe(false);
  });

  it('raises the group to nice 0 once a start has waited the threshold, and says what waited', async () => {
    const h = harness();
    h.escape.begin('start');
    await h.at(3_000);
    expect(h.writes).toEqual([0]);
    expect(h.escape.raised).toBe(true);
    expect(h.logs).toEqual([{ level: 'warn', message: 'Chrome (pid 42) waited 3000 ms for the CPU (start): its scheduling group is raised to nice 0 until nothing waits that long' }]);
  });

  it('goes back to the low value only after nothing has waited the threshold for the threshold again', async () => {
    const h = harness();
    const start = h.escape.begin('start');
    await h.at(3_000);
    await h.at(5_000); // the start still waits: stays raised
    start();
    await h.at(7_999); // done at 5 s, but starved at 5 s: the hold runs to 8 s
    expect(h.writes).toEqual([0]);
    await h.at(8_000);
    expect(h.writes).toEqual([0, 19]);
    expect(h.escape.raised).toBe(false);
    expect(h.logs[1]).toEqual({ level: 'info', message: 'Chrome (pid 42) is back at nice 19: nothing waited 3000 ms for 3000 ms' });
  });

  it('counts from the oldest pending work, not the newest', async () => {
    const h = harness();
    h.escape.begin('render');
    await h.at(2_000);
    h.escape.begin('render');
    await h.at(3_000);
    expect(h.writes).toEqual([0]);
  });

  it('raises only once while starved, however often it checks', async () => {
    const h = harness();
    h.escape.begin('render');
    for (const t of [3_000, 4_000, 5_000, 6_000]) await h.at(t);
    expect(h.writes).toEqual([0]);
  });

  it('writes a new low value at once while low, and keeps it for later while raised', async () => {
    const h = harness();
    await h.escape.setLowNice(19); // unchanged: nothing to write
    expect(await h.escape.setLowNice(10)).toBe('set');
    const done = h.escape.begin('render');
    await h.at(3_000);
    expect(await h.escape.setLowNice(15)).toBeUndefined();
    done();
    await h.at(6_000);
    expect(h.writes).toEqual([10, 0, 15]);
  });

  it('writes nothing after stop() and stops its timer', async () => {
    const h = harness();
    h.escape.begin('render');
    expect(h.timerRunning()).toBe(true);
    h.escape.stop();
    expect(h.timerRunning()).toBe(false);
    await h.at(60_000);
    expect(h.writes).toEqual([]);
  });

  it('checks a few times per threshold, at most once a second and at least every 100 ms', () => {
    expect(harness(3_000).checkEvery()).toBe(1_000);
    expect(harness(600).checkEvery()).toBe(200);
    expect(harness(30_000).checkEvery()).toBe(1_000);
    expect(harness(90).checkEvery()).toBe(100);
  });

  it('never raises with a threshold of 0, and runs no timer', async () => {
    const h = harness(0);
    expect(h.timerRunning()).toBe(false);
    h.escape.begin('start');
    await h.at(60_000);
    expect(h.writes).toEqual([]);
  });

  it('says so when the raise could not be written', async () => {
    let now = 0;
    const logs: string[] = [];
    const escape = new StarvationEscape({ pid: 7, lowNice: 19, afterMs: 1_000 }, {
      write: async () => 'failed: EACCES', log: (_level, message) => logs.push(message), now: () => now, every: () => () => undefined,
    });
    escape.begin('start');
    now = 1_000;
    await escape.check();
    expect(logs).toEqual(['Chrome (pid 7) waited 1000 ms for the CPU (start): its scheduling group is raised to nice 0 until nothing waits that long (the write failed: failed: EACCES)']);
  });
});

describe('setAutogroup', () => {
  const system = (write: AutogroupSystem['write']): AutogroupSystem => ({ write, read: () => '1\n', sleep: async () => undefined });

  it('writes 0 too (lowerAutogroup leaves 0 alone): the escape raises a group with it', async () => {
    const written: string[] = [];
    expect(await setAutogroup(5, 0, system((path, text) => written.push(`${path}=${text}`)))).toBe('set');
    expect(written).toEqual(['/proc/5/autogroup=0']);
  });
});
