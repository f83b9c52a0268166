#!/usr/bin/env node
// Whom one thread waited behind for a CPU, and how each of those threads let the CPU go. It reads a
// recording of the scheduler's switch and wakeup events with kernel stacks:
//
//   perf record -e sched:sched_switch -e sched:sched_waking -g -a -o /tmp/sw.data -- <the run>
//   node tools/bench/sched-stacks.mjs /tmp/sw.data --tid TID [--from SEC --to SEC] [--min 1.5]
//
// A wait runs from the thread's wakeup (or its preemption) to its next switch in. For each wait of
// at least --min ms: the thread that gave up the CPU to it, that thread's state, how it let it go,
// read from the top of its kernel stack at the switch (an interrupt such as the timer tick, the
// end of a system call, or blocking on its own), and what else ran on that CPU meanwhile.
// `sched-waits.mjs` says whom whole phases waited behind; this says why the CPU was not given up
// sooner. A wait that began queued on another CPU (the balancer moved the thread) says so: the
// thread it ended behind is then only part of it. --from/--to are perf's clock (seconds), as
// `perf script` prints it. Prints a table, then the same as JSON.
import { parseArgs } from 'node:util';
import { perfText } from './perf-sched.mjs';

const USAGE = 'usage: sched-stacks.mjs PERF_DATA --tid TID [--from SEC --to SEC] [--min MS] (a perf record of sched:sched_switch and sched:sched_waking with -g)';

// A thread that is exiting has no name and tid left for perf: `:-1 31889/-1 [001] ...`.
const HEAD = /^\s*(.+?)\s+(-?\d+)\/(-?\d+)\s+\[(\d+)\]\s+([\d.]+):\s+(\S+):\s+(.*)$/;

/** The events of `perf script -F comm,pid,tid,cpu,time,event,trace,ip,sym`, each with the symbols of its stack (innermost first). */
export function parsePerfScript(text) {
  const events = [];
  let current;
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      current = undefined;
      continue;
    }
    const head = HEAD.exec(line);
    if (head) {
      current = { comm: head[1], pid: Number(head[2]), tid: Number(head[3]), cpu: Number(head[4]), ms: Number(head[5]) * 1000, event: head[6], trace: head[7], stack: [] };
      events.push(current);
    } else if (current) {
      current.stack.push(line.trim().split(/\s+/)[1] ?? '?');
    }
  }
  return events;
}

/** How a thread let the CPU go, from its stack at the switch (innermost frame first). */
export function howItLeft(stack) {
  const frames = stack.join(' ');
  if (/do_task_dead/.test(frames)) return 'it exited';
  if (/asm_sysvec_apic_timer_interrupt/.test(frames)) return 'timer tick';
  if (/asm_exc_page_fault/.test(frames)) return 'a page fault';
  if (/irqentry_exit/.test(frames)) return 'another interrupt';
  if (/exit_to_user_mode|syscall_exit/.test(frames)) return 'end of a system call';
  if (/__cond_resched/.test(frames)) return 'a resched point in the kernel';
  if (/schedule_idle/.test(frames)) return 'the CPU was idle';
  return 'blocked or slept';
}

const switchFields = (trace) => {
  const m = /prev_comm=(.*?) prev_pid=(\d+) prev_prio=(\d+) prev_state=(\S+) ==> next_comm=(.*?) next_pid=(\d+)/.exec(trace);
  return m && { prevComm: m[1], prevTid: Number(m[2]), prevPrio: Number(m[3]), prevState: m[4], nextTid: Number(m[6]) };
};

/** What ran on `cpu` from `since` to the switch at `end` (an index of `events`): ms per thread, most first. */
function ranOn(events, cpu, since, end) {
  const ran = new Map();
  let from = since.ms;
  // Each switch on that CPU ends the run of the thread it switches out.
  for (let i = since.index + 1; i <= end; i += 1) {
    const e = events[i];
    if (e.cpu !== cpu || e.event !== 'sched:sched_switch') continue;
    const s = switchFields(e.trace);
    if (!s) continue;
    const who = `${s.prevComm}/${s.prevTid}`;
    ran.set(who, (ran.get(who) ?? 0) + e.ms - from);
    from = e.ms;
  }
  return Object.fromEntries([...ran].filter(([, ms]) => ms >= 0.05).sort((a, b) => b[1] - a[1]).map(([who, ms]) => [who, Math.round(ms * 100) / 100]));
}

/**
 * Each thread's process, as `comm/pid` (the leader's name, or the thread's own when the leader ran
 * no event), from the headers of the events the threads ran.
 */
export function processesOf(events) {
  const leaders = new Map();
  const threads = new Map();
  for (const e of events) {
    if (e.tid >= 0) {
      threads.set(e.tid, { pid: e.pid, comm: e.comm });
      if (e.tid === e.pid) leaders.set(e.pid, e.comm);
      continue;
    }
    // An exiting thread's switch names it only in the trace (prev_pid, prev_comm).
    const s = e.event === 'sched:sched_switch' ? switchFields(e.trace) : undefined;
    if (s && !threads.has(s.prevTid)) threads.set(s.prevTid, { pid: e.pid, comm: s.prevComm });
  }
  return new Map([...threads].map(([tid, { pid, comm }]) => [tid, `${leaders.get(pid) ?? comm}/${pid}`]));
}

/**
 * Every wait for a CPU of thread `tid` that ended inside [fromMs, toMs] and lasted at least
 * `minMs`, with the thread that gave up the CPU to it and how; and the total of all its waits there.
 */
