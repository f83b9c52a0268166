import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isAlive, waitFor } from '@edu-agents/e2e-support';

// tools/scripts/run-with-deadline.mjs is what keeps `npm test` from hanging
// until CI's limit: real processes, real process groups, real signals.
const MODULE = pathToFileURL(join(__dirname, '../scripts/run-with-deadline.mjs')).href;

/** runWithDeadline(command, args, options) in a node of its own (the module is ESM); its outcome and how long it took. */
function outcomeOf(command: string, args: string[], options: { deadlineMs: number; killAfterMs?: number }): { outcome: string; ms: number } {
  const script = `import { runWithDeadline } from ${JSON.stringify(MODULE)};
const started = Date.now();
const outcome = await runWithDeadline(${JSON.stringify(command)}, ${JSON.stringify(args)}, { ...${JSON.stringify(options)}, stdio: 'ignore' });
console.log(JSON.stringify({ outcome, ms: Date.now() - started }));`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  if (run.status !== 0) throw new Error(`the runner exited ${run.status}: ${run.stderr}`);
  return JSON.parse(run.stdout.trim()) as { outcome: string; ms: number };
}

const HANG = 'setInterval(() => undefined, 1000)';

describe('a step of npm test with a deadline', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'run-deadline-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reports a command that exits 0 as ok and any other exit as failed', () => {
    expect(outcomeOf(process.execPath, ['-e', ''], { deadlineMs: 30_000 }).outcome).toBe('ok');
    expect(outcomeOf(process.execPath, ['-e', 'process.exit(3)'], { deadlineMs: 30_000 }).outcome).toBe('failed');
  });

  it('stops a step that hangs at its deadline, with what it started', async () => {
    const pidFile = join(dir, 'grandchild.pid');
    const { outcome } = outcomeOf('sh', ['-c', `"${process.execPath}" -e "${HANG}" & echo $! > "${pidFile}"; wait`], { deadlineMs: 1_000 });
    expect(outcome).toBe('deadline');
    const grandchild = Number(readFileSync(pidFile, 'utf8'));
    await waitFor('the hung step\'s own child to be gone', () => !isAlive(grandchild), 10_000);
  });

  it('kills a step that ignores SIGTERM once the grace after its deadline has passed', () => {
    const { outcome, ms } = outcomeOf(process.execPath, ['-e', `process.on('SIGTERM', () => undefined); ${HANG}`], { deadlineMs: 500, killAfterMs: 500 });
    expect(outcome).toBe('deadline');
    expect(ms).toBeGreaterThanOrEqual(1_000);
  });

  it('ends what a finished step left running in its group', async () => {
    const pidFile = join(dir, 'left.pid');
    const { outcome } = outcomeOf('sh', ['-c', `"${process.execPath}" -e "${HANG}" & echo $! > "${pidFile}"; exit 0`], { deadlineMs: 30_000 });
    expect(outcome).toBe('ok');
    const left = Number(readFileSync(pidFile, 'utf8'));
    await waitFor('the process the step left behind to be gone', () => !isAlive(left), 10_000);
  });
});
