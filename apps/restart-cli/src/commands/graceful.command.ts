import { Command } from 'commander';
import { restartDeps, type CliDeps } from '../app/cli-deps';
import type { ExitCode } from '../app/exit-code';
import { addTargetOptions, resolveTarget, restartSettings, type TargetOptions } from '../options/target.options';
import { runGraceful } from '../restart/graceful.flow';
import { outcomeLine } from '../render/outcome-line';

/** `graceful`: restart one instance, by hot handoff or by replacing it, in checked steps. */
export function gracefulCommand(deps: CliDeps, setExit: (code: ExitCode) => void): Command {
  const command = new Command('graceful')
    .description('restart one instance without failing a request. handoff: check, SIGHUP, successor ready, old pid exits; replace: check, SIGTERM, acknowledgment, drain + start, verify')
    .option('--instance <name>', 'instance name substituted for %i in the other options');
  addTargetOptions(command, 'http://127.0.0.1:8000/health');
  return command.action(async (o: TargetOptions & { instance?: string }) => {
    const target = resolveTarget(o, o.instance, deps);
    const outcome = await runGraceful(target, restartSettings(o), restartDeps(deps));
    const result = { command: 'graceful', ...outcome };
    if (o.json) deps.out(`${JSON.stringify(result)}\n`);
    else if (outcome.ok) deps.out(`${outcomeLine(outcome)}\n`);
    else deps.err(`error: instance ${target.instance}, step ${outcome.failure?.step}: ${outcome.failure?.message}\n`);
    setExit(outcome.exitCode);
  });
}
