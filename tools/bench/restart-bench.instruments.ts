// The instruments of restart-bench.ts, per 100 ms and per process: CPU (from
// /proc, sampled by restart-bench.sampler.js in a process of its own), the
// event-loop delay and the responses of each node process (restart-bench.probe.js,
// loaded into every API process and its successors by NODE_OPTIONS), and the
// run-queue wait of each API's main thread, nginx and the load: what competed with what at the switch.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '@edu-agents/e2e-support';

const PROBE = join(__dirname, 'restart-bench.probe.js');
const SAMPLER = join(__dirname, 'restart-bench.sampler.js');
const CLOCK_TICK_MS = 10; // USER_HZ 100

/** The running instruments of one set-up. */
export interface Instruments {
  /** Environment that loads the probe into a node process. */
  env: Record<string, string>;
  /** Stops the sampler and reads everything recorded. */
  stop(): Promise<InstrumentData>;
}

interface SamplerLine { t: number; cpu?: [number, number, number?]; p?: [number, number, number, number | null][]; new?: number; ppid?: number; cmd?: string; others?: [number, number, string][] }
interface ProbeLine { t: number; pid: number; loopMaxMs: number; loopMeanMs: number; responses: number; main: string }

/** Everything the instruments recorded, as read back. */
export interface InstrumentData {
  samples: SamplerLine[];
  /** Every process followed, with when the sampler first saw it (epoch ms). */
  processes: Map<number, { ppid: number; cmd: string; seenAt: number }>;
  probes: Map<number, ProbeLine[]>;
  /** Every second, the busiest processes of the machine that are not the run's: who else took the CPU. */
  others: { t: number; others: [number, number, string][] }[];
}

/** Starts the sampler (root: this process, so every process the set-up starts is followed). */
export async function startInstruments(dir: string, opts: { cpuProfDir?: string } = {}): Promise<Instruments> {
  const file = join(dir, 'sampler.jsonl');
  const sampler: ChildProcess = spawn(process.execPath, [SAMPLER, file, String(process.pid)], { stdio: ['ignore', 'ignore', 'inherit'] });
  await waitFor('the sampler to write its first line', () => existsSync(file), 10_000);
  return {
    // --cpu-prof: the probe of every API process writes a V8 CPU profile there when it exits.
    env: { NODE_OPTIONS: `--require ${PROBE}`, RESTART_BENCH_PROBE_DIR: dir, ...(opts.cpuProfDir ? { RESTART_BENCH_CPU_PROF_DIR: opts.cpuProfDir } : {}) },
    stop: async () => {
      if (sampler.exitCode === null) {
        const exited = new Promise((resolve) => sampler.once('exit', resolve));
        sampler.kill('SIGTERM');
        await exited;
      }
      return readInstruments(dir);
    },
  };
}

function jsonLines<T>(file: string): T[] {
  const out: T[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      continue; // the last line of a process killed mid-write
    }
  }
  return out;
}

export function readInstruments(dir: string): InstrumentData {
  const samples = jsonLines<SamplerLine>(join(dir, 'sampler.jsonl'));
  const processes = new Map<number, { ppid: number; cmd: string; seenAt: number }>();
  for (const s of samples) if (s.new !== undefined) processes.set(s.new, { ppid: s.ppid ?? 0, cmd: s.cmd ?? '', seenAt: s.t });
  const probes = new Map<number, ProbeLine[]>();
  for (const name of readdirSync(dir)) {
    const m = /^probe-(\d+)\.jsonl$/.exec(name);
    if (m) probes.set(Number(m[1]), jsonLines<ProbeLine>(join(dir, name)));
  }
  const others = samples.filter((s) => s.others).map((s) => ({ t: s.t, others: s.others ?? [] }));
  return { samples: samples.filter((s) => s.cpu), processes, probes, others };
}

