// What remembering a successor's tree costs the serving process's event loop while the
// successor starts (process-handoff's TreeKiller.remember, every 500 ms): by the children
// files of the tree's processes, and by the whole process table as before, side by side on
// the same tree and the same host.
//
//   SWC_NODE_PROJECT=tsconfig.base.json node -r @swc-node/register tools/bench/tree-walk.bench.ts [--extra 400] [--tree 12] [--calls 50]
//
// --tree: node processes under a root process of their own (the tree walked); --extra: idle
// processes started beside it (`sleep`), a host with more processes; all are killed by pid
// at the end.
// JSON on stdout, a table on stderr.
import { spawn, type ChildProcess } from 'node:child_process';
import { parseArgs } from 'node:util';
import { nodeProcessEnvironment } from '../../libs/process-handoff/src/lib/node-process-environment';
import { TreeKiller } from '../../libs/process-handoff/src/lib/tree-killer';

const { values } = parseArgs({ options: { extra: { type: 'string', default: '0' }, tree: { type: 'string', default: '12' }, calls: { type: 'string', default: '50' } } });

const ROOT = `
  const { spawn } = require('node:child_process');
  const children = [];
  let up = 0;
  for (let i = 0; i < Number(process.argv[1]); i += 1) {
    const child = spawn(process.execPath, ['-e', 'process.stdout.write("up"); setInterval(() => {}, 1000)'], { stdio: ['ignore', 'pipe', 'ignore'] });
    child.stdout.once('data', () => { up += 1; if (up === Number(process.argv[1])) process.stdout.write('ready'); });
    children.push(child);
  }
  process.on('SIGTERM', () => { for (const c of children) c.kill('SIGKILL'); process.exit(0); });
  setInterval(() => {}, 1000);
`;

async function main(): Promise<void> {
  const started: ChildProcess[] = [];
  try {
    // The root starts the tree and says "ready" once every child of it runs node.
    const root = spawn(process.execPath, ['-e', ROOT, values.tree], { stdio: ['ignore', 'pipe', 'inherit'] });
    started.push(root);
    for (let i = 0; i < Number(values.extra); i += 1) started.push(spawn('sleep', ['300'], { stdio: 'ignore' }));
    let out = '';
    root.stdout?.on('data', (chunk) => (out += String(chunk)));
    const deadline = Date.now() + 30_000;
    while (!out.includes('ready') || started.some((c) => c.pid === undefined)) {
      if (Date.now() > deadline) throw new Error('the processes did not start within 30 s');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const env = nodeProcessEnvironment();
    const rootPid = root.pid as number;
    const rows = (['children files', 'whole table'] as const).map((walk) => {
      const killer = new TreeKiller(walk === 'whole table' ? { ...env, listChildren: undefined } : env);
      const times: number[] = [];
      for (let i = 0; i < Number(values.calls); i += 1) {
        const t = performance.now();
        killer.remember(rootPid);
        times.push(performance.now() - t);
      }
      times.sort((a, b) => a - b);
      const at = (q: number) => Math.round(times[Math.min(times.length - 1, Math.floor(q * times.length))] * 1000) / 1000;
      return { walk, calls: times.length, p50Ms: at(0.5), p90Ms: at(0.9), maxMs: at(1) };
    });
    const processes = env.listPids().length;
    process.stdout.write(`${JSON.stringify({ date: new Date().toISOString(), node: process.version, processesOnHost: processes, treeProcesses: Number(values.tree) + 1, rows }, null, 2)}\n`);
    process.stderr.write(`${processes} processes on the host\n| walk | calls | remember() p50 / p90 / max (ms) |\n|---|---:|---:|\n`);
    for (const r of rows) process.stderr.write(`| ${r.walk} | ${r.calls} | ${r.p50Ms} / ${r.p90Ms} / ${r.maxMs} |\n`);
  } finally {
    // The root's children go with it: it kills them as it gets SIGTERM.
    for (const child of started) if (child.pid !== undefined && child.exitCode === null) child.kill('SIGTERM');
  }
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
