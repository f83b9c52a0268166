import type { AddressInfo, Server, Socket } from 'node:net';
import type { HandOverResult } from './connection-handover';
import type { HandoffState } from './handoff-state';
import type { ListenTarget } from './listener-registry';

/** The successor serves on the inherited listeners: stop accepting, drain, exit. */
export interface UpgradeSuccess {
  ok: true;
  successorPid: number;
  durationMs: number;
}

/**
 * Why an upgrade did not happen. `busy`: another one runs; `handed-over`: this
 * process already handed over; `spawn-failed`: no successor could be started;
 * `exited`: it exited before it was ready; `timeout`: it was not ready in time;
 * `channel-closed`: it closed the handoff channel before it was ready (it can no
 * longer say ready); `cancelled`: `cancel()` was called. In the last four the
 * successor was killed with its process tree before the outcome resolved.
 */
export type UpgradeFailureReason = 'busy' | 'handed-over' | 'spawn-failed' | 'exited' | 'timeout' | 'channel-closed' | 'cancelled';

/** This process still serves; `message` says why in one line, `output` holds the successor's last lines. */
export interface UpgradeFailure {
  ok: false;
  reason: UpgradeFailureReason;
  message: string;
  successorPid?: number;
  exit?: { code: number | null; signal: NodeJS.Signals | null };
  output: string[];
  durationMs: number;
}

export type UpgradeOutcome = UpgradeSuccess | UpgradeFailure;

/** The last upgrade attempt as the health body shows it (without the output lines). */
export interface LastUpgrade {
  ok: boolean;
  reason?: UpgradeFailureReason;
  message?: string;
  successorPid?: number;
  exit?: UpgradeFailure['exit'];
  durationMs: number;
  /** When it ended, ISO 8601. */
  at: string;
}

/** A successor's predecessor died before the successor was ready: the successor took over alone. */
export interface PredecessorLoss {
  pid: number;
  /** When the successor noticed, ISO 8601. */
  at: string;
  /** How it ended ("was killed by SIGKILL"), when it was still a zombie to look at. */
  exit?: string;
  /** One line for logs and health. */
  message: string;
}

/** What `/health` may show of the handoff. */
export interface HandoffSnapshot {
  /** Whether this process can start a successor (Linux, started from an entry file). */
  supported: boolean;
  state: HandoffState;
  /** Upgrades started by this process (refused triggers not counted). */
  attempts: number;
  /** The successor being started, or the one that took over. */
  successorPid?: number;
  /** The process this one took over from. */
  predecessorPid?: number;
  /** Set when that process died before this one was ready (this one took over alone). */
  predecessorLost?: PredecessorLoss;
  last?: LastUpgrade;
}

/** Provides the state handed to a successor (for example a result cache); anything structured clone can copy. */
export type StateProvider = () => unknown;

/**
 * The surface of the upgrader, for code that only needs the surface (tests use
 * `StubUpgrader` from `@edu-agents/process-handoff/testing`).
 */
/** What `retireIdle()` did: how many processes of this tree went to SCHED_IDLE, or why none did. */
export type RetireIdleResult =
  | { ok: true; processes: number; failures: string[] }
  | { ok: false; reason: string };

export interface HandoffUpgrader {
  /** Whether a predecessor started this process and passed it listeners. */
  readonly isSuccessor: boolean;
  readonly predecessorPid: number | undefined;
  listen(name: string, server: Server, target: ListenTarget): Promise<AddressInfo>;
  provideState(provider: StateProvider): void;
  inheritedState(timeoutMs: number): Promise<unknown>;
  upgrade(): Promise<UpgradeOutcome>;
  ready(): Promise<void>;
  cancel(reason: string): Promise<void>;
  /** After a handoff: moves an idle client connection of listener `name` to the successor (see `Upgrader.handOver`). */
  handOver(name: string, socket: Socket): Promise<HandOverResult>;
  predecessorGone(): Promise<void>;
  /** After a handoff: this process's own tree (not the successor's) goes to SCHED_IDLE before it lets go of what it holds (see `Upgrader.retireIdle`). */
  retireIdle(): Promise<RetireIdleResult>;
  /** After a handoff, as this process lets go of what it holds: offers its children's trees to the successor to stop during its work (see `Upgrader.retiring`). */
  retiring(options?: { offer?: boolean }): number;
  /** After a handoff: resolves once the successor reports no work whose latency counts in flight, within a bound (see `Upgrader.untilSuccessorIdle`). */
  untilSuccessorIdle(maxWaitMs?: number): Promise<number>;
  /** Marks work whose latency counts until the returned function is called; a starting successor, and a retiring predecessor's offer, yield to it (see `Upgrader.yieldStart`). */
  yieldStart(): () => void;
  snapshot(): HandoffSnapshot;
  close(): void;
}
