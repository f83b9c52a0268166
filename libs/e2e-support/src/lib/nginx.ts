import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { accepts, freePort } from './net';
import { NGINX_BIN, writeNginxFiles, type NginxFiles } from './nginx-config';
import { waitFor } from './wait-for';

/** A real nginx in the foreground, on a port from the OS. */
export interface RunningNginx {
  port: number;
  files: NginxFiles;
  process: ChildProcess;
  /** SIGTERM (SIGKILL after 5 s), then its temp dir is removed. */
  stop(): Promise<void>;
}

/** Options of {@link startNginx}. */
export interface StartNginxOptions {
  /**
   * The wrapper's `worker_connections` (default 512). Load tests raise it: each
   * client connection costs nginx a second one upstream, and an open-loop load on
   * a slow machine holds hundreds; a limit of the harness, not of the shipped config.
   */
  workerConnections?: number;
  /** Another server config with the same placeholders (default: the shipped one). */
  serverConf?: string;
  /**
   * A session (so, with autogrouping, a scheduling group) of its own, as a service manager
   * starts it: systemd makes every service's main process a session leader. Default: the
   * caller's session, sharing the caller's CPU share.
   */
  ownSession?: boolean;
  /**
   * The wrapper's `worker_processes` (default 1: one worker, so that a test reads one
   * process's behaviour). Debian's own nginx.conf says `auto`, one worker per CPU.
   */
  workerProcesses?: number | 'auto';
}

/** Starts nginx with the shipped server config (ports substituted) in front of `upstreamPorts`, in order. */
export async function startNginx(upstreamPorts: readonly number[], options: StartNginxOptions = {}): Promise<RunningNginx> {
  const port = await freePort();
  const files = writeNginxFiles(port, upstreamPorts, options.serverConf, options.workerConnections, options.workerProcesses);
  const globals = ['daemon off;', `pid ${join(files.dir, 'nginx.pid')};`];
  if (options.workerConnections !== undefined) globals.push(`worker_rlimit_nofile ${options.workerConnections * 2 + 64};`);
  let output = '';
  const child = spawn(NGINX_BIN, ['-p', files.dir, '-c', files.mainConf, '-e', files.errorLog, '-g', globals.join(' ')], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.ownSession ?? false,
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
    await waitFor(`nginx to accept connections on port ${port}`, async () => {
      if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}: ${output}`);
      return accepts(port);
    });
  } catch (error) {
    await stop();
    throw new Error(`nginx did not start: ${output}`, { cause: error });
  }
  return { port, files, process: child, stop };
}

/** {@link startNginx} for load tests: `worker_connections` 4096 unless given. */
export function startNginxForLoad(upstreamPorts: readonly number[], options: StartNginxOptions = {}): Promise<RunningNginx> {
  return startNginx(upstreamPorts, { workerConnections: 4_096, ...options });
}

/**
 * nginx's error log at level warn or worse, counted by message (time, pid,
 * connection number and request details stripped), e.g.
 * `{ "[error] connect() failed (111: Connection refused) while connecting to upstream": 12 }`:
 * what nginx absorbed by passing requests to the next instance, or could not.
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