/** Who a process is, for the picture: an API (by the name the run gave its pid), its Chromium, nginx, the load, ... */
export function roleOf(pid: number, data: InstrumentData, apiNames: ReadonlyMap<number, string>): string {
  const info = data.processes.get(pid);
  if (apiNames.has(pid)) return apiNames.get(pid) as string;
  const cmd = info?.cmd ?? '';
  if (/chrom/i.test(cmd)) {
    // Up the parent links to the API that launched this Chromium (its browser's parent).
    for (let p = info?.ppid, hops = 0; p !== undefined && hops < 10; p = data.processes.get(p)?.ppid, hops += 1) {
      if (apiNames.has(p)) return `chromium of ${apiNames.get(p)}`;
    }
    return 'chromium (other)';
  }
  if (cmd.startsWith('nginx')) return 'nginx';
  if (cmd.includes('load-process')) return 'load';
  if (cmd.includes('restart-cli')) return 'cli';
  if (cmd.includes('restart-bench.sampler')) return 'sampler';
  if (pid === process.pid) return 'bench';
  return 'other of the run';
}

/**
 * Whose main-thread run-queue wait the series keep: each API, and what carries a request to it
 * (nginx's processes summed, the load process). A request slow "before parse" in every API at
 * once waited in one of those, or in something that no run queue shows.
 */
function waitFollowed(pid: number, role: string, apiNames: ReadonlyMap<number, string>): boolean {
  return apiNames.has(pid) || role === 'nginx' || role === 'load';
}

/** Per-bucket series of one run. */
export interface InstrumentSeries {
  bucketMs: number;
  fromMs: number;
  /**
   * CPU in % of one core per role (a role's processes summed), `machine: rest` for everything
   * else on the host, and `steal` for the time the hypervisor gave our virtual CPUs to someone
   * else (/proc/stat's steal): a stall that no process of the machine caused.
   */
  cpu: Record<string, number[]>;
  /** Largest event-loop delay per bucket, per API (ms); NaN where the process wrote nothing (stalled or gone). */
  loopMaxMs: Record<string, number[]>;
  /** Run-queue wait per bucket (ms) of each API's main thread, of nginx's processes (summed) and of the load's main thread. */
  runQueueMs: Record<string, number[]>;
  /** Responses (not /health) each API finished per bucket. */
  responses: Record<string, number[]>;
}

/** The same series from bucket `first` on (a timeline that shows only the end of a long steady window). */
export function seriesFrom(series: InstrumentSeries, first: number): InstrumentSeries {
  const from = (byName: Record<string, number[]>) => Object.fromEntries(Object.entries(byName).map(([name, values]) => [name, values.slice(first)]));
  return {
    bucketMs: series.bucketMs, fromMs: series.fromMs + first * series.bucketMs,
    cpu: from(series.cpu), loopMaxMs: from(series.loopMaxMs), runQueueMs: from(series.runQueueMs), responses: from(series.responses),
  };
}

