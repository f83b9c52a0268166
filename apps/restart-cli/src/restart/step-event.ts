/** The steps of a replace (check, signal, ack, restart, verify) and of a handoff (check, trigger, successor, drain), plus the rolling extras. */
export type StepName = 'check' | 'signal' | 'ack' | 'restart' | 'verify' | 'trigger' | 'successor' | 'drain' | 'lb-check' | 'pause';

/** Human titles of the steps, in order. */
export const STEP_TITLES: Record<StepName, string> = {
  check: 'check current health',
  signal: 'send graceful shutdown signal',
  ack: 'wait for shutdown acknowledgment',
  restart: 'follow the drain, start the new instance',
  verify: 'verify the new instance is healthy',
  trigger: 'trigger the hot handoff',
  successor: 'wait for the successor to be ready',
  drain: 'follow the old process to its exit',
  'lb-check': 'check through the load balancer',
  pause: 'pause before the next instance',
};

/** Progress of a run; orchestration emits these, renderers print them. */
export type StepEvent =
  | { readonly type: 'step-start'; readonly instance: string; readonly step: StepName }
  | { readonly type: 'step-progress'; readonly instance: string; readonly step: StepName; readonly detail: string }
  | {
      readonly type: 'step-end';
      readonly instance: string;
      readonly step: StepName;
      readonly status: StepStatus;
      readonly durationMs: number;
      readonly detail: string;
    };

export type StepStatus = 'ok' | 'failed' | 'skipped';

/** One finished step as it appears in the result object. */
export interface StepRecord {
  readonly step: StepName;
  readonly status: StepStatus;
  readonly durationMs: number;
  readonly detail: string;
}

/** Receives step events. */
export type EmitStep = (event: StepEvent) => void;
