import { killLeftoverApis, readPid, startApi, track, waitFor, waitReady } from '@edu-agents/e2e-support';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromiumUnder, handoffDetails, health, logLines } from './handoff-support';

// While the old process renders QC, its starting successor is stopped with its tree
// (HANDOFF_START_YIELD, default on) and continued when the render ended; the kernel
// continues it (setpriv --pdeathsig CONT) when the old process dies meanwhile. The mirror
// after the switch (HANDOFF_RETIRE_YIELD, default on): the old process stops its Chromium and
// lets it go one process at a time, each between the successor's renders, which the successor
// reports to it; should the old process die meanwhile, the successor removes what is left.
// Real API processes, real Chromium, real signals.

const stateOf = (pid: number): string | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.charAt(stat.lastIndexOf(')') + 2);
  } catch {
    return undefined;
  }
};

/** QC checks one after another, each of new content (no cache hit) that keeps its page busy for `busyMs`, until stopped. */
function renderLoop(port: number, busyMs: number) {
  const statuses: number[] = [];
  let running = true;
  let n = 0;
  const done = (async () => {
    while (running) {
      n += 1;
      const html = `<main><h1>Lesson ${n}</h1><script>const end = Date.now() + ${busyMs}; while (Date.now() < end) {}</script></main>`;
      try {
        const res = await fetch(`http://127.0.0.1:${port}/qc/check`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ html }) });
        statuses.push(res.status);
        await res.arrayBuffer();
      } catch {
        statuses.push(0);
      }
    }
  })();
  return { statuses, stop: async () => ((running = false), await done) };
}

