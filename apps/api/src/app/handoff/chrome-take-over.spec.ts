import type { AdoptableBrowser, QcPool } from '@edu-agents/qc-chrome-pool';
import { PassThrough } from 'node:stream';
import type { Logger } from '../logging/logger';
import type { SuccessorPeer } from '@edu-agents/process-handoff';
import { borrowChrome, lendChrome, offeredChrome, passOnChrome, receiveChrome, type BorrowerChannel, type ChromeChannel, type LenderChannel } from './chrome-take-over';

// The orchestration around QcPool.letGo/adopt, with a fake channel and pool; the real thing runs in
// apps/api/e2e/handoff/handoff-take-over.e2e-spec.ts.
const logger = () => {
  const lines: string[] = [];
  const log = (message: string) => void lines.push(message);
  return { lines, logger: { info: log, warn: log, error: log, debug: log } as unknown as Logger };
};
const handover = (pid: number) => ({ pid, profileDir: `/nonexistent/edu-agents-qc-${pid}`, priority: { nice: 19, session: 'api' as const, autogroup: 'shared with the API', processes: 'nice' }, leftover: '', binary: 'b', launchedAt: 0, jobs: 0 });

describe('offeredChrome', () => {
  it('takes an offer of the same fingerprint only, and says why not otherwise', () => {
    expect(offeredChrome({ chrome: { fingerprint: 'f1' } }, 'f1')).toEqual({ ok: true });
    expect(offeredChrome({ chrome: { fingerprint: 'f0' } }, 'f1')).toEqual({ ok: false, reason: expect.stringContaining('fingerprint f0, here f1') });
    expect(offeredChrome({ qcCache: {} }, 'f1')).toEqual({ ok: false, reason: expect.stringContaining('offers none') });
    expect(offeredChrome(undefined, 'f1').ok).toBe(false);
  });

  it('takes a lent Chromium only when borrowing, and one passed at the switch only when not', () => {
    expect(offeredChrome({ chrome: { fingerprint: 'f1', lends: true } }, 'f1', true)).toEqual({ ok: true });
    expect(offeredChrome({ chrome: { fingerprint: 'f1', lends: true } }, 'f1')).toEqual({ ok: false, reason: expect.stringContaining('lends its Chromium during a start') });
    expect(offeredChrome({ chrome: { fingerprint: 'f1' } }, 'f1', true)).toEqual({ ok: false, reason: expect.stringContaining('passes its Chromium at the switch') });
  });
});

