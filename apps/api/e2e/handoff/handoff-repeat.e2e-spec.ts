import { formatSummary, killLeftoverApis, LOAD_API_ENV, qcMix, readPid, startApi, startLoad, summarize, waitReady } from '@edu-agents/e2e-support';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromiumUnder, handOff, openFds, rssKb } from './handoff-support';

// Twenty handoffs in a row under load: nothing fails, and nothing accumulates
// (Chromium processes, file descriptors, memory of the serving process).
const HANDOFFS = Number(process.env["E2E_HANDOFFS"] ?? 20);
const RATE = 100;
const QC_EVERY = 100;
const SETTLE_MS = 3_000;

/** What the serving process holds after serving the load for a while. */
function resources(pid: number) {
  return { chromium: chromiumUnder(pid).length, fds: openFds(pid), rssKb: rssKb(pid) };
}

const within = (value: number, base: number, share: number) => Math.abs(value - base) <= base * share;

describe(`${HANDOFFS} consecutive hot handoffs under load`, () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'edu-handoff-repeat-'))));
  afterEach(async () => {
    await killLeftoverApis();
    rmSync(dir, { recursive: true, force: true });
  });

  it('fail no request and leave the serving process as they found it: Chromium count, fds and RSS within 10 %', async () => {
    const pidFile = join(dir, 'api.pid');
    // A short linger bound: a handoff is not done before its predecessor exited.
    const api = await startApi({ ...LOAD_API_ENV, LOG_FORMAT: 'json', SHUTDOWN_TIMEOUT_MS: 5_000 }, { pidFile, timeoutMs: 60_000 });
    await waitReady(api.port);
    const load = startLoad({ port: api.port, ratePerSec: RATE, maxDurationMs: 1_200_000, baseClients: 32, maxClients: 1_024, request: qcMix(QC_EVERY) });
    let first: ReturnType<typeof resources>;
    let last: ReturnType<typeof resources>;
    const pids: number[] = [];
    try {
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS)); // the same stretch of load before each measurement
      first = resources(readPid(pidFile) as number);
      for (let i = 0; i < HANDOFFS; i++) pids.push((await handOff(api, pidFile)).newPid);
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
      last = resources(readPid(pidFile) as number);
    } finally {
      load.stop();
    }
    const summary = summarize(await load.done);
    expect({ failed: summary.all.failed, errors: summary.all.byError, detail: formatSummary(`${HANDOFFS} handoffs`, summary) }).toMatchObject({ failed: 0, errors: {} });
    expect(new Set(pids).size).toBe(HANDOFFS);
    expect(last.chromium).toBe(first.chromium);
    expect({ fds: last.fds, first: first.fds, ok: within(last.fds, first.fds, 0.1) }).toMatchObject({ ok: true });
    expect({ rssKb: last.rssKb, first: first.rssKb, ok: within(last.rssKb, first.rssKb, 0.1) }).toMatchObject({ ok: true });
  }, 900_000);
});
