import { killLeftoverApis, readPid, startApi, track, waitFor, waitReady } from '@edu-agents/e2e-support';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { threadsSchedOf } from '../support/chrome-procs';
import { chromiumUnder, health, isRunning, logLines } from './handoff-support';

// The old process after the switch: its connections move at once, its Chromium stays until
// HANDOFF_RETIRE_AFTER_MS, then it and its Chromium (not the successor) go to SCHED_IDLE,
// close and exit. Real API processes, real Chromium, real chrt.
const SCHED_IDLE = 5;

describe('the old process retires after the switch', () => {
  let dir: string;
  let pidFile: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'edu-handoff-retire-'));
    pidFile = join(dir, 'api.pid');
  });
  afterEach(async () => {
    await killLeftoverApis();
    rmSync(dir, { recursive: true, force: true });
  });

  async function switched(retireAfterMs: number) {
    const api = await startApi({ LOG_FORMAT: 'json', LOG_LEVEL: 'info', QC_ENABLED: 'true', HANDOFF_RETIRE_AFTER_MS: String(retireAfterMs) }, { pidFile, timeoutMs: 60_000 });
    await waitReady(api.port);
    const oldChromium = await waitFor('the first process to launch Chromium', () => {
      const found = chromiumUnder(api.pid);
      return found.length > 0 ? found : undefined;
    }, 60_000);
    api.signal('SIGHUP');
    const newPid = await waitFor('the successor to answer ready', async () => {
      const h = await health(api);
      return h.state === 'ready' && h.pid !== api.pid ? track(h.pid as number) : undefined;
    }, 90_000);
    return { api, newPid, oldChromium };
  }

  it('keeps its Chromium until HANDOFF_RETIRE_AFTER_MS, then retires at SCHED_IDLE without the successor\'s tree and exits', async () => {
    const { api, newPid, oldChromium } = await switched(2_000);
    // Right after the switch the old Chromium is still there (it goes 2 s later).
    expect(oldChromium.some(isRunning)).toBe(true);
    expect((await api.exited).code).toBe(0);
    await waitFor('the old Chromium to be gone', () => !oldChromium.some(isRunning), 15_000);

    const lines = logLines(api).filter((l) => l.pid === api.pid);
    const at = (msg: RegExp) => Date.parse(String(lines.find((l) => msg.test(l.msg))?.['time']));
    expect(lines.map((l) => l.msg)).toContainEqual(expect.stringMatching(/then retiring in 2000 ms$/));
    expect(lines.map((l) => l.msg)).toContainEqual(expect.stringMatching(/^handed over: retiring at SCHED_IDLE \(\d+ processes of this tree\)$/));
    expect(at(/^handed over: released the QC pool/) - at(/^handed over: stopped accepting/)).toBeGreaterThanOrEqual(2_000);

    // The successor and its Chromium serve at the normal policy, its helper threads too once
    // HANDOFF_HELPERS_IDLE_MS (3 s) after it listened; none of its threads went idle with the old process.
    await waitFor('the successor\'s helper threads to leave SCHED_IDLE', () => logLines(api).some((l) => l.pid === newPid && /^handoff: this process's other threads back to SCHED_OTHER \(\d+\)$/.test(l.msg)) || undefined, 15_000);
    const successorTree = [newPid, ...chromiumUnder(newPid)];
    expect(successorTree.length).toBeGreaterThan(1);
    expect(successorTree.flatMap(threadsSchedOf).filter((t) => t.policy === SCHED_IDLE)).toEqual([]);
    expect(readPid(pidFile)).toBe(newPid);
    const answer = await fetch(`http://127.0.0.1:${api.port}/qc/check`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ html: '<main><h1>After the retirement</h1></main>' }) });
    expect(answer.status).toBe(200);
  }, 180_000);

  it('a SIGTERM before its retirement stops it at once, at its own priority', async () => {
    const { api, oldChromium } = await switched(30_000);
    api.signal('SIGTERM');
    expect((await api.exited).code).toBe(0);
    await waitFor('the old Chromium to be gone', () => !oldChromium.some(isRunning), 15_000);
    const messages = logLines(api).filter((l) => l.pid === api.pid).map((l) => l.msg);
    expect(messages).toContain('phase stopped');
    expect(messages.filter((m) => /retiring at/.test(m))).toEqual([]);
    expect((await health(api)).state).toBe('ready');
  }, 180_000);

  it('a connection opened before the switch that has sent nothing yet moves to the successor: the old process does not wait for it', async () => {
    const api = await startApi({ LOG_FORMAT: 'json', LOG_LEVEL: 'info', QC_ENABLED: 'false', HANDOFF_RETIRE_AFTER_MS: '0' }, { pidFile, timeoutMs: 60_000 });
    await waitReady(api.port);
    // As an HTTP client's pool or a browser's preconnect: open now, first request later.
    const silent = connect(api.port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => silent.once('connect', resolve).once('error', reject));
    try {
      api.signal('SIGHUP');
      const newPid = await waitFor('the successor to answer ready', async () => {
        const h = await health(api);
        return h.state === 'ready' && h.pid !== api.pid ? track(h.pid as number) : undefined;
      }, 90_000);
      // Its shutdown would wait up to SHUTDOWN_TIMEOUT_MS for a connection that stayed.
      let exit: Awaited<typeof api.exited> | undefined;
      void api.exited.then((e) => (exit = e));
      await waitFor('the old process to exit', () => exit, 10_000);
      expect(exit?.code).toBe(0);
      const answer = new Promise<string>((resolve, reject) => {
        let text = '';
        silent.on('data', (chunk: Buffer) => (text += chunk.toString())).once('end', () => resolve(text)).once('error', reject);
      });
      silent.write('GET /health HTTP/1.1\r\nHost: api\r\nConnection: close\r\n\r\n');
      const text = await answer;
      expect(text.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
      expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)).details.shutdown.pid).toBe(newPid);
    } finally {
      silent.destroy();
    }
  }, 120_000);
});
