import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { inCell, type Cell } from './support/cell';
import type { Fixture } from './support/fixture';
import { fdUsage, signal } from './support/proc';

// Resources that run out, and a state hand-over that cannot be used.

function prlimitNofile(pid: number, soft: number, hard?: number): void {
  execFileSync('prlimit', ['--pid', String(pid), `--nofile=${soft}:${hard ?? soft}`]);
}

/**
 * Waits until every client of the load has its keep-alive connection: a process at its
 * fd limit cannot accept another one, and libuv then resets it (uv__emfile_trick)
 * instead of leaving it queued.
 */
async function allClientsConnected(cell: Cell): Promise<void> {
  await cell.fixture.next('all 8 clients of the load to be connected', (e) => e.event === 'conn' && e.pid === cell.first, 10_000, 8);
}

describe('file descriptors running out', () => {
  test.concurrent('the predecessor at its RLIMIT_NOFILE on SIGHUP: the spawn fails naming EMFILE and the limit, it serves on; with the limit raised the next SIGHUP hands over', () =>
    inCell({ successor: 'serve', rate: 20 }, async (cell) => {
      await allClientsConnected(cell);
      const { limit } = fdUsage(cell.first);
      // Room for one more connection, not for the successor's pipes (a socket pair and an exec pipe at once; measured: +2 fails, +3 spawns).
      prlimitNofile(cell.first, fdUsage(cell.first).open + 1, limit);
      signal(cell.first, 'SIGHUP');
      const failed = (await cell.outcome(1)).outcome;
      expect(failed).toMatchObject({ ok: false, reason: 'spawn-failed', message: expect.stringMatching(/EMFILE: this process has no file descriptor left .*RLIMIT_NOFILE/) });
      prlimitNofile(cell.first, limit);
      const successor = await cell.sighup();
      expect((await cell.outcome(2)).outcome).toMatchObject({ ok: true, successorPid: successor });
      await cell.expectServing(successor);
      await cell.finish();
    }));

  test.concurrent('the predecessor at its limit while its successor starts and says ready (it spawned with 4 fds to spare): it cannot read /proc, and must not take that for "the successor is gone": it hands over', () =>
    inCell({ successor: 'serve', rate: 20 }, async (cell) => {
      await allClientsConnected(cell);
      const { open, limit } = fdUsage(cell.first);
      prlimitNofile(cell.first, open + 4, limit);
      const successor = await cell.sighup();
      expect((await cell.outcome()).outcome).toMatchObject({ ok: true, successorPid: successor });
      await cell.expectServing(successor);
      await cell.finish();
    }));
});

