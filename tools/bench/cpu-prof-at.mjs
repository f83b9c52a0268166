#!/usr/bin/env node
// What each API process's main thread did while it did not read requests: the busy
// stretches of its V8 CPU profile (restart-bench.ts --cpu-prof --keep-logs), placed on the
// run's clock and timed from the successor's ready, with the functions that took the time.
//
//   node tools/bench/cpu-prof-at.mjs tools/bench/results/restart-<stamp>/logs/<row> [--min-ms 4] [--from=-4000] [--to 1500]
//
// A profile counts on the monotonic clock; the probe's lines (probe-<pid>.jsonl, `t` and
// `mono`) give the offset to the wall clock, and api.log the successor's "phase ready".
// `(program)` is native work outside JavaScript (a system call such as fork, a handle sent on
// the IPC channel), `(garbage collector)` is V8's.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { 'min-ms': { type: 'string', default: '4' }, from: { type: 'string', default: '-4000' }, to: { type: 'string', default: '1500' }, top: { type: 'string', default: '4' } },
});
const dir = positionals[0];
if (!dir) {
  process.stderr.write('usage: cpu-prof-at.mjs <logs dir of a row> [--min-ms 4] [--from=-4000] [--to 1500] [--top 4]\n');
  process.exit(2);
}
const MIN_MS = Number(values['min-ms']);

const readyLines = readFileSync(join(dir, 'api.log'), 'utf8').split('\n').flatMap((l) => {
  try {
    const d = JSON.parse(l);
    return d.msg === 'phase ready' ? [{ pid: d.pid, at: Date.parse(d.time) }] : [];
  } catch {
    return [];
  }
});
if (readyLines.length < 2) throw new Error(`${dir}/api.log: no successor's "phase ready" (found ${readyLines.length} ready lines)`);
const zero = readyLines[readyLines.length - 1].at;
const successorPid = readyLines[readyLines.length - 1].pid;

/** Wall-clock ms minus monotonic ms of a process, from its probe's lines (the smallest difference: the least delayed read). */
function offsetOf(pid) {
  const lines = readFileSync(join(dir, `probe-${pid}.jsonl`), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const diffs = lines.filter((l) => l.mono !== undefined).map((l) => l.t - l.mono);
  if (!diffs.length) throw new Error(`probe-${pid}.jsonl has no monotonic stamps (a run before --cpu-prof existed)`);
  return Math.min(...diffs);
}

// The API's bundle (dist/apps/api/*.js) is named by its TypeScript source, through its source map.
const maps = new Map();
function original(f) {
  const m = /^file:\/\/(\/.*\/dist\/apps\/api\/[^/]+\.js)$/.exec(f.url);
  if (!m) return undefined;
  if (!maps.has(m[1])) {
    // The map kept with the profiles (the build that ran) before the one in dist/ now.
    const kept = join(dir, `${m[1].replace(/^.*\//, '')}.map`);
    const file = existsSync(kept) ? kept : `${m[1]}.map`;
    maps.set(m[1], existsSync(file) ? new SourceMap(JSON.parse(readFileSync(file, 'utf8'))) : null);
  }
  const entry = maps.get(m[1])?.findEntry(f.lineNumber, f.columnNumber);
  return entry?.originalSource ? `${entry.originalSource.replace(/^.*?\/(apps|libs|node_modules)\//, '$1/')}:${entry.originalLine + 1}` : undefined;
}
const add = (totals, key, ms) => totals.set(key, (totals.get(key) ?? 0) + ms);
const label = (f) => `${f.functionName || '(anonymous)'}${f.url ? ` ${original(f) ?? `${f.url.replace(/^.*\//, '')}:${f.lineNumber + 1}`}` : ''}`;

for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort()) {
  const pid = Number(/\.(\d+)\.cpuprofile$/.exec(file)?.[1]);
  let offset;
  try {
    offset = offsetOf(pid);
  } catch (error) {
    process.stdout.write(`${file}: ${error.message}; skipped\n`);
    continue;
  }
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stackOf = (id) => {
    const out = [];
    for (let at = id; at !== undefined; at = parent.get(at)) out.push(byId.get(at).callFrame);
    return out.filter((f) => f.functionName !== '(root)');
  };
  // Sample i covers [t_i, t_{i+1}).
  let t = profile.startTime;
  const samples = profile.samples.map((id, i) => {
    t += profile.timeDeltas[i];
    return { id, atUs: t };
  });
  const rel = (us) => us / 1000 + offset - zero;
  const stretches = [];
  let cur;
  for (let i = 0; i < samples.length - 1; i += 1) {
    const s = samples[i];
    const durMs = (samples[i + 1].atUs - s.atUs) / 1000;
    const idle = byId.get(s.id).callFrame.functionName === '(idle)';
    if (idle) {
      if (cur) stretches.push(cur);
      cur = undefined;
      continue;
    }
    cur ??= { fromMs: rel(s.atUs), ms: 0, leaf: new Map(), ours: new Map() };
    cur.ms += durMs;
    cur.toMs = rel(samples[i + 1].atUs);
    const stack = stackOf(s.id);
    // Samples come every 0.5 ms while the thread runs; a longer gap is time it did not run (off the CPU, or the sampler late).
    const GAP_MS = 2;
    add(cur.leaf, label(stack[0]), Math.min(durMs, GAP_MS));
    if (durMs > GAP_MS) add(cur.leaf, '(no sample)', durMs - GAP_MS);
    // The innermost frame of the API's own bundle: who asked for the work.
    const own = stack.find((f) => /^(apps|libs)\//.test(original(f) ?? ''));
    add(cur.ours, own ? label(own) : '(none of ours)', durMs);
  }
  if (cur) stretches.push(cur);
  const from = Number(values.from);
  const to = Number(values.to);
  const shown = stretches.filter((s) => s.ms >= MIN_MS && s.toMs >= from && s.fromMs <= to);
  const top = (m) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top)).map(([k, v]) => `${k} ${v.toFixed(1)}`).join('; ');
  process.stdout.write(`\n${pid === successorPid ? 'successor' : 'predecessor'} ${pid}: busy stretches of at least ${MIN_MS} ms from ${from} to ${to} ms around the successor's ready\n`);
  for (const s of shown) {
    process.stdout.write(`  ${s.fromMs.toFixed(1)} .. ${s.toMs.toFixed(1)} ms: ${s.ms.toFixed(1)} ms busy\n    leaves: ${top(s.leaf)}\n    ours:   ${top(s.ours)}\n`);
  }
}
