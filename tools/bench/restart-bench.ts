// Restart under load (issue 9): one open-loop load in a process of its own and
// one restart, side by side in one run, for
//   single instance (load straight at its port): (1) hot handoff (kill -HUP),
//   (2) restart on a systemd-held socket, (3) stop and start (restart-cli
//   --mode replace), (4) pm2 reload of two cluster workers;
//   rolling through nginx with the shipped config: (5) handoff, (6) replace.
// Rates: the set-up's capacity first (highest rate with steady p99 < 250 ms),
// then 50 % and 80 % of it, and 200 and 500 req/s. Failed requests by kind,
// p50/p99 steady and during the restart, restart duration, send lag.
// Not a test: it asserts nothing. JSON on stdout, a markdown table on stderr,
// raw JSON and one SVG timeline per run under tools/bench/results/.
//
// Run (from the workspace root, after `npx nx run-many -t build -p api restart-cli`):
//   SWC_NODE_PROJECT=tsconfig.base.json node -r @swc-node/register tools/bench/restart-bench.ts
//   or: npx nx run deployment:restart-bench
// Options: --rates auto|200,500  --capacity 400 (skip the search)  --only control,beside,handoff,socket,replace,pm2,rolling-handoff,rolling-replace
//          (control: the API of handoff under the same load, and no restart: what steady state alone scores;
//          beside: the same, while a second API of the build starts and stops next to it, at SCHED_IDLE in a scheduling group
//          of its own at nice 19, with no traffic and no switch: what a start's work alone costs the serving process)
//          --warmup 5 (load before the steady window, not measured)  --steady 30  --after 3  --qc-per-sec 2 (about: a QC POST every odd count of requests, so nginx's round robin alternates them over the rolling instances)  --capacity-step 5  --keep-logs  --nginx-conf <server config for the rolling set-ups>
//          --signal-jitter 0 (up to this many ms, at random per row, added to the steady window: the restart then falls at
//          any point between two QC renders, which the load sends on a fixed schedule; the row's JSON says signalDelayMs)
//          --cpu-prof (a V8 CPU profile of every API process, written by the probe as it exits, with the probe's lines that
//          place it on the run's clock and the build's source maps: logs/<row>/, for cpu-prof-at.mjs; it slows the APIs)
//          --requests (every request of the restart window, client and server side, joined: <row>.requests.json and the slowest 30 in the log;
//          behind nginx, client and nginx's access log: which instance, nginx's part, the upstream's)
//          --lag-limit 50 --lag-retries 2 (a row whose sender lagged more than 50 ms at p99 is run again, up to twice)
//          --variant name:KEY=value,... (repeatable: every set-up once per variant, its APIs with that environment on top)
//          (BENCH_API_MAIN=<main.js> in a variant starts that build of the API instead of dist/apps/api/main.js, e.g. to compare two builds)
//          --load-priority shared,-10,fifo (an axis like --variant: every set-up once per value; shared: the load process in this
//          process's session, at its priority; a number: in a session of its own at that nice value, group and process; fifo: in a
//          session of its own at SCHED_FIFO 1, ahead of everything else on the host, as a client on a machine of its own would be;
//          auto, the default: fifo where this process may set it, else shared)
//          --nginx-session own,shared (an axis like --load-priority, for the rolling set-ups: own, the default: nginx in a session
//          and scheduling group of its own, as systemd starts every service; shared: in this process's session, with the bench and its sampler)
//          --nginx-workers 1,auto (an axis too: nginx's worker_processes in the rolling set-ups; default 1)
//          --rest-limit 25 (... and one during which other processes of the machine used more than 25 % of a core;
//          each row starts once the machine is that calm)
//          --steal-limit 10 (... and one during which the hypervisor took more than 10 % of a core on average, in the
//          steady window or the restart's: /proc/stat's steal, a stall no process of the machine caused)
// Instruments (restart-bench.instruments.ts): per 100 ms and per process, CPU, event-loop delay,
// main-thread run-queue wait and who answered, in each row's timeline and <row>.instruments.json.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { parseVariant, type BenchVariant } from './bench-variant';
import { API_MAIN, CLI_MAIN, killLeftoverApis, nginxProblems, realtimeAllowed, requireBuilt, startLoadProcess, WORKSPACE, type LoadProcessPlacement } from '@edu-agents/e2e-support';
import { measureCapacity, mixFor, qcEvery, type Probe } from './restart-bench.capacity';
import { parseLogEvents, restartMarkers } from './restart-bench.events';
import { failedAnswers, makeRow, markdown, spoiled, type Row } from './restart-bench.report';
import { ROLLING_SCENARIOS } from './restart-bench.rolling';
import { cliHasModes, type RestartOutcome, type Scenario, type ScenarioDef } from './restart-bench.scenario';
import { SINGLE_SCENARIOS } from './restart-bench.single';
import { apiNamesOf, instrumentSeries, machineBusy, meanIn, seriesFrom, startInstruments, strangers, type InstrumentSeries } from './restart-bench.instruments';
import { GC_KINDS, joinRequests, joinThroughNginx, readServerRecords, slowByMoment, slowestTable } from './restart-bench.requests';
import { buckets, bucketsIn, chanceAboveSteady, timelineSvg, worstBucket, type Bucket } from './restart-bench.timeline';
import { describeKernel, kernelFacts } from './kernel-facts';
import { repeatsMarkdown, summarizeRepeats } from './restart-bench.pairs';

