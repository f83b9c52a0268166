import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, ROOT } from './api-process';
import { waitUntil } from './wait';

/** A real nginx in the foreground with the shipped deployment/nginx/edu_agents.conf, ports substituted. */
export interface Nginx {
  readonly port: number;
  stop(): Promise<void>;
}

const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

/** Starts nginx in front of `upstreamPorts` (replacing the shipped `server 127.0.0.1:800N` lines in order). */
export async function startNginx(upstreamPorts: readonly number[]): Promise<Nginx> {
  const dir = await mkdtemp(join(tmpdir(), 'restart-cli-nginx-'));
  await chmod(dir, 0o755); // workers run as nobody when the master is root
  const port = await freePort();
  let n = 0;
  const shipped = await readFile(join(ROOT, 'deployment/nginx/edu_agents.conf'), 'utf8');
  const server = shipped
    .replace(/server 127\.0\.0\.1:800\d\b/g, () => `server 127.0.0.1:${upstreamPorts[n++]}`)
    .replace(/^(\s*)listen 80;/m, `$1listen 127.0.0.1:${port};`);
  if (n !== upstreamPorts.length) throw new Error(`shipped nginx config has ${n} upstream servers, expected ${upstreamPorts.length}`);
  await writeFile(join(dir, 'edu_agents.conf'), server);
  const temps = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((k) => `${k}_temp_path ${join(dir, k)};`).join(' ');
  await writeFile(join(dir, 'nginx.conf'), `worker_processes 1; error_log ${join(dir, 'error.log')}; events { worker_connections 512; }
http { access_log off; ${temps} include ${join(dir, 'edu_agents.conf')}; }\n`);
  const child = spawn('/usr/sbin/nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log'), '-g', `daemon off; pid ${join(dir, 'nginx.pid')};`], { stdio: 'ignore' });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitUntil('nginx to accept connections', async () => {
      if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}: ${await readFile(join(dir, 'error.log'), 'utf8').catch(() => '')}`);
      return accepts(port);
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { port, stop };
}
