import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { isAlive, processTree } from '@edu-agents/e2e-support';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '../..');

/** The processes below `root` (not `root` itself). */
const descendantsOf = (root: number): number[] => processTree(root).filter((pid) => pid !== root);

async function until<T>(what: string, probe: () => T | undefined, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `npm start` in a pseudo-terminal (util-linux `script`), as a person types it. */
function npmStartInTerminal(): { term: ChildProcessWithoutNullStreams; output: () => string; exited: Promise<number | null> } {
  const term = spawn('script', ['-qfec', 'npm start', '/dev/null'], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', NX_DAEMON: 'false', NX_NO_CLOUD: 'true', CI: '' },
  });
  let text = '';
  term.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
  term.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => term.once('exit', (code) => resolve(code)));
  return { term, output: () => text, exited };
}

describe('npm start', () => {
  let started: ReturnType<typeof npmStartInTerminal> | undefined;
  afterEach(() => {
    if (started && started.term.exitCode === null) for (const pid of descendantsOf(started.term.pid as number)) process.kill(pid, 'SIGKILL');
    started = undefined;
  });

  /** Starts npm start, waits for the API to listen with its Chromium up, returns npm's pid and every process under it. */
  async function startAndListen() {
    started = npmStartInTerminal();
    const s = started;
    await until('"listening on" in the terminal (no prompt may stop it)', () => (/listening on http/.test(s.output()) ? true : undefined), 180_000);
    const npm = await until('the npm process under script', () => descendantsOf(s.term.pid as number).find((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('npm start')), 5_000);
    const api = await until('the API process', () => descendantsOf(npm).find((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('dist/apps/api/main.js')), 5_000);
    const chromium = await until('Chromium under the API', () => {
      const found = descendantsOf(api).filter((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('chrom'));
      return found.length > 0 ? found : undefined;
    }, 30_000);
    return { npm, api, everything: [npm, ...descendantsOf(npm)], chromium };
  }

  it('reaches "listening on" in a terminal with nothing typed, and stops cleanly on SIGTERM: the API drains, nothing is left', async () => {
    const { npm, api, everything, chromium } = await startAndListen();
    expect(chromium.length).toBeGreaterThan(0);
    process.kill(npm, 'SIGTERM');
    await started?.exited;
    await until('every process npm start made to end', () => (everything.some((pid) => isAlive(pid)) ? undefined : true), 15_000);
    const log = started?.output() ?? '';
    expect(log).toMatch(new RegExp(`phase draining reason="received SIGTERM"`));
    expect(log).toMatch(/phase stopped/);
    expect(isAlive(api)).toBe(false);
  });

  it('stops cleanly on Ctrl-C typed in the terminal: one keypress, one ordinary drain, nothing left', async () => {
    const { everything } = await startAndListen();
    started?.term.stdin.write('\x03'); // the terminal turns it into SIGINT for npm and the API
    await started?.exited;
    await until('every process npm start made to end', () => (everything.some((pid) => isAlive(pid)) ? undefined : true), 15_000);
    const log = started?.output() ?? '';
    expect(log).toMatch(/phase draining reason="received SIGINT"/);
    expect(log).toMatch(/cleanup qc-pool ok/);
    expect(log).not.toMatch(/drain skipped/);
    expect(log).toMatch(/phase stopped/);
  });
});
