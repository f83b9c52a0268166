import { killLeftoverApis, readPid, startApi, waitFor, waitReady } from '@edu-agents/e2e-support';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromiumUnder, handOff, handoffDetails, health, isRunning, logLines, successorStarting } from './handoff-support';

// Signals that arrive while a handoff runs. The successor is slowed down only
// by what it really does (Nest, and Chromium where QC is on).
const QUICK = { LOG_FORMAT: 'json', QC_ENABLED: 'false' };

describe('signals during a hot handoff', () => {
  let dir: string;
  let pidFile: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'edu-handoff-signals-'));
    pidFile = join(dir, 'api.pid');
  });
  afterEach(async () => {
    await killLeftoverApis();
    rmSync(dir, { recursive: true, force: true });
  });

  it('SIGTERM during an upgrade cancels it (the successor dies with its Chromium), then the ordinary shutdown runs and exits 0', async () => {
    const api = await startApi({ LOG_FORMAT: 'json', QC_ENABLED: 'true' }, { pidFile, timeoutMs: 60_000 });
    await waitReady(api.port);
    api.signal('SIGHUP');
    const successor = await successorStarting(api);
    const chromium = await waitFor('the successor to launch Chromium', () => {
      const found = chromiumUnder(successor);
      return found.length > 0 ? found : undefined;
    }, 60_000);
    api.signal('SIGTERM');
    expect((await api.exited).code).toBe(0);
    await waitFor('the successor and its Chromium to be gone', () => ![successor, ...chromium].some(isRunning), 15_000);
    const lines = logLines(api);
    expect(lines).toContainEqual(expect.objectContaining({ pid: api.pid, msg: 'phase stopped' }));
    expect(lines.filter((l) => l.pid === successor && l.msg === 'phase ready')).toEqual([]);
  }, 180_000);

  it('refuses a second SIGHUP while an upgrade runs, logs it, and completes the first', async () => {
    const api = await startApi(QUICK, { pidFile, timeoutMs: 60_000 });
    api.signal('SIGHUP');
    const successor = await successorStarting(api);
    api.signal('SIGHUP');
    await waitFor('the refusal in the log', () => logLines(api).some((l) => l.pid === api.pid && /upgrade refused/.test(l.msg)), 10_000);
    await waitFor('the handoff to the first successor', async () => (await health(api)).pid === successor, 60_000);
    expect(readPid(pidFile)).toBe(successor);
    expect((await api.exited).code).toBe(0);
    expect(logLines(api).filter((l) => l.msg === 'phase starting').map((l) => l.pid)).toEqual([api.pid, successor]);
  }, 120_000);

  it('takes SIGKILL of the starting successor as a failed upgrade and nothing more: the old pid serves on, ready, and hands over later', async () => {
    const api = await startApi(QUICK, { pidFile, timeoutMs: 60_000 });
    api.signal('SIGHUP');
    const successor = await successorStarting(api);
    process.kill(successor, 'SIGKILL');
    await waitFor('the failed attempt on /health', async () => {
      const h = await handoffDetails(api);
      return h.state === 'idle' && (h['last'] as { ok?: boolean } | undefined)?.ok === false ? h : undefined;
    }, 30_000);
    const after = await handoffDetails(api);
    expect(after).toMatchObject({ answeredBy: api.pid, last: { ok: false, reason: 'exited', successorPid: successor, exit: { signal: 'SIGKILL' } } });
    expect(await health(api)).toMatchObject({ state: 'ready', pid: api.pid });
    expect(readPid(pidFile)).toBe(api.pid);
    const { newPid } = await handOff(api, pidFile);
    expect(newPid).not.toBe(successor);
  }, 180_000);

  it('keeps serving from the successor when the predecessor is SIGKILLed right after the switch', async () => {
    const api = await startApi(QUICK, { pidFile, timeoutMs: 60_000 });
    // Without a connection of its own the old process exits within milliseconds of the switch (CI once
    // saw it gone before the kill). A request begun and not finished cannot move to the successor, so
    // the old process stays for it until killed.
    const begun = connect(api.port, '127.0.0.1');
    await new Promise((resolve, reject) => begun.once('connect', resolve).once('error', reject));
    begun.write('GET /health HTTP/1.1\r\nHost: localhost\r\n');
    try {
      api.signal('SIGHUP');
      const successor = await waitFor('the pid file to name the successor', () => {
        const pid = readPid(pidFile);
        return pid !== undefined && pid !== api.pid ? pid : undefined;
      }, 60_000);
      process.kill(api.pid, 'SIGKILL');
      expect((await api.exited).signal).toBe('SIGKILL');
      for (let i = 0; i < 20; i++) expect(await health(api)).toMatchObject({ state: 'ready', pid: successor });
      expect(isRunning(successor)).toBe(true);
    } finally {
      begun.destroy();
    }
  }, 120_000);
});