describe('lendChrome and borrowChrome (HANDOFF_BORROW_CHROME)', () => {
  const loan = { index: 0, pid: 11, profileDir: '/nonexistent/p', priority: handover(11).priority, binary: 'b', launchedAt: 0, jobs: 3, sessionId: 'S' };

  function lender() {
    let listener: ((data: unknown, from: SuccessorPeer) => void) | undefined;
    const channel: LenderChannel = { onSuccessorMessage: (_kind, l) => void (listener = l) };
    const calls: unknown[] = [];
    const pool = {
      lend: async (forward: (index: number, batch: string[]) => void) => (calls.push('lend'), forward(0, ['{"from":"chrome"}']), [loan]),
      fromBorrower: (index: number, batch: string[]) => void calls.push(['fromBorrower', index, batch]),
      endLoans: async () => void calls.push('endLoans'),
    } as unknown as QcPool;
    const successor = (pid: number) => {
      const sent: unknown[] = [];
      let exit!: () => void;
      const peer: SuccessorPeer = { pid, send: async (_kind, data) => void sent.push(data), exited: new Promise((resolve) => (exit = resolve)) };
      return { peer, sent, exit, say: (data: unknown) => listener?.(data, peer) };
    };
    return { channel, pool, calls, successor, ...logger() };
  }

  it('the old process lends to the successor that asks, relays its commands, and takes back what it opened when it exits without the pipe', async () => {
    const { channel, pool, calls, successor, logger: log, lines } = lender();
    lendChrome(pool, channel, log);
    const first = successor(21);
    first.say({ type: 'borrow' });
    await new Promise(setImmediate);
    expect(first.sent).toEqual([{ type: 'cdp', index: 0, batch: ['{"from":"chrome"}'] }, { type: 'loans', loans: [loan] }]);
    first.say({ type: 'cdp', index: 0, batch: ['{"id":1}'] });
    successor(22).say({ type: 'cdp', index: 0, batch: ['{"id":2}'] }); // not the borrower: ignored
    expect(calls).toEqual(['lend', ['fromBorrower', 0, ['{"id":1}']]]);
    first.exit();
    await new Promise(setImmediate);
    expect(calls.at(-1)).toBe('endLoans');
    expect(lines).toContain('handoff: successor 21 exited with Chromium lent; took back what it opened');
  });

  it('before the pipe moves, the old process has the successor hold its commands back, and does not take back a loan it passes', async () => {
    const { channel, pool, calls, successor, logger: log } = lender();
    const { hold } = lendChrome(pool, channel, log);
    await expect(hold()).rejects.toThrow(/no successor borrows/);
    const borrower = successor(21);
    borrower.say({ type: 'borrow' });
    await new Promise(setImmediate);
    let held = false;
    const holding = hold().then(() => (held = true));
    await new Promise(setImmediate);
    expect([borrower.sent.at(-1), held]).toEqual([{ type: 'hold' }, false]);
    borrower.say({ type: 'held' });
    await holding;
    borrower.exit();
    await new Promise(setImmediate);
    expect(calls).not.toContain('endLoans');
  });

  it('the successor asks, borrows what is lent, relays both ways and holds when asked; it launches when the old process lends none', async () => {
    const heard: ((data: unknown) => void)[] = [];
    const sent: unknown[] = [];
    const channel: BorrowerChannel = { sendToPredecessor: async (_kind, data) => void sent.push(data), onPredecessorMessage: (_kind, l) => void heard.push(l) };
    const calls: unknown[] = [];
    const pool = {
      borrow: async (loans: unknown[], send: (index: number, batch: string[]) => void) => (calls.push(['borrow', loans]), send(0, ['{"id":1}']), loans.length),
      fromLender: (index: number, batch: string[]) => void calls.push(['fromLender', index, batch]),
      holdBorrowed: () => void calls.push('holdBorrowed'),
    } as unknown as QcPool;
    const { logger: log, lines } = logger();
    const borrowing = borrowChrome(pool, channel, log);
    expect(sent).toEqual([{ type: 'borrow' }]);
    heard[0]?.({ type: 'loans', loans: [loan] });
    await expect(borrowing).resolves.toBe(1);
    heard[0]?.({ type: 'cdp', index: 0, batch: ['{"id":1,"result":{}}'] });
    heard[0]?.({ type: 'hold' });
    expect(calls).toEqual([['borrow', [loan]], ['fromLender', 0, ['{"id":1,"result":{}}']], 'holdBorrowed']);
    expect(sent).toEqual([{ type: 'borrow' }, { type: 'cdp', index: 0, batch: ['{"id":1}'] }, { type: 'held' }]);

    const refused = borrowChrome(pool, channel, log);
    heard[1]?.({ type: 'refused', reason: 'lend: the pool is closing' });
    await expect(refused).resolves.toBe(0);
    expect(lines).toContain('handoff: the predecessor lends no Chromium (lend: the pool is closing); launching one');
  });
});

