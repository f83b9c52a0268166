// A session leader for the QC benches: a process in a session (so an autogroup) of its own that
// starts the processes of a bench as its children, so that all of them share one scheduling
// group, as an API, its Chromium and its successor do. Used by qc-next-to-work.bench.mjs and
// retire-cost.bench.mjs; its helpers (the renderer, an API's JSON log lines) by
// start-yield-leaks.mjs and signal-render.bench.mjs too.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '../..');

// The session's leader: started in a session of its own, it starts the API and the spinners as
// its children (so all of them share its session, hence one scheduling group), and kills a spinner
// by its pid when told. Commands on stdin, one per line, as JSON; answers on stdout.
const LEADER = `
const { spawn } = require('node:child_process');
const readline = require('node:readline');
const children = new Map();
readline.createInterface({ input: process.stdin }).on('line', (line) => {
  const cmd = JSON.parse(line);
  if (cmd.op === 'spawn') {
    const child = spawn(cmd.file, cmd.args, { cwd: cmd.cwd, env: cmd.env, stdio: cmd.output ? ['ignore', 'pipe', 'pipe'] : 'ignore' });
    children.set(child.pid, child);
    if (cmd.output) for (const s of [child.stdout, child.stderr]) s.on('data', (c) => process.stdout.write(JSON.stringify({ pid: child.pid, out: String(c) }) + '\\n'));
    child.once('exit', () => { children.delete(child.pid); process.stdout.write(JSON.stringify({ exited: child.pid, id: cmd.id }) + '\\n'); });
    process.stdout.write(JSON.stringify({ started: child.pid, id: cmd.id }) + '\\n');
  } else if (cmd.op === 'kill') {
    children.get(cmd.pid)?.kill(cmd.signal);
  }
});
// Our parent went away (or closed stdin): SIGTERM lets the API close its Chromium; SIGKILL after 20 s.
process.stdin.once('end', () => {
  const done = () => children.size === 0 && process.exit(0);
  for (const c of children.values()) { c.once('exit', () => setImmediate(done)); c.kill('SIGTERM'); }
  setTimeout(() => { for (const c of children.values()) c.kill('SIGKILL'); process.exit(0); }, 20_000).unref();
  done();
});
`;

export function startLeader() {
  const leader = spawn(process.execPath, ['-e', LEADER], { detached: true, stdio: ['pipe', 'pipe', 'inherit'] });
  const events = [];
  const waiters = [];
  let buffered = '';
  leader.stdout.on('data', (chunk) => {
    buffered += chunk;
    let nl;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const event = JSON.parse(buffered.slice(0, nl));
      buffered = buffered.slice(nl + 1);
      events.push(event);
      for (const w of [...waiters]) if (w.test(event)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(event); }
    }
  });
  let nextId = 0;
  const until = (what, test, ms) => new Promise((resolve, reject) => {
    const found = events.find(test);
    if (found) return resolve(found);
    const timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
    waiters.push({ test, resolve: (e) => { clearTimeout(timer); resolve(e); } });
  });
  const send = (cmd) => leader.stdin.write(`${JSON.stringify(cmd)}\n`);
  return {
    events,
    async spawn(file, args, options = {}) {
      const id = nextId++;
      send({ op: 'spawn', id, file, args, cwd: root, env: options.env ?? process.env, output: options.output ?? false });
      return (await until(`start of ${file}`, (e) => e.id === id && e.started, 10_000)).started;
    },
    async kill(pid, signal, waitMs = 20_000) {
      send({ op: 'kill', pid, signal });
      await until(`exit of ${pid}`, (e) => e.exited === pid, waitMs);
    },
    output: (pid) => events.filter((e) => e.pid === pid).map((e) => e.out).join(''),
    async close() {
      leader.stdin.end();
      await new Promise((resolve) => (leader.exitCode !== null ? resolve() : leader.once('exit', resolve)));
    },
  };
}

