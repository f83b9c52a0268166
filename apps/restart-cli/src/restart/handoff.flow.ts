import { waitFor, type HandoffAttempt, type HandoffFacts, type HealthResult } from '@edu-agents/health-client';
import { ExitCode } from '../app/exit-code';
import { formatDuration } from '../options/duration';
import type { CheckedInstance } from './check.step';
import { describeHealth, pollOptions } from './health-polling';
import { RestartFailure } from './restart-failure';
import type { RestartDeps, RestartSettings, RestartTarget, RunFacts, SuccessorReport } from './restart.types';
import type { StepRunner } from './step-runner';

/**
 * The hot handoff after the check step: trigger (SIGHUP, `systemctl reload`), wait
 * for the successor (a pid other than the old one answers ready `healthyCount` times
 * in a row, or the old process's /health reports the attempt failed), follow the
 * old process to its exit and the manager to the new pid. Nothing is started here:
 * the API starts its own successor. Throws a `RestartFailure`; fills `facts`.
 */
export async function runHandoffSteps(target: RestartTarget, checked: CheckedInstance, settings: RestartSettings, deps: RestartDeps, steps: StepRunner, facts: RunFacts): Promise<void> {
  const { url, manager } = target;
  const oldPid = checked.oldPid as number; // the check step refuses a handoff without a pid
  facts.servingPid = oldPid;

  await steps.run('trigger', async () => {
    try {
      return await manager.triggerHandoff(oldPid);
    } catch (error) {
      throw new RestartFailure('trigger', ExitCode.SignalFailed, `could not trigger the handoff of pid ${oldPid} (${manager.label}): ${(error as Error).message}`, { cause: error });
    }
  });

  await steps.run('successor', async () => {
    let seen: HandoffFacts | undefined;
    const watchedCheck: RestartDeps['check'] = async (u, o) => {
      const answer = await deps.check(u, o);
      if (answer.pid !== oldPid || !answer.handoff) return answer;
      if (answer.handoff.state !== seen?.state && answer.handoff.state !== 'idle') steps.progress('successor', `pid ${oldPid} serves; successor ${answer.handoff.successorPid ? `pid ${answer.handoff.successorPid} ` : ''}${answer.handoff.state ?? ''}`);
      seen = answer.handoff;
      const failed = failedAttempt(checked.handoff, answer.handoff);
      if (failed) {
        facts.successor = successorReport(failed);
        throw new RestartFailure('successor', ExitCode.StartFailed, describeFailedSuccessor(facts.successor, oldPid));
      }
      return answer;
    };
    const isSuccessor = (r: HealthResult) => r.state === 'ready' && r.pid !== undefined && r.pid !== oldPid;
    const out = await waitFor(url, isSuccessor, { ...pollOptions(settings, deps), timeoutMs: settings.timeoutMs, consecutive: settings.healthyCount, check: watchedCheck });
    if (!out.met || out.last?.pid === undefined) {
      const where = seen?.successorPid ? `successor pid ${seen.successorPid} still ${seen.state}` : `no successor seen (handoff attempts ${seen?.attempts ?? checked.handoff?.attempts ?? '?'})`;
      const serving = out.last?.state === 'ready' && out.last.pid === oldPid ? ` pid ${oldPid} still serves.` : '';
      throw new RestartFailure('successor', ExitCode.Timeout, `no process other than pid ${oldPid} answered ready ${settings.healthyCount} times in a row within ${formatDuration(settings.timeoutMs)} (last: ${describeHealth(out.last)}; ${where}).${serving} The API kills a successor that is not ready within its HANDOFF_TIMEOUT_MS; raise --timeout above it, or read the API's log.`);
    }
    facts.newPid = out.last.pid;
    facts.servingPid = out.last.pid;
    const verified = `pid ${facts.newPid} answered ready ${settings.healthyCount} times in a row; pid ${oldPid} stopped accepting`;
    if (checked.pidFileOwner !== 'cli' || !manager.recordPid) return verified;
    try {
      await manager.recordPid(facts.newPid);
    } catch (error) {
      throw new RestartFailure('successor', ExitCode.Internal, `pid ${facts.newPid} serves, but the CLI could not name it in ${manager.label} (the API writes no pid file): ${(error as Error).message}. Write ${facts.newPid} there yourself before the next restart.`, { cause: error });
    }
    return `${verified}; wrote pid ${facts.newPid} to ${manager.label} (the API writes none)`;
  });

  await steps.run('drain', async () => followOldPid(oldPid, facts.newPid as number, target, settings, deps, steps));
}

/** The attempt the old process reports as failed, once one started after the check and ended. */
function failedAttempt(before: HandoffFacts | undefined, now: HandoffFacts): HandoffAttempt | undefined {
  const last = now.last;
  if (!last || last.ok || now.attempts <= (before?.attempts ?? 0)) return undefined;
  // `last` is the previous attempt until this one ends: tell them apart by when they ended.
  return last.at !== undefined && last.at === before?.last?.at ? undefined : last;
}

function successorReport(last: HandoffAttempt): SuccessorReport {
  return { pid: last.successorPid, reason: last.reason, message: last.message, exit: last.exit, output: last.output };
}

/** The failure as the operator reads it: what the successor did, which pid still serves, its last lines. */
function describeFailedSuccessor(successor: SuccessorReport, servingPid: number): string {
  const what = successor.message ?? `it failed (${successor.reason ?? 'no reason given'})`;
  const lines = successor.output.length ? `\nsuccessor output (last ${successor.output.length} lines):\n${successor.output.map((l) => `  | ${l}`).join('\n')}` : '';
  return `the successor${successor.pid ? ` (pid ${successor.pid})` : ''} failed: ${what}. pid ${servingPid} still serves; fix the build at the entry path and hand off again.${lines}`;
}

/** Polls until the old pid exited (/proc: a zombie is gone) and the manager (pid file, MainPID) names the new pid. */
async function followOldPid(oldPid: number, newPid: number, target: RestartTarget, settings: RestartSettings, deps: RestartDeps, steps: StepRunner): Promise<string> {
  const { manager } = target;
  const started = deps.now();
  const deadline = started + settings.timeoutMs;
  steps.progress('drain', `pid ${oldPid} moves the connections it accepted before the switch, then retires and exits`);
  for (;;) {
    const oldGone = !(await deps.isAlive(oldPid));
    const current = await manager.readPid();
    const elapsed = formatDuration(deps.now() - started);
    if (oldGone && current === newPid) return `pid ${oldPid} exited after ${elapsed}; ${manager.label} names pid ${newPid}`;
    if (deps.now() >= deadline) {
      if (!oldGone) {
        throw new RestartFailure('drain', ExitCode.Timeout, `pid ${oldPid} still running ${elapsed} after handing over to pid ${newPid}, which serves (the old one serves the connections it accepted before the switch until they close, up to the API's SHUTDOWN_TIMEOUT_MS). Raise --timeout above it, or look for what keeps a connection open.`);
      }
      throw new RestartFailure('drain', ExitCode.Timeout, `${manager.label} names pid ${current ?? 'none'}, not the successor ${newPid}, ${elapsed} after the switch (systemd: the unit needs NotifyAccess=all so the successor's MAINPID= counts; pid file: an API that reports its PID_FILE on /health writes it itself, else the CLI does; an API whose /health does not say must run with PID_FILE set to it).`);
    }
    await deps.sleep(Math.min(settings.intervalMs, Math.max(0, deadline - deps.now())));
  }
}
