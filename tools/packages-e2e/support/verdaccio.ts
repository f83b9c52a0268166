import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { stopProcesses } from '@edu-agents/e2e-support';

/** A local Verdaccio: our packages are published to it, everything else comes through its uplink. */
export interface LocalRegistry {
  url: string;
  port: number;
  /** An auth token of a user the registry created for this run (publishing needs one). */
  token: string;
  /** What it printed (warnings and errors only). */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts Verdaccio with its storage, users and config in `dir` (a temp dir), on a port from
 * the OS. `@edu-agents/*` is served only from what is published here; every other package
 * through the uplink to `upstream` (the npm registry).
 */
export async function startVerdaccio(dir: string, upstream = 'https://registry.npmjs.org/', timeoutMs = 30_000): Promise<LocalRegistry> {
  mkdirSync(join(dir, 'storage'), { recursive: true });
  const config = join(dir, 'config.yaml');
  writeFileSync(
    config,
    [
      `storage: ${JSON.stringify(join(dir, 'storage'))}`,
      'auth:',
      '  htpasswd:',
      `    file: ${JSON.stringify(join(dir, 'htpasswd'))}`,
      '    max_users: 10',
      'uplinks:',
      '  npmjs:',
      `    url: ${upstream}`,
      '    timeout: 60s',
      '    max_fails: 10',
      'packages:',
      "  '@edu-agents/*':",
      '    access: $all',
      '    publish: $authenticated',
      "  '**':",
      '    access: $all',
      '    publish: $authenticated',
      '    proxy: npmjs',
      'web:',
      '  enable: false',
      'log: { type: stdout, format: pretty, level: warn }',
      '',
    ].join('\n'),
  );
  const child = spawn(process.execPath, [join(__dirname, 'verdaccio-server.cjs'), config], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const port = await firstPort(child, (line) => (output += `${line}\n`), () => output, timeoutMs);
  const url = `http://127.0.0.1:${port}/`;
  const stop = () => stopProcesses(child.pid === undefined ? [] : [child.pid], 5_000);
  try {
    const token = await addUser(url, 'e2e', 'e2e-password');
    return { url, port, token, output: () => output, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

function firstPort(child: ChildProcess, append: (line: string) => void, output: () => string, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    const timer = setTimeout(() => fail(new Error(`verdaccio did not listen within ${timeoutMs} ms: ${output()}`)), timeoutMs);
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    };
    // Its log lines arrive on stdout too: kept as output; the JSON line with the port ends the wait.
    lines.on('line', (line) => {
      const port = /^\{"port":(\d+)\}$/.exec(line.trim())?.[1];
      if (!port) return append(line);
      clearTimeout(timer);
      resolve(Number(port));
    });
    child.once('exit', (code) => fail(new Error(`verdaccio exited with ${code} before listening: ${output()}`)));
  });
}

/** Creates a user through the registry's API (what `npm adduser` does) and returns its token. */
async function addUser(url: string, name: string, password: string): Promise<string> {
  const response = await fetch(new URL(`-/user/org.couchdb.user:${name}`, url), {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, password, type: 'user', roles: [], date: new Date().toISOString() }),
  });
  const body = (await response.json()) as { token?: string; error?: string };
  if (!response.ok || !body.token) throw new Error(`verdaccio refused to create user ${name}: HTTP ${response.status} ${body.error ?? ''}`);
  return body.token;
}