/** Buckets the instruments' data from `fromMs` to `toMs` (ms after the load's t0). */
export function instrumentSeries(data: InstrumentData, opts: { t0Epoch: number; fromMs: number; toMs: number; bucketMs: number; apiNames: ReadonlyMap<number, string> }): InstrumentSeries {
  const { t0Epoch, fromMs, toMs, bucketMs, apiNames } = opts;
  const count = Math.max(1, Math.ceil((toMs - fromMs) / bucketMs));
  const index = (epoch: number) => Math.floor((epoch - t0Epoch - fromMs) / bucketMs);
  const series = () => new Array<number>(count).fill(0);
  const cpuTicks: Record<string, number[]> = {};
  const runQueue: Record<string, number[]> = {};
  const machineBusy = series();
  const steal = series();
  const elapsed = series();
  const prev = new Map<number, { ticks: number; wait: number | null }>();
  let prevMachine: [number, number, number?] | undefined;
  let prevT: number | undefined;
  const firstT = data.samples[0]?.t ?? 0;
  for (const s of data.samples) {
    const i = index(s.t);
    const ok = i >= 0 && i < count && prevT !== undefined;
    if (ok) elapsed[i] += s.t - (prevT as number);
    let ours = 0;
    for (const [pid, , ticks, wait] of s.p ?? []) {
      // A process started during the run did all its work since it was last not there: count it from 0.
      const born = (data.processes.get(pid)?.seenAt ?? 0) > firstT;
      const before = prev.get(pid) ?? (born ? { ticks: 0, wait: 0 } : undefined);
      prev.set(pid, { ticks, wait });
      if (!before || !ok) continue;
      const role = roleOf(pid, data, apiNames);
      (cpuTicks[role] ??= series())[i] += ticks - before.ticks;
      ours += ticks - before.ticks;
      if (waitFollowed(pid, role, apiNames) && wait !== null && before.wait !== null) (runQueue[role] ??= series())[i] += (wait - before.wait) / 1e6;
    }
    if (ok && prevMachine && s.cpu) {
      machineBusy[i] += Math.max(0, s.cpu[0] - prevMachine[0] - ours);
      steal[i] += Math.max(0, (s.cpu[2] ?? 0) - (prevMachine[2] ?? 0));
    }
    prevMachine = s.cpu;
    prevT = s.t;
  }
  const percent = (ticks: number[]) => ticks.map((n, i) => (elapsed[i] > 0 ? Math.round(((n * CLOCK_TICK_MS) / elapsed[i]) * 1000) / 10 : 0));
  const cpu: Record<string, number[]> = {};
  for (const [role, ticks] of Object.entries(cpuTicks)) cpu[role] = percent(ticks);
  cpu['machine: rest'] = percent(machineBusy);
  cpu['steal'] = percent(steal);
  const loopMaxMs: Record<string, number[]> = {};
  const responses: Record<string, number[]> = {};
  for (const [pid, lines] of data.probes) {
    const name = apiNames.get(pid);
    if (!name) continue;
    const loop = new Array<number>(count).fill(Number.NaN);
    const resp = series();
    for (const line of lines) {
      const i = index(line.t);
      if (i < 0 || i >= count) continue;
      loop[i] = Number.isNaN(loop[i]) ? line.loopMaxMs : Math.max(loop[i], line.loopMaxMs);
      resp[i] += line.responses;
    }
    loopMaxMs[name] = loop;
    responses[name] = resp;
  }
  return { bucketMs, fromMs, cpu, loopMaxMs, runQueueMs: runQueue, responses };
}

/** The API pids of a run by the name the picture gives them: predecessor/successor, or old/new per instance. */
export function apiNamesOf(oldPids: readonly number[], newPids: readonly number[], handoff: boolean): Map<number, string> {
  const names = new Map<number, string>();
  const many = oldPids.length > 1;
  oldPids.forEach((pid, k) => names.set(pid, `${handoff ? 'predecessor' : 'old'}${many ? ` ${k}` : ''} (${pid})`));
  newPids.forEach((pid, k) => pid > 0 && names.set(pid, `${handoff ? 'successor' : 'new'}${many ? ` ${k}` : ''} (${pid})`));
  return names;
}

/** The busiest processes outside the run between two epoch times, by CPU ms. */
export function strangers(data: InstrumentData, fromEpoch: number, toEpoch: number, top = 5): { pid: number; cpuMs: number; cmd: string }[] {
  const sum = new Map<number, { cpuMs: number; cmd: string }>();
  for (const line of data.others) {
    if (line.t < fromEpoch || line.t > toEpoch) continue;
    for (const [pid, ticks, cmd] of line.others) {
      const entry = sum.get(pid) ?? { cpuMs: 0, cmd };
      entry.cpuMs += ticks * CLOCK_TICK_MS;
      sum.set(pid, entry);
    }
  }
  return [...sum.entries()].map(([pid, e]) => ({ pid, ...e })).sort((a, b) => b.cpuMs - a.cpuMs).slice(0, top);
}

/** The mean of a series over the buckets that start within [fromMs, toMs). */
export function meanIn(series: InstrumentSeries, values: readonly number[], fromMs: number, toMs: number): number {
  const inside = values.filter((v, i) => { const at = series.fromMs + i * series.bucketMs; return at >= fromMs && at < toMs && Number.isFinite(v); });
  return inside.length ? Math.round((inside.reduce((a, b) => a + b, 0) / inside.length) * 10) / 10 : 0;
}

/** Busy CPU of the whole machine over `ms`, in % of one core (from /proc/stat). */
export async function machineBusy(ms: number): Promise<number> {
  const read = () => {
    const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number);
    return { busy: f.reduce((a, b) => a + b, 0) - f[3] - (f[4] ?? 0) };
  };
  const a = read();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const b = read();
  return Math.round((((b.busy - a.busy) * CLOCK_TICK_MS) / ms) * 1000) / 10;
}
