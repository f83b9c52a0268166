// Next to a busy neighbour (issue 15, found by issue 16's busy-core runs): one process of
// its own (a session of its own, nice 0) keeps every core busy with one spinning thread per
// core, and the built API is started and handed off once, per variant of its environment.
// It reports how long the API took to answer ready, how long a SIGHUP took until the
// successor wrote the pid file, a QC render's time after it, and when the old process
// exited (it retires at SCHED_IDLE, and its successor sets it back if it starves), or what failed. A priority
// that puts Chromium or the successor below the whole machine shows here as a start or a
// handoff that never finishes; one that keeps them inside the API's own scheduling group
// gets the API's fair share. Prints a table on stderr and JSON on stdout.
//
//   npx nx build api
//   SWC_NODE_PROJECT=tsconfig.base.json node -r @swc-node/register tools/bench/busy-neighbour.bench.ts \
//     [--variant name:KEY=value,...]... [--timeout 90]
//
// Without --variant it compares the defaults with Chromium in a session of its own
// (QC_CHROME_SESSION=own) and with a successor lowered in a group of its own
// (HANDOFF_SUCCESSOR_NICE=19).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseVariant, type BenchVariant } from './bench-variant';
import { killLeftoverApis, LOAD_API_ENV, postJson, startApi, waitFor, waitReady } from '@edu-agents/e2e-support';

const { values } = parseArgs({
  options: { variant: { type: 'string', multiple: true, default: [] }, timeout: { type: 'string', default: '90' } },
});
const TIMEOUT_MS = Number(values.timeout) * 1000;
if (!(TIMEOUT_MS > 0)) throw new Error(`--timeout ${values.timeout}: expected a number of seconds above 0`);

const VARIANTS: BenchVariant[] = values.variant.length > 0 ? values.variant.map(parseVariant) : [
  { name: 'default', env: {} },
  { name: 'chromium-own-session', env: { QC_CHROME_SESSION: 'own' } },
  { name: 'successor-lowered', env: { HANDOFF_SUCCESSOR_NICE: '19' } },
];

interface Row { variant: string; env: Record<string, string>; startMs?: number; handoffMs?: number; qcAfterMs?: number; oldExitMs?: number; retiredIdle?: boolean; escaped?: boolean; failed?: string }

/** One process, one spinning thread per core: the neighbour. */
function startHog(): ChildProcess {
  const spin = `const { Worker } = require('node:worker_threads'); for (let i = 0; i < ${cpus().length}; i++) new Worker('for (;;) {}', { eval: true });`;
  return spawn(process.execPath, ['-e', spin], { stdio: 'ignore', detached: true });
}

async function measure(variant: BenchVariant): Promise<Row> {
  const row: Row = { variant: variant.name, env: variant.env };
  const dir = mkdtempSync(join(tmpdir(), 'busy-neighbour-'));
  const pidFile = join(dir, 'api.pid');
  const hog = startHog();
  try {
    let t = Date.now();
    const api = await startApi({ ...LOAD_API_ENV, ...variant.env }, { pidFile, timeoutMs: TIMEOUT_MS });
    await waitReady(api.port, TIMEOUT_MS);
    row.startMs = Date.now() - t;
    t = Date.now();
    api.signal('SIGHUP');
    await waitFor('the successor to write the pid file', () => {
      const pid = Number(readFileSync(pidFile, 'utf8').trim());
      return pid > 0 && pid !== api.pid ? pid : undefined;
    }, TIMEOUT_MS);
    row.handoffMs = Date.now() - t;
    const handedAt = Date.now();
    t = Date.now();
    const answer = await postJson(`${api.url}/qc/check`, { html: '<main><h1>After the handoff</h1><p>next to a busy neighbour</p></main>' });
    if (answer.status !== 200) throw new Error(`POST /qc/check answered ${answer.status} after the handoff`);
    row.qcAfterMs = Date.now() - t;
    // The old process retires after the switch (at SCHED_IDLE by default): next to the neighbour
    // its exit waits for a CPU until its successor's escape sets it back.
    await waitFor('the old process to exit', () => !api.isRunning(), TIMEOUT_MS);
    row.oldExitMs = Date.now() - handedAt;
    row.retiredIdle = /retiring at SCHED_IDLE/.test(api.output());
    row.escaped = /still ran \d+ ms after it retired at SCHED_IDLE/.test(api.output());
  } catch (error) {
    const message = (error as Error).message;
    // The API's own reason when it exited during start-up (its log line), else the first line.
    const reason = /start failed: [^"\n]*/.exec(message)?.[0];
    row.failed = `${message.split('\n')[0].split(' (last error')[0]}${reason ? `: ${reason}` : ''}`.slice(0, 300);
  } finally {
    try {
      process.kill(hog.pid as number, 'SIGKILL');
    } catch {
      // gone already
    }
    await killLeftoverApis();
    rmSync(dir, { recursive: true, force: true });
  }
  return row;
}

async function main(): Promise<void> {
  const started = new Date().toISOString();
  const rows: Row[] = [];
  for (const variant of VARIANTS) {
    process.stderr.write(`${variant.name} ...\n`);
    const row = await measure(variant);
    process.stderr.write(`  ${JSON.stringify(row)}\n`);
    rows.push(row);
  }
  const s = (ms?: number) => (ms === undefined ? '-' : (ms / 1000).toFixed(1));
  const yes = (b?: boolean) => (b === undefined ? '-' : b ? 'yes' : 'no');
  process.stderr.write(`\n| variant | environment | start to ready (s) | SIGHUP to successor's pid file (s) | QC render after it (s) | old process's exit after the pid file (s) | retired at SCHED_IDLE | set back by its successor | failed |\n|---|---|---:|---:|---:|---:|---|---|---|\n`);
  for (const r of rows) {
    const env = Object.entries(r.env).map(([k, v]) => `${k}=${v}`).join(' ') || '(defaults)';
    process.stderr.write(`| ${r.variant} | ${env} | ${s(r.startMs)} | ${s(r.handoffMs)} | ${s(r.qcAfterMs)} | ${s(r.oldExitMs)} | ${yes(r.retiredIdle)} | ${yes(r.escaped)} | ${r.failed ?? '-'} |\n`);
  }
  process.stdout.write(`${JSON.stringify({ date: started, cores: cpus().length, timeoutMs: TIMEOUT_MS, loadavgAtEnd: loadavg(), rows }, null, 2)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`busy-neighbour: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
