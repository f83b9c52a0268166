import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { accepts, freePort } from './net';
import { NGINX_BIN, writeNginxFiles, type RunningNginx } from './nginx';
import { waitFor } from './wait';

/**
 * `startNginx` (support/nginx.ts) for load tests: the same shipped server
 * config with only ports substituted, in the same throw-away wrapper, except
 * that the wrapper's `worker_connections` is raised from 512 to
 * `workerConnections`. Each client connection costs nginx a second one
 * upstream, and an open-loop load on a slow machine holds hundreds of client
 * connections; at 512 nginx drops connections ("worker_connections are not
 * enough"), a limit of the harness, not of the shipped config.
 * `serverConf`: another server config with the same placeholders (the
 * benchmark's copy of the original guide's config); default the shipped one.
 */
export async function startNginxForLoad(upstreamPorts: number[], options: { workerConnections?: number; serverConf?: string } = {}): Promise<RunningNginx> {
  const workerConnections = options.workerConnections ?? 4_096;
  const port = await freePort();
  const files = writeNginxFiles(port, upstreamPorts, options.serverConf);
  const main = readFileSync(files.mainConf, 'utf8');
  if (!main.includes('worker_connections 512;')) throw new Error(`the nginx wrapper changed: no "worker_connections 512;" in ${files.mainConf}`);
  writeFileSync(files.mainConf, main.replace('worker_connections 512;', `worker_connections ${workerConnections};`));
  let output = '';
  const child = spawn(NGINX_BIN, ['-p', files.dir, '-c', files.mainConf, '-e', files.errorLog, '-g', `daemon off; pid ${join(files.dir, 'nginx.pid')}; worker_rlimit_nofile ${workerConnections * 2 + 64};`], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const forced = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(forced);
    }
    files.remove();
  };
  try {
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}: ${output}`);
      return (await accepts(port)) ? true : undefined;
    }, `nginx to accept connections on port ${port}`);
  } catch (error) {
    await stop();
    throw new Error(`nginx did not start: ${output}`, { cause: error });
  }
  return { port, files, process: child, stop };
}

/**
 * nginx's error log at level warn or worse, counted by message (time, pid,
 * connection number and request details stripped), e.g.
 * `{ "[error] connect() failed (111: Connection refused) while connecting to upstream": 12 }`:
 * what nginx absorbed by passing requests to the next instance.
 */
export function nginxProblems(nginx: RunningNginx): Record<string, number> {
  const counts: Record<string, number> = {};
  let text: string;
  try {
    text = readFileSync(nginx.files.errorLog, 'utf8');
  } catch (error) {
    return { [`error log unreadable: ${(error as Error).message}`]: 1 };
  }
  for (const line of text.split('\n')) {
    const match = /\[(warn|error|crit|alert|emerg)\] \d+#\d+: (?:\*\d+ )?(.*?)(?:, client: .*)?$/.exec(line);
    if (match) counts[`[${match[1]}] ${match[2]}`] = (counts[`[${match[1]}] ${match[2]}`] ?? 0) + 1;
  }
  return counts;
}
