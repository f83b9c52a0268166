import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accepts, DEPLOYMENT_DIR, freePort } from './net';
import { waitFor } from './wait';

export const SHIPPED_NGINX_CONF = join(DEPLOYMENT_DIR, 'nginx', 'edu_agents.conf');
export const NGINX_BIN = process.env['NGINX_BIN'] ?? '/usr/sbin/nginx';

/**
 * The shipped server config with only ports substituted: the `server
 * 127.0.0.1:800N` lines get the given upstream ports (in order) and `listen 80`
 * gets 127.0.0.1:<listenPort>. Fails if the shipped file no longer has exactly
 * those lines, so the tests can never run against a config they did not
 * template.
 */
export function renderServerConfig(shipped: string, listenPort: number, upstreamPorts: number[]): string {
  const upstreamLines = shipped.match(/server 127\.0\.0\.1:800\d\b/g) ?? [];
  if (upstreamLines.length !== upstreamPorts.length) {
    throw new Error(`expected ${upstreamPorts.length} "server 127.0.0.1:800N" lines, found ${upstreamLines.length}`);
  }
  let index = 0;
  const withUpstreams = shipped.replace(/server 127\.0\.0\.1:800\d\b/g, () => `server 127.0.0.1:${upstreamPorts[index++]}`);
  const listens = withUpstreams.match(/^\s*listen 80;/gm) ?? [];
  if (listens.length !== 1) throw new Error(`expected one "listen 80;" line, found ${listens.length}`);
  return withUpstreams.replace(/^(\s*)listen 80;/m, `$1listen 127.0.0.1:${listenPort};`);
}

/**
 * A minimal nginx.conf around the server config, every path under `dir`
 * (pid and daemon come from the command line).
 */
export function wrapInMainConfig(dir: string, serverConfPath: string): string {
  return [
    'worker_processes 1;',
    `error_log ${join(dir, 'error.log')} info;`,
    'events { worker_connections 512; }',
    'http {',
    `  access_log ${join(dir, 'access.log')};`,
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `  ${kind}_temp_path ${join(dir, kind)};`),
    `  include ${serverConfPath};`,
    '}',
    '',
  ].join('\n');
}

export interface NginxFiles {
  dir: string;
  mainConf: string;
  accessLog: string;
  errorLog: string;
  remove(): void;
}

/** Writes the templated shipped config and its wrapper into a fresh temp dir. */
export function writeNginxFiles(listenPort: number, upstreamPorts: number[], shipped = SHIPPED_NGINX_CONF): NginxFiles {
  const dir = mkdtempSync(join(tmpdir(), 'edu-nginx-'));
  // Workers run as nobody when the master is root: let them reach the temp dirs.
  chmodSync(dir, 0o755);
  const serverConf = join(dir, 'edu_agents.conf');
  writeFileSync(serverConf, renderServerConfig(readFileSync(shipped, 'utf8'), listenPort, upstreamPorts));
  const mainConf = join(dir, 'nginx.conf');
  writeFileSync(mainConf, wrapInMainConfig(dir, serverConf));
  return {
    dir,
    mainConf,
    accessLog: join(dir, 'access.log'),
    errorLog: join(dir, 'error.log'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** `nginx -t` on the files; returns its exit status and output. */
export function testNginxConfig(files: NginxFiles): { status: number | null; output: string } {
  const result = spawnSync(NGINX_BIN, ['-t', '-p', files.dir, '-c', files.mainConf, '-e', files.errorLog, '-g', `pid ${join(files.dir, 'nginx.pid')};`], {
    encoding: 'utf8',
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

export interface RunningNginx {
  port: number;
  files: NginxFiles;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Options of {@link startNginx}. */
export interface StartNginxOptions {
  /**
   * Raises the wrapper's `worker_connections` (512) for load tests: each client
   * connection costs nginx a second one upstream, and an open-loop load on a slow
   * machine holds hundreds; a limit of the harness, not of the shipped config.
   */
  workerConnections?: number;
  /** Another server config with the same placeholders (default: the shipped one). */
  serverConf?: string;
}

/** Starts nginx in the foreground with the shipped config in front of the given ports. */
export async function startNginx(upstreamPorts: number[], options: StartNginxOptions = {}): Promise<RunningNginx> {
  const port = await freePort();
  const files = writeNginxFiles(port, upstreamPorts, options.serverConf);
  const globals = [`daemon off;`, `pid ${join(files.dir, 'nginx.pid')};`];
  if (options.workerConnections !== undefined) {
    const main = readFileSync(files.mainConf, 'utf8');
    if (!main.includes('worker_connections 512;')) throw new Error(`the nginx wrapper changed: no "worker_connections 512;" in ${files.mainConf}`);
    writeFileSync(files.mainConf, main.replace('worker_connections 512;', `worker_connections ${options.workerConnections};`));
    globals.push(`worker_rlimit_nofile ${options.workerConnections * 2 + 64};`);
  }
  let output = '';
  const child = spawn(NGINX_BIN, ['-p', files.dir, '-c', files.mainConf, '-e', files.errorLog, '-g', globals.join(' ')], {
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
