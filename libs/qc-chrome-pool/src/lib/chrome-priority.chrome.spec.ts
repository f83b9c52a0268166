import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { QcPool, QcPoolStats } from '../index';
import { job, launchTestPool, liveChromeProcs, waitFor } from '../../test-support/chrome-test-helpers';
import { findProgram } from './chrome-priority';
import { removeProfile } from './profile-dir';

const WORKSPACE = join(__dirname, '../../../..');

/** The nice value of every thread of every live Chromium process of a browser, by pid/tid. */
function threadNices(browser: { pid: number; profileDir: string }): Map<string, number> {
  const out = new Map<string, number>();
  for (const pid of liveChromeProcs(browser.profileDir, browser.pid)) {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue; // exited meanwhile
    }
    for (const tid of tids) {
      try {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        // Fields after the last ')' start at field 3 (state); nice is field 19.
        out.set(`${pid}/${tid}`, Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]));
      } catch {
        continue; // thread ended meanwhile
      }
    }
  }
  return out;
}

/** `nice N` from /proc/<pid>/autogroup, or undefined without autogroup support. */
function autogroupNice(pid: number): number | undefined {
  const path = `/proc/${pid}/autogroup`;
  if (!existsSync(path)) return undefined;
  return Number(/nice (-?\d+)/.exec(readFileSync(path, 'utf8'))?.[1]);
}

const distinct = (values: Iterable<number>) => [...new Set(values)].sort((a, b) => a - b);

/** The session id of `pid` (field 6 of /proc/<pid>/stat). */
function sessionOf(pid: number | 'self'): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3]);
}

/** The autogroup line of `pid` without its nice value (`/autogroup-N`), or undefined. */
function autogroupId(pid: number | 'self'): string | undefined {
  const path = `/proc/${pid}/autogroup`;
  return existsSync(path) ? readFileSync(path, 'utf8').split(' ')[0] : undefined;
}

