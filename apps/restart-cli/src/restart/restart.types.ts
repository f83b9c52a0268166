import type { HealthResult } from '@edu-agents/health-client';
import type { ExitCode } from '../app/exit-code';
import type { InstanceManager } from '../managers/instance-manager';
import type { EmitStep, StepName, StepRecord } from './step-event';

/** One instance to restart: its name (for `%i` and messages), health URL and manager. */
export interface RestartTarget {
  readonly instance: string;
  readonly url: string;
  readonly manager: InstanceManager;
}

/** Knobs of a restart, resolved from the command line. */
export interface RestartSettings {
  /** Bound of each waiting step (ack, drain, verify). */
  readonly timeoutMs: number;
  /** Consecutive ready answers that prove the new instance healthy. */
  readonly healthyCount: number;
  /** Restart even when the instance is not ready before the start. */
  readonly force: boolean;
  /** First pause between health polls (backoff grows from here). */
  readonly intervalMs: number;
  /** How long one health request may take before it counts as unreachable. */
  readonly checkTimeoutMs: number;
}

/** Side effects of the flows, injected. */
export interface RestartDeps {
  readonly check: (url: string, options: { timeoutMs?: number }) => Promise<HealthResult>;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly emit: EmitStep;
}

/** The result of restarting one instance. */
export interface InstanceOutcome {
  readonly instance: string;
  readonly url: string;
  readonly manager: string;
  readonly ok: boolean;
  readonly exitCode: ExitCode;
  readonly oldPid: number | undefined;
  readonly newPid: number | undefined;
  readonly durationMs: number;
  readonly steps: readonly StepRecord[];
  readonly failure?: { readonly step: StepName; readonly message: string };
}
