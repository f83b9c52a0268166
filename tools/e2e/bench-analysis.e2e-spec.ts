import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

// The analysis scripts of tools/bench are ES modules run by hand on a run's files; here their
// pure parts run on made-up records, through node itself (Jest here loads CommonJS only).
const ROOT = join(__dirname, '../..');

/** Runs `body` as CommonJS through the workspace's SWC register (for the TypeScript modules of the benchmarks). */
function runTs(body: string): { stdout: string; stderr: string } {
  return spawnSync('node', ['-r', '@swc-node/register', '-e', body], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, SWC_NODE_PROJECT: 'tsconfig.base.json' } });
}

/** Runs `body` as an ES module in the workspace root and returns what it printed as JSON. */
function evaluate(body: string): unknown {
  const result = spawnSync('node', ['--input-type=module', '-e', body], { cwd: ROOT, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`node exited with ${result.status}: ${result.stderr}`);
  return JSON.parse(result.stdout) as unknown;
}

/** A rolling-free handoff: signal at 10 s, ready at 14 s, the old process gone at 14.2 s (bench ms). */
const MARKERS = [
  { kind: 'signal', ms: 10_000, label: 'signal' },
  { kind: 'ready', ms: 14_000, label: 'successor ready' },
  { kind: 'exit', ms: 14_200, label: 'predecessor exit' },
];

/** One line of `perf sched timehist`: when a thread left a CPU, its wait before it ran and its run (ms). */
const switchLine = (endS: number, cpu: number, comm: string, tid: number, pid: number, delayMs: number, runMs: number) =>
  `${endS.toFixed(6).padStart(15)} [${String(cpu).padStart(4, '0')}]  ${comm}[${tid}/${pid}]  0.000  ${delayMs.toFixed(3)}  ${runMs.toFixed(3)}`;

/** A prepared successor (pid 200, HANDOFF_PREPARE_SUCCESSOR): forked as node and waiting as sh since its predecessor listened; not its start. */
const PREPARED_SUCCESSOR = [switchLine(990.001, 1, 'node', 200, 200, 0, 0.5), switchLine(990.002, 1, 'sh', 200, 200, 0, 1)];

/** Runs `body` on a made-up perf record, read into `rows` and `parents` as the sched-*.mjs scripts read one; returns what it printed. */
function onRecord(imports: string, timehist: string[], forks: string[], body: string): unknown {
  return evaluate(`
    import { parseForks, parseTimehist } from './tools/bench/perf-sched.mjs';
    ${imports}
    const rows = parseTimehist(${JSON.stringify(timehist.join('\n'))});
    const parents = parseForks(${JSON.stringify(forks.join('\n'))}, new Map(rows.map((r) => [r.tid, r.pid])));
    ${body}
  `);
}

describe('the restart analysis scripts of tools/bench', () => {
  it('sched-waits puts a wait behind the successor tree that ran on its CPU, in the start phase', () => {
    // Perf's clock: the successor (pid 200) first runs as node at 1000 s, i.e. at the signal (10 s).
    const timehist = [
      ...PREPARED_SUCCESSOR,
      switchLine(1000.005, 0, 'node', 200, 200, 0, 5),
      // The successor's Chromium (pid 201) holds CPU 1 for 10 ms while the old process (100) waits 9 of them.
      switchLine(1002.01, 1, 'chromium', 201, 201, 0, 10),
      switchLine(1002.0105, 1, 'node', 100, 100, 9, 0.5),
      // Steady state, 4 s before the signal: nginx waits 3 ms behind the load (pid 400) on CPU 0.
      switchLine(996.003, 0, 'node', 400, 400, 0, 3),
      switchLine(996.0035, 0, 'nginx', 300, 300, 3, 0.5),
      switchLine(996.1, 1, 'node', 400, 400, 0, 1),
    ];
    const forks = ['     200/200  1000.001000: sched:sched_process_fork: comm=node pid=200 child_comm=chromium child_pid=201'];
    const result = onRecord("import { analyse } from './tools/bench/sched-waits.mjs';", timehist, forks, `
      const row = { oldPids: [100], newPids: [200], markers: ${JSON.stringify(MARKERS)} };
      const out = analyse({ rows, parents, row, min: 2, top: 5 });
      console.log(JSON.stringify({ load: out.load, phases: Object.fromEntries(out.phases.map((p) => [p.name, p.waiters])) }));
    `) as { load: number; phases: Record<string, Record<string, { waits: number; waitedMs: number; behindMs: Record<string, number> }>> };
    expect(result.load).toBe(400);
    expect(result.phases['start']).toEqual({ 'instance 0 (old)': { waits: 1, waitedMs: 9, behindMs: { 'start 0 chromium': 9 } } });
    expect(result.phases['steady']).toEqual({ nginx: { waits: 1, waitedMs: 3, behindMs: { load: 3 } } });
    expect(result.phases['switch']).toEqual({});
  });

  it('sched-budget sums each group\'s run and wait per second of each window, and whom the successor\'s Chromium waited behind at the switch', () => {
    // Perf's clock: the successor (pid 200) first runs as node at 1000 s, i.e. at the signal (10 s); ready at 1004 s.
    const timehist = [
      ...PREPARED_SUCCESSOR,
      // Steady (5 s, from 994.6 s): the old main thread 10 ms, another of its threads 5, its Chromium 20 after waiting 5, the load 5.
      switchLine(996.01, 0, 'node', 100, 100, 0, 10),
      switchLine(996.5, 1, 'node', 400, 400, 0, 5),
      switchLine(997.005, 1, 'node', 101, 100, 0, 5),
      switchLine(998.02, 0, 'chrome', 102, 102, 5, 20),
      // The start (4.4 s): the successor's main thread 5 ms.
      switchLine(1000.005, 0, 'node', 200, 200, 0, 5),
      // The switch: the successor's Chromium waits 6 ms on CPU 1 while the old main thread runs there, then runs 9 ms.
      switchLine(1004.106, 1, 'node', 100, 100, 0, 6),
      switchLine(1004.115, 1, 'chrome', 201, 201, 6, 9),
    ];
    const forks = [
      '     200/200  1000.001000: sched:sched_process_fork: comm=node pid=200 child_comm=chrome child_pid=201',
      '     100/100   990.001000: sched:sched_process_fork: comm=node pid=100 child_comm=chrome child_pid=102',
    ];
    const result = onRecord("import { budget } from './tools/bench/sched-budget.mjs';", timehist, forks, `
      console.log(JSON.stringify(budget({ rows, parents, row: { oldPids: [100], newPids: [200], markers: ${JSON.stringify(MARKERS)} } })));
    `);
    expect(result).toEqual({
      load: 400,
      windows: [
        {
          window: 'steady', fromMs: -9400, toMs: -4400,
          groups: { 'old chromium': { runMsPerS: 4, waitMsPerS: 1 }, 'old node, main thread': { runMsPerS: 2, waitMsPerS: 0 }, 'old node, other threads': { runMsPerS: 1, waitMsPerS: 0 }, load: { runMsPerS: 1, waitMsPerS: 0 } },
        },
        { window: 'start', fromMs: -4400, toMs: 0, groups: { 'new node, main thread': { runMsPerS: 1, waitMsPerS: 0 } } },
        { window: 'switch (0-300 ms)', fromMs: 0, toMs: 300, groups: { 'new chromium': { runMsPerS: 30, waitMsPerS: 20 }, 'old node, main thread': { runMsPerS: 20, waitMsPerS: 0 } } },
        { window: 'after (0.3-1.3 s)', fromMs: 300, toMs: 1300, groups: {} },
      ],
      newChromiumInSwitch: { waitedMs: 6, behindMs: { 'old node, main thread': 6 } },
    });
  });

  it('sched-waits refuses a row without a restart, naming why', () => {
    const result = spawnSync('node', ['--input-type=module', '-e', `
      import { phasesOf } from './tools/bench/sched-waits.mjs';
      phasesOf([]);
    `], { cwd: ROOT, encoding: 'utf8' });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('the row has no signal marker');
  });

  it('slow-by-phase counts the requests at or above a threshold, timed from when they were due, by the phase they were sent in, and by where the others waited', () => {
    // Sent times are ms from the successor's ready (14 s): -2 s is in the start, +0.1 s in the switch.
    const requests = [
      { sentMs: -2_000, latencyMs: 25, label: 'GET /qc-stats', by: 'predecessor (100)', beforeMs: 20, serverMs: 1, afterMs: 0, gcMs: 15 },
      { sentMs: -1_000, latencyMs: 3, label: 'GET /qc-stats', by: 'predecessor (100)', beforeMs: 1, serverMs: 1, afterMs: 0 },
      // 3 ms answered, but sent 9 ms late: 12 ms as the bench counts it, from its scheduled time.
      { sentMs: -1_500, latencyMs: 3, lagMs: 9, label: 'GET /qc-stats', by: 'predecessor (100)', beforeMs: 1, serverMs: 1, afterMs: 0 },
      { sentMs: -1_400, latencyMs: 3, lagMs: 8.9, label: 'GET /qc-stats', by: 'predecessor (100)', beforeMs: 1, serverMs: 1, afterMs: 0 },
      { sentMs: 100, latencyMs: 12, label: 'GET /qc-stats', by: 'predecessor (100)', forwarded: true, beforeMs: 2, serverMs: 9, afterMs: 0 },
      { sentMs: 600, latencyMs: 40, label: 'POST /qc/check', by: 'successor (200)', beforeMs: 0, serverMs: 40, afterMs: 0 },
    ];
    const result = evaluate(`
      import { slowByPhase } from './tools/bench/slow-by-phase.mjs';
      console.log(JSON.stringify(slowByPhase(${JSON.stringify(MARKERS)}, ${JSON.stringify(requests)}, 'successor ready', 12)));
    `);
    expect(result).toEqual({
      slow: 4, counts: { start: 2, switch: 1, 'rest of the window': 1 }, seconds: { start: 4.4, switch: 0.5 },
      kinds: { qcRenders: 1, others: { 'before parse': 1, 'send lag': 1, 'in server': 1 }, passedOn: 1, inGc: 1 },
    });
  });

  it('slow-by-phase takes the first ms after each signal on their own: requests other than QC renders, the slowest from when it was due, how many at or above a threshold', () => {
    // The signal is at 10 s, the ready (zero) at 14 s: -4000 is the signal's own ms.
    const requests = [
      { sentMs: -4_010, latencyMs: 30, label: 'GET /qc-stats' }, // before the signal
      { sentMs: -4_000, latencyMs: 2, lagMs: 5, label: 'GET /qc-stats' },
      { sentMs: -3_990, latencyMs: 3, label: 'GET /health' },
      { sentMs: -3_980, latencyMs: 80, label: 'POST /qc/check' }, // a render: not counted
      { sentMs: -3_960, latencyMs: 50, label: 'GET /qc-stats' }, // 40 ms after: outside
    ];
    const result = evaluate(`
      import { afterSignals } from './tools/bench/slow-by-phase.mjs';
      console.log(JSON.stringify(afterSignals(${JSON.stringify(MARKERS)}, ${JSON.stringify(requests)}, 'successor ready', 40, 5)));
    `);
    expect(result).toEqual([{ label: 'signal', requests: 2, slowestMs: 7, atOrAbove: 1 }]);
  });

  it('slow-by-phase says what it needs when given no run', () => {
    const result = spawnSync('node', ['tools/bench/slow-by-phase.mjs'], { cwd: ROOT, encoding: 'utf8' });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('usage: slow-by-phase.mjs RESULT_DIR');
  });

  it('p99-floor takes the p99 of every stretch of a no-restart window against the steady p99', () => {
    // 0..4 s, one request every 10 ms at 1 ms; a stall of the sender at 3.0-3.1 s sends 10 requests
    // 19 ms late, each answered in 1 ms: 20 ms as the bench counts them, from when they were due.
    const requests = Array.from({ length: 400 }, (_, i) => ({ sentMs: i * 10, latencyMs: 1, ...(i >= 300 && i < 310 ? { lagMs: 19 } : {}) }));
    const result = evaluate(`
      import { stretchRatios } from './tools/bench/p99-floor.mjs';
      console.log(JSON.stringify(stretchRatios(${JSON.stringify(requests)}, { fromMs: 0, toMs: 4000 }, 2000, 2, 1000)));
    `);
    // Stretches from 0, 1 and 2 s: only the last holds the stall, 10 of its 200 requests at 20 ms.
    expect(result).toEqual([0.5, 0.5, 10]);
  });

  it('renders-by-retirement puts each render in every phase of the old process\'s retirement it overlapped', () => {
    // Request times from the ready (14 s): the signal at -4 s, the exit at +200 ms; with a retirement
    // 100 ms after the ready (less 50 ms), the retirement runs from 50 to 200 ms.
    const requests = [
      { label: 'POST /qc/check', sentMs: -4_300, latencyMs: 40 }, // before the signal's 200 ms: left out
      { label: 'POST /qc/check', sentMs: -1_000, latencyMs: 40 }, // start
      { label: 'POST /qc/check', sentMs: -20, latencyMs: 40 }, // start and after ready
      { label: 'GET /qc-stats', sentMs: 100, latencyMs: 90 }, // not a render
      { label: 'POST /qc/check', sentMs: 30, latencyMs: 60 }, // after ready and the retirement
      { label: 'POST /qc/check', sentMs: 190, latencyMs: 80 }, // the retirement and after the exit
      { label: 'POST /qc/check', sentMs: 1_300, latencyMs: 40 }, // past the second after the exit
    ];
    const result = evaluate(`
      import { rendersByPhase, summarize } from './tools/bench/renders-by-retirement.mjs';
      const phases = rendersByPhase(${JSON.stringify(requests)}, ${JSON.stringify(MARKERS)}, 'successor ready', 40, 100);
      console.log(JSON.stringify({ phases, retirement: summarize(phases.filter((p) => p.phase === 'retirement').map((p) => p.ratio), 1.4) }));
    `);
    expect(result).toEqual({
      phases: [
        { phase: 'start', ratio: 1 },
        { phase: 'start', ratio: 1 },
        { phase: 'after ready', ratio: 1 },
        { phase: 'after ready', ratio: 1.5 },
        { phase: 'retirement', ratio: 1.5 },
        { phase: 'retirement', ratio: 2 },
        { phase: 'after exit', ratio: 2 },
      ],
      retirement: { renders: 2, median: 2, p90: 2, max: 2, above: 2 },
    });
  });

  it('renders-by-retirement --after-ready puts the renders sent in the first spans after the ready in their span', () => {
    const requests = [
      { label: 'POST /qc/check', sentMs: -5, latencyMs: 40 }, // before the ready: left out
      { label: 'POST /qc/check', sentMs: 0, latencyMs: 120 }, // 0-100
      { label: 'GET /qc-stats', sentMs: 10, latencyMs: 90 }, // not a render
      { label: 'POST /qc/check', sentMs: 150, latencyMs: 60 }, // 100-200
      { label: 'POST /qc/check', sentMs: 299, latencyMs: 40 }, // 200-300
      { label: 'POST /qc/check', sentMs: 300, latencyMs: 40 }, // past the third span
    ];
    const result = evaluate(`
      import { rendersAfterReady } from './tools/bench/renders-by-retirement.mjs';
      console.log(JSON.stringify(rendersAfterReady(${JSON.stringify(requests)}, ${JSON.stringify(MARKERS)}, 'successor ready', 40, 100)));
    `);
    expect(result).toEqual([{ span: 0, ratio: 3 }, { span: 100, ratio: 1.5 }, { span: 200, ratio: 1 }]);
  });

  it('renders-by-retirement says what it needs when given no run, and names a missing marker', () => {
    const usage = spawnSync('node', ['tools/bench/renders-by-retirement.mjs'], { cwd: ROOT, encoding: 'utf8' });
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain('usage: renders-by-retirement.mjs RESULT_DIR');
    const rolling = spawnSync('node', ['--input-type=module', '-e', `
      import { rendersByPhase } from './tools/bench/renders-by-retirement.mjs';
      rendersByPhase([], [{ label: 'successor ready 0', ms: 1 }], 'successor ready 0', 40);
    `], { cwd: ROOT, encoding: 'utf8' });
    expect(rolling.status).not.toBe(0);
    expect(rolling.stderr).toContain("the row has no 'signal' marker (a one-instance handoff row is needed)");
  });

  it("steady-drift compares the renders of a steady window's first span with those of its last, from the buckets that hold one", () => {
    // Steady from 5 s to the signal at 30 s, spans of 10 s: the first span 5-15 s, the last 20-30 s.
    const bucket = (startMs: number, p99Ms: number, qcRenders = 1) => ({ startMs, p99Ms, qcRenders });
    const buckets = [
      bucket(4_500, 90), // warm-up: left out
      bucket(5_000, 40), bucket(9_000, 44), bucket(14_900, 48), bucket(12_000, 300, 0), // first span; a bucket without a render is left out
      bucket(17_000, 500), // neither span
      bucket(20_000, 30), bucket(25_000, 32), bucket(29_900, 34),
      bucket(30_000, 900), // the restart: left out
    ];
    const result = evaluate(`
      import { steadyDrift } from './tools/bench/steady-drift.mjs';
      console.log(JSON.stringify({
        drift: steadyDrift(${JSON.stringify(buckets)}, 5000, 30000, 10000),
        tooShort: steadyDrift(${JSON.stringify(buckets)}, 5000, 24000, 10000) ?? null,
        tooFew: steadyDrift(${JSON.stringify(buckets.slice(0, 3))}, 5000, 30000, 10000) ?? null,
      }));
    `);
    expect(result).toEqual({ drift: { renders: 7, firstMs: 44, lastMs: 32, ratio: 1.375 }, tooShort: null, tooFew: null });
  });

  it('steady-drift says what it needs when given no run', () => {
    const usage = spawnSync('node', ['tools/bench/steady-drift.mjs'], { cwd: ROOT, encoding: 'utf8' });
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain('usage: steady-drift.mjs RESULT_DIR');
  });

  it('p99-floor says what it needs when given no run, and refuses a steady p99 of 0', () => {
    const usage = spawnSync('node', ['tools/bench/p99-floor.mjs'], { cwd: ROOT, encoding: 'utf8' });
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain('usage: p99-floor.mjs RESULT_DIR');
    const zero = spawnSync('node', ['--input-type=module', '-e', `
      import { stretchRatios } from './tools/bench/p99-floor.mjs';
      stretchRatios([], { fromMs: 0, toMs: 4000 }, 2000, 0);
    `], { cwd: ROOT, encoding: 'utf8' });
    expect(zero.status).not.toBe(0);
    expect(zero.stderr).toContain('the steady p99 must be a positive number of ms (got 0)');
  });

  it('sched-stacks finds whom a thread waited behind for a CPU, in which process, and how that thread let the CPU go', () => {
    // `perf script -F comm,pid,tid,cpu,time,event,trace,ip,sym` of a record with -g (shortened stacks).
    const script = [
      'node   500/500   [001] 1000.000000: sched:sched_waking: comm=node pid=100 prio=120 target_cpu=001',
      '\tffffffff813b53c6 try_to_wake_up',
      '',
      // The old process (100) waits 3 ms behind the successor's compiler thread (201), which leaves at the tick.
      'node   200/201   [001] 1000.003000: sched:sched_switch: prev_comm=node prev_pid=201 prev_prio=120 prev_state=R ==> next_comm=node next_pid=100 next_prio=120',
      '\tffffffff8223c951 __schedule',
      '\tffffffff8223c952 schedule',
      '\tffffffff8223c953 irqentry_exit_to_user_mode',
      '\tffffffff8223c954 asm_sysvec_apic_timer_interrupt',
      '',
      // It sleeps at 1000.004; woken for cpu 0 at 1000.005, it runs on cpu 1 2 ms later behind nginx (300): the balancer moved it.
      'node   100/100   [001] 1000.004000: sched:sched_switch: prev_comm=node prev_pid=100 prev_prio=120 prev_state=S ==> next_comm=nginx next_pid=300 next_prio=120',
      '',
      'node   500/500   [000] 1000.005000: sched:sched_waking: comm=node pid=100 prio=120 target_cpu=000',
      '',
      'nginx   300/300   [001] 1000.007000: sched:sched_switch: prev_comm=nginx prev_pid=300 prev_prio=120 prev_state=S ==> next_comm=node next_pid=100 next_prio=120',
      '\tffffffff8223c951 __schedule',
      '\tffffffff8223c952 schedule',
      '\tffffffff8223c955 do_epoll_wait',
      '',
      // Preempted itself at 1000.010, it runs again 0.5 ms later: counted, below --min.
      'node   100/100   [001] 1000.010000: sched:sched_switch: prev_comm=node prev_pid=100 prev_prio=120 prev_state=R+ ==> next_comm=nginx next_pid=300 next_prio=120',
      '\tffffffff8223c951 __schedule',
      '',
      'nginx   300/300   [001] 1000.010500: sched:sched_switch: prev_comm=nginx prev_pid=300 prev_prio=120 prev_state=S ==> next_comm=node next_pid=100 next_prio=120',
      '\tffffffff8223c951 __schedule',
      '\tffffffff8223c952 schedule',
      '\tffffffff8223c955 do_epoll_wait',
      '',
      // A wakeup while it still runs, then it sleeps at 1000.021: its wait starts at the next wakeup (1000.030), not there.
      'node   500/500   [000] 1000.020000: sched:sched_waking: comm=node pid=100 prio=120 target_cpu=001',
      '',
      'node   100/100   [001] 1000.021000: sched:sched_switch: prev_comm=node prev_pid=100 prev_prio=120 prev_state=S ==> next_comm=nginx next_pid=300 next_prio=120',
      '',
      'node   500/500   [000] 1000.030000: sched:sched_waking: comm=node pid=100 prio=120 target_cpu=001',
      '',
      'nginx   300/300   [001] 1000.031000: sched:sched_switch: prev_comm=nginx prev_pid=300 prev_prio=120 prev_state=S ==> next_comm=node next_pid=100 next_prio=120',
      '\tffffffff8223c951 __schedule',
      '',
    ].join('\n');
    const result = evaluate(`
      import { parsePerfScript, waitsOf } from './tools/bench/sched-stacks.mjs';
      const events = parsePerfScript(${JSON.stringify(script)});
      console.log(JSON.stringify(waitsOf(events, { tid: 100, minMs: 1 })));
    `);
    expect(result).toEqual({
      count: 4, totalMs: 6.5,
      waits: [
        {
          atMs: 1_000_000, waitedMs: 3, how: 'woken', cpu: 1, behind: 'node/201', behindProcess: 'node/200', behindPrio: 120, behindState: 'R', left: 'timer tick',
          frames: ['__schedule', 'schedule', 'irqentry_exit_to_user_mode', 'asm_sysvec_apic_timer_interrupt'], ran: { 'node/201': 3 },
        },
        {
          atMs: 1_000_005, waitedMs: 2, how: 'woken', cpu: 1, queuedOnCpu: 0, behind: 'nginx/300', behindProcess: 'nginx/300', behindPrio: 120, behindState: 'S', left: 'blocked or slept',
          frames: ['__schedule', 'schedule', 'do_epoll_wait'], ran: { 'nginx/300': 2 },
        },
        {
          atMs: 1_000_030, waitedMs: 1, how: 'woken', cpu: 1, behind: 'nginx/300', behindProcess: 'nginx/300', behindPrio: 120, behindState: 'S', left: 'blocked or slept',
          frames: ['__schedule'], ran: { 'nginx/300': 1 },
        },
      ],
    });
  });

  it('sched-stacks counts a wait behind a thread that exits, which perf names only in the trace', () => {
    // An exiting Chromium thread (31890 of process 31889) keeps the CPU 8 ms in the kernel's exit path.
    const script = [
      'nginx   300/300   [000] 2000.000000: sched:sched_waking: comm=node pid=100 prio=120 target_cpu=001',
      '',
      'HangWatcher   31889/31890   [001] 2000.001000: sched:sched_waking: comm=node pid=555 prio=120 target_cpu=000',
      '',
      '             :-1 31889/-1    [001] 2000.008000: sched:sched_switch: prev_comm=HangWatcher prev_pid=31890 prev_prio=139 prev_state=X ==> next_comm=node next_pid=100 next_prio=120',
      '\tffffffff8223c951 __schedule',
      '\tffffffff8223c957 do_task_dead',
      '\tffffffff8223c958 do_exit',
      '',
    ].join('\n');
    const result = evaluate(`
      import { parsePerfScript, waitsOf } from './tools/bench/sched-stacks.mjs';
      console.log(JSON.stringify(waitsOf(parsePerfScript(${JSON.stringify(script)}), { tid: 100, minMs: 1 })));
    `);
    expect(result).toEqual({
      count: 1, totalMs: 8,
      waits: [{
        atMs: 2_000_000, waitedMs: 8, how: 'woken', cpu: 1, behind: 'HangWatcher/31890', behindProcess: 'HangWatcher/31889', behindPrio: 139, behindState: 'X',
        left: 'it exited', frames: ['__schedule', 'do_task_dead', 'do_exit'], ran: { 'HangWatcher/31890': 8 },
      }],
    });
  });

  it('sched-stacks says what it needs when given no record or no thread', () => {
    const result = spawnSync('node', ['tools/bench/sched-stacks.mjs', '/tmp/no-such.data'], { cwd: ROOT, encoding: 'utf8' });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('usage: sched-stacks.mjs PERF_DATA --tid TID');
  });

  it("retire-stacks sums the old tree's last samples by part and kind, and leaves out the successor and what came before", () => {
    // Samples at 1000 Hz (1 ms each). The old node (100) forked its Chromium (110, whose renderer
    // 111 has a thread of its own), a shell (120) and, ahead, its successor (200).
    const sample = (head: string, ...frames: string[]) => [head, ...frames.map((f) => `\tffffffff81000000 ${f}`), ''];
    const script = [
      ...sample('node 100/100 [000] 1000.000000: cpu-clock:ppp: ', 'uv_run'), // before the 400 ms window
      ...sample('node 100/100 [000] 1000.700000: cpu-clock:ppp: ', 'copy_page_range', 'dup_mmap', 'kernel_clone', '__x64_sys_clone'),
      ...sample('node 100/100 [000] 1000.800000: cpu-clock:ppp: ', 'v8::internal::Scanner::Next', 'uv_run'),
      ...sample('node 100/102 [001] 1000.850000: cpu-clock:ppp: ', 'do_unlinkat', '__x64_sys_unlink', 'do_syscall_64', 'uv__fs_work'),
      ...sample('node 100/100 [000] 1000.900000: cpu-clock:ppp: ', 'unmap_page_range', 'exit_mmap', '__mmput', 'do_exit', 'do_group_exit'),
      ...sample('chromium 110/110 [001] 1000.880000: cpu-clock:ppp: ', 'free_pages_and_swap_cache', 'exit_mmap', '__mmput', 'do_exit'),
      ...sample('HangWatcher 111/113 [001] 1000.890000: cpu-clock:ppp: ', 'exit_mmap', 'do_exit'),
      ...sample('ThreadPoolForeg 111/114 [001] 1000.860000: cpu-clock:ppp: ', 'base::something'),
      ...sample('sh 120/120 [001] 1000.750000: cpu-clock:ppp: ', 'exit_mmap', '__mmput', 'begin_new_exec', 'load_elf_binary'),
      ...sample('node 200/200 [001] 1000.895000: cpu-clock:ppp: ', 'exit_mmap', 'do_exit'), // the successor
    ].join('\n');
    // `perf script --show-task-events`: a new thread (113 of 111) keeps its process's pid.
    const forks = [
      '    node 100/100 999.000000: PERF_RECORD_FORK(110:110):(100:100)',
      'chromium 110/110 999.100000: PERF_RECORD_FORK(111:111):(110:110)',
      'chromium 111/111 999.200000: PERF_RECORD_FORK(111:113):(111:111)',
      '    node 100/100 999.500000: PERF_RECORD_FORK(200:200):(100:100)',
      '    node 100/100 1000.740000: PERF_RECORD_FORK(120:120):(100:100)',
    ].join('\n');
    const result = evaluate(`
      import { parseTaskForks } from './tools/bench/perf-sched.mjs';
      import { parsePerfScript } from './tools/bench/sched-stacks.mjs';
      import { retirementCost } from './tools/bench/retire-stacks.mjs';
      const samples = parsePerfScript(${JSON.stringify(script)});
      const parents = parseTaskForks(${JSON.stringify(forks)});
      console.log(JSON.stringify(retirementCost(samples, parents, { oldPid: 100, newPid: 200, hz: 1000, windowMs: 400 })));
    `);
    expect(result).toEqual({
      oldPid: 100, windowMs: 400, chromiumProcesses: 2,
      parts: {
        node: { totalMs: 4, byKind: { fork: 1, 'V8 parsing and compiling': 1, 'system call unlink': 1, 'exit: freeing memory': 1 } },
        chromium: { totalMs: 3, byKind: { 'exit: freeing memory': 2, 'user space, the rest': 1 } },
        sh: { totalMs: 1, byKind: { exec: 1 } },
      },
    });
  });

  it('retire-stacks says what it needs when given no record', () => {
    const result = spawnSync('node', ['tools/bench/retire-stacks.mjs', '/tmp/no-such.data'], { cwd: ROOT, encoding: 'utf8' });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('usage: retire-stacks.mjs PERF_DATA RESTART_BENCH_JSON');
  });

  it("restart-bench's slow requests by moment time them from when they were due, their GC share too", () => {
    const base = { label: 'GET /qc-stats', newConnection: false, by: 'predecessor (100)', forwarded: false, beforeMs: 1, serverMs: 1, afterMs: 0 };
    const joined = [
      // 14 ms as the bench counts it, 10 of them the sender's lag: the 3 ms GC is not half of it.
      { ...base, sentMs: -120, latencyMs: 4, lagMs: 10, gcMs: 3 },
      // 8 ms, 5 of them in a GC of the process that answered.
      { ...base, sentMs: -150, latencyMs: 8, lagMs: 0, gcMs: 5, beforeMs: 6 },
      // Below the threshold from its send, above it from when it was due.
      { ...base, sentMs: 30, latencyMs: 2, lagMs: 5 },
      { ...base, sentMs: 40, latencyMs: 2, lagMs: 0 },
      { ...base, label: 'POST /qc/check', sentMs: 50, latencyMs: 40, lagMs: 0 },
    ];
    const result = runTs(`
      const { slowByMoment } = require('./tools/bench/restart-bench.requests.ts');
      console.log(slowByMoment(${JSON.stringify(joined)}, 6));
    `);
    expect(result.stderr).toBe('');
    expect(result.stdout.trim().split('\n').slice(2)).toEqual([
      '| -200 | 2 | 14.0 | send lag 1, before parse 1 | predecessor 2 | 0 | 1 |',
      '| 0 | 1 | 7.0 | send lag 1 | predecessor 1 | 0 | 0 |',
    ]);
  });

  it("scavenge.bench reads each scavenge's pause, copy and promotion from V8's --trace-gc-nvp lines, and nothing else", () => {
    // Lines as Node 20 prints them (shortened: V8 prints some forty fields per line).
    const output = [
      'a line of the server\'s own output',
      '[26972:0x1d51cb50]    10351 ms: pause=5.0 mutator=1161.7 gc=s reduce_memory=0 scavenge=4.78 allocated=11230168 promoted=3170312 new_space_survived=2877560 nodes_died_in_new=294',
      '[26972:0x1d51cb50]    11890 ms: pause=98.4 mutator=1500.2 gc=mc reduce_memory=0 promoted=0 new_space_survived=0',
      '{"mark":12000.5}',
      '[26972:0x1d51cb50]    12743 ms: pause=0.9 mutator=1214.0 gc=s reduce_memory=0 allocated=1636608 promoted=1728 new_space_survived=15288',
      '[26972:0x1d51cb50]    13001 ms: pause=1.1 gc=s promoted=12',
    ].join('\n');
    const result = runTs(`
      const { parseScavenges } = require('./tools/bench/gc-trace.ts');
      console.log(JSON.stringify(parseScavenges(${JSON.stringify(output)})));
    `);
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual([
      { atMs: 10351, pauseMs: 5, survivedBytes: 2877560, promotedBytes: 3170312 },
      { atMs: 12743, pauseMs: 0.9, survivedBytes: 15288, promotedBytes: 1728 },
    ]);
  });

  it('restart-bench runs a row again when its sender lagged, a neighbour or the hypervisor took the CPU, and names which', () => {
    const result = runTs(`
      const { spoiled } = require('./tools/bench/restart-bench.report.ts');
      const limits = { lagMs: 50, restCpu: 25, stealCpu: 10 };
      const row = (lag, rest, steal) => ({
        sendLag: { p99Ms: lag },
        instruments: { restCpuMean: rest, stealCpuMean: steal, strangers: [{ pid: 1, cpuMs: 900, cmd: '/process_api --init' }] },
      });
      const quiet = { steady: 0.5, restart: 1 };
      console.log(JSON.stringify({
        clean: spoiled(row(1.2, quiet, { steady: 9.9, restart: 10 }), limits) ?? null,
        lagged: spoiled(row(51, quiet, quiet), limits),
        neighbour: spoiled(row(1, { steady: 30, restart: 2 }, quiet), limits),
        stolenSteady: spoiled(row(1, quiet, { steady: 14.7, restart: 0.2 }), limits),
        stolenRestart: spoiled(row(1, quiet, { steady: 0.5, restart: 56.8 }), limits),
        noInstruments: spoiled({ sendLag: { p99Ms: 1 } }, limits) ?? null,
      }));
    `);
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({
      clean: null,
      lagged: 'send lag p99 51 ms > 50 ms',
      neighbour: 'other processes used 30 % of a core (> 25 %; busiest: pid 1 /process_api --init)',
      stolenSteady: 'the hypervisor took 14.7 % of a core (steal: 14.7 % steady, 0.2 % in the restart; > 10 %)',
      stolenRestart: 'the hypervisor took 56.8 % of a core (steal: 0.5 % steady, 56.8 % in the restart; > 10 %)',
      noInstruments: null,
    });
  });

  it("restart-bench's QC renders reach both instances of a round robin over two, at the rate asked for and clear of the p99's 1 %", () => {
    // nginx's round robin with one worker, as the rolling rows run it: request i goes to upstream i % 2.
    const result = runTs(`
      const { mixFor, qcEvery } = require('./tools/bench/restart-bench.capacity.ts');
      const { requestOf } = require('./libs/e2e-support/src/lib/load-mix.ts');
      const out = {};
      for (const [rate, qcPerSec] of [[200, 2], [500, 2], [300, 5], [400, 200], [2, 2]]) {
        const next = requestOf(mixFor(rate, qcPerSec));
        const renders = [0, 0];
        for (let i = 0; i < rate * 10; i++) if (next(i).label === 'POST /qc/check') renders[i % 2] += 1;
        out[rate + '/' + qcPerSec] = { every: qcEvery(rate, qcPerSec), renders };
      }
      console.log(JSON.stringify(out));
    `);
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({
      '200/2': { every: 89, renders: [12, 11] },
      '500/2': { every: 249, renders: [11, 10] },
      '300/5': { every: 59, renders: [26, 25] },
      '400/200': { every: 3, renders: [667, 667] },
      '2/2': { every: 1, renders: [10, 10] },
    });
  });

  it('restart-bench buckets count their QC renders and give the chance that a restart changing nothing still shows a bucket above steady', () => {
    // 1 s of steady state (10 buckets, a render in 2) and 0.5 s of restart (5 buckets, a render in 1).
    const record = (scheduledMs: number, label: string, latencyMs: number) => ({
      index: 0, label, client: 0, overflow: false, newConnection: false, scheduledMs, startMs: scheduledMs, endMs: scheduledMs + latencyMs, status: 200,
    });
    const records = [
      ...Array.from({ length: 15 }, (_, i) => record(i * 100 + 10, 'GET /qc-stats', 2)),
      record(320, 'POST /qc/check', 50), record(820, 'POST /qc/check', 55), record(1220, 'POST /qc/check', 60),
    ];
    const result = runTs(`
      const { buckets, chanceAboveSteady } = require('./tools/bench/restart-bench.timeline.ts');
      const bs = buckets(${JSON.stringify(records)}, 0, 1500, 100);
      const steady = bs.slice(0, 10), restart = bs.slice(10);
      console.log(JSON.stringify({
        renders: bs.map((b) => b.qcRenders),
        withQc: chanceAboveSteady(steady, restart, true),
        withoutQc: chanceAboveSteady(steady, restart, false),
        noRenderInSteady: chanceAboveSteady(bs.slice(0, 3), restart, true),
        emptyRestart: chanceAboveSteady(steady, [], true),
      }));
    `);
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({
      renders: [0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0],
      // Only the buckets with a render can set the worst with renders counted: 1 of 2 + 1.
      withQc: 1 / 3,
      // Without them, every bucket holds a GET: 5 of 10 + 5.
      withoutQc: 5 / 15,
      // No render in the steady window: every non-empty bucket counts, 5 of 3 + 5.
      noRenderInSteady: 5 / 8,
      emptyRestart: 0,
    });
  });

  it("renders-by-start-phase puts each of the old process's renders in the phase of the successor's start it was sent in, and the switch's in one more", () => {
    // The successor (pid 20) is ready at 10:00:02.000; the signal came 2 s before (ms from ready: -2000).
    const log = [
      { time: '2026-12-06T10:00:00.100Z', pid: 10, msg: 'phase ready' }, // the old process's own, long before
      { time: '2026-12-06T10:00:00.500Z', pid: 20, msg: 'handoff: started as a successor' },
      { time: '2026-12-06T10:00:00.800Z', pid: 31, msg: 'qc: Chrome started (pid 31) at nice 19: processes nice' },
      { time: '2026-12-06T10:00:01.400Z', pid: 20, msg: 'handoff: Chromium is quiet' },
      { time: '2026-12-06T10:00:02.000Z', pid: 20, msg: 'phase ready' },
      { time: '2026-12-06T10:00:02.120Z', pid: 10, msg: 'handed over: retiring at SCHED_IDLE (9 processes of this tree)' },
    ].map((l) => JSON.stringify(l)).join('\n') + '\nnot json\n';
    const requests = [
      { sentMs: -1800, latencyMs: 70.4, label: 'POST /qc/check', by: 'predecessor (10)' },
      { sentMs: -1300, latencyMs: 60, label: 'POST /qc/check', by: 'predecessor (10)' },
      { sentMs: -1300, latencyMs: 3, label: 'GET /qc-stats', by: 'predecessor (10)' },
      { sentMs: -300, latencyMs: 40, label: 'POST /qc/check', by: 'predecessor (10)' },
      { sentMs: -2100, latencyMs: 40, label: 'POST /qc/check', by: 'predecessor (10)' }, // before the signal
      { sentMs: 100, latencyMs: 45, label: 'POST /qc/check', by: 'successor (20)' },
      { sentMs: 2, latencyMs: 90, label: 'POST /qc/check', by: 'predecessor (10)', forwarded: true },
      { sentMs: 160, latencyMs: 41, label: 'POST /qc/check', by: 'successor (20)' }, // after the old process's exit at 150
    ];
    const result = evaluate(`
      import { parseLog, rendersByPhase, retireMsOf, startPhases } from './tools/bench/renders-by-start-phase.mjs';
      const lines = parseLog(${JSON.stringify(log)});
      const phases = startPhases(lines, 20, -2000);
      const retireMs = retireMsOf(lines, 20);
      console.log(JSON.stringify({ phases, retireMs, renders: rendersByPhase(phases, ${JSON.stringify(requests)}, -2000, 150, retireMs) }));
    `);
    expect(result).toEqual({
      retireMs: 120,
      phases: [
        { fromMs: -2000, toMs: -1500, until: 'handoff: started as a successor' },
        { fromMs: -1500, toMs: -1200, until: 'qc: Chrome started' },
        { fromMs: -1200, toMs: -600, until: 'handoff: Chromium is quiet' },
        { fromMs: -600, toMs: 0, until: 'phase ready' },
      ],
      renders: [
        { sentMs: -1800, latencyMs: 70, by: 'predecessor', phase: 'handoff: started as a successor' },
        { sentMs: -1300, latencyMs: 60, by: 'predecessor', phase: 'qc: Chrome started' },
        { sentMs: -300, latencyMs: 40, by: 'predecessor', phase: 'phase ready' },
        // From the ready to the old process's exit, whoever answered; one that ran past the old process's retiring line (120) in the retirement.
        { sentMs: 100, latencyMs: 45, by: 'successor', phase: 'the retirement (the old process retires to its exit)' },
        { sentMs: 2, latencyMs: 90, by: 'predecessor', phase: "the switch (ready to the old process's exit)" },
      ],
    });
  });

  it('renders-by-start-phase sums up each variant: phase lengths, renders, and their latency against the steady median', () => {
    const SWITCH = "the switch (ready to the old process's exit)";
    const RETIRE = 'the retirement (the old process retires to its exit)';
    const phases = (load: number) => [
      { fromMs: -2000, toMs: -2000 + load, until: 'handoff: started as a successor' },
      { fromMs: -2000 + load, toMs: 0, until: 'phase ready' },
    ];
    const rows = [
      { row: 'handoff@modules-500rps', variant: 'modules', steadyRenderMedianMs: 40, phases: phases(600), switchMs: 150, renders: [{ latencyMs: 60, phase: 'handoff: started as a successor' }, { latencyMs: 40, phase: 'phase ready' }, { latencyMs: 100, phase: SWITCH }] },
      { row: 'handoff@modules-500rps-2', variant: 'modules', steadyRenderMedianMs: 50, phases: phases(500), switchMs: 250, retireMs: 150, renders: [{ latencyMs: 80, phase: 'handoff: started as a successor' }, { latencyMs: 60, phase: SWITCH }, { latencyMs: 65, phase: RETIRE }] },
      { row: 'handoff@bundle-500rps', variant: 'bundle', steadyRenderMedianMs: 40, phases: phases(300), renders: [{ latencyMs: 44, phase: 'phase ready' }] },
      { row: 'handoff-200rps', variant: 'default', phases: phases(400), renders: [{ latencyMs: 44, phase: 'phase ready' }] }, // no steady median: not a ratio
    ];
    const result = evaluate(`
      import { summarizeByVariant } from './tools/bench/renders-by-start-phase.mjs';
      console.log(JSON.stringify(summarizeByVariant(${JSON.stringify(rows)})));
    `);
    expect(result).toEqual([
      {
        variant: 'modules', rows: 2, startMedianMs: 2000, renders: 3, medianRatio: 1.5,
        phases: [
          { until: 'handoff: started as a successor', medianMs: 550, renders: 2, medianRatio: 1.55 },
          { until: 'phase ready', medianMs: 1450, renders: 1, medianRatio: 1 },
        ],
        // Not in the whole start: 100/40 and 60/50; nor 65/50 in the retirement (250 - 150 ms).
        switch: { medianMs: 200, renders: 2, medianRatio: 1.85, maxRatio: 2.5 },
        retirement: { medianMs: 100, renders: 1, medianRatio: 1.3, maxRatio: 1.3 },
      },
      {
        variant: 'bundle', rows: 1, startMedianMs: 2000, renders: 1, medianRatio: 1.1,
        phases: [
          { until: 'handoff: started as a successor', medianMs: 300, renders: 0 },
          { until: 'phase ready', medianMs: 1700, renders: 1, medianRatio: 1.1 },
        ],
        switch: { renders: 0 },
      },
      {
        variant: 'default', rows: 1, startMedianMs: 2000, renders: 0,
        phases: [
          { until: 'handoff: started as a successor', medianMs: 400, renders: 0 },
          { until: 'phase ready', medianMs: 1600, renders: 0 },
        ],
        switch: { renders: 0 },
      },
    ]);
  });
});