describe('receiveChrome', () => {
  function setUp() {
    let listener: ((data: unknown, handle: unknown) => void) | undefined;
    const channel: ChromeChannel = { sendHandle: async () => undefined, passOn: () => undefined, successorWants: () => true, onHandle: (_kind, l) => void (listener = l) };
    const adopted: AdoptableBrowser[][] = [];
    const pool = { adopt: async (browsers: AdoptableBrowser[]) => (adopted.push(browsers), browsers.length) } as unknown as QcPool;
    const log = logger();
    const send = (pid: number, end: 'to-chrome' | 'from-chrome', total: number) => {
      const stream = new PassThrough();
      listener?.({ end, total, handover: handover(pid), contextIds: ['c'], nextJobId: 7 }, stream);
      return stream;
    };
    return { channel, pool, adopted, send, ...log };
  }

  it('adopts once both ends of every browser came, each with its own ends and the next job id', async () => {
    const { channel, pool, adopted, send, logger: log } = setUp();
    receiveChrome(pool, channel, log, 60_000);
    const to1 = send(11, 'to-chrome', 2);
    const from1 = send(11, 'from-chrome', 2);
    const to2 = send(12, 'to-chrome', 2);
    expect(adopted).toEqual([]);
    const from2 = send(12, 'from-chrome', 2);
    await new Promise(setImmediate);
    expect(adopted.map((list) => list.map((b) => [b.handover.pid, b.toChrome === to1 || b.toChrome === to2, b.fromChrome === from1 || b.fromChrome === from2, b.nextJobId]))).toEqual([[[11, true, true, 7], [12, true, true, 7]]]);
  });

  it('falls back when the predecessor exits before every browser came: adopts those that did, closes a lone end, and closes ends that come later', async () => {
    const { channel, pool, adopted, send, logger: log, lines } = setUp();
    const { armFallback } = receiveChrome(pool, channel, log, 60_000);
    send(11, 'to-chrome', 2);
    send(11, 'from-chrome', 2);
    const lone = send(12, 'to-chrome', 2);
    let gone!: () => void;
    armFallback(new Promise<void>((resolve) => (gone = resolve)));
    gone();
    await new Promise(setImmediate);
    expect(adopted.map((list) => list.map((b) => b.handover.pid))).toEqual([[11]]);
    expect(lone.destroyed).toBe(true);
    expect(lines).toContainEqual(expect.stringMatching(/predecessor exited with 1 of 2 of its Chromium here; launching the rest/));
    expect(send(12, 'from-chrome', 2).destroyed).toBe(true);
  });

  it('falls back after its wait when nothing comes: the pool launches its own', async () => {
    jest.useFakeTimers();
    try {
      const { channel, pool, adopted, logger: log } = setUp();
      receiveChrome(pool, channel, log, 5_000).armFallback(new Promise(() => undefined));
      jest.advanceTimersByTime(4_999);
      expect(adopted).toEqual([]);
      jest.advanceTimersByTime(1);
      expect(adopted).toEqual([[]]);
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('passOnChrome', () => {
  it('waits for the last QC request of its own, passes both ends of each browser, and marks its tree as the successor\'s', async () => {
    const sent: [unknown, unknown][] = [];
    const passed: number[] = [];
    const order: string[] = [];
    const browser = { handover: handover(21), toChrome: new PassThrough(), fromChrome: new PassThrough(), contextIds: ['c1', 'c2'], nextJobId: 40 };
    const pool = { letGo: async () => (order.push('letGo'), [browser]) } as unknown as QcPool;
    const channel: ChromeChannel = { sendHandle: async (_kind, data, handle) => void sent.push([data, handle]), passOn: (pid) => void passed.push(pid), successorWants: (kind) => kind === 'qc-chrome', onHandle: () => undefined };
    const n = await passOnChrome(pool, channel, async () => void order.push('no local QC'), logger().logger);
    expect(n).toBe(1);
    expect(order).toEqual(['no local QC', 'letGo']);
    expect(passed).toEqual([21]);
    expect(sent.map(([data, handle]) => [(data as { end: string }).end, handle === browser.toChrome || handle === browser.fromChrome, (data as { nextJobId: number }).nextJobId])).toEqual([['to-chrome', true, 40], ['from-chrome', true, 40]]);
  });

  it('passes nothing, and keeps its browser, when the successor does not wait for it (it launched its own)', async () => {
    const calls: string[] = [];
    const pool = { letGo: async () => (calls.push('letGo'), []) } as unknown as QcPool;
    const channel: ChromeChannel = { sendHandle: async () => void calls.push('send'), passOn: () => void calls.push('passOn'), successorWants: () => false, onHandle: () => undefined };
    const { lines, logger: log } = logger();
    expect(await passOnChrome(pool, channel, async () => void calls.push('no local QC'), log)).toBe(0);
    expect(calls).toEqual([]);
    expect(lines).toEqual(['handed over: the successor launched its own Chromium; this one goes as this process retires']);
  });
});
