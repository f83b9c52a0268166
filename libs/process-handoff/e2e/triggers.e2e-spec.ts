import { waitFor } from '@edu-agents/e2e-support';
import { inCell, type Cell } from './support/cell';
import { signal } from './support/proc';

// Triggers at the wrong moment: bursts of SIGHUP (a reload loop, a retrying deploy
// script), SIGHUP during a drain, and a successor that is ready just before or just
// after HANDOFF_TIMEOUT_MS.
const BURST = 20;

/**
 * SIGHUPs in quick succession, each sent once the previous one arrived: signals sent
 * all at once coalesce into one pending signal, which would test nothing.
 */
async function burst(cell: Cell, pid: number, count = BURST): Promise<void> {
  const seen = () => cell.fixture.events.filter((e) => e.event === 'sighup' && e.pid === pid).length;
  const before = seen();
  for (let i = 1; i <= count; i += 1) {
    signal(pid, 'SIGHUP');
    await waitFor(`SIGHUP ${i} of ${count} to arrive`, () => seen() >= before + i, 10_000);
  }
}

/** The outcomes a process printed for the SIGHUPs it got, by reason (`ok` for a handoff). */
function outcomesOf(cell: Cell, pid: number): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const e of cell.fixture.events.filter((e) => e.event === 'outcome' && e.pid === pid)) {
    const outcome = e['outcome'] as { ok: boolean; reason?: string };
    const key = outcome.ok ? 'ok' : (outcome.reason as string);
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

describe('triggers at the wrong moment', () => {
  test.concurrent(`a burst of ${BURST} SIGHUPs to the predecessor before the successor's hello: one handoff, every other trigger refused and logged`, () =>
    inCell({ successor: 'hold' }, async (cell) => {
      const successor = await cell.beforeHello();
      await burst(cell, cell.first, BURST - 1);
      await waitFor('every trigger to be answered', () => outcomesOf(cell, cell.first)['busy'] === BURST - 1, 20_000);
      cell.fixture.open('hello');
      await cell.expectServing(successor);
      expect(outcomesOf(cell, cell.first)).toEqual({ busy: BURST - 1, ok: 1 });
      expect(cell.fixture.logs(cell.first).filter((m) => m.startsWith('upgrade refused: an upgrade is already running'))).toHaveLength(BURST - 1);
      await cell.finish();
    }));

  test.concurrent(`a burst of ${BURST} SIGHUPs to the successor while it starts: refused (it has not said ready), the handoff completes`, () =>
    inCell({ successor: 'gate' }, async (cell) => {
      const successor = await cell.whileStarting();
      await burst(cell, successor);
      await waitFor('every trigger to be answered', () => outcomesOf(cell, successor)['busy'] === BURST, 20_000);
      cell.fixture.open('release');
      await cell.expectServing(successor);
      await cell.finish();
    }));

  test.concurrent(`SIGHUP during a drain: ${BURST} to the draining predecessor are refused (handed over), ${BURST} to the successor while its predecessor drains are refused (one handoff at a time); once it exited, one more hands over`, () =>
    inCell({ successor: 'serve' }, async (cell) => {
      const held = await cell.holdRequest('drained');
      const successor = await cell.sighup();
      await cell.handedOver();
      await burst(cell, cell.first);
      await cell.fixture.next('the successor to be ready', (e) => e.event === 'ready' && e.pid === successor);
      await burst(cell, successor);
      await waitFor('every trigger to be answered', () => outcomesOf(cell, cell.first)['handed-over'] === BURST && outcomesOf(cell, successor)['busy'] === BURST, 20_000);
      expect(cell.fixture.logs(successor)).toContain(`upgrade refused: predecessor ${cell.first} still runs (draining); one handoff at a time`);
      cell.fixture.open('drained');
      expect(await held.answer).toEqual({ pid: cell.first });
      await cell.gone(cell.first);
      signal(successor, 'SIGHUP');
      const third = (await cell.fixture.next('a third generation', (e) => e.event === 'ready' && e.pid !== cell.first && e.pid !== successor)).pid;
      await cell.expectServing(third);
      await cell.finish();
    }));

  test.concurrent(`after the handoff, a burst of ${BURST} SIGHUPs to the new process: exactly one more handoff`, () =>
    inCell({ successor: 'serve' }, async (cell) => {
      const successor = await cell.sighup();
      await cell.handedOver();
      await cell.gone(cell.first);
      // The third generation says ready only once the whole burst has arrived: a fast one
      // would hand over and let the second exit before the last SIGHUPs were sent.
      cell.fixture.mode('gate');
      await burst(cell, successor);
      await waitFor('every trigger to be answered', () => Object.values(outcomesOf(cell, successor)).reduce((a, b) => a + b, 0) === BURST - 1, 30_000);
      expect(outcomesOf(cell, successor)).toEqual({ busy: BURST - 1 });
      cell.fixture.open('release');
      await waitFor('the handoff to be answered', () => outcomesOf(cell, successor)['ok'] === 1, 30_000);
      expect(outcomesOf(cell, successor)).toEqual({ ok: 1, busy: BURST - 1 });
      const third = ((await cell.fixture.next('the handoff', (e) => e.event === 'outcome' && e.pid === successor && (e['outcome'] as { ok: boolean }).ok))['outcome'] as { successorPid: number }).successorPid;
      await cell.expectServing(third);
      await cell.finish();
    }));
});

// The successor is released by the test at a chosen time after it was spawned; the
// margins leave room for a busy machine (the gate is polled every 20 ms).
const TIMEOUT_MS = 8_000;

async function releaseAt(cell: Cell, afterSpawnMs: number): Promise<number> {
  const successor = await cell.whileStarting();
  const spawnedAt = cell.fixture.events.find((e) => e.event === 'log' && e['message'] === 'successor started')?.at as number;
  await waitFor(`${afterSpawnMs} ms since the spawn`, () => Date.now() >= spawnedAt + afterSpawnMs, afterSpawnMs + 5_000);
  cell.fixture.open('release');
  return successor;
}

describe(`a successor that takes about HANDOFF_TIMEOUT_MS (${TIMEOUT_MS} ms)`, () => {
  test.concurrent('just under (ready 2 s before the deadline): handed over', () =>
    inCell({ successor: 'gate', env: { HANDOFF_TIMEOUT_MS: String(TIMEOUT_MS) } }, async (cell) => {
      const successor = await releaseAt(cell, TIMEOUT_MS - 2_000);
      await cell.handedOver();
      await cell.expectServing(successor);
      await cell.finish();
    }));

  test.concurrent('just over (released 0.5 s after the deadline): killed at the deadline, it never claimed the pid file; the predecessor serves on', () =>
    inCell({ successor: 'gate', env: { HANDOFF_TIMEOUT_MS: String(TIMEOUT_MS) } }, async (cell) => {
      const successor = await releaseAt(cell, TIMEOUT_MS + 500);
      expect((await cell.outcome()).outcome).toMatchObject({ ok: false, reason: 'timeout', successorPid: successor });
      await cell.expectServing(cell.first);
      expect(cell.fixture.events.filter((e) => e.event === 'ready' && e.pid === successor)).toEqual([]);
      await cell.finish();
    }));

  test.concurrent('at the deadline (released 20 ms before it): either outcome, and the end is consistent', () =>
    inCell({ successor: 'gate', env: { HANDOFF_TIMEOUT_MS: String(TIMEOUT_MS) } }, async (cell) => {
      const successor = await releaseAt(cell, TIMEOUT_MS - 20);
      const { outcome } = await cell.outcome();
      await cell.expectServing(outcome.ok ? successor : cell.first);
      await cell.finish();
    }));
});
