/**
 * pm2's reload with a broken build at the entry path (issue 17, the comparison in
 * libs/process-handoff/README.md). pm2 7 (the workspace's devDependency), cluster mode, two
 * workers of a node:http app on one port; the entry file is replaced by one that throws at
 * start, then `pm2 reload`. Requests on fresh connections every 50 ms show whether anything
 * still answers; pm2's own status shows what it did. The same work through
 * @edu-agents/process-handoff is the packages e2e's broken-build step (0 failed requests).
 * pm2 runs with PM2_HOME in a temp dir: its own daemon, killed at the end.
 *
 *   SWC_NODE_PROJECT=tsconfig.base.json node -r @swc-node/register tools/bench/reload-broken-build.compare.ts
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, http, waitFor } from '@edu-agents/e2e-support';

const PM2 = resolve(__dirname, '../../node_modules/pm2/bin/pm2');

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'reload-broken-'));
  const env = { ...process.env, PM2_HOME: join(dir, 'pm2-home') };
  const pm2 = (...args: string[]) => spawnSync(process.execPath, [PM2, ...args], { cwd: dir, env, encoding: 'utf8' });
  const port = await freePort();
  const app = join(dir, 'app.js');
  writeFileSync(app, `require('node:http').createServer((req, res) => res.end('ok ' + process.pid)).listen(${port}, '127.0.0.1');\n`);
  try {
    pm2('start', app, '-i', '2', '--name', 'app');
    await waitFor('pm2 workers to answer', async () => (await http(`http://127.0.0.1:${port}/`, { timeoutMs: 1_000 })).status === 200, 20_000);
    writeFileSync(app, "throw new Error('broken build');\n");
    const reloadStarted = Date.now();
    const outcomes: { atMs: number; outcome: string }[] = [];
    const probe = (async () => {
      while (Date.now() - reloadStarted < 15_000) {
        let outcome: string;
        try {
          const answer = await http(`http://127.0.0.1:${port}/`, { timeoutMs: 2_000 });
          outcome = String(answer.status);
        } catch (error) {
          outcome = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
        }
        if (outcomes.at(-1)?.outcome !== outcome) outcomes.push({ atMs: Date.now() - reloadStarted, outcome });
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    // Not spawnSync: the probe above keeps running while pm2 reloads.
    const reload = await new Promise<{ status: number | null; stdout: string; stderr: string }>((done) => {
      const child = spawn(process.execPath, [PM2, 'reload', 'app'], { cwd: dir, env });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.once('close', (status) => done({ status, stdout, stderr }));
    });
    const reloadMs = Date.now() - reloadStarted;
    await probe;
    const list = JSON.parse(pm2('jlist').stdout) as { pid: number; pm2_env: { status: string; restart_time: number; unstable_restarts: number } }[];
    const result = {
      at: new Date().toISOString(),
      pm2: (JSON.parse(spawnSync('npm', ['ls', 'pm2', '--json'], { cwd: resolve(__dirname, '../..'), encoding: 'utf8' }).stdout) as { dependencies?: { pm2?: { version: string } } }).dependencies?.pm2?.version,
      reload: { exitCode: reload.status, ms: reloadMs, output: `${reload.stdout}${reload.stderr}`.replace(/\u001b\[[0-9;]*m/g, '').trim().split('\n').slice(-6) },
      outcomesOnFreshConnections: outcomes,
      workersAfter: list.map((p) => ({ pid: p.pid, status: p.pm2_env.status, restarts: p.pm2_env.restart_time, unstableRestarts: p.pm2_env.unstable_restarts })),
    };
    process.stderr.write(`pm2 reload exit ${result.reload.exitCode} after ${reloadMs} ms; outcomes: ${outcomes.map((o) => `${o.outcome}@${o.atMs}ms`).join(' -> ')}\n`);
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    pm2('kill');
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
