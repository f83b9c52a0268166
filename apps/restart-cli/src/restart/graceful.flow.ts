import { waitFor, type HealthResult } from '@edu-agents/health-client';
import { ExitCode } from '../app/exit-code';
import { formatDuration } from '../options/duration';
import { runCheckStep } from './check.step';
import { runHandoffSteps } from './handoff.flow';
import { describeHealth, pollOptions } from './health-polling';
import { RestartFailure } from './restart-failure';
import type { InstanceOutcome, RestartDeps, RestartSettings, RestartTarget, RunFacts } from './restart.types';
import { StepRunner } from './step-runner';

/**
 * Restarts one instance, each step timed. Step 1 checks health and resolves the mode
 * (see `runCheckStep`). A handoff then runs `runHandoffSteps`; a replace runs the four
 * remaining steps of the original script: send SIGTERM to the main process, wait for
 * the acknowledgment (draining or unreachable), follow the drain until the old process
 * exited and start the new one, verify `healthyCount` ready answers in a row from a
 * process that is not the old one. Never throws; the outcome says what failed.
 */
export async function runGraceful(target: RestartTarget, settings: RestartSettings, deps: RestartDeps): Promise<InstanceOutcome> {
  const { url, manager, instance } = target;
  const steps = new StepRunner(instance, deps.emit, deps.now);
  const started = deps.now();
  const facts: RunFacts = {};

  const outcome = (failure?: RestartFailure): InstanceOutcome => ({
    instance, url, manager: manager.label, mode: facts.mode, ok: !failure, exitCode: failure?.exitCode ?? ExitCode.Ok,
    oldPid: facts.oldPid, newPid: facts.newPid, durationMs: Math.round(deps.now() - started), steps: steps.records,
    ...(facts.servingPid !== undefined && { servingPid: facts.servingPid }),
    ...(facts.successor && { successor: facts.successor }),
    ...(failure && { failure: { step: failure.step, message: failure.message } }),
  });

  try {
    const checked = await runCheckStep(target, settings, deps, steps);
    facts.mode = checked.mode;
    facts.oldPid = checked.oldPid;
    if (checked.mode === 'handoff') await runHandoffSteps(target, checked, settings, deps, steps, facts);
    else await runReplaceSteps(target, settings, deps, steps, facts);
    return outcome();
  } catch (error) {
    return outcome(error as RestartFailure);
  }
}