const ALL = [...SINGLE_SCENARIOS, ...ROLLING_SCENARIOS];
const { values } = parseArgs({
  options: {
    rates: { type: 'string', default: 'auto' },
    capacity: { type: 'string' },
    only: { type: 'string', default: ALL.map((d) => d.name).join(',') },
    warmup: { type: 'string', default: '5' },
    steady: { type: 'string', default: '30' },
    after: { type: 'string', default: '3' },
    'qc-per-sec': { type: 'string', default: '2' },
    'signal-jitter': { type: 'string', default: '0' },
    'capacity-step': { type: 'string', default: '5' },
    'keep-logs': { type: 'boolean', default: false },
    requests: { type: 'boolean', default: false },
    'cpu-prof': { type: 'boolean', default: false },
    'nginx-conf': { type: 'string' },
    'lag-limit': { type: 'string', default: '50' },
    'lag-retries': { type: 'string', default: '2' },
    'rest-limit': { type: 'string', default: '25' },
    'steal-limit': { type: 'string', default: '10' },
    variant: { type: 'string', multiple: true, default: [] },
    'load-priority': { type: 'string', default: 'auto' },
    'nginx-session': { type: 'string', default: 'own' },
    'nginx-workers': { type: 'string', default: '1' },
  },
});
const WARMUP_MS = Number(values.warmup) * 1_000;
const STEADY_MS = Number(values.steady) * 1_000;
const AFTER_MS = Number(values.after) * 1_000;
/** How much of the steady window a timeline shows. */
const SHOWN_STEADY_MS = 5_000;
const QC_PER_SEC = Number(values['qc-per-sec']);
/**
 * Up to this many ms, drawn at random per row, are added to the steady window before the restart.
 * The load sends its QC renders on a fixed schedule from its start, so without it each set-up's
 * signal falls at the same point between two renders in every row, and a phase of a start or a
 * switch shorter than the renders' spacing may never hold one (--signal-jitter 500 at 2 a second).
 */
const SIGNAL_JITTER_MS = Number(values['signal-jitter']);
if (!Number.isInteger(SIGNAL_JITTER_MS) || SIGNAL_JITTER_MS < 0) throw new Error(`--signal-jitter: ${values['signal-jitter']} is not a whole number of ms, 0 or more`);
const LAG_LIMIT_MS = Number(values['lag-limit']);
const LAG_RETRIES = Number(values['lag-retries']);
const REST_LIMIT = Number(values['rest-limit']);
/** % of a core the hypervisor may take on average (steal) in a row's steady or restart window before the row is run again. */
const STEAL_LIMIT = Number(values['steal-limit']);
if (!Number.isFinite(STEAL_LIMIT) || STEAL_LIMIT < 0) throw new Error(`--steal-limit: ${values['steal-limit']} is not a percentage of a core, 0 or more`);
const VARIANTS = values.variant.map(parseVariant);
/**
 * Where the load process runs: `shared` (this process's session and priority), a nice value or
 * `fifo`, in a session of its own; `auto` (the default): `fifo` where this process may set it, else `shared`.
 */
