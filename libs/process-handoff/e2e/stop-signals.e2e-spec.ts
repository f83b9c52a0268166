import { inCell } from './support/cell';
import { signal } from './support/proc';

// SIGTERM, as systemctl stop, a container runtime or an operator sends it, at each phase.
// A stop of the main process stops the service: what matters is that it stops cleanly
// (no request cut, nothing left behind) and that a stop of the successor while it starts
// is just a failed upgrade.
describe('SIGTERM during a handoff', () => {
  test.concurrent("to the predecessor before the successor's hello: the upgrade is cancelled, the successor killed, the predecessor drains and exits 0", () =>
    inCell({ successor: 'hold' }, async (cell) => {
      const successor = await cell.beforeHello();
      cell.refusalsExpected();
      signal(cell.first, 'SIGTERM');
      expect((await cell.outcome()).outcome).toMatchObject({ ok: false, reason: 'cancelled', successorPid: successor });
      const cancelled = await cell.fixture.next('cancel() to resolve', (e) => e.event === 'cancelled' && e.pid === cell.first);
      expect(cancelled['snapshot']).toMatchObject({ state: 'idle' });
      await cell.expectNone();
      expect(await cell.fixture.exited).toEqual({ code: 0, signal: null });
      await cell.finish();
    }));

  test.concurrent('to the predecessor while the successor starts: the same', () =>
    inCell({ successor: 'gate' }, async (cell) => {
      const successor = await cell.whileStarting();
      cell.refusalsExpected();
      signal(cell.first, 'SIGTERM');
      expect((await cell.outcome()).outcome).toMatchObject({ ok: false, reason: 'cancelled', successorPid: successor });
      await cell.expectNone();
      expect(await cell.fixture.exited).toEqual({ code: 0, signal: null });
      await cell.finish();
    }));

  test.concurrent('to the predecessor at ready: whichever it reads first decides, and the end is consistent (the successor serves, or nothing does and the pid file was taken back)', () =>
    inCell({ successor: 'gate' }, async (cell) => {
      const successor = await cell.atReady(); // stopped, with the successor's ready unread
      cell.refusalsExpected();
      signal(cell.first, 'SIGTERM');
      signal(cell.first, 'SIGCONT');
      const { outcome } = await cell.outcome();
      if (outcome.ok) {
        await cell.expectServing(successor);
      } else {
        expect(outcome).toMatchObject({ reason: 'cancelled' });
        await cell.expectNone();
        expect(cell.fixture.pidFile()).toBe(cell.first);
      }
      await cell.finish();
    }));

  test.concurrent('to the predecessor while it drains: the drain goes on, the successor serves', () =>
    inCell({ successor: 'serve' }, async (cell) => {
      const held = await cell.holdRequest('drained');
      const successor = await cell.sighup();
      await cell.handedOver();
      signal(cell.first, 'SIGTERM');
      await cell.fixture.next('the SIGTERM to arrive', (e) => e.event === 'sigterm' && e.pid === cell.first);
      cell.fixture.open('drained');
      expect(await held.answer).toEqual({ pid: cell.first });
      await cell.expectServing(successor);
      expect(await cell.fixture.exited).toEqual({ code: 0, signal: null });
      await cell.finish();
    }));

  test.concurrent('to the successor before its hello: it ends its start (exit 0), a failed upgrade; the predecessor serves on', () =>
    inCell({ successor: 'hold' }, async (cell) => {
      const successor = await cell.beforeHello();
      signal(successor, 'SIGTERM');
      expect((await cell.outcome()).outcome).toMatchObject({ ok: false, reason: 'exited', exit: { code: 0, signal: null } });
      await cell.expectServing(cell.first);
      await cell.finish();
    }));

  test.concurrent('to the successor while it starts: the same', () =>
    inCell({ successor: 'gate' }, async (cell) => {
      const successor = await cell.whileStarting();
      signal(successor, 'SIGTERM');
      expect((await cell.outcome()).outcome).toMatchObject({ ok: false, reason: 'exited', exit: { code: 0, signal: null } });
      await cell.expectServing(cell.first);
      await cell.finish();
    }));

  test.concurrent('to the successor at ready: a stop of the new main process; either both stop, or the predecessor saw it go and serves on', () =>
    inCell({ successor: 'gate' }, async (cell) => {
      const successor = await cell.atReady();
      cell.refusalsExpected();
      signal(successor, 'SIGTERM');
      await cell.fixture.next('the SIGTERM to arrive', (e) => e.event === 'sigterm' && e.pid === successor);
      signal(cell.first, 'SIGCONT');
      const { outcome } = await cell.outcome();
      if (outcome.ok) await cell.expectNone();
      else await cell.expectServing(cell.first);
      await cell.finish();
    }));

  test.concurrent('to the successor while the predecessor drains: both finish what they have and exit 0', () =>
    inCell({ successor: 'serve' }, async (cell) => {
      const held = await cell.holdRequest('drained');
      const successor = await cell.sighup();
      await cell.handedOver();
      cell.refusalsExpected();
      signal(successor, 'SIGTERM');
      await cell.gone(successor);
      cell.fixture.open('drained');
      expect(await held.answer).toEqual({ pid: cell.first });
      await cell.expectNone();
      expect(await cell.fixture.exited).toEqual({ code: 0, signal: null });
      await cell.finish();
    }));
});
