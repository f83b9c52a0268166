import type { QcJob, QcJobOutput } from './qc-job.types';

/** Callbacks a slot gets from its browser worker. */
export interface SlotEnv {
  log: (level: 'debug' | 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;
  /** True once the browser is gone (crashed, killed, disconnected) or being closed. */
  browserGone: () => boolean;
  onPageRecycled: () => void;
}

/** One unit of concurrency inside a browser: runs one job at a time. */
export interface QcSlot {
  /** Pre-creates what the first job would otherwise wait for. Never rejects. */
  warmUp(): Promise<void>;
  /** Runs a job, bounded by its timeout; rejects with JobTimeoutError or BrowserCrashedError. */
  run(job: QcJob): Promise<QcJobOutput>;
  /** Between-jobs cleanup; never rejects (a failed cleanup discards the page). */
  release(): Promise<void>;
  /** The browser went away: fail the running job now. */
  browserGone(error: Error): void;
}
