#!/usr/bin/env node
// What an old process's retirement spends its CPU on, by the kernel's samples of every CPU. For
// each one-instance handoff row of a restart-bench run: the old node's and its Chromium's CPU in
// the last --window ms before the old node's last sample, by kind (the kernel freeing memory as a
// process exits, a fork, each system call, page faults, V8 compiling or collecting, the rest in
// user space), and the CPU of the other processes it started then (a shell, chrt).
//
//   perf record -F 1999 -a -g -o /tmp/retire.data -- \
//     npx nx run deployment:restart-bench -- --rates 500 --capacity 3400 --only handoff,handoff,handoff --requests
//   node tools/bench/retire-stacks.mjs /tmp/retire.data tools/bench/results/restart-<stamp>/restart-bench.json [--window 400] [--json FILE]
//
// A sample stands for 1000/--hz ms of a CPU (perf's -F). A process belongs to the old tree when
// the old node is among its ancestors in the record's forks (perf's own task events: a fork
// tracepoint in the same record would be sampled at -F too, and miss some), so the record must
// begin before the old API starts. Prints a table per row, then the same as JSON.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseTaskForks, perfText, rootFinder } from './perf-sched.mjs';
import { parsePerfScript } from './sched-stacks.mjs';

const USAGE = 'usage: retire-stacks.mjs PERF_DATA RESTART_BENCH_JSON [--hz 1999] [--window MS] [--json FILE] (a perf record -a -g over the whole run)';

/** What a sample's stack (innermost frame first) was doing, in a few words. */
export function kindOf(stack) {
  const frames = stack.join(' ');
  if (/begin_new_exec/.test(frames)) return 'exec';
  if (/exit_mmap/.test(frames)) return 'exit: freeing memory';
  if (/do_exit|do_group_exit/.test(frames)) return 'exit: the rest';
  if (/dup_mmap|copy_page_range|kernel_clone/.test(frames)) return 'fork';
  const call = /__x64_sys_(\w+)|__do_sys_(\w+)/.exec(frames);
  if (call) return `system call ${call[1] ?? call[2]}`;
  if (/exc_page_fault/.test(frames)) return 'page faults';
  if (/v8::internal::(Parser|Scanner|Compiler|BytecodeGenerator|BytecodeArrayWriter|PerfectKeywordHash)/.test(frames)) return 'V8 parsing and compiling';
  if (/v8::internal::(Heap|Scavenger|MarkCompact|ConcurrentMarking|GCTracer)/.test(frames)) return 'V8 collecting';
  return 'user space, the rest';
}

/**
 * The retirement of `oldPid`: the CPU of its tree (without its successor `newPid`'s) in the
 * `windowMs` before the old node's last sample (its exit), by part (`node`, `chromium`, and each
 * other child by name) and kind, in ms.
 * `samples`: parsePerfScript's events; `parents`: each process's parent (perf-sched's parseTaskForks).
 */
export function retirementCost(samples, parents, { oldPid, newPid, hz, windowMs }) {
  const own = samples.filter((s) => s.pid === oldPid);
  if (own.length === 0) throw new Error(`no sample of pid ${oldPid} in the record: is it the record of this run?`);
  const endMs = Math.max(...own.map((s) => s.ms));
  // The successor is the old node's child too (forked ahead): its tree is its own.
  const rootOf = rootFinder(parents, [oldPid, newPid]);
  const msPerSample = 1000 / hz;
  const parts = {};
  const chromium = new Set();
  for (const s of samples) {
    if (s.ms < endMs - windowMs || s.ms > endMs || rootOf(s.pid) !== oldPid) continue;
    const part = s.pid === oldPid ? 'node' : /^(sh|chrt)$/.test(s.comm) ? s.comm : 'chromium';
    if (part === 'chromium') chromium.add(s.pid);
    const kinds = (parts[part] ??= {});
    const kind = kindOf(s.stack);
    kinds[kind] = (kinds[kind] ?? 0) + msPerSample;
  }
  const round = (x) => Math.round(x * 10) / 10;
  const summed = Object.fromEntries(
    Object.entries(parts).map(([part, kinds]) => [
      part,
      { totalMs: round(Object.values(kinds).reduce((a, b) => a + b, 0)), byKind: Object.fromEntries(Object.entries(kinds).sort((a, b) => b[1] - a[1]).map(([k, ms]) => [k, round(ms)])) },
    ]),
  );
  return { oldPid, windowMs, chromiumProcesses: chromium.size, parts: summed };
}

function main() {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { hz: { type: 'string', default: '1999' }, window: { type: 'string', default: '400' }, json: { type: 'string' } } });
  const [data, benchJson] = positionals;
  if (!data || !benchJson) throw new Error(USAGE);
  const hz = Number(values.hz);
  const windowMs = Number(values.window);
  if (!(hz > 0) || !(windowMs > 0)) throw new Error(`--hz "${values.hz}" and --window "${values.window}" must be positive numbers`);
  // Row (1) and its variants (`handoff@…`): one old process, one successor.
  const rows = JSON.parse(readFileSync(benchJson, 'utf8')).rows.filter((r) => r.scenario.split('@')[0] === 'handoff');
  if (rows.length === 0) throw new Error(`${benchJson} has no row (1) hot handoff, own port: run restart-bench with --only handoff`);
  const samples = parsePerfScript(perfText(['script', '-i', data, '-F', 'comm,pid,tid,cpu,time,event,trace,ip,sym']));
  const parents = parseTaskForks(perfText(['script', '-i', data, '--show-task-events', '-F', 'comm,pid,tid,time']));
  const results = rows.map((row) => ({ row: row.timeline.replace(/^.*\//, '').replace(/\.svg$/, ''), ...retirementCost(samples, parents, { oldPid: row.oldPids[0], newPid: row.newPids[0], hz, windowMs }) }));
  for (const r of results) {
    process.stdout.write(`\n${r.row}: old pid ${r.oldPid}, its last ${r.windowMs} ms (${r.chromiumProcesses} Chromium processes)\n`);
    for (const [part, { totalMs, byKind }] of Object.entries(r.parts)) {
      process.stdout.write(`  ${part.padEnd(9)} ${String(totalMs).padStart(6)} ms: ${Object.entries(byKind).map(([k, ms]) => `${k} ${ms}`).join(', ')}\n`);
    }
  }
  const json = JSON.stringify(results, null, 2);
  if (values.json) writeFileSync(values.json, `${json}\n`);
  else process.stdout.write(`${json}\n`);
}

if (process.argv[1] && import.meta.url === `file://${process.argv[1]}`) {
  try {
    main();
  } catch (error) {
    process.stderr.write(`retire-stacks: ${error.message}\n`);
    process.exit(error.message.startsWith('usage:') ? 2 : 1);
  }
}
