import { formatSummary, judgeLoad, killLeftoverApis, LOAD_API_ENV, qcMix, readPid, startApi, startLoad, summarize, waitReady } from '@edu-agents/e2e-support';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromiumUnder, handOff, openFds, rssKb } from './handoff-support';

// Twenty handoffs in a row under load: nothing fails, and nothing accumulates
// (Chromium processes, file descriptors, memory of the serving process). The fds
// compared are the process's own: the load's idle keep-alive connections (how many
// clients the load generator happened to open) are counted and printed, not compared.
const HANDOFFS = Number(process.env["E2E_HANDOFFS"] ?? 20);
const RATE = 100;
const QC_EVERY = 100;
const SETTLE_MS = 3_000;

const SAMPLES = 15;
const SAMPLE_EVERY_MS = 200;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/**
 * What the serving process holds while it serves the load: the median of SAMPLES readings taken
 * SAMPLE_EVERY_MS apart, so that one reading caught just before or after a garbage collection
 * (RSS moves by megabytes with it) does not stand for the process.
 */
async function resources(pid: number, port: number) {
  const samples: { chromium: number; fds: number; clientConnections: number; rssKb: number }[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    if (i > 0) await new Promise((resolve) => setTimeout(resolve, SAMPLE_EVERY_MS));
    const fds = openFds(pid, port);
    samples.push({ chromium: chromiumUnder(pid).length, fds: fds.own, clientConnections: fds.clientConnections, rssKb: rssKb(pid) });
  }
  const of = (key: keyof (typeof samples)[number]) => median(samples.map((s) => s[key]));
  return { chromium: of('chromium'), fds: of('fds'), clientConnections: of('clientConnections'), rssKb: of('rssKb') };
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
    let first: Awaited<ReturnType<typeof resources>>;
    let firstSuccessor: Awaited<ReturnType<typeof resources>> | undefined;
    let last: Awaited<ReturnType<typeof resources>>;
    const pids: number[] = [];
    const rssSeries: number[] = [];
    try {
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS)); // the same stretch of load before each measurement
      first = await resources(readPid(pidFile) as number, api.port);
      for (let i = 0; i < HANDOFFS; i++) {
        const { newPid } = await handOff(api, pidFile);
        pids.push(newPid);
        rssSeries.push(rssKb(newPid)); // one reading right after each handoff: a trend, printed, not compared
        if (i === 0) {
          await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
          firstSuccessor = await resources(newPid, api.port);
        }
      }
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
      last = await resources(readPid(pidFile) as number, api.port);
    } finally {
      load.stop();
    }
    const run = await load.done;
    const summary = summarize(run);
    console.log(`${HANDOFFS} handoffs, serving process (median of ${SAMPLES} samples) at the start, after the first handoff and at the end: ${JSON.stringify({ first, firstSuccessor, last })}; RSS kB of each successor once it served: ${rssSeries.join(' ')}`);
    // A failure names itself: what was asked, what came back, and when. No fault here excuses any.
    const failures = judgeLoad(run, { ports: new Set() }).violations.slice(0, 5);
    expect({ failed: summary.all.failed, errors: summary.all.byError, failures, detail: formatSummary(`${HANDOFFS} handoffs`, summary) }).toMatchObject({ failed: 0, errors: {}, failures: [] });
    expect(new Set(pids).size).toBe(HANDOFFS);
    expect(last.chromium).toBe(first.chromium);
    expect({ fds: last.fds, first: first.fds, ok: within(last.fds, first.fds, 0.1) }).toMatchObject({ ok: true });
    // RSS is compared between processes born the same way and measured in the same phase: the
    // first successor and the last. The original process (started with no predecessor and no
    // cache to import) is printed, not compared.
    const base = firstSuccessor?.rssKb ?? first.rssKb;
    expect({ rssKb: last.rssKb, firstSuccessor: base, ok: within(last.rssKb, base, 0.1) }).toMatchObject({ ok: true });
  }, 900_000);
});
