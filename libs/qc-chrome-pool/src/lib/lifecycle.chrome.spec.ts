import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { PoolClosedError, QueueFullError, type QcPool } from '../index';
import { job, launchTestPool, liveChromeProcs, waitFor } from '../../test-support/chrome-test-helpers';
import { PROFILE_PREFIX } from './orphan-cleanup';
import { removeProfile, singletonDirOf } from './profile-dir';
import { descendantsOf, isAlive, readState as stateOf } from './proc-tree';

const WORKSPACE = join(__dirname, '../../../..');
const busy = (ms: number, tag = '') => `<p>${tag}</p><script>const end = Date.now() + ${ms}; while (Date.now() < end) {}</script>`;
/** The command lines of the live renderer processes this test process has started. */
const ourRenderers = () => descendantsOf(process.pid).filter((p) => p.state !== 'Z' && p.cmdline.includes('--type=renderer')).map((p) => p.cmdline);
const ourProfileDirs = () => readdirSync(tmpdir()).filter((n) => n.startsWith(`${PROFILE_PREFIX}${process.pid}-`));

describe('pool lifecycle on real Chromium', () => {
  let pool: QcPool | undefined;
  let child: ChildProcess | undefined;
  const extraDirs: string[] = [];

  afterEach(async () => {
    await pool?.close({ deadlineMs: 1_000 });
    pool = undefined;
    if (child?.pid && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    child = undefined;
    // With the singleton directory each profile links to (in /tmp for the orphan test's own Chromium).
    for (const dir of extraDirs.splice(0)) removeProfile(dir);
  });

  it('refuses a job at once with QueueFullError when the queue is full', async () => {
    pool = await launchTestPool({ pagesPerBrowser: 1, queueMax: 1 });
    const running = pool.check(job(busy(1500, 'first')));
    const queued = pool.check(job(busy(10, 'second')));
    expect(await waitFor(() => pool?.stats().queueLength === 1, 20_000, 10)).toBe(true);
    let runningSettled = false;
    void running.finally(() => (runningSettled = true));
    const refused = await pool.check(job('<p>third</p>')).catch((error: unknown) => error);
    expect(runningSettled).toBe(false); // at once: not after waiting for the running job
    expect(refused).toBeInstanceOf(QueueFullError);
    expect((refused as QueueFullError).retryAfterSec).toBeGreaterThanOrEqual(1);
    expect(pool.stats().jobs.rejected).toBe(1);
    await expect(running).resolves.toMatchObject({ ok: true });
    await expect(queued).resolves.toMatchObject({ ok: true });
  });

  it('renders a sample lesson on every slot of a new browser before launch resolves, leaving no trace in stats, cache or the first job', async () => {
    const lines: { level: string; message: string }[] = [];
    pool = await launchTestPool({ pagesPerBrowser: 2, log: (level, message) => lines.push({ level, message }) });
    const warmUps = lines.filter((l) => /^warm-up render on Chrome \(pid \d+\) took \d+ ms$/.test(l.message));
    expect({ warmUps: warmUps.length, failed: lines.filter((l) => l.message.includes('warm-up render') && l.level === 'warn') }).toEqual({ warmUps: 2, failed: [] });
    expect(pool.stats()).toMatchObject({ jobs: { done: 0, failed: 0 }, cache: { entries: 0 } });
    const first = await pool.check(job('<main><h1>First</h1><p>After the warm-up.</p></main>'));
    expect(first).toMatchObject({ ok: true, consoleErrors: [], pageErrors: [], blockedRequests: [] });
    expect(pool.stats().jobs.done).toBe(1);
  });

  it('runs one renderer per slot: no omnibox popup of headless Chromium beside the pages', async () => {
    pool = await launchTestPool({ pagesPerBrowser: 2 });
    await expect(pool.check(job('<main><h1>One job</h1></main>'))).resolves.toMatchObject({ ok: true });
    const settled = await waitFor(() => ourRenderers().length === 2, 5_000);
    const renderers = ourRenderers();
    expect({ settled, renderers: renderers.length, webUi: renderers.filter((cmdline) => cmdline.includes('--top-chrome-webui')).length }).toEqual({ settled: true, renderers: 2, webUi: 0 });
  });

  it('skips the warm-up render with warmUpRender: false', async () => {
    const lines: string[] = [];
    pool = await launchTestPool({ pagesPerBrowser: 1, warmUpRender: false, log: (_level, message) => lines.push(message) });
    expect(lines.filter((m) => m.includes('warm-up render'))).toEqual([]);
  });

  it('close() lets the active job finish, rejects queued ones and leaves no Chrome process or profile dir', async () => {
    pool = await launchTestPool({ browsers: 2, pagesPerBrowser: 1 });
    const procs = pool.stats().browserProcesses;
    expect(procs).toHaveLength(2);
    expect(ourProfileDirs().length).toBe(2);
    // Chromium's singleton directory is inside its profile, so it goes with it however Chromium ends.
    expect(procs.map((p) => singletonDirOf(p.profileDir)?.startsWith(`${p.profileDir}/`))).toEqual([true, true]);
    const active = [pool.check(job(busy(800, 'a1'))), pool.check(job(busy(800, 'a2')))];
    const queued = pool.check(job('<p>queued</p>')).catch((error: unknown) => error);
    expect(await waitFor(() => pool?.stats().queueLength === 1, 20_000, 10)).toBe(true);
    const summary = await pool.close({ deadlineMs: 60_000 });
    await expect(Promise.all(active)).resolves.toHaveLength(2);
    expect(await queued).toBeInstanceOf(PoolClosedError);
    await expect(pool.check(job('<p>late</p>'))).rejects.toBeInstanceOf(PoolClosedError);
    expect(summary).toMatchObject({ activeAtClose: 2, cutOff: 0, queuedRejected: 1, browsersClosed: 2 });
    for (const p of procs) expect(liveChromeProcs(p.profileDir, p.pid)).toEqual([]);
    expect(ourProfileDirs()).toEqual([]);
    expect(pool.stats().cache.entries).toBe(0);
    await expect(pool.close()).resolves.toBe(summary); // idempotent
  });

  it('close() with a pace: stops each browser\'s processes, kills them one at a time after each pace, the browser last, and leaves nothing', async () => {
    pool = await launchTestPool({ browsers: 2, pagesPerBrowser: 1 });
    await pool.check(job('<main><h1>Used once</h1></main>'));
    const roots = pool.stats().browserProcesses;
    const trees = roots.map((p) => liveChromeProcs(p.profileDir, p.pid));
    expect(trees.map((pids) => pids.length >= 3)).toEqual([true, true]);
    // At each step: which browser goes now (the one whose processes are stopped), and what of it still runs, in which state.
    const steps: { tree: number; live: number[]; states: (string | undefined)[] }[] = [];
    const summary = await pool.close({
      deadlineMs: 10_000,
      pace: async () => {
        const tree = trees.findIndex((pids) => pids.some((pid) => stateOf(pid) === 'T'));
        const live = tree < 0 ? [] : trees[tree].filter((pid) => isAlive(pid));
        steps.push({ tree, live, states: live.map((pid) => stateOf(pid)) });
        return 0;
      },
    });
    // One step per process, after one before each browser's walk of /proc (nothing stopped yet).
    expect(steps.filter((step) => step.tree < 0)).toHaveLength(trees.length);
    expect(steps.filter((step) => step.tree >= 0)).toHaveLength(trees.flat().length);
    trees.forEach((pids, i) => {
      const mine = steps.filter((step) => step.tree === i);
      expect(mine.map((step) => step.live.length)).toEqual(pids.map((_, k) => pids.length - k)); // one fewer at each step
      expect(mine.flatMap((step) => step.states).filter((state) => state !== 'T')).toEqual([]); // none ran meanwhile
      expect(mine.at(-1)?.live).toEqual([roots[i].pid]); // the browser last
    });
    expect(summary.paced).toMatchObject({ processes: trees.flat().length, waitedMs: 0 });
    for (const p of roots) expect(liveChromeProcs(p.profileDir, p.pid)).toEqual([]);
    expect(ourProfileDirs()).toEqual([]);
  });

  it('close() cuts a job still running at the deadline with PoolClosedError', async () => {
    pool = await launchTestPool({ pagesPerBrowser: 1 });
    const [{ pid, profileDir }] = pool.stats().browserProcesses;
    const running = pool.check(job(busy(30_000, 'long'))).catch((error: unknown) => error);
    expect(await waitFor(() => pool?.stats().slots.busy === 1, 20_000, 10)).toBe(true);
    const summary = await pool.close({ deadlineMs: 300 });
    expect(await running).toBeInstanceOf(PoolClosedError);
    expect(summary).toMatchObject({ activeAtClose: 1, cutOff: 1 });
    expect(liveChromeProcs(profileDir, pid)).toEqual([]);
  });

  it('leaves no Chrome process 5 s after the owning node process is SIGKILLed', async () => {
    child = spawn(process.execPath, ['-r', '@swc-node/register', join(__dirname, '../../test-support/pool-child.ts')], {
      cwd: WORKSPACE,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child?.stdout as NodeJS.ReadableStream }).once('line', resolve);
      child?.once('exit', (code) => reject(new Error(`pool child exited early with ${code}`)));
    });
    const { processes } = JSON.parse(line) as { processes: { pid: number; profileDir: string }[] };
    expect(processes).toHaveLength(2);
    for (const p of processes) expect(liveChromeProcs(p.profileDir, p.pid).length).toBeGreaterThan(0);
    extraDirs.push(...processes.map((p) => p.profileDir));
    const singletons = processes.map((p) => singletonDirOf(p.profileDir));
    child.kill('SIGKILL');
    const gone = await waitFor(() => processes.every((p) => liveChromeProcs(p.profileDir, p.pid).length === 0), 5_000);
    expect(gone).toBe(true);
    // Whatever a Chromium that shut itself down left of its singleton is inside the profile the next pool removes.
    expect(singletons.map((dir, i) => dir?.startsWith(`${processes[i].profileDir}/`))).toEqual([true, true]);
  });

  it('at launch, removes profile dirs of dead owners and kills the Chrome still using them', async () => {
    const deadPid = await new Promise<number>((resolve) => {
      const p = spawn('true');
      p.once('exit', () => resolve(p.pid as number));
    });
    const dir = join(tmpdir(), `${PROFILE_PREFIX}${deadPid}-orphan${Date.now()}`);
    mkdirSync(dir);
    extraDirs.push(dir);
    const orphan = spawn(
      '/usr/bin/chromium',
      ['--headless', '--no-sandbox', '--disable-gpu', '--remote-debugging-port=0', `--user-data-dir=${dir}`, 'about:blank'],
      { detached: true, stdio: 'ignore' },
    );
    orphan.unref();
    // Up, as a crashed run's Chromium is: its singleton directory in /tmp made and linked from the profile.
    // (Killed while it made it, it would leave that directory unlinked; the pool could not know it.)
    expect(await waitFor(() => liveChromeProcs(dir).length > 0 && singletonDirOf(dir) !== undefined, 10_000)).toBe(true);
    const singleton = singletonDirOf(dir) as string;
    pool = await launchTestPool();
    expect(await waitFor(() => liveChromeProcs(dir).length === 0 && liveChromeProcs('', orphan.pid).length === 0, 5_000)).toBe(true);
    expect({ profile: existsSync(dir), singleton: existsSync(singleton) }).toEqual({ profile: false, singleton: false });
  });
});
