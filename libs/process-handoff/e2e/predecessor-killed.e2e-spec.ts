import { inCell } from './support/cell';

// SIGKILL of the predecessor (the OOM killer, an operator's kill -9) at each phase of a
// handoff. The successor holds the listening socket from the moment it is spawned, so
// the port never refuses; it must also use it, and take over.
const tookOver = (first: number) => expect.stringMatching(new RegExp(`^the predecessor ${first} (was killed by SIGKILL|went away) (before this process was ready|at the moment this process said ready); this process serves on the sockets it passed and takes over$`));

describe('SIGKILL of the predecessor during a handoff', () => {
  test.concurrent("before the successor's hello, its parent reaping late (the measured outage): the successor serves on the inherited socket and takes over", () =>
    inCell({ successor: 'hold', parent: 'lazy' }, async (cell) => {
      const successor = await cell.beforeHello();
      await cell.kill(cell.first);
      await cell.zombie(cell.first); // dead, not reaped: its parent does not reap it
      cell.fixture.open('hello');
      await cell.expectServing(successor);
      const verdict = await cell.finish();
      expect(verdict.requests).toBeGreaterThan(20);
      expect(cell.fixture.logs(successor)).toContainEqual(tookOver(cell.first));
      const ready = await cell.fixture.next('the successor ready', (e) => e.event === 'ready' && e.pid === successor);
      expect(ready['snapshot']).toMatchObject({ predecessorPid: cell.first, predecessorLost: { pid: cell.first, exit: 'was killed by SIGKILL' } });
    }));

  test.concurrent("before the successor's hello, its parent reaping at once", () =>
    inCell({ successor: 'hold' }, async (cell) => {
      const successor = await cell.beforeHello();
      await cell.kill(cell.first); // resolves once it is dead
      cell.fixture.open('hello');
      await cell.expectServing(successor);
      await cell.finish();
      expect(cell.fixture.logs(successor)).toContainEqual(tookOver(cell.first));
    }));

  test.concurrent('while the successor starts (it listens, not ready)', () =>
    inCell({ successor: 'gate', parent: 'lazy' }, async (cell) => {
      const successor = await cell.whileStarting();
      await cell.kill(cell.first); // resolves once it is dead
      cell.fixture.open('release');
      await cell.expectServing(successor);
      await cell.finish();
      expect(cell.fixture.logs(successor)).toContainEqual(tookOver(cell.first));
    }));

  test.concurrent('at ready: the successor claimed the pid file and said ready, the predecessor never read it', () =>
    inCell({ successor: 'gate', parent: 'lazy' }, async (cell) => {
      const successor = await cell.atReady(); // the predecessor is stopped
      await cell.kill(cell.first);
      await cell.expectServing(successor);
      await cell.finish();
    }));

  test.concurrent('while the predecessor drains: only the requests on its own connections may fail', () =>
    inCell({ successor: 'serve' }, async (cell) => {
      const held = await cell.holdRequest('drained');
      const successor = await cell.sighup();
      await cell.handedOver();
      await cell.kill(cell.first);
      await cell.expectServing(successor);
      expect(await held.answer).toEqual({ error: 'ECONNRESET' });
      await cell.finish();
    }));
});
