import { inCell } from './support/cell';

// An uncaught exception (the fixture throws on SIGUSR2, or at load): the process dies
// with exit code 1 and its connections; anything else is as after a SIGKILL.
describe('an uncaught exception during a handoff', () => {
  test.concurrent("in the predecessor before the successor's hello: the successor takes over and says how it ended", () =>
    inCell({ successor: 'hold', parent: 'lazy' }, async (cell) => {
      const successor = await cell.beforeHello();
      cell.crash(cell.first);
      await cell.zombie(cell.first);
      cell.fixture.open('hello');
      await cell.expectServing(successor);
      await cell.finish();
      expect(cell.fixture.logs(successor)).toContain(`took over from predecessor ${cell.first}: it exited with code 1 before this process was ready`);
    }));

  test.concurrent('in the predecessor while the successor starts: the successor takes over', () =>
    inCell({ successor: 'gate' }, async (cell) => {
      const successor = await cell.whileStarting();
      cell.crash(cell.first);
      await cell.gone(cell.first);
      cell.fixture.open('release');
      await cell.expectServing(successor);
      await cell.finish();
    }));

  test.concurrent('in the predecessor while it drains: only its own connections fail', () =>
    inCell({ successor: 'serve' }, async (cell) => {
      const held = await cell.holdRequest('drained');
      const successor = await cell.sighup();
      await cell.handedOver();
      cell.crash(cell.first);
      expect(await held.answer).toMatchObject({ error: expect.stringMatching(/ECONNRESET|socket hang up/) });
      await cell.expectServing(successor);
      await cell.finish();
    }));

  test.concurrent("in the successor before its library ran (a module that fails to load): a failed upgrade that says the output went to the shared stdout", () =>
    inCell({ successor: 'throw-early' }, async (cell) => {
      await cell.sighup();
      expect((await cell.outcome()).outcome).toMatchObject({
        ok: false, reason: 'exited', message: expect.stringContaining('no output captured before exit; its own output went to the same stdout/stderr as this process'),
      });
      expect(cell.fixture.output).toContain('fixture: a module failed to load');
      await cell.expectServing(cell.first);
      await cell.finish();
    }));

  test.concurrent("in the successor while it starts: a failed upgrade whose report carries the exception", () =>
    inCell({ successor: 'gate' }, async (cell) => {
      const successor = await cell.whileStarting();
      cell.crash(successor);
      const { outcome } = await cell.outcome();
      expect(outcome).toMatchObject({ ok: false, reason: 'exited', exit: { code: 1 } });
      expect(outcome.output?.join('\n')).toContain('Error: fixture: uncaught exception on SIGUSR2');
      await cell.expectServing(cell.first);
      await cell.finish();
    }));

  test.concurrent('in the successor while the predecessor drains: as a SIGKILL there, the predecessor finishes and nothing serves after', () =>
    inCell({ successor: 'serve' }, async (cell) => {
      const held = await cell.holdRequest('drained');
      const successor = await cell.sighup();
      await cell.handedOver();
      cell.refusalsExpected();
      cell.crash(successor);
      await cell.gone(successor);
      cell.fixture.open('drained');
      expect(await held.answer).toEqual({ pid: cell.first });
      await cell.expectNone();
      await cell.finish();
    }));
});
