import { inCell } from './support/cell';

// The IPC channel closes early while both processes live (code that closes inherited
// fds, an app that calls process.disconnect()). The predecessor still decides; it can
// no longer hear the successor, so the successor must not take over.
describe('the handoff channel closing early', () => {
  for (const [phase, mode] of [['before the hello', 'cut-channel'], ['after the state arrived, before ready', 'cut-later']] as const) {
    test.concurrent(`${phase}: the successor refuses to take over, the predecessor kills it at once and serves on`, () =>
      inCell({ successor: mode }, async (cell) => {
        const successor = await cell.sighup();
        const { outcome } = await cell.outcome();
        expect(outcome).toMatchObject({ ok: false, successorPid: successor, reason: expect.stringMatching(/^(channel-closed|exited)$/) });
        await cell.expectServing(cell.first);
        await cell.finish();
        expect(cell.fixture.output).toContain(`the handoff channel to predecessor ${cell.first} closed while it still runs`);
        expect(cell.fixture.events.filter((e) => e.event === 'ready' && e.pid === successor)).toEqual([]);
      }));
  }
});