function loadPriorities(spec: string): { name: string; placement: LoadProcessPlacement }[] {
  return spec.split(',').map((v) => {
    if (v === 'auto') v = realtimeAllowed() ? 'fifo' : 'shared';
    if (v === 'shared') return { name: 'shared', placement: {} };
    if (v === 'fifo') return { name: 'fifo', placement: { realtime: true } };
    if (!/^-?\d+$/.test(v) || Number(v) < -20 || Number(v) > 19) throw new Error(`--load-priority: ${v} is none of auto, shared, fifo or a nice value from -20 to 19`);
    return { name: `ln${v}`, placement: { nice: Number(v) } };
  });
}
const LOAD_PRIORITIES = loadPriorities(values['load-priority']);
const NGINX_SESSIONS = values['nginx-session'].split(',').map((v): 'own' | 'shared' => {
  if (v !== 'own' && v !== 'shared') throw new Error(`--nginx-session: ${v} is neither own nor shared`);
  return v;
});
const NGINX_WORKERS = values['nginx-workers'].split(',').map((v): number | 'auto' => {
  if (v === 'auto') return v;
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new Error(`--nginx-workers: ${v} is neither auto nor a number of workers from 1`);
  return Number(v);
});
/** nginx's set-ups of the rolling rows: every session with every worker count. */
const NGINX_SETUPS = NGINX_SESSIONS.flatMap((session) => NGINX_WORKERS.map((workers) => ({ session, workers })));
/** A set-up of this run: with its variant's environment, the load process's placement and nginx's. */
type BenchDef = ScenarioDef & { load?: LoadProcessPlacement; nginxSession?: 'own' | 'shared'; nginxWorkers?: number | 'auto' };
const DEFS = values.only.split(',').flatMap((name): BenchDef[] => {
  const def = ALL.find((d) => d.name === name);
  if (!def) throw new Error(`--only: unknown scenario ${name}; known: ${ALL.map((d) => d.name).join(', ')}`);
  const variants: (BenchVariant | undefined)[] = VARIANTS.length === 0 ? [undefined] : VARIANTS;
  // The part after `@` names the variant, the load's placement and nginx's set-up (restart-bench.pairs.ts pairs
  // rows by it); an axis with one value for the whole run tags no row (the run's JSON says which: loadPriority, nginxSession, nginxWorkers).
  const loadTagged = LOAD_PRIORITIES.length > 1;
  const rolling = def.group === 'rolling';
  const sessionTagged = rolling && NGINX_SESSIONS.length > 1;
  const workersTagged = rolling && NGINX_WORKERS.length > 1;
  const setups = rolling ? NGINX_SETUPS : [NGINX_SETUPS[0]];
  return variants.flatMap((v) => LOAD_PRIORITIES.flatMap((load) => setups.map(({ session, workers }): BenchDef => {
    const placement = { load: load.placement, nginxSession: session, nginxWorkers: workers };
    const tag = [v?.name, loadTagged ? load.name : undefined, sessionTagged ? `nginx-${session}` : undefined, workersTagged ? `nginx-w${workers}` : undefined]
      .filter(Boolean).join('.');
    if (!tag) return { ...def, ...placement };
    const about = [v?.name, loadTagged ? `load ${load.name}` : undefined, sessionTagged ? `nginx ${session}` : undefined, workersTagged ? `nginx workers ${workers}` : undefined]
      .filter(Boolean).join(', ');
    return {
      ...def, ...placement, name: `${def.name}@${tag}`, label: `${def.label} [${about}]`,
      setup: (dir, options) => def.setup(dir, { ...options, env: { ...options.env, ...v?.env } }),
    };
  })));
});
const RESULTS = join(__dirname, 'results');
const stamp = new Date().toISOString().replace(/:/g, '').replace(/\.\d+Z$/, 'Z');
const RUN_DIR = join(RESULTS, `restart-${stamp}`);

const log = (line: string) => process.stderr.write(`${line}\n`);
/** A measured window of load (steady state before, settling after): not a wait for a condition. */
const hold = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const load1 = () => loadavg().map((n) => Math.round(n * 100) / 100);

/** The set-up being measured, so that a stop signal can tear it down (nginx, pm2, the restart loop). */
let current: Scenario | undefined;

/** The load process's full collections in a row's log line: where on the load's time line, so a reader can tell whether one fell in a window. */
function loadMajors(row: Row): string {
  const major = row.loadGc.major;
  return major.length === 0 ? 'none' : `${major.length} (at ${major.map((m) => `${(m.atMs / 1000).toFixed(1)} s, ${m.ms} ms`).join('; ')})`;
}

