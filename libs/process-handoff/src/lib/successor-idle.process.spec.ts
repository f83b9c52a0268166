import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { isAlive, waitFor } from '../../test-support/fixture-process';
import { enterIdle, findChrt, idleSupport, leaveIdle, leaveIdleHelpers, parseNice, parsePolicy, processProbe, processTree, raiseIdleSuccessor, raiseRetiringPredecessor, SCHED_IDLE, SCHED_OTHER } from './successor-idle';

// Real processes under the real chrt: a node process started at SCHED_IDLE starts a child at
// nice 7 (which inherits the policy); leaveIdle must set every thread of both back to
// SCHED_OTHER and leave the child's nice value alone.

const chrt = findChrt(processProbe(process.platform, process.env['PATH']));

function policies(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).map((tid) => parsePolicy(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')) ?? -1);
  } catch {
    return [];
  }
}

const CHILD = `
  const { spawn } = require('node:child_process');
  const child = spawn('nice', ['-n', '7', process.execPath, '-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  process.stdout.write(String(child.pid) + '\\n');
  setInterval(() => {}, 1000);
`;

describe('leaving SCHED_IDLE, with real processes', () => {
  let root: ChildProcess | undefined;
  let tree: number[] = [];

  afterEach(async () => {
    for (const pid of tree) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await waitFor('the test processes to exit', () => tree.every((pid) => !isAlive(pid)) || undefined, 10_000);
    root = undefined;
    tree = [];
  });

  it('finds chrt here (util-linux is part of every Debian)', () => {
    expect(chrt).toMatch(/\/chrt$/);
  });

  async function startIdleTree(): Promise<{ rootPid: number; childPid: number }> {
    root = spawn(chrt as string, ['--idle', '0', process.execPath, '-e', CHILD], { stdio: ['ignore', 'pipe', 'inherit'] });
    const rootPid = root.pid as number;
    let out = '';
    root.stdout?.on('data', (chunk) => (out += String(chunk)));
    const childPid = await waitFor('the child to report its pid', () => (/^(\d+)\n/.exec(out) ? Number(/^(\d+)\n/.exec(out)?.[1]) : undefined));
    tree = [rootPid, childPid];
    await waitFor('the child to run node at nice 7', () => policies(childPid).length > 1 && parseNice(readFileSync(`/proc/${childPid}/stat`, 'utf8')) === 7);
    return { rootPid, childPid };
  }

  it('the predecessor\'s escape sets a successor\'s tree that is still idle back, and says so; a tree already back is left alone silently', async () => {
    const { rootPid, childPid } = await startIdleTree();
    expect(new Set([...policies(rootPid), ...policies(childPid)])).toEqual(new Set([SCHED_IDLE]));
    const logs: string[] = [];
    await raiseIdleSuccessor(rootPid, chrt as string, 10_000, (level, message) => logs.push(`${level} ${message}`));
    if (idleSupport(processProbe(process.platform, process.env['PATH'])).ok) {
      expect(logs).toEqual([`warn successor ${rootPid} was not ready 10000 ms after its start at SCHED_IDLE (a busy machine?): its tree is set back to SCHED_OTHER`]);
      expect(new Set([...policies(rootPid), ...policies(childPid)])).toEqual(new Set([SCHED_OTHER]));
      logs.length = 0;
      await raiseIdleSuccessor(rootPid, chrt as string, 10_000, (level, message) => logs.push(`${level} ${message}`));
      expect(logs).toEqual([]);
    } else {
      expect(logs).toEqual([expect.stringMatching(/^warn could not set the idle successor's tree back to SCHED_OTHER: /)]);
    }
  });

  it('sets every thread of a process and its descendants back to SCHED_OTHER, keeping their nice values', async () => {
    const { rootPid, childPid } = await startIdleTree();
    expect(processTree(rootPid)).toEqual(expect.arrayContaining([rootPid, childPid]));
    expect(new Set([...policies(rootPid), ...policies(childPid)])).toEqual(new Set([SCHED_IDLE]));

    const result = await leaveIdle(rootPid, chrt as string);
    if (idleSupport(processProbe(process.platform, process.env['PATH'])).ok) {
      expect(result).toMatchObject({ processes: 2, failures: [] });
      expect(new Set([...policies(rootPid), ...policies(childPid)])).toEqual(new Set([SCHED_OTHER]));
      expect(parseNice(readFileSync(`/proc/${childPid}/stat`, 'utf8'))).toBe(7);
      // Nothing is left to do a second time.
      await expect(leaveIdle(rootPid, chrt as string)).resolves.toEqual({ processes: 0, rounds: 1, failures: [] });
    } else {
      // Without CAP_SYS_NICE and RLIMIT_NICE, the kernel refuses, and each process is named.
      expect(result.failures.map((f) => Number(f.split(':')[0])).sort()).toEqual([rootPid, childPid].sort());
    }
  });

  function threadPolicies(pid: number): { main: number | undefined; others: number[] } {
    const others = readdirSync(`/proc/${pid}/task`).filter((tid) => tid !== String(pid));
    const policyOf = (tid: string | number) => parsePolicy(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'));
    return { main: policyOf(pid), others: others.map(policyOf).map((p) => p ?? -1) };
  }

  it('can set a process\'s main thread alone back, and its other threads later, unless the main thread went back to SCHED_IDLE meanwhile', async () => {
    const { rootPid, childPid } = await startIdleTree();
    const result = await leaveIdle(rootPid, chrt as string, '/proc', [], [rootPid]);
    if (!idleSupport(processProbe(process.platform, process.env['PATH'])).ok) {
      // Without CAP_SYS_NICE and RLIMIT_NICE the kernel refuses, and each process is named.
      expect(result.failures.map((f) => Number(f.split(':')[0])).sort()).toEqual([rootPid, childPid].sort());
      return;
    }
    expect(result).toMatchObject({ processes: 2, failures: [] });
    const helpers = threadPolicies(rootPid).others.length;
    expect(helpers).toBeGreaterThan(2); // V8's platform threads at least
    expect(threadPolicies(rootPid)).toEqual({ main: SCHED_OTHER, others: Array(helpers).fill(SCHED_IDLE) });
    expect(new Set(policies(childPid))).toEqual(new Set([SCHED_OTHER]));
    // Its main thread counts as done: nothing is left for another walk.
    await expect(leaveIdle(rootPid, chrt as string, '/proc', [], [rootPid])).resolves.toEqual({ processes: 0, rounds: 1, failures: [] });

    await expect(leaveIdleHelpers(rootPid, chrt as string)).resolves.toEqual({ threads: helpers, failures: [] });
    expect(new Set(policies(rootPid))).toEqual(new Set([SCHED_OTHER]));
    await expect(leaveIdleHelpers(rootPid, chrt as string)).resolves.toEqual({ threads: 0, failures: [] });

    // A process that retires at SCHED_IDLE before its helpers' time is up keeps them there.
    await enterIdle(rootPid, chrt as string, '/proc', [childPid]);
    expect(new Set(policies(rootPid))).toEqual(new Set([SCHED_IDLE]));
    await expect(leaveIdleHelpers(rootPid, chrt as string)).resolves.toEqual({ threads: 0, failures: [] });
    expect(new Set(policies(rootPid))).toEqual(new Set([SCHED_IDLE]));
  });

  // A retiring predecessor: itself and its browser go idle, the successor (also its child) does not.
  const TWO_CHILDREN = `
    const { spawn } = require('node:child_process');
    const spin = ['-e', 'setInterval(() => {}, 1000)'];
    const browser = spawn('nice', ['-n', '7', process.execPath, ...spin], { stdio: 'ignore' });
    const successor = spawn(process.execPath, spin, { stdio: 'ignore' });
    process.stdout.write(browser.pid + ' ' + successor.pid + '\\n');
    setInterval(() => {}, 1000);
  `;

  it('a retiring process goes to SCHED_IDLE without its successor\'s subtree, and the successor\'s escape sets it back without touching its own', async () => {
    root = spawn(process.execPath, ['-e', TWO_CHILDREN], { stdio: ['ignore', 'pipe', 'inherit'] });
    const rootPid = root.pid as number;
    let out = '';
    root.stdout?.on('data', (chunk) => (out += String(chunk)));
    const [browserPid, successorPid] = await waitFor('the children to report their pids', () => {
      const match = /^(\d+) (\d+)\n/.exec(out);
      return match ? [Number(match[1]), Number(match[2])] : undefined;
    });
    tree = [rootPid, browserPid, successorPid];
    await waitFor('both children to run node', () => policies(browserPid).length > 1 && policies(successorPid).length > 1 && parseNice(readFileSync(`/proc/${browserPid}/stat`, 'utf8')) === 7);
    expect(processTree(rootPid, '/proc', [successorPid]).sort()).toEqual([rootPid, browserPid].sort());

    const entered = await enterIdle(rootPid, chrt as string, '/proc', [successorPid]);
    expect(entered).toMatchObject({ processes: 2, failures: [] });
    expect(new Set([...policies(rootPid), ...policies(browserPid)])).toEqual(new Set([SCHED_IDLE]));
    expect(new Set(policies(successorPid))).toEqual(new Set([SCHED_OTHER]));
    expect(parseNice(readFileSync(`/proc/${browserPid}/stat`, 'utf8'))).toBe(7);

    const logs: string[] = [];
    await raiseRetiringPredecessor(rootPid, successorPid, chrt as string, 2_000, (level, message) => logs.push(`${level} ${message}`));
    if (idleSupport(processProbe(process.platform, process.env['PATH'])).ok) {
      expect(logs).toEqual([`warn predecessor ${rootPid} still ran 2000 ms after it retired at SCHED_IDLE (a busy machine?): its tree is set back to SCHED_OTHER`]);
      expect(new Set([...policies(rootPid), ...policies(browserPid), ...policies(successorPid)])).toEqual(new Set([SCHED_OTHER]));
    } else {
      expect(logs).toEqual([expect.stringMatching(/^warn could not set the retiring predecessor's tree back to SCHED_OTHER: /)]);
    }
  });
});