export function waitsOf(events, { tid, fromMs = -Infinity, toMs = Infinity, minMs = 1.5 }) {
  const processOf = processesOf(events);
  const waits = [];
  let since;
  let totalMs = 0;
  let count = 0;
  const wakesIt = new RegExp(`(^| )pid=${tid} `);
  for (const [index, e] of events.entries()) {
    if (e.event === 'sched:sched_waking' && wakesIt.test(e.trace)) {
      since ??= { ms: e.ms, index, how: 'woken', cpu: Number(/target_cpu=(\d+)/.exec(e.trace)?.[1] ?? e.cpu) };
    }
    if (e.event !== 'sched:sched_switch') continue;
    const s = switchFields(e.trace);
    if (!s) continue;
    // Preempted: it waits from here. Gone to sleep: a wakeup seen while it still ran does not count.
    if (s.prevTid === tid) since = s.prevState.startsWith('R') ? { ms: e.ms, index, how: 'preempted', cpu: e.cpu } : undefined;
    if (s.nextTid !== tid || since === undefined) continue;
    const waitedMs = e.ms - since.ms;
    if (e.ms >= fromMs && e.ms <= toMs) {
      totalMs += waitedMs;
      count += 1;
      if (waitedMs >= minMs) {
        waits.push({
          atMs: since.ms, waitedMs: Math.round(waitedMs * 100) / 100, how: since.how, cpu: e.cpu,
          // Queued on another CPU first (the wakeup's target, or where it was preempted): the balancer moved it.
          ...(since.cpu !== e.cpu ? { queuedOnCpu: since.cpu } : {}),
          behind: `${s.prevComm}/${s.prevTid}`, behindProcess: processOf.get(s.prevTid) ?? `?/${s.prevTid}`, behindPrio: s.prevPrio, behindState: s.prevState, left: howItLeft(e.stack), frames: e.stack.slice(0, 6),
          ran: ranOn(events, e.cpu, since, index),
        });
      }
    }
    since = undefined;
  }
  return { waits, count, totalMs: Math.round(totalMs * 10) / 10 };
}

function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { tid: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, min: { type: 'string', default: '1.5' } },
  });
  const [file] = positionals;
  if (!file || values.tid === undefined) throw new Error(USAGE);
  const tid = Number(values.tid);
  if (!Number.isInteger(tid) || tid <= 0) throw new Error(`--tid must be a thread id (got ${values.tid})`);
  const fromMs = values.from === undefined ? -Infinity : Number(values.from) * 1000;
  const toMs = values.to === undefined ? Infinity : Number(values.to) * 1000;
  const minMs = Number(values.min);
  // A whole run's record is hundreds of MB as text: with a window, perf reads only it (and 1 s before,
  // where the waits that reach into the window begin).
  const window = values.from === undefined && values.to === undefined ? []
    : ['--time', `${values.from === undefined ? '' : (Number(values.from) - 1).toFixed(6)},${values.to === undefined ? '' : values.to}`];
  const events = parsePerfScript(perfText(['script', '-i', file, ...window, '-F', 'comm,pid,tid,cpu,time,event,trace,ip,sym']));
  if (!events.some((e) => e.event === 'sched:sched_switch')) throw new Error(`${file} holds no sched:sched_switch events: record with -e sched:sched_switch -e sched:sched_waking -g`);
  const result = waitsOf(events, { tid, fromMs, toMs, minMs });
  console.log(`| from (s, perf's clock) | waited (ms) | after | cpu (queued first on) | behind | its state | how it let the CPU go | its innermost frames | what ran on that cpu meanwhile (ms) |`);
  console.log('|---:|---:|---|---:|---|---|---|---|---|');
  for (const w of result.waits) {
    const cpu = w.queuedOnCpu === undefined ? `${w.cpu}` : `${w.cpu} (${w.queuedOnCpu})`;
    const ran = Object.entries(w.ran).map(([who, ms]) => `${who} ${ms}`).join(', ');
    console.log(`| ${(w.atMs / 1000).toFixed(4)} | ${w.waitedMs} | ${w.how} | ${cpu} | ${w.behind} (prio ${w.behindPrio}) | ${w.behindState} | ${w.left} | ${w.frames.slice(1, 4).join(' < ')} | ${ran} |`);
  }
  const by = (key) => Object.entries(result.waits.reduce((m, w) => ({ ...m, [w[key]]: (m[w[key]] ?? 0) + 1 }), {})).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ');
  const moved = result.waits.filter((w) => w.queuedOnCpu !== undefined).length;
  const byProcess = new Map();
  for (const w of result.waits) byProcess.set(w.behindProcess, (byProcess.get(w.behindProcess) ?? 0) + w.waitedMs);
  const processes = [...byProcess].sort((a, b) => b[1] - a[1]).map(([who, ms]) => `${who} ${Math.round(ms * 10) / 10}`).join(', ');
  console.log(`\nthread ${tid}: ${result.count} waits, ${result.totalMs} ms in all; ${result.waits.length} of ${minMs} ms or more, ${moved} of them begun on another CPU. How the CPU was let go: ${by('left') || '-'}. Those waits by the process they ended behind (ms): ${processes || '-'}.`);
  console.log(JSON.stringify({ tid, minMs, ...result }, null, 2));
}

if (process.argv[1] && import.meta.url === `file://${process.argv[1]}`) {
  try {
    main();
  } catch (error) {
    process.stderr.write(`sched-stacks: ${error.message}\n`);
    process.exit(error.message.startsWith('usage:') ? 2 : 1);
  }
}
