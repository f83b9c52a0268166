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

/** How to restart: hand over to a successor, replace (stop, then start), or pick from what /health advertises. */
export type RestartMode = 'handoff' | 'replace' | 'auto';

/** The mode a run actually used. */
export type ResolvedMode = Exclude<RestartMode, 'auto'>;

/** Knobs of a restart, resolved from the command line. */
export interface RestartSettings {
  /** `auto`: handoff when /health says `details.handoff.supported`, else replace. */
  readonly mode: RestartMode;
  /** Bound of each waiting step (ack, drain, verify; successor, drain in a handoff). */
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
  /** True while `pid` is a live process on this host (a zombie counts as gone). */
  readonly isAlive: (pid: number) => Promise<boolean>;
}

/** A handoff's successor that failed, as the old process's /health told it. */
export interface SuccessorReport {
  readonly pid: number | undefined;
  /** `exited`, `timeout`, `spawn-failed`, ... */
  readonly reason: string | undefined;
  readonly message: string | undefined;
  readonly exit: { readonly code: number | null; readonly signal: string | null } | undefined;
  /** Its last lines of output. */
  readonly output: readonly string[];
}

/** What a run learned on the way; the flows fill it in step by step, the outcome reports it. */
export interface RunFacts {
  mode?: ResolvedMode;
  oldPid?: number;
  newPid?: number;
  /** Handoff: the pid that serves when the run ends (the successor, or the old pid after a failure). */
  servingPid?: number;
  successor?: SuccessorReport;
}

/** The result of restarting one instance. */
export interface InstanceOutcome {
  readonly instance: string;
  readonly url: string;
  readonly manager: string;
  /** The mode used; `undefined` when the run stopped before it was known. */
  readonly mode: ResolvedMode | undefined;
  readonly ok: boolean;
  readonly exitCode: ExitCode;
  readonly oldPid: number | undefined;
  readonly newPid: number | undefined;
  readonly durationMs: number;
  readonly steps: readonly StepRecord[];
  /** Handoff only: the pid serving at the end. */
  readonly servingPid?: number;
  /** Handoff only: the failed successor. */
  readonly successor?: SuccessorReport;
  readonly failure?: { readonly step: StepName; readonly message: string };
}