/** A tmpfs of `sizeKb` at `<run>/run` that holds the pid file; unmounted at cleanup. */
function pidFileOnTmpfs(sizeKb: number) {
  return (fixture: Fixture) => {
    const dir = join(fixture.dir, 'run');
    mkdirSync(dir);
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKb}k`, 'tmpfs', dir]);
    fixture.onCleanup(() => execFileSync('umount', ['-l', dir]));
    return { env: { FIXTURE_PID_FILE: join(dir, 'fixture.pid') } };
  };
}

describe('a pid file that cannot be written', () => {
  test.concurrent('on a file system made read-only after the predecessor wrote it: the successor cannot claim it and exits saying why; the predecessor serves on, named by the file; writable again, the next SIGHUP hands over', () =>
    inCell({ successor: 'serve', prepare: pidFileOnTmpfs(64) }, async (cell) => {
      const run = join(cell.fixture.dir, 'run');
      cell.pidFilePath = join(run, 'fixture.pid');
      execFileSync('mount', ['-o', 'remount,ro', run]);
      signal(cell.first, 'SIGHUP');
      const failed = (await cell.outcome(1)).outcome;
      expect(failed).toMatchObject({ ok: false, reason: 'exited' });
      expect(failed.output?.join('\n')).toMatch(/cannot write pid file .*fixture\.pid: EROFS: read-only file system/);
      await cell.expectServing(cell.first);
      execFileSync('mount', ['-o', 'remount,rw', run]);
      const successor = await cell.sighup();
      await cell.handedOver();
      await cell.expectServing(successor);
      expect(readdirSync(run)).toEqual(['fixture.pid']);
      await cell.finish();
    }));

  test.concurrent('on a full file system: the same, and no empty temporary file is left behind', () =>
    inCell({ successor: 'serve', prepare: pidFileOnTmpfs(16) }, async (cell) => {
      const run = join(cell.fixture.dir, 'run');
      cell.pidFilePath = join(run, 'fixture.pid');
      // Fill it: dd stops at ENOSPC (and says so on stderr, which is expected here).
      execFileSync('sh', ['-c', `dd if=/dev/zero of=${join(run, 'ballast')} bs=4k 2>/dev/null || true`]);
      signal(cell.first, 'SIGHUP');
      const failed = (await cell.outcome(1)).outcome;
      expect(failed).toMatchObject({ ok: false, reason: 'exited' });
      expect(failed.output?.join('\n')).toMatch(/cannot write pid file .*fixture\.pid: ENOSPC/);
      await cell.expectServing(cell.first);
      expect(readdirSync(run).sort()).toEqual(['ballast', 'fixture.pid']);
      await cell.finish();
    }));
});

describe('a state hand-over that cannot be used', () => {
  test.concurrent('too large (over maxStateBytes): not sent; the successor starts without it at once, the predecessor says why', () =>
    inCell({ mode: 'serve big-state:24', successor: 'serve', env: { FIXTURE_MAX_STATE_BYTES: String(8 * 1024 * 1024) } }, async (cell) => {
      const successor = await cell.sighup();
      await cell.handedOver();
      expect(await cell.fixture.next('the successor to listen', (e) => e.event === 'listening' && e.pid === successor)).toMatchObject({ state: 'none', generation: 1 });
      expect(cell.fixture.events.find((e) => e.event === 'log' && e.pid === cell.first && e['message'] === 'could not hand the state to the successor; it starts without it')?.['fields'])
        .toEqual({ error: expect.stringMatching(/^the state is \d+ bytes, over maxStateBytes \(8388608\)/) });
      await cell.expectServing(successor);
      await cell.finish();
    }));

  test.concurrent('malformed (it cannot be cloned): the successor starts without it, the predecessor says why', () =>
    inCell({ mode: 'serve bad-state', successor: 'serve' }, async (cell) => {
      const successor = await cell.sighup();
      await cell.handedOver();
      expect(await cell.fixture.next('the successor to listen', (e) => e.event === 'listening' && e.pid === successor)).toMatchObject({ generation: 1 });
      expect(cell.fixture.logs(cell.first)).toContain('could not hand the state to the successor; it starts without it');
      await cell.expectServing(successor);
      await cell.finish();
    }));

  test.concurrent('of another protocol version (a build that speaks v2): the successor refuses to start and says so to the predecessor, which serves on', () =>
    inCell({ successor: 'protocol-v2' }, async (cell) => {
      await cell.sighup();
      const { outcome } = await cell.outcome();
      expect(outcome).toMatchObject({ ok: false, reason: 'exited', exit: { code: 1 } });
      expect(outcome.output?.join('\n')).toContain('PROCESS_HANDOFF speaks protocol v2 but this build speaks v1: a handoff between these two builds is not possible; restart instead');
      await cell.expectServing(cell.first);
      await cell.finish();
    }));

  test.concurrent('a handoff variable that is not JSON: the same, naming it', () =>
    inCell({ successor: 'bad-env' }, async (cell) => {
      await cell.sighup();
      const { outcome } = await cell.outcome();
      expect(outcome.output?.join('\n')).toContain('PROCESS_HANDOFF is not JSON (not json {); unset it to start without a predecessor');
      await cell.expectServing(cell.first);
      await cell.finish();
    }));
});