/** How many rows of each scenario and rate have been measured, for {@link rowName}. */
const rowsNamed = new Map<string, number>();

/**
 * The name of a row's files (timeline, instruments, requests, logs): `handoff-500rps`, then
 * `handoff-500rps-2`, `-3` for the same scenario, variant and rate measured again (a repeat in
 * --only, or a spoiled row run again), so that no row's evidence replaces another's.
 */
function rowName(scenario: string, rate: number): string {
  const base = `${scenario}-${rate}rps`;
  const n = (rowsNamed.get(base) ?? 0) + 1;
  rowsNamed.set(base, n);
  return n === 1 ? base : `${base}-${n}`;
}

async function measure(def: BenchDef, rate: number): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), `restart-bench-${def.name}-`));
  const profDir = join(dir, 'prof');
  let profiledRow: string | undefined;
  const instruments = await startInstruments(dir, values['cpu-prof'] ? { cpuProfDir: profDir } : {});
  const scenario = await def.setup(dir, { nginxConf: values['nginx-conf'], nginxSession: def.nginxSession, nginxWorkers: def.nginxWorkers, env: instruments.env });
  current = scenario;
  try {
    const load = await startLoadProcess(
      { port: scenario.port, ratePerSec: rate, maxDurationMs: 600_000, baseClients: 64, maxClients: 2_048, mix: mixFor(rate, QC_PER_SEC) },
      undefined,
      def.load,
    );
    let outcome: RestartOutcome;
    const loadAverage = load1();
    const signalDelayMs = Math.floor(Math.random() * SIGNAL_JITTER_MS);
    try {
      // A freshly started set-up is still warming (Chromium's first pages, JIT): not steady state yet.
      await hold(WARMUP_MS + STEADY_MS + signalDelayMs);
      try {
        outcome = await scenario.restart();
      } catch (error) {
        // A restart that gives up is a result of this row, not the end of the benchmark.
        const now = Date.now();
        outcome = { startAt: now, endAt: now, oldPids: [], newPids: [], signalAt: [], note: `RESTART FAILED: ${error instanceof Error ? error.message : String(error)}` };
        log(`  ${outcome.note}`);
      }
      await hold(AFTER_MS);
    } finally {
      load.stop();
    }
    const report = await load.done;
    const data = await instruments.stop();
    const events = parseLogEvents(scenario.logs());
    const markers = restartMarkers({ events, t0Epoch: report.run.t0Epoch, oldPids: outcome.oldPids, newPids: outcome.newPids, signalAt: outcome.signalAt, exits: scenario.exits, handoff: scenario.handoff });
    const row = makeRow(def, rate, report, outcome, markers, loadAverage, WARMUP_MS);
    if (scenario.nginx) row.nginx = { errors: nginxProblems(scenario.nginx), failedAnswers: failedAnswers(scenario.nginx) };
    if (SIGNAL_JITTER_MS > 0) row.signalDelayMs = signalDelayMs;
    const name = rowName(def.name, rate);
    const fromMs = outcome.startAt - report.run.t0Epoch;
    const toMs = report.run.records.reduce((m, r) => Math.max(m, r.scheduledMs), 0);
    const restartToMs = outcome.endAt - report.run.t0Epoch;
    const bs = buckets(report.run.records, 1_000, toMs, 100);
    const steadyWorst = worstBucket(bs, WARMUP_MS, fromMs);
    const restartBuckets = bucketsIn(bs, fromMs, restartToMs);
    const noQc = (b: Bucket) => b.p99NoQcMs;
    const steadyWorstNoQc = worstBucket(bs, WARMUP_MS, fromMs, noQc);
    const steadyBuckets = bucketsIn(bs, WARMUP_MS, fromMs);
    const chance = (withQc: boolean) => Math.round(chanceAboveSteady(steadyBuckets, restartBuckets, withQc) * 100) / 100;
    row.buckets = {
      steadyWorstP99Ms: steadyWorst, restartWorstP99Ms: worstBucket(bs, fromMs, restartToMs),
      restartBucketsAboveSteady: restartBuckets.filter((b) => b.p99Ms > steadyWorst).length, restartBuckets: restartBuckets.length,
      chanceAboveSteady: chance(true),
      withoutQc: {
        steadyWorstP99Ms: steadyWorstNoQc, restartWorstP99Ms: worstBucket(bs, fromMs, restartToMs, noQc),
        restartBucketsAboveSteady: restartBuckets.filter((b) => b.p99NoQcMs > steadyWorstNoQc).length,
        chanceAboveSteady: chance(false),
      },
    };
    const series = instrumentSeries(data, { t0Epoch: report.run.t0Epoch, fromMs: 1_000, toMs: 1_000 + bs.length * 100, bucketMs: 100, apiNames: apiNamesOf(outcome.oldPids, outcome.newPids, scenario.handoff) });
    const seriesFile = join(RUN_DIR, `${name}.instruments.json`);
    writeFileSync(seriesFile, `${JSON.stringify({ markers, window: { fromMs, toMs: restartToMs }, buckets: bs, instruments: series })}\n`);
    const rest = series.cpu['machine: rest'] ?? [];
    const steal = series.cpu['steal'] ?? [];
    row.instruments = {
      ...peaks(series, fromMs, restartToMs), file: relative(WORKSPACE, seriesFile),
      restCpuMean: { steady: meanIn(series, rest, WARMUP_MS, fromMs), restart: meanIn(series, rest, fromMs, restartToMs) },
      stealCpuMean: { steady: meanIn(series, steal, WARMUP_MS, fromMs), restart: meanIn(series, steal, fromMs, restartToMs) },
      strangers: strangers(data, report.run.t0Epoch, outcome.endAt + AFTER_MS),
    };
    const file = join(RUN_DIR, `${name}.svg`);
    // The picture shows the steady window's last SHOWN_STEADY_MS, so that the restart keeps its width;
    // its figures (p99, worst bucket) are the whole window's.
    const first = Math.max(0, Math.floor((fromMs - SHOWN_STEADY_MS - 1_000) / 100));
    const shown = bs.slice(first);
    writeFileSync(file, timelineSvg({
      title: `${def.label} at ${rate} req/s`,
      subtitle: [
        `${row.failed} failed of ${row.requests}; p99 ${row.steady.p99Ms} ms steady (${STEADY_MS / 1_000} s, the last ${Math.min(STEADY_MS, SHOWN_STEADY_MS) / 1_000} s shown), ` +
          `${row.restart.p99Ms} ms during the restart (${row.restartMs} ms); send lag p99 ${row.sendLag.p99Ms} ms`,
        `worst 100 ms bucket ${steadyWorst} -> ${row.buckets.restartWorstP99Ms} ms; ${row.buckets.restartBucketsAboveSteady} of ${row.buckets.restartBuckets} restart buckets above the steady worst ` +
          `(chance with no effect: ${Math.round(row.buckets.chanceAboveSteady * 100)} %)`,
      ],
      buckets: shown, bucketMs: 100, markers, window: { fromMs, toMs: restartToMs }, zeroMs: fromMs,
      steadyWorstP99Ms: steadyWorst, instruments: seriesFrom(series, first), sendLagMaxMs: shown.map((b) => (b.answered + b.failed === 0 ? Number.NaN : b.sendLagMaxMs)),
    }));
    row.timeline = relative(WORKSPACE, file);
    if (values['keep-logs']) keepLogs(name, scenario.logs(), scenario.nginx?.files);
    if (values['cpu-prof']) profiledRow = name;
    if (values.requests) {
      // Every request of the restart window, client and server side, timed from the (first) successor's
      // ready; the control has none: from the window's start.
      const ready = markers.find((m) => m.kind === 'ready') ?? { ms: fromMs, label: 'the start of the window' };
      const server = readServerRecords(dir);
      const names = apiNamesOf(outcome.oldPids, outcome.newPids, scenario.handoff);
      const window = { records: report.run.records, t0Epoch: report.run.t0Epoch, fromMs, toMs: restartToMs, zeroEpoch: report.run.t0Epoch + ready.ms };
      // Behind nginx the APIs see nginx's ports: the client's requests are found in nginx's access log instead.
      const joined = scenario.nginx
        ? joinThroughNginx({ ...window, accessLog: readFileSync(scenario.nginx.files.accessLog, 'utf8'), server: server.records, gc: server.gc, names })
        : joinRequests({ ...window, server: server.records, gc: server.gc, names });
      if (joined.every((r) => r.by === 'unmatched')) {
        log('  --requests: no request matched a record of the server or of nginx; no requests file');
      } else {
        const gc = server.gc.map((p) => ({ by: names.get(p.pid) ?? `pid ${p.pid}`, atMs: Math.round((p.start - report.run.t0Epoch - ready.ms) * 100) / 100, ms: p.ms, kind: GC_KINDS[p.kind] ?? 'unknown' }));
        writeFileSync(join(RUN_DIR, `${name}.requests.json`), `${JSON.stringify({ zero: ready.label, window: { fromMs: fromMs - ready.ms, toMs: restartToMs - ready.ms }, requests: joined, gc })}\n`);
        log(`  the slowest requests of the restart (sent ms from ${ready.label}):\n${slowestTable(joined, 30)}`);
        log(`  requests other than QC renders above 1.5 x the steady p99, by when they were sent:\n${slowByMoment(joined, Math.round(row.steady.p99Ms * 1.5 * 10) / 10)}`);
      }
    }
    return row;
  } finally {
    current = undefined;
    await scenario.teardown();
    await instruments.stop().catch(() => undefined);
    // The profiles are written as each process exits: after the teardown.
    if (profiledRow) keepProfiles(dir, profDir, profiledRow);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Peaks of the restart window per process: where the time went. */
function peaks(series: InstrumentSeries, fromMs: number, toMs: number): Pick<NonNullable<Row['instruments']>, 'cpuPeak' | 'loopMaxMs' | 'runQueueMaxMs'> {
  const inWindow = (values: readonly number[]) => values.filter((v, i) => { const at = series.fromMs + i * series.bucketMs; return at >= fromMs && at < toMs && Number.isFinite(v); });
  const max = (record: Record<string, number[]>) => Object.fromEntries(Object.entries(record).map(([k, v]) => [k, Math.max(0, ...inWindow(v))]));
  return { cpuPeak: max(series.cpu), loopMaxMs: max(series.loopMaxMs), runQueueMaxMs: Object.fromEntries(Object.entries(max(series.runQueueMs)).map(([k, v]) => [k, Math.round(v * 10) / 10])) };
}

/** Waits (up to 10 min) until the machine is calm: under REST_LIMIT % of a core busy, three seconds in a row. */
async function calm(): Promise<void> {
  const deadline = Date.now() + 600_000;
  let quiet = 0;
  while (quiet < 3 && Date.now() < deadline) {
    const busy = await machineBusy(1_000);
    quiet = busy < REST_LIMIT ? quiet + 1 : 0;
    if (quiet === 0) log(`  waiting for a calm machine (${busy} % of a core busy)`);
  }
}

/** Runs a row, again when it was spoiled (`spoiled()`): up to --lag-retries more times. */
async function measureCounted(def: BenchDef, rate: number): Promise<Row> {
  const discarded: NonNullable<Row['discarded']> = [];
  for (let attempt = 0; ; attempt += 1) {
    await calm();
    const row = await measure(def, rate);
    const why = spoiled(row, { lagMs: LAG_LIMIT_MS, restCpu: REST_LIMIT, stealCpu: STEAL_LIMIT });
    if (!why || attempt >= LAG_RETRIES) {
      if (discarded.length) row.discarded = discarded;
      if (why) row.note = `${row.note} (not a clean row, in every attempt: ${why})`.trim();
      return row;
    }
    log(`  ${why}: running the row again`);
    discarded.push({ why, sendLagP99Ms: row.sendLag.p99Ms, p99Ratio: row.p99Ratio, failed: row.failed });
  }
}

/** Copies the CPU profiles and the probe's lines (their clock) into the row's logs directory. */
function keepProfiles(dir: string, profDir: string, name: string): void {
  const out = join(RUN_DIR, 'logs', name);
  mkdirSync(out, { recursive: true });
  if (existsSync(profDir)) for (const f of readdirSync(profDir)) copyFileSync(join(profDir, f), join(out, f));
  for (const f of readdirSync(dir)) if (/^probe-\d+\.jsonl$/.test(f)) copyFileSync(join(dir, f), join(out, f));
  // The source maps of the build that ran: a later build names other functions at the same lines.
  const dist = dirname(API_MAIN);
  for (const f of readdirSync(dist)) if (f.endsWith('.js.map')) copyFileSync(join(dist, f), join(out, f));
}

function keepLogs(name: string, logs: string, nginx?: { errorLog: string; accessLog: string }): void {
  const dir = join(RUN_DIR, 'logs', name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'api.log'), logs);
  if (nginx) for (const f of [nginx.errorLog, nginx.accessLog]) copyFileSync(f, join(dir, `nginx-${f.endsWith('error.log') ? 'error' : 'access'}.log`));
}