describe('Chromium scheduling priority on real Chromium', () => {
  let pool: QcPool | undefined;
  let child: ChildProcess | undefined;
  let childBrowsers: QcPoolStats['browserProcesses'] = [];

  afterEach(async () => {
    await pool?.close({ deadlineMs: 1_000 });
    pool = undefined;
    if (child?.pid && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    child = undefined;
    for (const b of childBrowsers.splice(0)) {
      for (const pid of liveChromeProcs(b.profileDir, b.pid)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone with its parent
        }
      }
      await waitFor(() => liveChromeProcs(b.profileDir, b.pid).length === 0, 10_000);
      removeProfile(b.profileDir); // and the singleton directory in /tmp that Chromium links from it
    }
  });

  it('runs every thread of every Chromium process at nice 19 inside this process\'s session and scheduling group (the default)', async () => {
    pool = await launchTestPool();
    await pool.check(job('<p>renderers start</p>'));
    const [browser] = pool.stats().browserProcesses;
    expect(browser.priority).toMatchObject({ nice: 19, session: 'api', autogroup: 'shared with the API' });
    // As root, Chromium raises its browser and GPU threads to nice -8 unless CAP_SYS_NICE is gone.
    if (process.getuid?.() === 0) expect(browser.priority.processes).toBe('nice without CAP_SYS_NICE');
    const nices = threadNices(browser);
    expect(nices.size).toBeGreaterThan(10); // browser, zygotes, GPU, utilities, renderers and their threads
    expect(distinct(nices.values())).toEqual([19]);
    for (const pid of liveChromeProcs(browser.profileDir, browser.pid)) {
      expect({ pid, session: sessionOf(pid) }).toEqual({ pid, session: sessionOf('self') });
      expect({ pid, group: autogroupId(pid) }).toEqual({ pid, group: autogroupId('self') });
    }
    // This process's own priority is untouched.
    expect(autogroupNice(process.pid) ?? 0).toBe(0);
  });

  it('reniceBrowsers sets every thread of every Chromium process to a nice value and back, where raising is allowed', async () => {
    pool = await launchTestPool();
    await pool.check(job('<p>renderers start</p>'));
    const [browser] = pool.stats().browserProcesses;
    const raised = pool.reniceBrowsers(10);
    if (process.getuid?.() === 0) {
      expect(raised).toMatchObject({ refused: 0 });
      expect(raised.threads).toBeGreaterThan(10);
      expect(distinct(threadNices(browser).values())).toEqual([10]);
    } else {
      // Without CAP_SYS_NICE or RLIMIT_NICE a nice value only goes up: each refusal is counted, none thrown.
      expect(raised).toMatchObject({ refused: expect.any(Number), error: expect.stringMatching(/EACCES|EPERM/) });
      expect(raised.refused).toBeGreaterThan(0);
    }
    expect(pool.reniceBrowsers(19)).toMatchObject({ refused: 0 });
    expect(distinct(threadNices(browser).values())).toEqual([19]);
    expect(() => pool?.reniceBrowsers(20)).toThrow('reniceTrees: nice must be an integer from 0 to 19, got 20');
  });

  it('setChromeNice lowers every running Chromium thread for good: the stats say so, and a browser launched later starts there', async () => {
    // A handoff's successor launches at 10 and lowers to QC_CHROME_NICE once its predecessor exited: lowering needs no privilege.
    pool = await launchTestPool({ chromeNice: 10, recycleAfterJobs: 2 });
    await pool.check(job('<p>renderers start</p>'));
    const [first] = pool.stats().browserProcesses;
    expect(distinct(threadNices(first).values())).toEqual([10]);
    const lowered = pool.setChromeNice(19);
    expect(lowered).toMatchObject({ refused: 0 });
    expect(lowered.threads).toBeGreaterThan(10);
    expect(distinct(threadNices(first).values())).toEqual([19]);
    expect(pool.stats().browserProcesses[0]?.priority.nice).toBe(19);
    // Its second job recycles the browser: the new one starts at 19, not at the launch's 10.
    await pool.check(job('<p>the second job</p>'));
    const current = pool as QcPool;
    expect(await waitFor(() => current.stats().browserProcesses.some((b) => b.pid !== first.pid), 20_000)).toBe(true);
    const [next] = current.stats().browserProcesses.filter((b) => b.pid !== first.pid);
    await current.check(job('<p>renderers of the new browser start</p>'));
    expect(next.priority.nice).toBe(19);
    expect(distinct(threadNices(next).values())).toEqual([19]);
    expect(() => current.setChromeNice(20)).toThrow('setChromeNice: nice must be an integer from 0 to 19, got 20');
  });

  it('with chromeSession own, runs Chromium in a session of its own whose autogroup is lowered to 19 as well', async () => {
    pool = await launchTestPool({ chromeSession: 'own', chromeEscapeMs: 0 }); // the lowering alone, no escape
    await pool.check(job('<p>renderers start</p>'));
    const [browser] = pool.stats().browserProcesses;
    expect(browser.priority).toMatchObject({ nice: 19, session: 'own' });
    expect(sessionOf(browser.pid)).toBe(browser.pid);
    expect(distinct(threadNices(browser).values())).toEqual([19]);
    const group = autogroupNice(browser.pid);
    if (group !== undefined) {
      expect(group).toBe(19);
      expect(['set', 'off']).toContain(browser.priority.autogroup);
    } else {
      expect(browser.priority.autogroup).toBe('unsupported');
    }
    await pool.close({ deadlineMs: 1_000 });
    pool = undefined;
    await waitFor(() => liveChromeProcs(browser.profileDir, browser.pid).length === 0, 10_000);
  });

  it('with chromeSession own, starts Chromium\'s group at the lowest priority and sets it to chromeNice once the pages are warm', async () => {
    pool = await launchTestPool({ chromeNice: 10, chromeSession: 'own', chromeEscapeMs: 0 });
    const [browser] = pool.stats().browserProcesses;
    expect(browser.priority).toMatchObject({ nice: 10 });
    expect(distinct(threadNices(browser).values())).toEqual([10]);
    const group = autogroupNice(browser.pid);
    if (group !== undefined) expect(group).toBe(10);
  });

  it('with chromeSession own, raises the group to nice 0 while its start waits past chromeEscapeMs, and lowers it again once nothing waits', async () => {
    const logs: string[] = [];
    // No start of Chromium is done within 100 ms: the escape must raise the group during it.
    pool = await launchTestPool({ chromeSession: 'own', chromeEscapeMs: 100, log: (_level, message) => logs.push(message) });
    const [browser] = pool.stats().browserProcesses;
    expect(logs).toContainEqual(expect.stringMatching(new RegExp(`^Chrome \\(pid ${browser.pid}\\) waited \\d+ ms for the CPU \\(start\\): its scheduling group is raised to nice 0`)));
    const group = autogroupNice(browser.pid);
    if (group === undefined) return; // no autogroups in this kernel: nothing to raise or lower
    await waitFor(() => logs.some((m) => m.startsWith(`Chrome (pid ${browser.pid}) is back at nice 19`)), 10_000);
    expect(autogroupNice(browser.pid)).toBe(19);
    expect(distinct(threadNices(browser).values())).toEqual([19]); // the processes' own nice is never touched
  });

  it('with chromeNice 0 leaves Chromium as it starts itself: its session autogroup stays at 0', async () => {
    pool = await launchTestPool({ chromeNice: 0 });
    await pool.check(job('<p>renderers start</p>'));
    const [browser] = pool.stats().browserProcesses;
    expect(browser.priority).toEqual({ nice: 0, session: 'api', autogroup: 'shared with the API', processes: 'not asked' });
    expect(distinct(threadNices(browser).values())).not.toEqual([19]);
    const group = autogroupNice(browser.pid);
    if (group !== undefined) expect(group).toBe(0);
  });

  it('without CAP_SYS_NICE and CAP_SYS_ADMIN (as an unprivileged service runs) two browsers started together both run at nice 19 in the service\'s group', async () => {
    const setpriv = findProgram('setpriv');
    expect(setpriv).toBeDefined(); // util-linux: part of every Debian
    child = spawn(
      setpriv as string,
      ['--bounding-set', '-sys_nice,-sys_admin', '--inh-caps', '-sys_nice,-sys_admin', '--', process.execPath, '-r', '@swc-node/register', join(__dirname, '../../test-support/pool-child.ts')],
      { cwd: WORKSPACE, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child?.stdout as NodeJS.ReadableStream }).once('line', resolve);
      child?.once('exit', (code) => reject(new Error(`pool child exited early with ${code}`)));
    });
    childBrowsers = (JSON.parse(line) as { processes: QcPoolStats['browserProcesses'] }).processes;
    expect(childBrowsers).toHaveLength(2);
    for (const browser of childBrowsers) {
      // Without CAP_SYS_NICE nothing needs dropping; Chromium cannot raise what it inherited.
      expect(browser.priority).toMatchObject({ nice: 19, session: 'api', processes: 'nice' });
      expect(distinct(threadNices(browser).values())).toEqual([19]);
      expect(sessionOf(browser.pid)).toBe(sessionOf(child?.pid as number));
      // The service's group keeps its priority: only Chromium's processes are lowered.
      const group = autogroupNice(browser.pid);
      if (group !== undefined) expect(group).toBe(0);
    }
  });
});
