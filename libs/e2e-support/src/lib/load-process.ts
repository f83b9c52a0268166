// The open-loop load generator as a process of its own, so that a benchmark's
// orchestration (spawning, health polling, parsing) cannot stall its sends.
//
//   node -r @swc-node/register load-process.ts '<LoadProcessSpec as JSON>'
//
// Prints one JSON line `{"event":"started",...}` once the schedule runs, and one
// `{"event":"done",...}` line with every request's record, the send lag and the
// event-loop delay of this process once the schedule ended: at the spec's
// maxDurationMs, on SIGTERM or SIGINT, on an IPC message `{ "type": "stop" }`, or when
// the IPC channel to its parent closes. load-process-client.ts is the parent side.
import { constants, monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import { startLoad } from './load-generator';
import { lagStats, sendLag } from './load-report';
import type { LoadProcessEvent, LoadProcessGc, LoadProcessSpec } from './load-process-client';

function emit(event: LoadProcessEvent): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

async function main(): Promise<void> {
  const text = process.argv[2];
  if (text === undefined) throw new Error('usage: load-process.ts <spec as JSON>');
  const spec = JSON.parse(text) as LoadProcessSpec;
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const collections: { startTime: number; duration: number; major: boolean }[] = [];
  const gcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
      collections.push({ startTime: e.startTime, duration: e.duration, major: kind === constants.NODE_PERFORMANCE_GC_MAJOR });
    }
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  const load = startLoad({ ...spec, request: spec.mix });
  const stop = () => load.stop();
  process.once('SIGTERM', stop).once('SIGINT', stop);
  process.on('message', (message: { type?: string }) => message?.type === 'stop' && stop());
  process.once('disconnect', stop);
  emit({ event: 'started', pid: process.pid, t0Epoch: load.t0Epoch });
  const run = await load.done;
  loopDelay.disable();
  gcObserver.disconnect();
  // performance's clock starts at this process's time origin; the load's at its t0 (epoch ms).
  const atMs = (startTime: number) => Math.round((performance.timeOrigin + startTime - run.t0Epoch) * 10) / 10;
  const round = (ms: number) => Math.round(ms * 100) / 100;
  const minor = collections.filter((c) => !c.major);
  const gc: LoadProcessGc = {
    major: collections.filter((c) => c.major).map((c) => ({ atMs: atMs(c.startTime), ms: round(c.duration) })),
    minor: { count: minor.length, ms: round(minor.reduce((sum, c) => sum + c.duration, 0)) },
  };
  const ns = (q: number) => Math.round(loopDelay.percentile(q) / 1e4) / 100;
  emit({
    event: 'done', run, sendLag: sendLag(run.records),
    eventLoopDelay: loopDelay.count === 0 ? lagStats([]) : { p50Ms: ns(50), p99Ms: ns(99), maxMs: Math.round(loopDelay.max / 1e4) / 100 },
    gc,
  });
  if (process.connected) process.disconnect();
}

main().catch((error) => {
  process.stderr.write(`load process: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
