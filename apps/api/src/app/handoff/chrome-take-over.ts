import { discardBrowser, type AdoptableBrowser, type LentBrowser, type QcPool } from '@edu-agents/qc-chrome-pool';
import type { SuccessorPeer } from '@edu-agents/process-handoff';
import type { Readable, Writable } from 'node:stream';
import type { Logger } from '../logging/logger';

/** The kind of handle the old process passes its Chromium's pipe under (process-handoff's sendHandle). */
const CHROME_HANDLE = 'qc-chrome';

/** The kind of the messages a borrowing successor and the old process exchange (process-handoff's sendToPredecessor / onSuccessorMessage). */
const CHROME_LOAN = 'qc-chrome-loan';

/** In the state a predecessor passes on: it will pass its Chromium at the switch, started with these settings. */
export interface ChromeOffer {
  fingerprint: string;
  /** It lends its Chromium to a successor that starts (HANDOFF_BORROW_CHROME) rather than passing it with its warm pages at the switch. */
  lends?: boolean;
}

/** A borrowing successor to the old process. */
type ToLender = { type: 'borrow' } | { type: 'cdp'; index: number; batch: string[] } | { type: 'held' };
/** The old process to a borrowing successor. */
type ToBorrower = { type: 'loans'; loans: LentBrowser[] } | { type: 'refused'; reason: string } | { type: 'cdp'; index: number; batch: string[] } | { type: 'hold' };

/** How long the old process waits for a borrower to hold its commands back before the pipe moves. */
const HOLD_TIMEOUT_MS = 2_000;
/** How long a successor waits for its predecessor's loans before it launches its own Chromium. */
const LOANS_TIMEOUT_MS = 5_000;

/** One end of a browser's pipe, as it travels: the data beside the handle (the browser without its ends). */
interface ChromeEnd extends Omit<AdoptableBrowser, 'toChrome' | 'fromChrome'> {
  end: 'to-chrome' | 'from-chrome';
  /** How many browsers come in all. */
  total: number;
}

/** The parts of the upgrader this needs (process-handoff's Upgrader). */
export interface ChromeChannel {
  sendHandle(kind: string, data: unknown, handle: unknown): Promise<void>;
  /** The browser's tree is the successor's: this process's retirement leaves it alone. */
  passOn(pid: number): void;
  /** Whether the successor listens for this kind of handle (it waits for the browser rather than launching). */
  successorWants(kind: string): boolean;
  onHandle(kind: string, listener: (data: unknown, handle: unknown) => void): void;
}

/** Whether `state` (a predecessor's) offers a Chromium this process may go on with: one started with the same settings. */
export function offeredChrome(state: unknown, fingerprint: string, borrow = false): { ok: true } | { ok: false; reason: string } {
  const offer = (state as { chrome?: ChromeOffer } | undefined)?.chrome;
  if (offer === undefined) return { ok: false, reason: 'the predecessor offers none (HANDOFF_TAKE_OVER_CHROME and HANDOFF_BORROW_CHROME are off there, or it has no QC pool)' };
  if (offer.fingerprint !== fingerprint) return { ok: false, reason: `its Chromium was started with other settings (fingerprint ${offer.fingerprint}, here ${fingerprint})` };
  if ((offer.lends === true) !== borrow) {
    return { ok: false, reason: offer.lends ? 'the predecessor lends its Chromium during a start (HANDOFF_BORROW_CHROME), and this process takes one over at the switch' : 'the predecessor passes its Chromium at the switch (HANDOFF_TAKE_OVER_CHROME), and this process borrows one during its start' };
  }
  return { ok: true };
}

/** The parts of the upgrader the old process's side of a loan needs (process-handoff's Upgrader). */
export interface LenderChannel {
  onSuccessorMessage(kind: string, listener: (data: unknown, from: SuccessorPeer) => void): void;
}

/**
 * The old process (HANDOFF_BORROW_CHROME): lends its pool's Chromium to each successor that asks while it
 * starts, relays that successor's DevTools messages, and takes back what it opened if it goes away
 * without the pipe (a failed start). `hold()`, right before the pipe moves (QcPool.letGo's
 * `beforeRelease`): the successor holds its commands back until the pipe came.
 */
