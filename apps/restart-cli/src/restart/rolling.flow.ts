import { waitFor } from '@edu-agents/health-client';
import { ExitCode } from '../app/exit-code';
import { formatDuration } from '../options/duration';
import { pidFileOwner } from './check.step';
import { runGraceful } from './graceful.flow';
import { RestartFailure } from './restart-failure';
import type { InstanceOutcome, RestartDeps, RestartSettings, RestartTarget } from './restart.types';
import type { StepName } from './step-event';
import { StepRunner } from './step-runner';

/** Extra knobs of a rolling restart. */
export interface RollingSettings extends RestartSettings {
  /** Pause after each healthy instance before touching the next one. */
  readonly pauseMs: number;
  /** Health URL through the load balancer, checked after each instance. */
  readonly lbUrl: string | undefined;
}

/** The result of a rolling restart. */
export interface RollingOutcome {
  readonly ok: boolean;
  readonly exitCode: ExitCode;
  readonly instances: readonly InstanceOutcome[];
  /** Instances never touched because an earlier one failed. */
  readonly untouched: readonly string[];
  readonly failure?: { readonly instance: string; readonly step: StepName; readonly message: string };
}

/**
 * Restarts the targets one at a time, each in the mode its check step resolves. Instance
 * k+1 is not touched until instance k answered ready `healthyCount` times (and, with
 * `lbUrl`, the balancer did too). A handoff never takes an instance out of the balancer's
 * rotation: its port accepts throughout. The first failure stops the run; the remaining
 * instances keep serving (after a failed handoff, the failed one too).
 */
export async function runRolling(targets: readonly RestartTarget[], settings: RollingSettings, deps: RestartDeps): Promise<RollingOutcome> {
  const refused = await preflightPidFiles(targets, settings, deps);
  if (refused) return refused;
  const done: InstanceOutcome[] = [];
  for (const [index, target] of targets.entries()) {
    let outcome = await runGraceful(target, settings, deps);
    if (outcome.ok && settings.lbUrl) outcome = await checkBalancer(outcome, settings.lbUrl, settings, deps);
    done.push(outcome);
    const untouched = targets.slice(index + 1).map((t) => t.instance);
    if (!outcome.ok && outcome.failure) {
      return { ok: false, exitCode: outcome.exitCode, instances: done, untouched, failure: { instance: target.instance, ...outcome.failure } };
    }
    if (untouched.length > 0 && settings.pauseMs > 0) {
      const steps = new StepRunner(target.instance, deps.emit, deps.now);
      await steps.run('pause', async () => {
        await deps.sleep(settings.pauseMs);
        return `${formatDuration(settings.pauseMs)} before instance ${untouched[0]}`;
      });
    }
  }
  return { ok: true, exitCode: ExitCode.Ok, instances: done, untouched: [] };
}

/**
 * Before touching any instance: a pid file that the API writes and that is not the CLI's
 * (see `pidFileOwner`) is refused for the whole run, not found at instance k after
 * instances 0..k-1 were restarted. Unreachable instances are left to their own check step.
 */
async function preflightPidFiles(targets: readonly RestartTarget[], settings: RestartSettings, deps: RestartDeps): Promise<RollingOutcome | undefined> {
  for (const target of targets) {
    if (!target.manager.pidFileOwner) continue;
    let refusal: RestartFailure | undefined;
    try {
      await pidFileOwner(target, await deps.check(target.url, { timeoutMs: settings.checkTimeoutMs }));
    } catch (error) {
      refusal = error as RestartFailure;
    }
    if (!refusal) continue;
    // Shown as the check step of that instance, like any refusal before anything was touched.
    const steps = new StepRunner(target.instance, deps.emit, deps.now);
    try {
      await steps.run('check', async () => {
        throw refusal;
      });
    } catch (error) {
      const failure = error as RestartFailure;
      const instance: InstanceOutcome = {
        instance: target.instance, url: target.url, manager: target.manager.label, mode: undefined, ok: false, exitCode: failure.exitCode,
        oldPid: undefined, newPid: undefined, durationMs: 0, steps: steps.records, failure: { step: failure.step, message: failure.message },
      };
      return {
        ok: false, exitCode: failure.exitCode, instances: [instance], untouched: targets.filter((t) => t !== target).map((t) => t.instance),
        failure: { instance: target.instance, step: failure.step, message: failure.message },
      };
    }
  }
  return undefined;
}

async function checkBalancer(outcome: InstanceOutcome, lbUrl: string, settings: RestartSettings, deps: RestartDeps): Promise<InstanceOutcome> {
  const steps = new StepRunner(outcome.instance, deps.emit, deps.now);
  try {
    await steps.run('lb-check', async () => {
      const out = await waitFor(lbUrl, (r) => r.state === 'ready', {
        timeoutMs: settings.timeoutMs, consecutive: settings.healthyCount, requestTimeoutMs: settings.checkTimeoutMs,
        check: deps.check, now: deps.now, sleep: deps.sleep, interval: { initialMs: settings.intervalMs },
      });
      if (!out.met) {
        throw new RestartFailure('lb-check', ExitCode.VerifyFailed, `the load balancer at ${lbUrl} did not answer ready ${settings.healthyCount} times in a row within ${formatDuration(settings.timeoutMs)} (last: ${out.last?.state ?? 'unknown'}). Check its upstream settings (proxy_next_upstream, max_fails).`);
      }
      return `${settings.healthyCount} consecutive ready answers through ${lbUrl}`;
    });
    return { ...outcome, steps: [...outcome.steps, ...steps.records] };
  } catch (error) {
    const failure = error as RestartFailure;
    return { ...outcome, ok: false, exitCode: failure.exitCode, steps: [...outcome.steps, ...steps.records], failure: { step: failure.step, message: failure.message } };
  }
}
