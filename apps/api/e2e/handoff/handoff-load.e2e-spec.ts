import {
  formatSummary, judgeLoad, killLeftoverApis, LOAD_API_ENV, outcomeGaps, postJson, qcMix, readPid, startApi, startLoad, summarize, waitFor, waitReady,
} from '@edu-agents/e2e-support';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromeProcessesOf, threadsSchedOf } from '../support/chrome-procs';
import { handOff, health, logLines } from './handoff-support';

// The hot handoff of one instance on its own port: no nginx in front, no
// socket held by systemd. Only the inherited socket keeps clients from noticing.
const RATE = 200;
const QC_EVERY = 100; // 2 real renders per second, each with its own HTML
const STEADY_MS = 3_000;
const AFTER_MS = 2_000;

describe('hot handoff of a single instance on its own port', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'edu-handoff-'))));
  afterEach(async () => {
    await killLeftoverApis();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`fails not one request of an open-loop load at ${RATE}/s with QC POSTs: none refused, the old pid exits 0, the new one serves`, async () => {
    const pidFile = join(dir, 'api.pid');
    const api = await startApi({ ...LOAD_API_ENV, LOG_FORMAT: 'json' }, { pidFile, timeoutMs: 60_000 });
    const firstPid = await waitReady(api.port);
    const load = startLoad({ port: api.port, ratePerSec: RATE, maxDurationMs: 120_000, baseClients: 32, maxClients: 1_024, request: qcMix(QC_EVERY) });
    let pids: { oldPid: number; newPid: number };
    try {
      await new Promise((resolve) => setTimeout(resolve, STEADY_MS)); // a measured steady stretch before the signal, not a wait for a condition
      pids = await handOff(api, pidFile);
      await new Promise((resolve) => setTimeout(resolve, AFTER_MS)); // load goes on against the successor alone
    } finally {
      load.stop();
    }
    const run = await load.done;
    const summary = summarize(run);
    const detail = formatSummary('hot handoff under load', summary);
    expect(outcomeGaps(run)).toEqual({ missing: [], repeated: [] });
    // A failure names itself: what was asked, what came back (which 503 of several), and when. No fault here excuses any.
    const failures = judgeLoad(run, { ports: new Set() }).violations.slice(0, 5);
    expect({ errors: summary.all.byError, statuses: Object.keys(summary.all.byStatus), failures, detail }).toEqual({ errors: {}, statuses: ['200'], failures: [], detail });
    expect(summary.all.failed).toBe(0);
    expect(summary.byLabel['POST /qc/check']?.requests).toBeGreaterThan(0);
    expect(pids.oldPid).toBe(firstPid);
    expect((await api.exited).code).toBe(0);
    expect(await health(api)).toMatchObject({ state: 'ready', pid: pids.newPid });
    expect(readPid(pidFile)).toBe(pids.newPid);
  }, 180_000);

  it('hands over the QC result cache: a lesson checked before the handoff is a cache hit after it', async () => {
    const pidFile = join(dir, 'api.pid');
    // HANDOFF_SUCCESSOR_CHROME_NICE: the successor's Chromium at 10 until its predecessor has exited (checked below).
    const api = await startApi({ ...LOAD_API_ENV, LOG_FORMAT: 'json', HANDOFF_SUCCESSOR_CHROME_NICE: '10' }, { pidFile, timeoutMs: 60_000 });
    await waitReady(api.port);
    const lesson = { html: '<main><h1>Photosynthesis</h1><img src="leaf.png"></main>' };
    const before = await postJson(`${api.url}/qc/check`, lesson);
    expect(before.status).toBe(200);
    expect(before.json()).toMatchObject({ cached: false });
    const { oldPid, newPid } = await handOff(api, pidFile);
    const after = await postJson(`${api.url}/qc/check`, lesson);
    expect(after.status).toBe(200);
    expect(after.json()).toMatchObject({ cached: true });
    const lines = logLines(api).filter((line) => line.pid === newPid);
    expect(lines).toContainEqual(expect.objectContaining({ msg: 'handoff: took over the QC result cache', imported: 1 }));
    // Before it listened, the successor waited for its new Chromium to go quiet (HANDOFF_SETTLE_MS, 3 s by default).
    const settled = lines.findIndex((line) => /^handoff: Chromium (is quiet|still busy after 3000 ms; listening anyway)$/.test(String(line.msg)));
    expect(lines[settled]).toMatchObject({ quiet: expect.any(Boolean), waitedMs: expect.any(Number), cpuMs: expect.any(Number) });
    // A window starts only while a whole one fits before the deadline; a late timer may add a little.
    expect(lines[settled]?.waitedMs).toBeLessThan(3_500);
    const listening = lines.findIndex((line) => line.msg === 'listening');
    expect(settled).toBeLessThan(listening);
    // Its warm-up requests ran with V8 optimizing after fewer runs (HANDOFF_WARM_TIER_UP), with this node's defaults read from node --v8-options.
    const warmed = lines.findIndex((line) => line.msg === 'handoff: warmed the request path');
    expect({ after: warmed > settled, before: warmed < listening, line: lines[warmed] }).toEqual({
      after: true, before: true, line: expect.objectContaining({ requests: 200, tierUp: expect.stringMatching(/^--interrupt-budget=\d+ --ticks-before-optimization=1$/) }),
    });
    // Where it can leave SCHED_IDLE again (root here; elsewhere RLIMIT_NICE 20), the successor started at SCHED_IDLE in the
    // old process's group and set its whole tree back to SCHED_OTHER before it listened; Chromium keeps its nice.
    const told = logLines(api).filter((line) => line.pid === oldPid).map((line) => String(line.msg));
    if (told.includes(`handoff: successor ${newPid} starts at SCHED_IDLE in this process's scheduling group until it listens`)) {
      // Its threads other than the main one stayed at SCHED_IDLE 3 s longer (HANDOFF_HELPERS_IDLE_MS), then followed.
      const left = lines.findIndex((line) => /^handoff: left SCHED_IDLE: \d+ processes of this tree back to SCHED_OTHER, this process's main thread only: its other threads follow in 3000 ms$/.test(String(line.msg)));
      expect({ left: left > settled, beforeListening: left < listening }).toEqual({ left: true, beforeListening: true });
      const followed = await waitFor('the successor\'s other threads to leave SCHED_IDLE', () =>
        logLines(api).find((line) => line.pid === newPid && /^handoff: this process's other threads back to SCHED_OTHER \(\d+\)$/.test(String(line.msg))), 20_000);
      expect(Date.parse(String(followed.time)) - Date.parse(String(lines[left]?.time))).toBeGreaterThanOrEqual(3_000);
      // Its Chromium ran at nice 10 (HANDOFF_SUCCESSOR_CHROME_NICE) until the old process had exited, then at QC_CHROME_NICE.
      const lowered = await waitFor('the successor\'s Chromium to go to nice 19 once its predecessor exited', () =>
        logLines(api).find((line) => line.pid === newPid && line.msg === 'handoff: the predecessor has exited; Chromium from nice 10 to QC_CHROME_NICE 19'), 20_000);
      expect(lowered).toMatchObject({ refused: 0, threads: expect.any(Number) });
      expect(lowered['threads']).toBeGreaterThan(10);
      const chrome = chromeProcessesOf(newPid);
      expect(chrome.length).toBeGreaterThan(0);
      expect(threadsSchedOf(newPid)).toEqual(expect.arrayContaining([{ policy: 0, nice: 0 }]));
      expect(new Set(threadsSchedOf(newPid).map((t) => t.policy))).toEqual(new Set([0]));
      expect(new Set(chrome.flatMap((pid) => threadsSchedOf(pid)).map((t) => `${t.policy}/${t.nice}`))).toEqual(new Set(['0/19']));
    } else {
      expect(told).toContainEqual(expect.stringMatching(/^handoff: the successor cannot start at SCHED_IDLE here \(.+\); it starts as successorNice says$/));
    }
  }, 180_000);
});