export function lendChrome(pool: QcPool, channel: LenderChannel, logger: Logger): { hold: () => Promise<void> } {
  let current: { from: SuccessorPeer; held?: () => void; passing: boolean } | undefined;
  const send = (from: SuccessorPeer, message: ToBorrower) => from.send(CHROME_LOAN, message).catch(() => undefined); // it exited: its exit ends the loan
  channel.onSuccessorMessage(CHROME_LOAN, (data, from) => {
    const message = data as ToLender;
    if (message.type === 'cdp') {
      if (current?.from === from) pool.fromBorrower(message.index, message.batch);
      return;
    }
    if (message.type === 'held') {
      if (current?.from === from) current.held?.();
      return;
    }
    const loan = { from, passing: false };
    current = loan;
    void pool.lend((index, batch) => void send(from, { type: 'cdp', index, batch })).then(
      (loans) => {
        logger.info(`handoff: lent ${loans.length} Chromium to successor ${from.pid} while it starts`, { successorPid: from.pid, lent: loans.map((l) => l.pid) });
        void send(from, { type: 'loans', loans });
      },
      (error: unknown) => void send(from, { type: 'refused', reason: String(error) }),
    );
    void from.exited.then(async () => {
      if (current !== loan || loan.passing) return;
      current = undefined;
      await pool.endLoans();
      logger.info(`handoff: successor ${from.pid} exited with Chromium lent; took back what it opened`, { successorPid: from.pid });
    });
  });
  return {
    hold: async () => {
      const loan = current;
      if (!loan) throw new Error('no successor borrows this Chromium');
      loan.passing = true;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the successor did not hold its DevTools commands back within ${HOLD_TIMEOUT_MS} ms`)), HOLD_TIMEOUT_MS);
        loan.held = () => {
          clearTimeout(timer);
          resolve();
        };
        void send(loan.from, { type: 'hold' });
      });
    },
  };
}

/** The parts of the upgrader a borrowing successor needs (process-handoff's Upgrader). */
export interface BorrowerChannel {
  sendToPredecessor(kind: string, data: unknown): Promise<void>;
  onPredecessorMessage(kind: string, listener: (data: unknown) => void): void;
}

/**
 * A successor (HANDOFF_BORROW_CHROME) whose predecessor lends its Chromium: asks for it, and fills `pool`
 * (an awaiting one) with pages of its own in it (QcPool.borrow), or launches when none is lent within
 * 5 s. The pipes come at the switch ({@link receiveChrome} with `takePipes`). Resolves with how many it borrowed.
 */
export async function borrowChrome(pool: QcPool, channel: BorrowerChannel, logger: Logger): Promise<number> {
  const send = (message: ToLender) => channel.sendToPredecessor(CHROME_LOAN, message).catch(() => undefined); // it is gone: its exit ends the loan
  let answer!: (loans: LentBrowser[]) => void;
  const answered = new Promise<LentBrowser[]>((resolve) => (answer = resolve));
  channel.onPredecessorMessage(CHROME_LOAN, (data) => {
    const message = data as ToBorrower;
    if (message.type === 'cdp') pool.fromLender(message.index, message.batch);
    else if (message.type === 'hold') {
      pool.holdBorrowed();
      void send({ type: 'held' });
    } else if (message.type === 'loans') answer(message.loans);
    else {
      logger.warn(`handoff: the predecessor lends no Chromium (${message.reason}); launching one`);
      answer([]);
    }
  });
  void send({ type: 'borrow' });
  let timer: NodeJS.Timeout | undefined;
  const loans = await Promise.race([answered, new Promise<LentBrowser[]>((resolve) => (timer = setTimeout(() => resolve([]), LOANS_TIMEOUT_MS)))]);
  clearTimeout(timer);
  const started = performance.now();
  const borrowed = await pool.borrow(loans, (index, batch) => void send({ type: 'cdp', index, batch }));
  logger.info(`handoff: borrowed ${borrowed} of the predecessor's Chromium, with pages of its own`, { borrowed, lent: loans.length, borrowMs: Math.round(performance.now() - started) });
  return borrowed;
}

/**
 * The old process at the switch, when the successor waits for its Chromium: once no QC request of
 * its own is in flight (new ones go to the successor by then), lets go of its pool's browsers and
 * passes each one's pipe over the handoff's channel. A browser that cannot be passed is ended here.
 * Resolves with how many were passed.
 */
export async function passOnChrome(pool: QcPool, channel: ChromeChannel, whenNoLocalQc: () => Promise<void>, logger: Logger, beforeRelease?: () => Promise<void>): Promise<number> {
  // A successor of other settings (or a build without the take-over) launched its own: nothing to pass.
  if (!channel.successorWants(CHROME_HANDLE)) {
    logger.info('handed over: the successor launched its own Chromium; this one goes as this process retires');
    return 0;
  }
  await whenNoLocalQc();
  const started = performance.now();
  const browsers = await pool.letGo(beforeRelease);
  let passed = 0;
  for (const browser of browsers) {
    const { toChrome, fromChrome, ...data } = browser;
    channel.passOn(browser.handover.pid);
    try {
      await channel.sendHandle(CHROME_HANDLE, { ...data, total: browsers.length, end: 'to-chrome' } satisfies ChromeEnd, toChrome);
      await channel.sendHandle(CHROME_HANDLE, { ...data, total: browsers.length, end: 'from-chrome' } satisfies ChromeEnd, fromChrome);
      passed += 1;
    } catch (error) {
      logger.warn(`handed over: could not pass Chromium (pid ${browser.handover.pid}) to the successor; ending it`, { error: String(error) });
      await discardBrowser(browser);
    }
  }
  logger.info(beforeRelease ? `handed over: passed the pipes of ${passed} Chromium it lent to the successor` : `handed over: passed ${passed} Chromium with their warm pages to the successor`, { passed, letGoMs: Math.round(performance.now() - started) });
  return passed;
}

/**
 * The successor: takes the browsers its predecessor passes (see {@link passOnChrome}) into `pool` (an
 * awaiting one) as they come. `armFallback()`, called once this process serves: if they have not
 * all come within `waitMs`, or the predecessor exited first, those that came are taken over and the
 * pool launches the rest.
 */
export function receiveChrome(pool: QcPool, channel: ChromeChannel, logger: Logger, waitMs: number, borrowed = false): { armFallback: (predecessorGone: Promise<void>) => void } {
  const ends = new Map<number, { data: ChromeEnd; toChrome?: Writable; fromChrome?: Readable }>();
  let total: number | undefined;
  let done = false;
  const complete = (): AdoptableBrowser[] =>
    [...ends.values()].flatMap(({ data: { handover, contextIds, nextJobId }, toChrome, fromChrome }) => (toChrome && fromChrome ? [{ handover, contextIds, nextJobId, toChrome, fromChrome }] : []));
  const adopt = (why: string) => {
    if (done) return;
    done = true;
    const browsers = complete();
    // Ends of a browser that came without its other end: nobody goes on with it.
    for (const e of ends.values()) if (!(e.toChrome && e.fromChrome)) (e.toChrome ?? e.fromChrome)?.destroy();
    const started = performance.now();
    // Borrowed browsers (HANDOFF_BORROW_CHROME) only need their pipes; those whose pipe never came went with the predecessor.
    const taking = borrowed ? pool.takePipes(browsers).finally(() => pool.lenderGone()) : pool.adopt(browsers);
    void taking.then(
      (adopted) => logger.info(borrowed ? `handoff: holds the pipes of ${adopted} borrowed Chromium ${why}` : `handoff: took over ${adopted} of the predecessor's Chromium ${why}`, { adopted, passed: browsers.length, adoptMs: Math.round(performance.now() - started) }),
      (error: unknown) => logger.error('handoff: neither took over nor launched Chromium; the QC pool has no browser', { error: String(error) }),
    );
  };
  channel.onHandle(CHROME_HANDLE, (data, handle) => {
    const end = data as ChromeEnd;
    if (done) {
      (handle as Writable).destroy();
      return;
    }
    const entry = ends.get(end.handover.pid) ?? { data: end };
    if (end.end === 'to-chrome') entry.toChrome = handle as Writable;
    else entry.fromChrome = handle as Readable;
    ends.set(end.handover.pid, entry);
    total = end.total;
    if (complete().length === total) adopt('at the switch');
  });
  return {
    armFallback: (predecessorGone) => {
      const fallBack = (why: string) => {
        if (done) return;
        logger.warn(`handoff: ${why} with ${complete().length} of ${total ?? '?'} of its Chromium here; launching the rest`);
        adopt('and launched the rest');
      };
      // A borrowed browser serves through the predecessor's relay until its pipe comes: only the predecessor's exit ends that.
      if (!borrowed) setTimeout(() => fallBack(`the predecessor's Chromium did not come within ${waitMs} ms of ready`), waitMs).unref();
      void predecessorGone.then(() => fallBack('the predecessor exited'));
    },
  };
}
