export { Upgrader } from './lib/upgrader';
export type {
  HandoffSnapshot,
  HandoffUpgrader,
  LastUpgrade,
  PredecessorLoss,
  RetireIdleResult,
  StateProvider,
  UpgradeFailure,
  UpgradeFailureReason,
  UpgradeOutcome,
  UpgradeSuccess,
} from './lib/upgrader.types';
export { HANDOFF_DEFAULTS } from './lib/upgrader-options';
export type { HandoffLog, HandoffLogLevel, UpgraderOptions } from './lib/upgrader-options';
export type { StartYieldBounds } from './lib/start-yield';
export type { ListenTarget } from './lib/listener-registry';
export type { HandOverResult } from './lib/connection-handover';
export type { HandoffState } from './lib/handoff-state';
export { HANDOFF_ENV } from './lib/inheritance';
export { reportStartFailure } from './lib/start-failure';
export { nodeProcessEnvironment } from './lib/node-process-environment';
export type {
  ChildHandlers,
  ParentChannel,
  ParentHandlers,
  PreparedChild,
  ProcessEnvironment,
  SpawnedChild,
  SpawnRequest,
} from './lib/process-environment';
export type { OutputStream, ToPredecessor, ToSuccessor } from './lib/handoff-messages';
export type { SuccessorPeer } from './lib/child-watch';
