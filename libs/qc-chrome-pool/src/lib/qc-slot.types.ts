import type { DomCheckResult } from './dom-checks';
import type { QcJob, QcJobOutput } from './qc-job.types';
import type { QcReport } from './qc-report.types';

/** Callbacks a slot gets from its browser worker. */
export interface SlotEnv {
  log: (level: 'debug' | 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;
  /** True once the browser is gone (crashed, killed, disconnected) or being closed. */
  browserGone: () => boolean;
  onPageRecycled: () => void;
  /** Draws a report's elements onto its screenshot, outside the job's page (the browser's annotator). */
  annotate: (png: Buffer, report: QcReport, scroll: DomCheckResult['scroll']) => Promise<Buffer>;
}

/** One unit of concurrency inside a browser: runs one job at a time. */
export interface QcSlot {
  /** Pre-creates what the first job would otherwise wait for. Never rejects. */
  warmUp(): Promise<void>;
  /**
   * Runs a job until it ends or `signal` aborts (then the page is stopped and thrown away and the
   * signal's reason is thrown); rejects with BrowserCrashedError when Chrome goes away under it.
   */
  run(job: QcJob, signal: AbortSignal): Promise<QcJobOutput>;
  /** Between-jobs cleanup; never rejects (a failed cleanup discards the page). */
  release(): Promise<void>;
  /** The browser went away: fail the running job now. */
  browserGone(error: Error): void;
  /**
   * Between jobs, before the browser goes to another process: detaches what this process attached
   * to the slot's page, and returns the id of the browser context a successor may go on with
   * (undefined: nothing warm to pass on).
   */
  letGo(): Promise<string | undefined>;
}
