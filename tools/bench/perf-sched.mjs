// The kernel's record of a `perf sched record` file, as the sched-*.mjs scripts read it: every
// context switch (from `perf sched timehist`) and the parent of every process forked meanwhile.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** perf's text output, through a file: a whole run's timehist is larger than a pipe buffer Node holds. */
export function perfText(args) {
  const dir = mkdtempSync(join(tmpdir(), 'perf-sched-'));
  try {
    const out = join(dir, 'out.txt');
    const run = spawnSync('sh', ['-c', 'exec perf "$@" > "$0" 2>/dev/null', out, ...args], { stdio: 'ignore' });
    if (run.error) throw new Error(`perf could not run: ${run.error.message} (apt-get install linux-perf)`);
    if (run.status !== 0) throw new Error(`perf ${args.join(' ')} exited with ${run.status}: is ${args[args.indexOf('-i') + 1]} a perf.data file?`);
    return readFileSync(out, 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Each time a thread left a CPU: when, which CPU, how long it had waited runnable before it ran, how long it ran. */
export function parseTimehist(text) {
  const rows = [];
  const line = /^\s*([\d.]+)\s+\[(\d+)\]\s+(.*?)\[(\d+)(?:\/(\d+))?\]\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)/;
  for (const t of text.split('\n')) {
    const m = line.exec(t);
    if (!m) continue; // headers, and <idle>
    rows.push({ end: Number(m[1]) * 1000, cpu: Number(m[2]), comm: m[3].trim(), tid: Number(m[4]), pid: Number(m[5] ?? m[4]), delay: Number(m[7]), run: Number(m[8]) });
  }
  return rows;
}

/** Parent of each process forked during the recording. */
export function parseForks(text, processOf) {
  const parents = new Map();
  const fork = /(?:^|\s)(\d+)\/(\d+)\s+[\d.]+: sched:sched_process_fork: .* child_pid=(\d+)/;
  for (const t of text.split('\n')) {
    const m = fork.exec(t);
    if (!m) continue;
    const child = Number(m[3]);
    if ((processOf.get(child) ?? child) === child) parents.set(child, Number(m[1]));
  }
  return parents;
}

/**
 * The parent of each process forked during a recording (any record: perf's own task events), from
 * `perf script --show-task-events`: `PERF_RECORD_FORK(child pid:tid):(parent pid:tid)`. A fork
 * tracepoint in a record sampled at `-F` is sampled too, and misses some (retire-stacks.mjs).
 */
export function parseTaskForks(text) {
  const parents = new Map();
  for (const m of text.matchAll(/PERF_RECORD_FORK\((\d+):\d+\):\((\d+):\d+\)/g)) {
    if (m[1] !== m[2]) parents.set(Number(m[1]), Number(m[2])); // a new thread keeps its process's pid
  }
  return parents;
}

/** The context switches of a recording. */
export const readSwitches = (file) => parseTimehist(perfText(['sched', 'timehist', '-i', file]));

/** The parents of the processes forked during a recording, `switches` naming each thread's process. */
export const readForks = (file, switches) =>
  parseForks(perfText(['script', '-i', file, '-F', 'pid,tid,time,event,trace']), new Map(switches.map((r) => [r.tid, r.pid])));

/**
 * When a successor started, in perf's ms: its first moment on a CPU as node. A prepared successor
 * (HANDOFF_PREPARE_SUCCESSOR, the default) is forked (still named node) when its predecessor starts
 * to listen, runs as `sh` until the signal, and only then execs node: its start is its first moment
 * on a CPU after its last one as `sh`.
 */
export function successorStartMs(switches, pid) {
  const own = switches.filter((r) => r.pid === pid).sort((a, b) => a.end - b.end);
  const lastSh = own.findLastIndex((r) => r.comm === 'sh');
  const asNode = own.slice(lastSh + 1);
  if (asNode.length === 0) throw new Error(`successor ${pid} never ran as node in the recording: is it the run of these pids?`);
  return Math.min(...asNode.map((r) => r.end - r.run));
}

/**
 * perf's ms to the bench's, for a row whose first successor started at `signalMs` on the bench's
 * clock: that start is its first moment on a CPU as node ({@link successorStartMs}).
 */
export function benchClock(switches, signalMs, successorPid) {
  const offset = signalMs - successorStartMs(switches, successorPid);
  return (perfMs) => perfMs + offset;
}

/** A function from a pid to the first of `roots` among it and its ancestors (`parents`), or undefined. */
export function rootFinder(parents, roots) {
  const set = new Set(roots.filter((pid) => pid !== undefined));
  return (pid) => {
    for (let p = pid, hops = 0; p !== undefined && hops < 30; p = parents.get(p), hops += 1) if (set.has(p)) return p;
    return undefined;
  };
}

/**
 * The load generator, which wakes for every request: the `node` process outside every tree that
 * `rootOf` knows that left a CPU most often among the switches for which `counts` holds.
 */
export function busiestOtherNode(switches, counts, rootOf) {
  const runs = new Map();
  for (const r of switches) if (r.comm === 'node' && counts(r) && rootOf(r.pid) === undefined) runs.set(r.pid, (runs.get(r.pid) ?? 0) + 1);
  return [...runs].sort((a, b) => b[1] - a[1])[0]?.[0];
}

/** The switches of each CPU. */
export function switchesByCpu(switches) {
  const byCpu = new Map();
  for (const r of switches) (byCpu.get(r.cpu) ?? byCpu.set(r.cpu, []).get(r.cpu)).push(r);
  return byCpu;
}

/** What ran on the CPU that `wait` waited for while it waited (`cpuSwitches`: that CPU's): ms per `label(run)`. */
export function ranWhileWaiting(cpuSwitches, wait, label) {
  const from = wait.end - wait.run - wait.delay;
  const to = wait.end - wait.run;
  const ran = {};
  for (const r of cpuSwitches) {
    const overlap = Math.min(to, r.end) - Math.max(from, r.end - r.run);
    if (overlap <= 0) continue;
    const name = label(r);
    ran[name] = (ran[name] ?? 0) + overlap;
  }
  return ran;
}
