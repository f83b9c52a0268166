import type { HandoffFacts, HealthResult } from '@edu-agents/health-client';
import { ExitCode } from '../app/exit-code';
import { RestartFailure } from './restart-failure';
import type { ResolvedMode, RestartDeps, RestartSettings, RestartTarget } from './restart.types';
import type { StepRunner } from './step-runner';

/** What the check step found: the mode to use, the running pid and the handoff as it was before the trigger. */
export interface CheckedInstance {
  readonly mode: ResolvedMode;
  readonly oldPid: number | undefined;
  readonly handoff: HandoffFacts | undefined;
  /** Who names the successor in the pid file after a handoff (process manager); absent for systemd. */
  readonly pidFileOwner?: 'api' | 'cli';
}

/**
 * Step 1 of every restart: asks /health once, resolves `--mode auto` (handoff when the
 * instance is ready and advertises `details.handoff.supported`, else replace), and
 * refuses before anything is touched when the chosen mode cannot work: not ready
 * (replace: unless `--force`; handoff: always, the API refuses a handoff then), handoff
 * unsupported, replace without a way to start, a handoff already running, or a pid
 * file / unit that names another process than the one answering.
 */
export async function runCheckStep(target: RestartTarget, settings: RestartSettings, deps: RestartDeps, steps: StepRunner): Promise<CheckedInstance> {
  const { url, manager, instance } = target;
  let checked: CheckedInstance | undefined;
  await steps.run('check', async () => {
    const health = await deps.check(url, { timeoutMs: settings.checkTimeoutMs });
    const why = `${health.state}${health.reason ? ` (${health.reason})` : ''}`;
    const supported = health.handoff?.supported === true;
    if (settings.mode === 'handoff' && health.state !== 'unreachable' && !supported) {
      throw new RestartFailure('check', ExitCode.HandoffUnsupported, `instance ${instance} at ${url} does not support hot handoff (${unsupportedWhy(health)}); nothing was touched. Enable it, or restart with --mode replace.`);
    }
    if (health.state !== 'ready') {
      if (settings.mode === 'handoff') {
        throw new RestartFailure('check', ExitCode.Unhealthy, `instance ${instance} (${manager.label}) is ${why} at ${url}; a hot handoff needs a ready instance (the API refuses one otherwise, --force does not change that). Make it healthy first, or use --mode replace --force.`);
      }
      if (!settings.force) {
        throw new RestartFailure('check', ExitCode.Unhealthy, `instance ${instance} (${manager.label}) is ${why} at ${url}; refusing to restart. Make it healthy first, or pass --force to restart anyway.`);
      }
    }
    const [mode, reason] = resolveMode(settings, health);
    const cannotStart = mode === 'replace' ? manager.replaceUsage() : undefined;
    if (cannotStart) throw new RestartFailure('check', ExitCode.Usage, `${cannotStart} Mode replace: ${reason}.`);
    const pidFile = await pidFileOwner(target, health);
    let oldPid: number | undefined;
    try {
      oldPid = await manager.readPid();
    } catch (error) {
      throw new RestartFailure('check', ExitCode.SignalFailed, `cannot find the running process (${manager.label}): ${(error as Error).message}`, { cause: error });
    }
    if (mode === 'handoff') assertHandoffTarget(target, health, oldPid);
    checked = { mode, oldPid, handoff: health.handoff, ...(pidFile && { pidFileOwner: pidFile }) };
    const where = oldPid === undefined ? 'no running process' : `pid ${oldPid}`;
    const state = health.state === 'ready' ? `ready, ${where}, in flight ${health.inFlight ?? '?'} (${Math.round(health.latencyMs)}ms)` : `${why}, ${where}; continuing because of --force`;
    const writer = mode === 'handoff' && pidFile === 'cli' ? '; the API writes no pid file: the CLI will name the successor in it' : '';
    return `${state}; mode ${mode}: ${reason}${writer}`;
  });
  // steps.run either ran the body to the end or threw.
  return checked as CheckedInstance;
}

/**
 * Who keeps the manager's pid file true after a handoff; a pid file the API writes that is
 * not the CLI's is refused here, in every mode, before anything is touched.
 */
export async function pidFileOwner({ instance, manager }: RestartTarget, health: HealthResult): Promise<'api' | 'cli' | undefined> {
  if (!manager.pidFileOwner || health.state === 'unreachable') return undefined;
  const owner = await manager.pidFileOwner(health.pidFile);
  if ('conflict' in owner) throw new RestartFailure('check', ExitCode.Usage, `instance ${instance}: ${owner.conflict}`);
  return owner.owner;
}

function resolveMode(settings: RestartSettings, health: HealthResult): [ResolvedMode, string] {
  if (settings.mode !== 'auto') return [settings.mode, `--mode ${settings.mode}`];
  if (health.state !== 'ready') return ['replace', 'the instance is not ready (--force)'];
  if (health.handoff?.supported === true) return ['handoff', '/health advertises hot handoff'];
  return ['replace', `no hot handoff advertised (${unsupportedWhy(health)})`];
}

function unsupportedWhy(health: HealthResult): string {
  if (!health.handoff) return `${health.state === 'ready' ? 'its' : `it is ${health.state}; its`} /health has no details.handoff: an API without hot handoff`;
  if (!health.handoff.enabled) return 'HANDOFF_ENABLED=false';
  return 'details.handoff.supported is false: this process cannot start a successor';
}

/** The pid a SIGHUP goes to must be the process that answers, and no handoff may be running. */
function assertHandoffTarget({ instance, url, manager }: RestartTarget, health: HealthResult, oldPid: number | undefined): void {
  if (oldPid === undefined) {
    throw new RestartFailure('check', ExitCode.SignalFailed, `no running process found for ${manager.label}, though ${url} answers ready as pid ${health.pid ?? '?'}; check that --pid-file or --service names this instance.`);
  }
  if (health.pid !== undefined && health.pid !== oldPid) {
    throw new RestartFailure('check', ExitCode.SignalFailed, `${manager.label} names pid ${oldPid}, but ${url} answers as pid ${health.pid}; a SIGHUP would reach the wrong process (and stop one without a handler). Fix --pid-file/--service or --url.`);
  }
  const state = health.handoff?.state;
  if (state !== 'idle') {
    const successor = health.handoff?.successorPid ? `, successor pid ${health.handoff.successorPid}` : '';
    throw new RestartFailure('check', ExitCode.Unhealthy, `instance ${instance} is already handing over (state ${state ?? 'unknown'}${successor}); wait until /health shows it idle, then try again.`);
  }
}
