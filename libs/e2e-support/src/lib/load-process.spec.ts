import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { STATS_ONLY } from './load-mix';
import { startLoadProcess } from './load-process-client';
import { outcomeGaps, summarize } from './load-report';
import { waitFor } from './wait-for';

/** Numeric field `n` (as numbered in proc(5)) of /proc/<pid>/stat, read once. */
function statOf(pid: number): (n: number) => number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (n) => Number(fields[n - 3]);
}

describe('the load generator as a process of its own', () => {
  let server: Server;
  const sockets = new Set<Socket>();
  let arrived = 0;
  let port: number;

  beforeAll(async () => {
    server = createServer((req, res) => req.resume().on('end', () => ((arrived += 1), res.end('ok'))));
    server.on('connection', (s: Socket) => (sockets.add(s), s.on('close', () => sockets.delete(s))));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });

  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it('runs the spec it is given, stops on a message, and reports every request once with its send lag', async () => {
    arrived = 0;
    const load = await startLoadProcess({ port, ratePerSec: 100, maxDurationMs: 60_000, baseClients: 4, mix: STATS_ONLY });
    expect(load.pid).not.toBe(process.pid);
    await waitFor('some requests to arrive', () => arrived >= 10);
    load.stop();
    const report = await load.done;
    expect(outcomeGaps(report.run)).toEqual({ missing: [], repeated: [] });
    expect(report.run.scheduled).toBeGreaterThanOrEqual(10);
    expect(report.run.scheduled).toBeLessThan(6_000);
    expect(summarize(report.run).all).toMatchObject({ failed: 0, byStatus: { '200': report.run.scheduled } });
    expect(report.run.t0Epoch).toBe(load.t0Epoch);
    expect(report.sendLag.maxMs).toBeGreaterThanOrEqual(report.sendLag.p50Ms);
    expect(report.eventLoopDelay.maxMs).toBeGreaterThan(0);
  });

  it('reports its own collections, and does no full collection while it runs', async () => {
    const load = await startLoadProcess({ port, ratePerSec: 500, maxDurationMs: 4_000, baseClients: 16, mix: STATS_ONLY });
    const report = await load.done;
    expect(outcomeGaps(report.run)).toEqual({ missing: [], repeated: [] });
    expect(report.run.scheduled).toBeGreaterThanOrEqual(1_500);
    // Its young generation fills every second or so at this rate: the observer sees those.
    expect(report.gc.minor.count).toBeGreaterThan(0);
    expect(report.gc.minor.ms).toBeGreaterThan(0);
    // A full collection marks on helper threads and takes CPU from what the load measures; the
    // old space it starts with leaves none to do in a run this short (or in a bench row of a minute).
    expect(report.gc.major).toEqual([]);
  });

  it('stops on SIGTERM too', async () => {
    const load = await startLoadProcess({ port, ratePerSec: 50, maxDurationMs: 60_000, mix: STATS_ONLY });
    process.kill(load.pid, 'SIGTERM');
    const report = await load.done;
    expect(outcomeGaps(report.run)).toEqual({ missing: [], repeated: [] });
    expect(report.run.scheduled).toBeLessThan(3_000);
  });

  it('runs in a session of its own at the nice value it is given, group and process, and still reports', async () => {
    const load = await startLoadProcess({ port, ratePerSec: 50, maxDurationMs: 60_000, mix: STATS_ONLY }, undefined, { nice: 7 });
    try {
      const field = statOf(load.pid);
      expect(field(6)).toBe(load.pid); // its session id: a session of its own
      expect(field(19)).toBe(7); // its nice value
      if (existsSync(`/proc/${load.pid}/autogroup`)) expect(readFileSync(`/proc/${load.pid}/autogroup`, 'utf8')).toMatch(/ nice 7$/m);
    } finally {
      load.stop();
    }
    const report = await load.done;
    expect(outcomeGaps(report.run)).toEqual({ missing: [], repeated: [] });
  });

  it('runs at SCHED_FIFO 1 in a session of its own when asked to be real-time, and still reports', async () => {
    const load = await startLoadProcess({ port, ratePerSec: 50, maxDurationMs: 60_000, mix: STATS_ONLY }, undefined, { realtime: true });
    try {
      const field = statOf(load.pid);
      expect(field(6)).toBe(load.pid);
      expect({ rtPriority: field(40), policy: field(41) }).toEqual({ rtPriority: 1, policy: 1 }); // SCHED_FIFO
    } finally {
      load.stop();
    }
    const report = await load.done;
    expect(outcomeGaps(report.run)).toEqual({ missing: [], repeated: [] });
  });

  it('refuses a nice value together with real-time, naming the conflict', async () => {
    await expect(startLoadProcess({ port, ratePerSec: 50, maxDurationMs: 5_000, mix: STATS_ONLY }, undefined, { nice: -5, realtime: true })).rejects.toThrow(
      'the load process runs either at a nice value or at SCHED_FIFO, not both',
    );
  });

  it('refuses a nice value out of range, naming it', async () => {
    await expect(startLoadProcess({ port, ratePerSec: 500, maxDurationMs: 5_000, mix: STATS_ONLY }, undefined, { nice: 40 })).rejects.toThrow(
      "the load process's nice value must be an integer from -20 to 19 (got 40)",
    );
  });

  it('fails with the reason when the spec is unusable', async () => {
    await expect(startLoadProcess({ port, ratePerSec: 0, maxDurationMs: 1_000, mix: STATS_ONLY })).rejects.toThrow(/must be positive/);
  });
});
