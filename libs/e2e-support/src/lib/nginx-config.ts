import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SHIPPED_NGINX_CONF } from './workspace';

export const NGINX_BIN = process.env['NGINX_BIN'] ?? '/usr/sbin/nginx';

/**
 * The shipped server config with only ports substituted: the `server
 * 127.0.0.1:800N` lines get the given upstream ports (in order) and `listen 80`
 * gets 127.0.0.1:<listenPort>. Fails if the shipped file no longer has exactly
 * those lines, so a test can never run against a config it did not template.
 */
export function renderServerConfig(shipped: string, listenPort: number, upstreamPorts: readonly number[]): string {
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
 * A minimal nginx.conf around the server config, every path under `dir` (pid
 * and daemon come from the command line). The access log names the upstream
 * each request went to, its status and times, and the client's port, so a failure
 * or a slow request can be traced to the client's own record of it.
 */
export function wrapInMainConfig(dir: string, serverConfPath: string, workerConnections = 512, workerProcesses: number | 'auto' = 1): string {
  return [
    `worker_processes ${workerProcesses};`,
    `error_log ${join(dir, 'error.log')} info;`,
    `events { worker_connections ${workerConnections}; }`,
    'http {',
    `  log_format upstreams '$msec $status "$request" rt=$request_time ua="$upstream_addr" us="$upstream_status" ut="$upstream_response_time" uc="$upstream_connect_time" rp=$remote_port';`,
    `  access_log ${join(dir, 'access.log')} upstreams;`,
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

/** Writes the templated server config (the shipped one by default) and its wrapper into a fresh temp dir. */
export function writeNginxFiles(
  listenPort: number, upstreamPorts: readonly number[], shipped = SHIPPED_NGINX_CONF, workerConnections?: number, workerProcesses?: number | 'auto',
): NginxFiles {
  const dir = mkdtempSync(join(tmpdir(), 'edu-nginx-'));
  // Workers run as nobody when the master is root: let them reach the temp dirs.
  chmodSync(dir, 0o755);
  const serverConf = join(dir, 'edu_agents.conf');
  writeFileSync(serverConf, renderServerConfig(readFileSync(shipped, 'utf8'), listenPort, upstreamPorts));
  const mainConf = join(dir, 'nginx.conf');
  writeFileSync(mainConf, wrapInMainConfig(dir, serverConf, workerConnections, workerProcesses));
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
