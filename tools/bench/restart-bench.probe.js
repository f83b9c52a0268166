// An instrument of restart-bench.ts, loaded into every node process of a run with
// NODE_OPTIONS="--require <this file>" (a handoff successor inherits the
// environment, so it runs there too). Every 100 ms it appends one line to
// $RESTART_BENCH_PROBE_DIR/probe-<pid>.jsonl:
//   {"t": epoch ms, "pid", "loopMaxMs", "loopMeanMs", "responses", "main"}
// the largest and mean event-loop delay since the last line (perf_hooks, 10 ms
// resolution), how many HTTP responses other than /health this process finished
// (diagnostics_channel, no patching), and its entry file. A stalled loop writes
// nothing until it runs again; that line then carries the stall as its delay.
// Plain CommonJS so that it loads into the built API without a TypeScript loader.
'use strict';
const dir = process.env.RESTART_BENCH_PROBE_DIR;
if (dir) {
  const { openSync, writeSync } = require('node:fs');
  const { join } = require('node:path');
  const { monitorEventLoopDelay } = require('node:perf_hooks');
  const diagnostics = require('node:diagnostics_channel');
  const fd = openSync(join(dir, `probe-${process.pid}.jsonl`), 'a');
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  let responses = 0;
  diagnostics.subscribe('http.server.response.finish', ({ request }) => {
    const url = request && request.url ? request.url : '';
    if (!url.startsWith('/health')) responses += 1;
  });
  const main = process.argv[1] || '';
  const timer = setInterval(() => {
    const line = {
      t: Date.now(),
      pid: process.pid,
      loopMaxMs: Math.round(histogram.max / 1e4) / 100,
      loopMeanMs: Number.isFinite(histogram.mean) ? Math.round(histogram.mean / 1e4) / 100 : 0,
      responses,
      main,
    };
    histogram.reset();
    responses = 0;
    try {
      writeSync(fd, `${JSON.stringify(line)}\n`);
    } catch {
      clearInterval(timer); // the run's directory is gone: the benchmark ended
    }
  }, 100);
  timer.unref();
}
