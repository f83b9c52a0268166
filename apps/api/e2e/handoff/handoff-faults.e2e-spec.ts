import {
  acceptedClientPorts, freePort, judgeLoad, killLeftoverApis, LOAD_API_ENV, listenerHolders, postJson, processTree, profileOwners, qcMix, readPid, startApi, startLoadProcess,
  STATS_ONLY, track, waitFor, waitReady, type LoadProcess, type LoadRun,
} from '@edu-agents/e2e-support';
import { check } from '@edu-agents/health-client';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromiumOfRun, NotifySocket, onlySuccessorLeft, startApiUnderLazyParent, strayFiles } from './fault-support';
import { handoffDetails, isRunning, logLines, type LogLine } from './handoff-support';

// The faults of the handoff that need the real API: its Chromium, its notify socket, its
// log and /health. The library's fixture covers the rest (libs/process-handoff/e2e).

const lines = (output: string): LogLine[] =>
  output.split('\n').flatMap((line) => {
    if (!line.startsWith('{')) return [];
    try {
      return [JSON.parse(line) as LogLine];
    } catch {
      return [];
    }
  });

/** QC jobs a process finished, from the /qc-stats of whichever answers on `port`. */
async function qcDone(port: number): Promise<number> {
  const stats = (await (await fetch(`http://127.0.0.1:${port}/qc-stats`)).json()) as { jobs?: { done?: number } };
  return stats.jobs?.done ?? 0;
}

