import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { STATS_ONLY } from './load-mix';
import { startLoadProcess } from './load-process-client';
import { outcomeGaps, summarize } from './load-report';
import { waitFor } from './wait-for';

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

  it('stops on SIGTERM too', async () => {
    const load = await startLoadProcess({ port, ratePerSec: 50, maxDurationMs: 60_000, mix: STATS_ONLY });
    process.kill(load.pid, 'SIGTERM');
    const report = await load.done;
    expect(outcomeGaps(report.run)).toEqual({ missing: [], repeated: [] });
    expect(report.run.scheduled).toBeLessThan(3_000);
  });

  it('fails with the reason when the spec is unusable', async () => {
    await expect(startLoadProcess({ port, ratePerSec: 0, maxDurationMs: 1_000, mix: STATS_ONLY })).rejects.toThrow(/must be positive/);
  });
});
