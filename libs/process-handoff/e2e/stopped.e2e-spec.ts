import { waitFor } from '@edu-agents/e2e-support';
import { ask, inCell } from './support/cell';
import { signal, stateOf } from './support/proc';

// SIGSTOP/SIGCONT (a debugger, a frozen cgroup, a job-control stop) of either process.
// A stopped process accepts nothing, but the kernel keeps completing connections into
// the one accept queue both share: nothing is refused, answers are only late.
const TIMEOUT_MS = 8_000;

describe('SIGSTOP and SIGCONT during a handoff', () => {
  test.concurrent("the predecessor, before the successor's hello: the successor waits for its state, the handoff completes once it continues", () =>
    inCell({ successor: 'hold' }, async (cell) => {
      const successor = await cell.beforeHello();
      signal(cell.first, 'SIGSTOP');
      await waitFor('the predecessor to be stopped', () => stateOf(cell.first) === 'T', 5_000);
      cell.fixture.open('hello');
      await cell.fixture.next('the successor to greet', (e) => e.event === 'starting' && e.pid === successor);
      signal(cell.first, 'SIGCONT');
      await cell.handedOver();
      await cell.expectServing(successor);
      await cell.finish();
    }));

  test.concurrent(`the predecessor while the successor starts, stopped past HANDOFF_TIMEOUT_MS (${TIMEOUT_MS} ms) while the successor claimed the pid file and said ready: whichever it reads first on SIGCONT, one process serves and the pid file names it`, () =>
    inCell({ successor: 'gate', env: { HANDOFF_TIMEOUT_MS: String(TIMEOUT_MS) } }, async (cell) => {
      const successor = await cell.atReady(); // stopped, the successor's ready unread
      const spawnedAt = cell.fixture.events.find((e) => e.event === 'log' && e['message'] === 'successor started')?.at as number;
      await waitFor('the predecessor\'s deadline to pass while it is stopped', () => Date.now() > spawnedAt + TIMEOUT_MS + 500, TIMEOUT_MS + 5_000);
      signal(cell.first, 'SIGCONT');
      const { outcome } = await cell.outcome();
      if (outcome.ok) await cell.expectServing(successor);
      else {
        expect(outcome).toMatchObject({ reason: 'timeout' });
        await cell.expectServing(cell.first); // the pid file was taken back before the successor died
        expect(cell.fixture.logs(cell.first)).toContain('upgrade failed; killed the successor with its process tree');
      }
      await cell.finish();
    }));

  test.concurrent('the predecessor while it drains: the successor takes every new connection meanwhile; the held request completes on SIGCONT', () =>
    inCell({ successor: 'serve' }, async (cell) => {
      const held = await cell.holdRequest('drained');
      const successor = await cell.sighup();
      await cell.handedOver();
      signal(cell.first, 'SIGSTOP');
      await waitFor('the predecessor to be stopped', () => stateOf(cell.first) === 'T', 5_000);
      // Fresh connections of our own: the load's keep-alive clients may all sit on the
      // successor already, and then the load opens none while the predecessor is stopped.
      const answers = await Promise.all([ask(cell.port), ask(cell.port), ask(cell.port)]);
      expect(answers).toEqual([{ pid: successor }, { pid: successor }, { pid: successor }]);
      expect(stateOf(cell.first)).toBe('T');
      signal(cell.first, 'SIGCONT');
      cell.fixture.open('drained');
      expect(await held.answer).toEqual({ pid: cell.first });
      await cell.expectServing(successor);
      await cell.finish();
    }));

  test.concurrent(`the successor while it starts, past HANDOFF_TIMEOUT_MS (${TIMEOUT_MS} ms): it is killed stopped; the predecessor serves on`, () =>
    inCell({ successor: 'gate', env: { HANDOFF_TIMEOUT_MS: String(TIMEOUT_MS) } }, async (cell) => {
      const successor = await cell.whileStarting();
      signal(successor, 'SIGSTOP');
      expect((await cell.outcome()).outcome).toMatchObject({ ok: false, reason: 'timeout', successorPid: successor, exit: { signal: 'SIGKILL' } });
      await cell.expectServing(cell.first);
      await cell.finish();
    }));

  test.concurrent('the successor right after the switch, until the predecessor has exited: new connections wait in the backlog, none is refused, all are answered on SIGCONT', () =>
    inCell({ successor: 'serve' }, async (cell) => {
      const successor = await cell.sighup();
      await cell.handedOver();
      signal(successor, 'SIGSTOP');
      await cell.gone(cell.first);
      signal(successor, 'SIGCONT');
      await cell.expectServing(successor);
      await cell.finish();
    }));
});
