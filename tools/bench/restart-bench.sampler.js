// An instrument of restart-bench.ts, in a process of its own so that what it
// measures cannot stall it: every 100 ms it reads, from /proc, the CPU time of
// every process descending from a root pid (the benchmark: its APIs, their
// successors and Chromium, nginx, the load process, the CLI; a process stays
// followed after its parent exited), the run-queue wait of each one's main
// thread, and the machine's CPU time, and appends them to a JSONL file:
//   {"t": epoch ms, "cpu": [busy, total, steal] jiffies of the machine, "p": [[pid, ppid, ticks, waitNs], ...]}
//   (busy leaves out idle, iowait and steal: the time the hypervisor ran something else on our CPUs)
//   {"t", "new": pid, "ppid", "cmd"}  when a process is first seen
//   {"t", "others": [[pid, ticks, cmd], ...]}  every second, the five busiest processes
//     of the machine that are not followed: who else took the CPU
// Run: node restart-bench.sampler.js <out.jsonl> <root pid> [max seconds]
// Stops on SIGTERM, when the root is gone, or after max seconds (default 900).
'use strict';
const { appendFileSync, readdirSync, readFileSync } = require('node:fs');

const [out, rootArg, maxArg] = process.argv.slice(2);
const root = Number(rootArg);
if (!out || !Number.isInteger(root)) {
  process.stderr.write('usage: node restart-bench.sampler.js <out.jsonl> <root pid> [max seconds]\n');
  process.exit(2);
}
const deadline = Date.now() + Number(maxArg ?? 900) * 1000;
const followed = new Map(); // pid -> start time (field 22), so a reused pid is not mistaken for the old process

function stat(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]), start: f[19], state: f[0] };
  } catch {
    return undefined;
  }
}

function waitNs(pid) {
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]);
  } catch {
    return null;
  }
}

/** A process's command line; a kernel thread has none, so its name in brackets, as ps shows it ("[kdamond.0]"). */
function cmd(pid) {
  try {
    const line = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim().slice(0, 200);
    return line || `[${readFileSync(`/proc/${pid}/comm`, 'utf8').trim()}]`;
  } catch {
    return '';
  }
}

function machine() {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = fields[3] + (fields[4] || 0);
  const steal = fields[7] || 0;
  return [total - idle - steal, total, steal];
}

const strangers = new Map(); // pid -> ticks at the last report, for processes not followed
let strangersAt = 0;

function discover(now) {
  const parents = new Set([root, ...followed.keys()]);
  const busy = [];
  const report = now - strangersAt >= 1000;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (followed.has(pid)) continue;
    const s = stat(pid);
    if (!s) continue;
    if (!(parents.has(s.ppid) || pid === root)) {
      if (report) {
        const before = strangers.get(pid);
        strangers.set(pid, s.ticks);
        if (before !== undefined && s.ticks > before) busy.push([pid, s.ticks - before]);
      }
      continue;
    }
    followed.set(pid, s.start);
    parents.add(pid);
    appendFileSync(out, `${JSON.stringify({ t: now, new: pid, ppid: s.ppid, cmd: cmd(pid) })}\n`);
  }
  if (report) {
    if (strangersAt > 0) {
      const top = busy.sort((a, b) => b[1] - a[1]).slice(0, 5).map(([pid, ticks]) => [pid, ticks, cmd(pid).slice(0, 120)]);
      appendFileSync(out, `${JSON.stringify({ t: now, others: top })}\n`);
    }
    strangersAt = now;
  }
}

let tick = 0;
const timer = setInterval(() => {
  const now = Date.now();
  if (now > deadline || !stat(root)) return stop();
  if (tick++ % 2 === 0) discover(now);
  const p = [];
  for (const [pid, start] of followed) {
    const s = stat(pid);
    if (!s || s.start !== start || s.state === 'Z') {
      followed.delete(pid);
      continue;
    }
    p.push([pid, s.ppid, s.ticks, waitNs(pid)]);
  }
  appendFileSync(out, `${JSON.stringify({ t: now, cpu: machine(), p })}\n`);
}, 100);

function stop() {
  clearInterval(timer);
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
