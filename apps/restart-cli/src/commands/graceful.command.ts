import { Command } from 'commander';
import type { CliDeps } from '../app/cli-deps';
import type { ExitCode } from '../app/exit-code';
import { formatDuration } from '../options/duration';
import { addTargetOptions, resolveTarget, restartSettings, type TargetOptions } from '../options/target.options';
import { runGraceful } from '../restart/graceful.flow';
import { makeStepRenderer } from '../render/step-renderer';

/** `graceful`: restart one instance in five checked steps. */
export function gracefulCommand(deps: CliDeps, setExit: (code: ExitCode) => void): Command {
  const command = new Command('graceful')
    .description('restart one instance without failing a request: check, SIGTERM, acknowledgment, drain + start, verify')
    .option('--instance <name>', 'instance name substituted for %i in the other options');
  addTargetOptions(command, 'http://127.0.0.1:8000/health');
  return command.action(async (o: TargetOptions & { instance?: string }) => {
    const target = resolveTarget(o, o.instance, deps);
    const outcome = await runGraceful(target, restartSettings(o), { check: deps.check, now: deps.now, sleep: deps.sleep, emit: makeStepRenderer(deps.err, deps.isTTY) });
    const result = { command: 'graceful', ...outcome };
    if (o.json) deps.out(`${JSON.stringify(result)}\n`);
    else if (outcome.ok) deps.out(`restarted ${target.instance} (${target.manager.label}): pid ${outcome.oldPid ?? 'none'} -> ${outcome.newPid ?? '?'} in ${formatDuration(outcome.durationMs)}\n`);
    else deps.err(`error: instance ${target.instance}, step ${outcome.failure?.step}: ${outcome.failure?.message}\n`);
    setExit(outcome.exitCode);
  });
}
