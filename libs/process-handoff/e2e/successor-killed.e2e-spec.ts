import { inCell } from './support/cell';
import { signal } from './support/proc';

// SIGKILL of the successor (the OOM killer picks the newest big process) at each phase.
// Before the switch it is a failed upgrade and nothing more; after it, nothing is left
// to hand back to: the predecessor finishes its drain and a supervisor restarts.
describe('SIGKILL of the successor during a handoff', () => {
  test.concurrent('before its hello: a failed upgrade; the predecessor serves on and keeps its pid file', () =>
    inCell({ successor: 'hold' }, async (cell) => {
      const successor = await cell.beforeHello();
      await cell.kill(successor);
      expect((await cell.outcome()).outcome).toMatchObject({ ok: false, reason: 'exited', successorPid: successor, message: expect.stringContaining(`successor ${successor} was killed by SIGKILL before it was ready`) });
      await cell.expectServing(cell.first);
      await cell.finish();
    }));

  test.concurrent('while it starts: a failed upgrade; the predecessor serves on and keeps its pid file', () =>
    inCell({ successor: 'gate' }, async (cell) => {
      const successor = await cell.whileStarting();
      await cell.kill(successor);
      expect((await cell.outcome()).outcome).toMatchObject({ ok: false, reason: 'exited', successorPid: successor });
      await cell.expectServing(cell.first);
      await cell.finish();
    }));

  test.concurrent('at ready (it claimed the pid file, its ready unread): the predecessor ignores the ready of the dead, takes its pid file back and serves on', () =>
    inCell({ successor: 'gate' }, async (cell) => {
      const successor = await cell.atReady(); // the predecessor is stopped
      expect(cell.fixture.pidFile()).toBe(successor);
      await cell.kill(successor);
      signal(cell.first, 'SIGCONT');
      expect((await cell.outcome()).outcome).toMatchObject({ ok: false, reason: 'exited', successorPid: successor });
      await cell.expectServing(cell.first);
      await cell.finish();
    }));

  test.concurrent('while the predecessor drains: it finishes every request on its connections and exits; nothing serves after, and the pid file names the dead successor for a supervisor to see', () =>
    inCell({ successor: 'serve' }, async (cell) => {
      const held = await cell.holdRequest('drained');
      const successor = await cell.sighup();
      await cell.handedOver();
      cell.refusalsExpected(); // the predecessor stopped accepting; the only other holder dies now
      await cell.kill(successor); // resolves once it is dead
      cell.fixture.open('drained');
      expect(await held.answer).toEqual({ pid: cell.first });
      await cell.expectNone();
      expect(cell.fixture.pidFile()).toBe(successor);
      await cell.finish();
    }));
});