describe('a successor start that yields to the old process\'s renders', () => {
  let dir: string;
  let pidFile: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'edu-handoff-yield-'));
    pidFile = join(dir, 'api.pid');
  });
  afterEach(async () => {
    await killLeftoverApis();
    rmSync(dir, { recursive: true, force: true });
  });

  /** An API with QC on, ready and with its Chromium launched. */
  async function qcApi(env: Record<string, string> = {}, file = pidFile): Promise<Awaited<ReturnType<typeof startApi>>> {
    const api = await startApi({ LOG_FORMAT: 'json', LOG_LEVEL: 'info', QC_ENABLED: 'true', ...env }, { pidFile: file, timeoutMs: 60_000 });
    await waitReady(api.port);
    await waitFor(`pid ${api.pid} to launch Chromium`, () => chromiumUnder(api.pid).length > 0 || undefined, 60_000);
    return api;
  }

  async function renderingApi(busyMs: number): Promise<{ api: Awaited<ReturnType<typeof startApi>>; loop: ReturnType<typeof renderLoop> }> {
    const api = await qcApi();
    return { api, loop: renderLoop(api.port, busyMs) };
  }

  /** The successor's pid, once the pid file names a process other than `api`'s. */
  const successorInPidFile = (api: Awaited<ReturnType<typeof startApi>>) =>
    waitFor('a successor in the pid file', () => {
      const pid = readPid(pidFile);
      return pid !== undefined && pid !== api.pid ? track(pid) : undefined;
    }, 90_000);

  /** Once `loop` has rendered a few times: SIGHUP to `api`, its successor in the pid file, its clean exit, then the loop stopped. */
  async function handOffWhileRendering(api: Awaited<ReturnType<typeof startApi>>, loop: ReturnType<typeof renderLoop>): Promise<number> {
    await waitFor('renders before the signal', () => loop.statuses.length >= 3 || undefined, 30_000);
    api.signal('SIGHUP');
    const newPid = await successorInPidFile(api);
    expect((await api.exited).code).toBe(0);
    await loop.stop();
    return newPid;
  }

  it('stops the start during the old process\'s renders, lets the old Chromium go between the successor\'s, logs both, and every render and the handoff succeed', async () => {
    const { api, loop } = await renderingApi(60);
    const newPid = await handOffWhileRendering(api, loop);

    expect(loop.statuses.filter((s) => s !== 200)).toEqual([]);
    const lines = logLines(api);
    const started = lines.find((l) => l.pid === api.pid && /^handoff: successor \d+ yielded to this process's work \d+ times/.test(l.msg));
    expect(started).toMatchObject({ successorPid: newPid, cut: expect.any(Number) });
    expect(started?.['stops'] as number).toBeGreaterThan(0);
    expect(lines).toContainEqual(expect.objectContaining({ pid: newPid, msg: `handoff: predecessor ${api.pid} retires: it lets go of what it holds between this process's work whose latency counts, which this process reports to it` }));
    const paced = lines.find((l) => l.pid === api.pid && /^handed over: let Chromium go one process at a time between the successor's renders \(\d+ processes, waited \d+ ms for renders\)$/.test(l.msg));
    expect(paced?.['processes'] as number).toBeGreaterThanOrEqual(3);
    // Renders back to back: the successor is busy nearly all the time, so the steps waited for it.
    expect(paced?.['waitedMs'] as number).toBeGreaterThan(0);
    expect((await health(api)).pid).toBe(newPid);
    expect(readFileSync(`/proc/${newPid}/cmdline`, 'utf8').split('\0')[0]).toBe(process.execPath);
  }, 180_000);

  it('an old process SIGKILLed while its Chromium is stopped leaves no Chromium behind, and the successor serves on', async () => {
    // Renders of 2 s: the old process stops its Chromium as it retires and waits up to 250 ms (the bound) before each step; the test kills it then.
    const { api, loop } = await renderingApi(2_000);
    await waitFor('a render in flight', () => loop.statuses.length >= 1 || undefined, 30_000);
    api.signal('SIGHUP');
    const successor = await successorInPidFile(api);
    const oldChromium = () => {
      const successors = new Set([successor, ...chromiumUnder(successor)]);
      return chromiumUnder(api.pid).filter((pid) => !successors.has(pid));
    };
    const stopped = await waitFor('the old process\'s Chromium to be stopped as it retires', () => {
      const old = oldChromium();
      return old.some((pid) => stateOf(pid) === 'T') ? old : undefined;
    }, 60_000);
    process.kill(api.pid, 'SIGKILL');
    await waitFor('the old Chromium to be gone', () => stopped.every((pid) => stateOf(pid) === undefined || stateOf(pid) === 'Z') || undefined, 30_000);
    await loop.stop();

    expect(loop.statuses.filter((s) => s !== 200)).toEqual([]);
    expect((await health(api)).pid).toBe(successor);
    const answer = await fetch(`http://127.0.0.1:${api.port}/qc/check`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ html: '<main><h1>After the kill</h1></main>' }) });
    expect(answer.status).toBe(200);
  }, 240_000);

  it('a successor stopped when the old process is SIGKILLed is continued by the kernel, takes over and renders', async () => {
    // Renders of 2 s: each stops the start for 250 ms (the bound), and the test kills the old process then.
    const { api, loop } = await renderingApi(2_000);
    await waitFor('a render in flight', () => loop.statuses.length >= 1 || undefined, 30_000);
    api.signal('SIGHUP');
    const successor = await waitFor('the successor to start', async () => (await handoffDetails(api)).successorPid, 30_000);
    track(successor);
    await waitFor(`successor ${successor} to be stopped during a render`, () => stateOf(successor) === 'T' || undefined, 60_000);
    process.kill(api.pid, 'SIGKILL');
    await loop.stop();

    await waitFor(`successor ${successor} to answer ready`, async () => {
      const h = await health(api).catch(() => undefined);
      return h?.state === 'ready' && h.pid === successor;
    }, 90_000);
    expect(logLines(api).map((l) => l.msg)).toContainEqual(expect.stringMatching(new RegExp(`predecessor ${api.pid} (was killed by SIGKILL|went away) before this process was ready`)));
    const answer = await fetch(`http://127.0.0.1:${api.port}/qc/check`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ html: '<main><h1>After the loss</h1></main>' }) });
    expect(answer.status).toBe(200);
    expect([successor, ...chromiumUnder(successor)].map(stateOf).filter((s) => s === 'T')).toEqual([]);
  }, 240_000);

  it("stops one instance's start while another instance that shares HANDOFF_YIELD_DIR renders, and leaves no busy file behind", async () => {
    const shared = join(dir, 'yield');
    mkdirSync(shared);
    const quiet = await qcApi({ HANDOFF_YIELD_DIR: shared });
    const busy = await qcApi({ HANDOFF_YIELD_DIR: shared }, join(dir, 'busy.pid'));
    const loop = renderLoop(busy.port, 60);
    const newPid = await handOffWhileRendering(quiet, loop);

    expect(loop.statuses.filter((s) => s !== 200)).toEqual([]);
    // The quiet instance rendered nothing: every stop of its start was for the other instance's renders.
    const started = logLines(quiet).find((l) => l.pid === quiet.pid && /^handoff: successor \d+ yielded to this process's work \d+ times/.test(l.msg));
    expect(started).toMatchObject({ successorPid: newPid });
    expect(started?.['stops'] as number).toBeGreaterThan(0);
    // The last render's release follows its answer by a moment: its file goes then.
    await waitFor(`no busy file left in ${shared} (pids: quiet ${quiet.pid}, its successor ${newPid}, busy ${busy.pid})`, () => readdirSync(shared).length === 0 || undefined, 10_000);
    expect((await health(quiet)).pid).toBe(newPid);
  }, 180_000);
});
