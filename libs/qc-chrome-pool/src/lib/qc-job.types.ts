import type { QcJobInput } from './qc-input';
import type { QcReport } from './qc-report.types';

/** 'annotated-screenshot': the PNG with each reported element outlined and numbered, and a legend. */
export type QcJobKind = 'check' | 'screenshot' | 'annotated-screenshot';

/** One job as the pool hands it to a slot. */
export interface QcJob {
  id: number;
  kind: QcJobKind;
  input: QcJobInput;
  /** Wait after load before the DOM checks (QcPoolConfig.settleMs). */
  settleMs: number;
}

export interface QcJobOutput {
  report: QcReport;
  png?: Buffer;
}