async function rates(): Promise<{ rates: number[]; capacity?: number; probes: Probe[] }> {
  if (values.rates !== 'auto') return { rates: values.rates.split(',').map(Number), probes: [] };
  let capacity = values.capacity === undefined ? undefined : Number(values.capacity);
  let probes: Probe[] = [];
  if (capacity === undefined) {
    log(`capacity: highest rate with steady p99 < 250 ms on one instance (${values['capacity-step']} s per probe) ...`);
    // The capacity search keeps the load process in this session whatever --load-priority says: near
    // capacity it needs a whole core, which at SCHED_FIFO it would take from the API it measures.
    ({ capacity, probes } = await measureCapacity({ qcPerSec: QC_PER_SEC, stepMs: Number(values['capacity-step']) * 1_000, log }));
  }
  const list = [Math.round(capacity * 0.5), Math.round(capacity * 0.8), 200, 500].filter((r) => r > 0);
  return { rates: [...new Set(list)].sort((a, b) => a - b), capacity, probes };
}

async function main(): Promise<void> {
  requireBuilt(API_MAIN, CLI_MAIN);
  mkdirSync(RUN_DIR, { recursive: true });
  const started = new Date().toISOString();
  const loadBefore = load1();
  log(`restart-bench ${started}, load average ${loadBefore.join(' ')}; CLI ${cliHasModes() ? 'with' : 'without'} --mode`);
  const kernel = kernelFacts();
  log(describeKernel(kernel));
  log(`load process: ${LOAD_PRIORITIES.map((p) => p.name).join(', ')} (--load-priority; fifo: SCHED_FIFO 1 in a session of its own, as a client on a machine of its own; shared: in this session, at its priority)`);
  const plan = await rates();
  log(`rates: ${plan.rates.join(', ')} req/s${plan.capacity === undefined ? '' : ` (capacity ${plan.capacity} req/s)`}`);
  const rows: Row[] = [];
  for (const rate of plan.rates) {
    for (const def of DEFS) {
      log(`${def.label} at ${rate}/s ...`);
      const row = await measureCounted(def, rate);
      log(`  failed ${row.failed} ${JSON.stringify(row.failedByKind)}, p99 steady ${row.steady.p99Ms} ms, restart ${row.restart.p99Ms} ms, took ${row.restartMs} ms, send lag p99 ${row.sendLag.p99Ms} ms, hypervisor steal mean ${row.instruments?.stealCpuMean.restart ?? '?'} % (max ${row.instruments?.cpuPeak['steal'] ?? '?'} %), the load's full collections ${loadMajors(row)} -> ${row.timeline}`);
      rows.push(row);
    }
  }
  const repeats = summarizeRepeats(rows);
  const result = {
    date: started, finished: new Date().toISOString(), node: process.version, kernel, cliModes: cliHasModes(), loadAverage: { before: loadBefore, after: load1() },
    loadPriority: LOAD_PRIORITIES.map((p) => p.name),
    nginxSession: NGINX_SESSIONS,
    nginxWorkers: NGINX_WORKERS,
    warmupMs: WARMUP_MS, steadyMs: STEADY_MS, afterMs: AFTER_MS, qcPerSec: QC_PER_SEC, qcEveryByRate: Object.fromEntries(plan.rates.map((rate) => [rate, qcEvery(rate, QC_PER_SEC)])), signalJitterMs: SIGNAL_JITTER_MS, nginxConf: values['nginx-conf'] ?? 'deployment/nginx/edu_agents.conf', capacity: plan.capacity, capacityProbes: plan.probes, rates: plan.rates, repeats, rows,
  };
  writeFileSync(join(RUN_DIR, 'restart-bench.json'), `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  const repeatsTable = repeatsMarkdown(repeats);
  log(`\n${markdown(rows)}\n${repeatsTable ? `\nrepeats, taking turns:\n${repeatsTable}\n` : ''}\nraw JSON and timelines: ${relative(WORKSPACE, RUN_DIR)}`);
}

// Ctrl-C or a stop signal: tear down the set-up being measured and end every API this run started, then go.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void Promise.allSettled([current?.teardown(), killLeftoverApis()]).finally(() => process.exit(130)));
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
