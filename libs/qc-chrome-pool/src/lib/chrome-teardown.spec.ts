import { teardownPaced, type TeardownDeps } from './chrome-teardown';
import type { ProcInfo } from './proc-tree';

// The order of a paced teardown, on fake processes. The real Chromium is in lifecycle.chrome.spec.ts.

const proc = (pid: number): ProcInfo => ({ pid, ppid: 1, pgid: 10, state: 'S', cpuTicks: 0, reapedChildTicks: 0, rssBytes: 0, cmdline: [] });

/**
 * Processes that stop `stopPolls` looks after their SIGSTOP and exit `exitPolls` looks after
 * their SIGKILL (never, for `stuck`); a clock that moves 2 ms a sleep.
 */
function fakeProcesses(options: { gone?: number[]; stuck?: number[]; exitPolls?: number; stopPolls?: number } = {}) {
  const events: string[] = [];
  const states = new Map<number, { state: string; left: number; next: string }>();
  let clock = 0;
  const deps: TeardownDeps = {
    signal(pid, signal) {
      if (options.gone?.includes(pid)) return false;
      events.push(`${signal} ${pid}`);
      if (signal === 'SIGSTOP') states.set(pid, { state: 'R', left: options.stopPolls ?? 0, next: 'T' });
      else states.set(pid, { state: 'R', left: options.stuck?.includes(pid) ? Infinity : (options.exitPolls ?? 1), next: 'Z' });
      return true;
    },
    state(pid) {
      if (options.gone?.includes(pid)) return undefined;
      const now = states.get(pid) ?? { state: 'S', left: Infinity, next: 'S' };
      if (now.left <= 0) return now.next;
      events.push(`look ${pid} ${now.state}`);
      now.left -= 1;
      return now.state;
    },
    sleep: async (ms) => void (clock += ms),
    now: () => clock,
  };
  return { events, deps };
}

describe('teardownPaced', () => {
  it('stops every process first, then kills one at a time after each pace, each exit done before the next, the browser last', async () => {
    const { events, deps } = fakeProcesses({ exitPolls: 2 });
    const pace = jest.fn(async () => (events.push('pace'), 5));
    const result = await teardownPaced(10, [proc(10), proc(12), proc(11)], pace, deps);
    expect(events.filter((e) => !e.startsWith('look'))).toEqual(['SIGSTOP 12', 'SIGSTOP 11', 'SIGSTOP 10', 'pace', 'SIGKILL 12', 'pace', 'SIGKILL 11', 'pace', 'SIGKILL 10']);
    expect(result).toEqual({ processes: 3, waitedMs: 15, durationMs: 12 }); // two looks of 2 ms per exit
  });

  it('begins only once every process has stopped (a stop takes effect when the process next runs)', async () => {
    const { events, deps } = fakeProcesses({ stopPolls: 2 });
    await teardownPaced(10, [proc(11)], async () => (events.push('pace'), 0), deps);
    expect(events.slice(0, 2)).toEqual(['SIGSTOP 11', 'SIGSTOP 10']);
    const firstPace = events.indexOf('pace');
    expect(events.slice(2, firstPace)).toEqual(['look 11 R', 'look 11 R', 'look 10 R', 'look 10 R']);
  });

  it('skips a process that is gone already and goes on after the bound when one does not finish its exit', async () => {
    const { events, deps } = fakeProcesses({ gone: [12], stuck: [11] });
    const result = await teardownPaced(10, [proc(11), proc(12)], async () => 0, deps);
    expect(events.filter((e) => !e.startsWith('look'))).toEqual(['SIGSTOP 11', 'SIGSTOP 10', 'SIGKILL 11', 'SIGKILL 10']);
    expect(result.processes).toBe(2);
    expect(result.durationMs).toBeGreaterThanOrEqual(250);
  });

  it('never signals pid 0 or 1, and takes a browser that is not in the list too', async () => {
    const { events, deps } = fakeProcesses();
    await teardownPaced(10, [proc(1), proc(0), proc(13)], async () => 0, deps);
    expect(events.filter((e) => !e.startsWith('look'))).toEqual(['SIGSTOP 13', 'SIGSTOP 10', 'SIGKILL 13', 'SIGKILL 10']);
  });
});
