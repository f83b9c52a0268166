import { discardBrowser, type AdoptableBrowser, type QcPool } from '@edu-agents/qc-chrome-pool';
import type { Readable, Writable } from 'node:stream';
import type { Logger } from '../logging/logger';

/** The kind of handle the old process passes its Chromium's pipe under (process-handoff's sendHandle). */
const CHROME_HANDLE = 'qc-chrome';

/** In the state a predecessor passes on: it will pass its Chromium at the switch, started with these settings. */
export interface ChromeOffer {
  fingerprint: string;
}

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
export function offeredChrome(state: unknown, fingerprint: string): { ok: true } | { ok: false; reason: string } {
  const offer = (state as { chrome?: ChromeOffer } | undefined)?.chrome;
  if (offer === undefined) return { ok: false, reason: 'the predecessor offers none (HANDOFF_TAKE_OVER_CHROME is off there, or it has no QC pool)' };
  if (offer.fingerprint !== fingerprint) return { ok: false, reason: `its Chromium was started with other settings (fingerprint ${offer.fingerprint}, here ${fingerprint})` };
  return { ok: true };
}

/**
 * The old process at the switch, when the successor waits for its Chromium: once no QC request of
 * its own is in flight (new ones go to the successor by then), lets go of its pool's browsers and
 * passes each one's pipe over the handoff's channel. A browser that cannot be passed is ended here.
 * Resolves with how many were passed.
 */
export async function passOnChrome(pool: QcPool, channel: ChromeChannel, whenNoLocalQc: () => Promise<void>, logger: Logger): Promise<number> {
  // A successor of other settings (or a build without the take-over) launched its own: nothing to pass.
  if (!channel.successorWants(CHROME_HANDLE)) {
    logger.info('handed over: the successor launched its own Chromium; this one goes as this process retires');
    return 0;
  }
  await whenNoLocalQc();
  const started = performance.now();
  const browsers = await pool.letGo();
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
  logger.info(`handed over: passed ${passed} Chromium with their warm pages to the successor`, { passed, letGoMs: Math.round(performance.now() - started) });
  return passed;
}

/**
 * The successor: takes the browsers its predecessor passes (see {@link passOnChrome}) into `pool` (an
 * awaiting one) as they come. `armFallback()`, called once this process serves: if they have not
 * all come within `waitMs`, or the predecessor exited first, those that came are taken over and the
 * pool launches the rest.
 */
export function receiveChrome(pool: QcPool, channel: ChromeChannel, logger: Logger, waitMs: number): { armFallback: (predecessorGone: Promise<void>) => void } {
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
    void pool.adopt(browsers).then(
      (adopted) => logger.info(`handoff: took over ${adopted} of the predecessor's Chromium ${why}`, { adopted, passed: browsers.length, adoptMs: Math.round(performance.now() - started) }),
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
      setTimeout(() => fallBack(`the predecessor's Chromium did not come within ${waitMs} ms of ready`), waitMs).unref();
      void predecessorGone.then(() => fallBack('the predecessor exited'));
    },
  };
}