/** The built API as a child of `leader`, with a port from the OS; resolves with its pid and port once it listens. */
export async function startApiUnder(leader, apiMain, extraEnv = {}, wrap = (file, args) => [file, args]) {
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', HOST: '127.0.0.1', PORT: '0', QC_ENABLED: 'true', LOG_FORMAT: 'text', LOG_LEVEL: 'info', ...extraEnv };
  const [file, args] = wrap(process.execPath, [apiMain]);
  const pid = await leader.spawn(file, args, { env, output: true });
  const deadline = Date.now() + 60_000;
  let port;
  while (!(port = /listening on http:\/\/[^\s:]+:(\d+)/.exec(leader.output(pid))?.[1])) {
    if (Date.now() > deadline) throw new Error(`the API did not listen within 60 s:\n${leader.output(pid)}`);
    if (leader.events.some((e) => e.exited === pid)) throw new Error(`the API exited during start-up:\n${leader.output(pid)}`);
    await sleep(50);
  }
  return { pid, port };
}

/** A render function for the API on `port`: distinct lessons, so the result cache never answers. */
export function renderer(port) {
  let n = 0;
  return async () => {
    const i = n++;
    const started = performance.now();
    const res = await fetch(`http://127.0.0.1:${port}/qc/check`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ html: `<main><h1>Lesson ${i}</h1><p>Fractions, part ${i}.</p></main>` }),
    });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`POST /qc/check answered ${res.status}`);
    return { started, ended: performance.now() };
  };
}

export const quantile = (values, q) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
};
export const round1 = (x) => Math.round(x * 10) / 10;

/**
 * The JSON log lines of a child started with piped output (LOG_FORMAT=json), parsed as they
 * arrive into the returned array; other output (Chromium's own) is skipped.
 */
export function jsonLines(child) {
  const lines = [];
  let partial = '';
  const collect = (chunk) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      try {
        lines.push(JSON.parse(line));
      } catch {
        // not a log line of ours
      }
    }
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  return lines;
}

/** /proc/<pid>/stat's fields the benches use, or undefined once the process is gone. */
export function procStat(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const end = s.lastIndexOf(')');
    const f = s.slice(end + 2).split(' ');
    return { comm: s.slice(s.indexOf('(') + 1, end), state: f[0], ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) };
  } catch {
    return undefined;
  }
}

/** Every process of the host by pid, with its {@link procStat}, read once. */
export function processTable() {
  const all = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = procStat(Number(name));
    if (s) all.set(Number(name), s);
  }
  return all;
}

/** `root`'s descendants in `all` (a {@link processTable}), parents first, as [pid, stat]. */
export function descendantsIn(all, root) {
  const out = [];
  const queue = [root];
  while (queue.length > 0) {
    const parent = queue.shift();
    for (const [pid, s] of all) if (s.ppid === parent) { out.push([pid, s]); queue.push(pid); }
  }
  return out;
}

/** Whether a process runs (a zombie counts as gone). */
export const live = (pid) => {
  const stat = procStat(pid);
  return stat !== undefined && stat.state !== 'Z';
};

/** Resolves once `condition()` holds; throws `<what> within <ms> ms` past the deadline. */
export async function until(condition, ms, what) {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} within ${ms} ms`);
    await sleep(20);
  }
}

/**
 * Starts the API at `main` with QC on, JSON logs and a port from the OS (`env` on top) and waits
 * until it is ready; returns the child, its log lines as they arrive and its port.
 */
export async function startJsonApi(main, env = {}) {
  const api = spawn(process.execPath, [main], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', HOST: '127.0.0.1', PORT: '0', QC_ENABLED: 'true', LOG_FORMAT: 'json', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines = jsonLines(api);
  try {
    await until(() => lines.some((l) => l.msg === 'phase ready') || api.exitCode !== null, 60_000, 'the API was not ready');
    if (api.exitCode !== null) throw new Error(`the API exited with ${api.exitCode} during start-up`);
  } catch (error) {
    await stopApi(api.pid);
    throw error;
  }
  return { api, lines, port: lines.find((l) => l.msg === 'listening').port };
}

/** SIGTERM to `pid` (the API serving now), SIGKILL if it still runs 20 s later. */
export async function stopApi(pid) {
  if (pid === undefined || !live(pid)) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 20_000;
  while (live(pid) && Date.now() < deadline) await sleep(50);
  if (live(pid)) process.kill(pid, 'SIGKILL');
}
