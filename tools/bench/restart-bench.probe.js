// An instrument of restart-bench.ts, loaded into every node process of a run with
// NODE_OPTIONS="--require <this file>" (a handoff successor inherits the
// environment, so it runs there too). Every 100 ms it appends one line to
// $RESTART_BENCH_PROBE_DIR/probe-<pid>.jsonl:
//   {"t": epoch ms, "mono": the same moment on CLOCK_MONOTONIC (ms), "pid", "loopMaxMs", "loopMeanMs", "responses", "main"}
// the largest and mean event-loop delay since the last line (perf_hooks, 10 ms
// resolution), how many HTTP responses other than /health this process finished
// (diagnostics_channel, no patching), and its entry file. A stalled loop writes
// nothing until it runs again; that line then carries the stall as its delay.
// Next to it, requests-<pid>.jsonl gets one line per 100 ms with every response
// other than /health finished since: {"t", "r": [[start, end, remotePort, localPort], ...]},
// start when the request's head was parsed and end when its response finished
// (epoch ms, 0.01 ms), remotePort the client side's port, localPort the one it reached: restart-bench.requests.ts
// joins them with the load's own records (which process answered, and where a slow
// request waited). Its lines also carry "gc": [[start, ms, kind], ...], V8's garbage-collection
// pauses of this process since the line before (epoch ms, 0.01 ms; kind as perf_hooks names it:
// 1 minor, 2 major, 4 incremental, 8 weak callbacks).
// Plain CommonJS so that it loads into the built API without a TypeScript loader.
'use strict';
const dir = process.env.RESTART_BENCH_PROBE_DIR;
if (dir) {
  const { mkdirSync, openSync, writeFileSync, writeSync } = require('node:fs');
  const { join } = require('node:path');
  const { monitorEventLoopDelay, performance, PerformanceObserver } = require('node:perf_hooks');
  const diagnostics = require('node:diagnostics_channel');
  const fd = openSync(join(dir, `probe-${process.pid}.jsonl`), 'a');
  const requestsFd = openSync(join(dir, `requests-${process.pid}.jsonl`), 'a');
  const hundredths = (ms) => Math.round(ms * 100) / 100;
  /** Epoch ms (0.01 ms) of a moment on this process's performance clock. */
  const epoch = (performanceMs) => hundredths(performance.timeOrigin + performanceMs);
  const now = () => epoch(performance.now());
  const started = new WeakMap();
  let finished = [];
  let pauses = [];
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) pauses.push([epoch(entry.startTime), hundredths(entry.duration), entry.detail?.kind ?? 0]);
  }).observe({ entryTypes: ['gc'] });
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  let responses = 0;
  diagnostics.subscribe('http.server.request.start', ({ request }) => started.set(request, now()));
  diagnostics.subscribe('http.server.response.finish', ({ request, socket }) => {
    const url = request && request.url ? request.url : '';
    if (url.startsWith('/health')) return;
    responses += 1;
    finished.push([started.get(request) ?? 0, now(), socket ? socket.remotePort : 0, socket ? socket.localPort : 0]);
  });
  const main = process.argv[1] || '';
  const timer = setInterval(() => {
    const line = {
      t: Date.now(),
      // V8's CPU profiles (--cpu-prof) count on the monotonic clock: this places them on the run's.
      mono: Number(process.hrtime.bigint() / 1000n) / 1000,
      pid: process.pid,
      loopMaxMs: Math.round(histogram.max / 1e4) / 100,
      loopMeanMs: Number.isFinite(histogram.mean) ? Math.round(histogram.mean / 1e4) / 100 : 0,
      responses,
      main,
    };
    histogram.reset();
    responses = 0;
    const requests = finished;
    const gc = pauses;
    finished = [];
    pauses = [];
    try {
      writeSync(fd, `${JSON.stringify(line)}\n`);
      if (requests.length || gc.length) writeSync(requestsFd, `${JSON.stringify({ t: line.t, r: requests, gc })}\n`);
    } catch {
      clearInterval(timer); // the run's directory is gone: the benchmark ended
    }
  }, 100);
  timer.unref();
  // restart-bench.ts --cpu-prof: a V8 CPU profile of this process (sampled every 0.5 ms), written
  // when it exits (--cpu-prof itself is not allowed in NODE_OPTIONS).
  const profDir = process.env.RESTART_BENCH_CPU_PROF_DIR;
  if (profDir) {
    const inspector = require('node:inspector');
    const session = new inspector.Session();
    session.connect();
    session.post('Profiler.enable');
    session.post('Profiler.setSamplingInterval', { interval: 500 });
    session.post('Profiler.start');
    process.once('exit', () => {
      session.post('Profiler.stop', (error, result) => {
        if (error || !result) return;
        try {
          mkdirSync(profDir, { recursive: true });
          writeFileSync(join(profDir, `CPU.${process.pid}.cpuprofile`), JSON.stringify(result.profile));
        } catch {
          // the run's directory is gone
        }
      });
    });
  }
}