/** Signal, ack, restart, verify: stop the old process, then start and verify the new one. */
async function runReplaceSteps(target: RestartTarget, settings: RestartSettings, deps: RestartDeps, steps: StepRunner, facts: RunFacts): Promise<void> {
  const { url, manager } = target;
  const poll = pollOptions(settings, deps);
  const oldPid = facts.oldPid;
  let signalled = false;

  await steps.run('signal', async () => {
    if (oldPid === undefined) {
      if (settings.force) return { skipped: 'no running process to signal (--force): starting a new one' };
      throw new RestartFailure('signal', ExitCode.SignalFailed, `no running process found for ${manager.label}; start the instance first, or pass --force to start it.`);
    }
    try {
      await manager.signalStop(oldPid);
    } catch (error) {
      throw new RestartFailure('signal', ExitCode.SignalFailed, `could not send SIGTERM to pid ${oldPid} (${manager.label}): ${(error as Error).message}`, { cause: error });
    }
    signalled = true;
    return `SIGTERM sent to pid ${oldPid}${await stopTimeoutNote(manager, settings)}`;
  });

  await steps.run('ack', async () => {
    if (!signalled) return { skipped: 'nothing was signalled' };
    const out = await waitFor(url, (r) => r.state === 'draining' || r.state === 'unreachable', { ...poll, timeoutMs: settings.timeoutMs, check: deps.check });
    if (!out.met) {
      throw new RestartFailure('ack', ExitCode.Timeout, `pid ${oldPid} did not acknowledge SIGTERM within ${formatDuration(settings.timeoutMs)} (health still ${describeHealth(out.last)}). Check that the API handles SIGTERM and that --url points at it.`);
    }
    return out.last?.state === 'draining' ? `draining, in flight ${out.last.inFlight ?? '?'}` : 'unreachable (already gone)';
  });

  await steps.run('restart', async () => {
    let drained = '';
    if (signalled && oldPid !== undefined) drained = await followDrain(oldPid, target, settings, deps, steps);
    let started;
    try {
      started = await manager.start();
    } catch (error) {
      throw new RestartFailure('restart', ExitCode.StartFailed, `could not start the new instance (${manager.label}): ${(error as Error).message}`, { cause: error });
    }
    facts.newPid = started.pid;
    return `${drained}${started.detail}`;
  });

  await steps.run('verify', async () => {
    const watchedCheck: RestartDeps['check'] = async (u, o) => {
      const failure = await manager.startFailure();
      if (failure) throw new RestartFailure('verify', ExitCode.StartFailed, `the new instance of ${manager.label} died: ${failure}`);
      return deps.check(u, o);
    };
    const isNew = (r: HealthResult) => r.pid === undefined || (facts.newPid !== undefined ? r.pid === facts.newPid : r.pid !== oldPid);
    const out = await waitFor(url, (r) => r.state === 'ready' && isNew(r), {
      ...poll, timeoutMs: settings.timeoutMs, consecutive: settings.healthyCount, check: watchedCheck,
    });
    if (!out.met) {
      const failure = await manager.startFailure();
      if (failure) throw new RestartFailure('verify', ExitCode.StartFailed, `the new instance of ${manager.label} died: ${failure}`);
      throw new RestartFailure('verify', ExitCode.VerifyFailed, `the new instance did not answer ready ${settings.healthyCount} times in a row within ${formatDuration(settings.timeoutMs)} (last: ${describeHealth(out.last)}). Check its log.`);
    }
    facts.newPid = out.last?.pid ?? facts.newPid;
    return `${settings.healthyCount} consecutive ready answers from pid ${facts.newPid ?? '?'}`;
  });
}

/** Polls until the old pid is gone, reporting the in-flight count as it changes. */
async function followDrain(oldPid: number, target: RestartTarget, settings: RestartSettings, deps: RestartDeps, steps: StepRunner): Promise<string> {
  const started = deps.now();
  const deadline = started + settings.timeoutMs;
  let lastInFlight: number | undefined;
  for (;;) {
    if (await target.manager.isGone(oldPid)) return `pid ${oldPid} exited after ${formatDuration(deps.now() - started)}; `;
    if (deps.now() >= deadline) break;
    const health = await deps.check(target.url, { timeoutMs: Math.min(settings.checkTimeoutMs, Math.max(1000, settings.intervalMs * 4)) });
    if (health.inFlight !== undefined && health.inFlight !== lastInFlight) {
      lastInFlight = health.inFlight;
      steps.progress('restart', `draining pid ${oldPid}: ${health.inFlight} in flight`);
    }
    await deps.sleep(Math.min(settings.intervalMs, Math.max(0, deadline - deps.now())));
  }
  throw new RestartFailure('restart', ExitCode.Timeout, `pid ${oldPid} still running ${formatDuration(settings.timeoutMs)} after SIGTERM (last in flight: ${lastInFlight ?? '?'}). Raise --timeout above the API's SHUTDOWN_TIMEOUT_MS, or look for what blocks its exit.`);
}

/** Mentions the unit's TimeoutStopSec, and warns when --timeout would give up on a drain systemd still allows. */
async function stopTimeoutNote(manager: RestartTarget['manager'], settings: RestartSettings): Promise<string> {
  const stopMs = manager.stopTimeoutMs ? await manager.stopTimeoutMs().catch(() => undefined) : undefined;
  if (stopMs === undefined) return '';
  const warn = settings.timeoutMs < stopMs ? `; note: --timeout ${formatDuration(settings.timeoutMs)} is below it, a long drain may outlast the CLI's wait` : '';
  return ` (unit TimeoutStopSec ${formatDuration(stopMs)}${warn})`;
}