describe('the hot handoff of the real API under faults', () => {
  let dir: string;
  let tmp: string;
  let notify: NotifySocket | undefined;
  let load: LoadProcess | undefined;
  /** Stops the load and checks the campaign's invariant: only requests on the `excused` client ports may fail. */
  async function finishLoad(excused: ReadonlySet<number> = new Set()): Promise<LoadRun> {
    const running = load as LoadProcess;
    load = undefined;
    running.stop();
    const { run } = await running.done;
    const verdict = judgeLoad(run, { ports: excused });
    expect({ violations: verdict.violations.slice(0, 5), count: verdict.violations.length }).toEqual({ violations: [], count: 0 });
    return run;
  }
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'edu-handoff-faults-'));
    tmp = join(dir, 'tmp');
    mkdirSync(tmp);
  });
  afterEach(async () => {
    load?.stop();
    load = undefined;
    notify?.close();
    notify = undefined;
    await killLeftoverApis();
    // A Chromium whose API was killed outlives it for a moment (or for good with QC_CHROME_SESSION=own,
    // in a session of its own). It is this run's by the TMPDIR on its command line; once it is gone
    // nothing writes into the profiles.
    for (const pid of chromiumOfRun(tmp)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // it exited meanwhile
      }
    }
    await waitFor("this run's Chromium to be gone", () => chromiumOfRun(tmp).length === 0, 15_000);
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  });

  it('SIGKILL of the predecessor right after it spawned its successor (before the successor logged a line; the measured outage), its parent reaping late, on a fixed port under load with QC jobs: the successor serves on the inherited socket, takes over the pid file and MAINPID, says so on /health, and nothing of the predecessor is left', async () => {
    notify = new NotifySocket(join(dir, 'notify.sock'));
    const pidFile = join(dir, 'api.pid');
    const port = await freePort();
    const api = await startApiUnderLazyParent(
      { ...LOAD_API_ENV, LOG_FORMAT: 'json', NOTIFY_SOCKET: notify.path, TMPDIR: tmp, HANDOFF_TIMEOUT_MS: 90_000 },
      { port, pidFile },
    );
    await waitReady(port, 60_000);
    // Nothing accepts from the SIGKILL until the successor listens, which next to a busy
    // neighbour took over 5 s: every request meanwhile holds a client of its own.
    load = await startLoadProcess({ port, ratePerSec: 100, maxDurationMs: 180_000, baseClients: 16, maxClients: 2048, timeoutMs: 30_000, mix: qcMix(100) });
    await waitFor('QC jobs to run on the predecessor', async () => (await qcDone(port)) >= 1, 30_000);

    process.kill(api.pid, 'SIGHUP');
    const successor = await waitFor('the predecessor to spawn its successor', () => lines(api.output()).find((l) => l.pid === api.pid && l.msg === 'handoff: successor started')?.['successorPid'] as number | undefined, 30_000);
    process.kill(api.pid, 'SIGSTOP');
    const excused = new Set(acceptedClientPorts(api.pid, port));
    expect(lines(api.output()).filter((l) => l.pid === successor)).toEqual([]); // it has not logged a line yet
    process.kill(api.pid, 'SIGKILL');
    const killedAt = Date.now();

    const health = await waitFor('the successor to answer ready', async () => {
      const h = await check(`http://127.0.0.1:${port}/health`, { timeoutMs: 5_000 });
      return h.state === 'ready' && h.pid === successor ? h : undefined;
    }, 90_000);
    expect((health.body as { details: { handoff: unknown } }).details.handoff).toMatchObject({
      predecessorPid: api.pid, predecessorLost: { pid: api.pid, exit: 'was killed by SIGKILL', message: expect.stringContaining('this process serves on the sockets it passed and takes over') },
    });
    expect(readPid(pidFile)).toBe(successor);
    expect(lines(api.output())).toContainEqual(expect.objectContaining({ pid: successor, msg: `handoff: took over from predecessor ${api.pid}: it was killed by SIGKILL before this process was ready` }));
    await waitFor('MAINPID and READY=1 from the successor', () => notify?.mainPid() === successor && notify.texts().slice(notify.texts().indexOf(`MAINPID=${successor}`)).some((t) => t.startsWith('READY=1')), 10_000);
    // The predecessor's Chromium and profile are gone once the successor saw it go; the successor's own remain.
    await waitFor('only the successor\'s Chromium and profile to be left', () => onlySuccessorLeft(tmp, successor, { strays: false }), 30_000);
    expect(listenerHolders(port, [api.pid, successor])).toEqual([successor]);

    const run = await finishLoad(excused);
    expect(run.records.filter((r) => r.error === 'ECONNREFUSED')).toEqual([]);
    expect(run.records.filter((r) => r.label === 'POST /qc/check' && r.status === 200 && r.startMs > killedAt - run.t0Epoch).length).toBeGreaterThan(0);
    expect(isRunning(api.pid)).toBe(false);
    expect(strayFiles(tmp)).toEqual([]);
  }, 240_000);

  it('SIGKILL of the predecessor while it drains with a QC job of its own on its Chromium: only that job\'s connection fails; the successor serves and removes the predecessor\'s Chromium, profile and singleton directory once it is gone', async () => {
    const pidFile = join(dir, 'api.pid');
    const api = await startApi({ ...LOAD_API_ENV, LOG_FORMAT: 'json', TMPDIR: tmp, QC_JOB_TIMEOUT_MS: 30_000 }, { pidFile, timeoutMs: 60_000 });
    await waitReady(api.port, 60_000);
    load = await startLoadProcess({ port: api.port, ratePerSec: 100, maxDurationMs: 180_000, baseClients: 16, maxClients: 512, timeoutMs: 30_000, mix: qcMix(100) });
    // A render that never finishes by itself keeps the predecessor's Chromium busy after the switch.
    const endless = postJson(`${api.url}/qc/check`, { html: '<script>for (;;) {}</script>', timeoutMs: 25_000 }).catch((error: Error) => ({ error: error.message }));
    await waitFor('the endless render to run on the predecessor', async () => ((await qcStats(api.port)).slots?.busy ?? 0) >= 1, 20_000);
    api.signal('SIGHUP');
    const successor = await waitFor('the switch', () => {
      const pid = readPid(pidFile);
      return pid !== undefined && pid !== api.pid ? track(pid) : undefined;
    }, 90_000);
    await waitFor('the predecessor to hand over', () => logLines(api).some((l) => l.pid === api.pid && l.msg === 'handoff: handed over: stop accepting and drain'), 30_000);
    expect(chromiumOfRun(tmp).filter((pid) => processTree(api.pid).includes(pid)).length).toBeGreaterThan(0); // its Chromium still renders
    api.signal('SIGSTOP');
    const excused = new Set(acceptedClientPorts(api.pid, api.port));
    api.signal('SIGKILL');
    expect(await endless).toMatchObject({ error: expect.any(String) }); // its connection went with it
    await waitFor('the successor to clean up what the predecessor left', () => onlySuccessorLeft(tmp, successor, { strays: true }), 30_000);
    // Gone once its parent (this test) reaped it, which a busy machine may delay: before that the
    // successor reads the zombie's status and says how it ended.
    await waitFor('the successor to log that its predecessor is gone', () => logLines(api).some((l) => l.pid === successor
      && [`handoff: predecessor ${api.pid} has exited`, `handoff: predecessor ${api.pid} was killed by SIGKILL`].includes(l.msg)), 30_000);
    expect(await api.exited).toMatchObject({ signal: 'SIGKILL' });
    expect(await check(`${api.url}/health`, { timeoutMs: 5_000 })).toMatchObject({ state: 'ready', pid: successor });
    await finishLoad(excused);
  }, 240_000);

  it("the successor's Chromium cannot start (a broken library after an OS upgrade): a failed handoff whose report names Chromium's error; the predecessor serves on, in the pid file, and the successor leaves no process, profile or temporary file", async () => {
    const pidFile = join(dir, 'api.pid');
    const broken = join(dir, 'chromium-broken');
    const chrome = join(dir, 'chromium');
    writeFileSync(chrome, `#!/bin/sh\nif [ -e ${broken} ]; then echo "chromium: error while loading shared libraries: libnss3.so: cannot open shared object file: No such file or directory" >&2; exit 127; fi\nexec /usr/bin/chromium "$@"\n`);
    chmodSync(chrome, 0o755);
    const api = await startApi({ ...LOAD_API_ENV, LOG_FORMAT: 'json', TMPDIR: tmp, CHROME_PATH: chrome }, { pidFile, timeoutMs: 60_000 });
    await waitReady(api.port, 60_000);
    load = await startLoadProcess({ port: api.port, ratePerSec: 100, maxDurationMs: 180_000, baseClients: 16, maxClients: 512, timeoutMs: 30_000, mix: qcMix(100) });
    writeFileSync(broken, '');
    api.signal('SIGHUP');
    const last = await waitFor('the failed handoff on /health', async () => {
      const h = await handoffDetails(api);
      const attempt = h['last'] as { ok: boolean; reason: string; message: string; successorPid: number; output: string[] } | undefined;
      return h.state === 'idle' && attempt && !attempt.ok ? attempt : undefined;
    }, 90_000);
    expect(last).toMatchObject({ reason: 'exited' });
    expect(last.output.join('\n')).toContain('libnss3.so: cannot open shared object file');
    expect(await check(`${api.url}/health`, { timeoutMs: 5_000 })).toMatchObject({ state: 'ready', pid: api.pid });
    expect(readPid(pidFile)).toBe(api.pid);
    expect(isRunning(last.successorPid)).toBe(false);
    const mine = new Set(processTree(api.pid));
    expect(chromiumOfRun(tmp).filter((pid) => !mine.has(pid))).toEqual([]);
    expect(profileOwners(tmp)).toEqual([api.pid]);
    expect(strayFiles(tmp)).toEqual([]);
    await finishLoad();
  }, 240_000);

  it("the successor's Chromium crashes during the switch (SIGKILL of its browser as it takes over): it replaces it, serves, and nothing of the crashed one is left", async () => {
    const pidFile = join(dir, 'api.pid');
    const api = await startApi({ ...LOAD_API_ENV, LOG_FORMAT: 'json', TMPDIR: tmp }, { pidFile, timeoutMs: 60_000 });
    await waitReady(api.port, 60_000);
    load = await startLoadProcess({ port: api.port, ratePerSec: 100, maxDurationMs: 180_000, baseClients: 16, maxClients: 512, timeoutMs: 30_000, mix: STATS_ONLY });
    api.signal('SIGHUP');
    const successor = await waitFor('the successor to claim the pid file', () => {
      const pid = readPid(pidFile);
      return pid !== undefined && pid !== api.pid ? track(pid) : undefined;
    }, 90_000);
    const browser = await waitFor('the successor\'s browser', async () => (await qcStats(api.port, successor)).browserProcesses?.[0], 30_000);
    // The browser and every process under it, as the OOM killer would take the renderers too.
    for (const pid of processTree(browser.pid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone with its parent
      }
    }
    await waitFor('the successor to replace its browser', async () => {
      const stats = await qcStats(api.port, successor);
      return (stats.browserRestarts ?? 0) >= 1 && (stats.browserProcesses ?? []).length === 1 && stats.browserProcesses?.[0].pid !== browser.pid;
    }, 60_000);
    const report = await postJson(`${api.url}/qc/check`, { html: '<main><h1>After the crash</h1></main>' });
    expect(report.status).toBe(200);
    await waitFor('the predecessor to exit', () => !isRunning(api.pid), 60_000);
    expect(profileOwners(tmp)).toEqual([successor]);
    expect(strayFiles(tmp)).toEqual([]);
    expect(chromiumOfRun(tmp).every((pid) => processTree(successor).includes(pid))).toBe(true);
    await finishLoad();
  }, 240_000);

  it('stdout and stderr closed (the log reader died: EPIPE on every line): the handoff completes, the old process exits 0, the new one serves', async () => {
    const pidFile = join(dir, 'api.pid');
    const api = await startApi({ QC_ENABLED: 'false', LOG_FORMAT: 'json' }, { pidFile, timeoutMs: 60_000 });
    await waitReady(api.port, 30_000);
    api.child.stdout?.destroy();
    api.child.stderr?.destroy();
    api.signal('SIGHUP');
    const successor = await waitFor('the pid file to name a successor', () => {
      const pid = readPid(pidFile);
      return pid !== undefined && pid !== api.pid ? track(pid) : undefined;
    }, 60_000);
    await waitFor('the successor to answer ready', async () => (await check(`${api.url}/health`, { timeoutMs: 5_000 })).pid === successor, 60_000);
    expect((await api.exited).code).toBe(0);
    expect(await check(`${api.url}/health`, { timeoutMs: 5_000 })).toMatchObject({ state: 'ready', pid: successor });
  }, 120_000);

  it('SIGHUP during an ordinary drain (SIGTERM in Kubernetes mode, still serving for SHUTDOWN_DELAY_MS) is refused and logged; no successor starts; the process exits 0', async () => {
    const api = await startApi({ QC_ENABLED: 'false', LOG_FORMAT: 'json', SHUTDOWN_DELAY_MS: 3_000 }, { timeoutMs: 60_000 });
    await waitReady(api.port, 30_000);
    api.signal('SIGTERM');
    await waitFor('the drain to begin', async () => (await check(`${api.url}/health`, { timeoutMs: 5_000 })).state !== 'ready', 10_000);
    api.signal('SIGHUP');
    await waitFor('the refusal in the log', () => logLines(api).some((l) => l.pid === api.pid && /^SIGHUP: no handoff while (draining|delaying)/.test(l.msg)), 10_000);
    expect((await api.exited).code).toBe(0);
    expect(logLines(api).filter((l) => l.msg === 'handoff: successor started')).toEqual([]);
  }, 60_000);
});

/** The pool's /qc-stats of whichever process answers on `port` (asserting it is `pid` when given). */
async function qcStats(port: number, pid?: number): Promise<{ slots?: { busy: number }; browserRestarts?: number; browserProcesses?: { pid: number; profileDir: string }[] }> {
  const stats = (await (await fetch(`http://127.0.0.1:${port}/qc-stats`)).json()) as { browserProcesses?: { pid: number; profileDir: string }[] };
  if (pid !== undefined && stats.browserProcesses?.some((b) => !processTree(pid).includes(b.pid))) throw new Error(`/qc-stats answered by another process than ${pid}`);
  return stats;
}
