#!/usr/bin/env node
// How long starting a successor holds a node process's event loop, by the size of that
// process, through the handoff library's own process environment, side by side:
// - spawn: `child_process.spawn` at the upgrade. libuv forks on Linux (the parent's page
//   tables are copied) and waits until the child has exec'd;
// - prepare: the same fork paid ahead (prepareSuccessor), when the process does not serve yet;
// - launch: what the upgrade then pays: one line to the prepared process's pipe.
//
//   SWC_NODE_PROJECT=tsconfig.base.json node -r @swc-node/register tools/bench/spawn-cost.bench.ts [--ballast 0,100,200,400] [--spawns 20]
//
// Each ballast size runs in a process of its own (node, plus that many MB of touched
// buffers), which starts `node -e 0` --spawns times each way, one after the other. JSON on
// stdout, a table on stderr.
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { percentile } from '@edu-agents/e2e-support';
import { nodeProcessEnvironment, type ChildHandlers, type SpawnRequest } from '@edu-agents/process-handoff';

const { values } = parseArgs({ options: { ballast: { type: 'string', default: '0,100,200,400' }, spawns: { type: 'string', default: '20' }, child: { type: 'string' } } });

type Quantiles = { p50Ms: number; p90Ms: number; maxMs: number };

function quantiles(times: number[]): Quantiles {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (q: number) => Math.round(percentile(sorted, q) * 100) / 100;
  return { p50Ms: at(0.5), p90Ms: at(0.9), maxMs: at(1) };
}

/** Milliseconds `fn` held this thread. */
function timed<T>(fn: () => T): [T, number] {
  const started = process.hrtime.bigint();
  const value = fn();
  return [value, Number(process.hrtime.bigint() - started) / 1e6];
}

async function measure(ballastMb: number, spawns: number): Promise<void> {
  const ballast: Buffer[] = [];
  for (let i = 0; i < ballastMb; i += 1) ballast.push(Buffer.alloc(1 << 20, 1));
  const env = nodeProcessEnvironment();
  const request: SpawnRequest = { command: process.execPath, args: ['-e', '0'], cwd: process.cwd(), env: { PATH: process.env['PATH'] ?? '' }, fds: [] };
  const exited = () => {
    let done!: () => void;
    const promise = new Promise<void>((resolve) => (done = resolve));
    const handlers: ChildHandlers = { message: () => undefined, exit: () => done(), spawnError: (error) => { throw error; }, disconnect: () => undefined };
    return { handlers, promise };
  };
  const times = { spawn: [] as number[], prepare: [] as number[], launch: [] as number[] };
  for (let i = 0; i < spawns; i += 1) {
    const direct = exited();
    const [, spawnMs] = timed(() => env.spawn(request, direct.handlers));
    times.spawn.push(spawnMs);
    await direct.promise;

    const [prepared, prepareMs] = timed(() => (env.prepare as NonNullable<typeof env.prepare>)(request));
    times.prepare.push(prepareMs);
    const launched = exited();
    const [, launchMs] = timed(() => prepared.launch(launched.handlers));
    times.launch.push(launchMs);
    await launched.promise;
  }
  process.stdout.write(JSON.stringify({ ballastMb, rssMb: Math.round(process.memoryUsage().rss / 1e6), spawns, spawn: quantiles(times.spawn), prepare: quantiles(times.prepare), launch: quantiles(times.launch) }));
  ballast.length = 0;
}

if (values.child !== undefined) {
  void measure(Number(values.child), Number(values.spawns));
} else {
  const rows = (values.ballast as string).split(',').map((mb) => {
    const run = spawnSync(process.execPath, [...process.execArgv, __filename, '--child', mb, '--spawns', values.spawns as string], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`ballast ${mb} MB: ${run.stderr}`);
    return JSON.parse(run.stdout) as { ballastMb: number; rssMb: number; spawns: number } & Record<'spawn' | 'prepare' | 'launch', Quantiles>;
  });
  process.stdout.write(`${JSON.stringify({ date: new Date().toISOString(), node: process.version, rows }, null, 2)}\n`);
  const q = (x: Quantiles) => `${x.p50Ms} / ${x.p90Ms} / ${x.maxMs}`;
  process.stderr.write('| ballast (MB) | RSS (MB) | starts | spawn at the upgrade: loop held p50 / p90 / max (ms) | prepared: the fork, paid ahead | prepared: the upgrade (launch) |\n|---:|---:|---:|---|---|---|\n');
  for (const r of rows) process.stderr.write(`| ${r.ballastMb} | ${r.rssMb} | ${r.spawns} | ${q(r.spawn)} | ${q(r.prepare)} | ${q(r.launch)} |\n`);
}
