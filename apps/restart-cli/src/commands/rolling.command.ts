import { Command } from 'commander';
import { restartDeps, type CliDeps } from '../app/cli-deps';
import type { ExitCode } from '../app/exit-code';
import { durationArg } from '../options/duration';
import { instancesArg } from '../options/instances';
import { addTargetOptions, resolveTarget, restartSettings, type TargetOptions } from '../options/target.options';
import { runRolling } from '../restart/rolling.flow';
import { outcomeLine } from '../render/outcome-line';

interface RollingOptions extends TargetOptions {
  readonly instances: string[];
  readonly pause: number;
  readonly lbUrl?: string;
}

/** `rolling`: graceful restarts (handoff or replace) one instance at a time; the first failure stops the run. */
export function rollingCommand(deps: CliDeps, setExit: (code: ExitCode) => void): Command {
  const command = new Command('rolling')
    .description('restart instances one at a time; the next is touched only when the previous is healthy again')
    .requiredOption('--instances <list>', 'comma-separated instance names, e.g. 0,1', instancesArg);
  addTargetOptions(command)
    .option('--pause <duration>', 'pause after each healthy instance before the next', durationArg, 0)
    .option('--lb-url <url>', 'health URL through the load balancer, checked after each instance');
  return command.action(async (o: RollingOptions) => {
    const targets = o.instances.map((i) => resolveTarget(o, i, deps));
    const outcome = await runRolling(targets, { ...restartSettings(o), pauseMs: o.pause, lbUrl: o.lbUrl }, restartDeps(deps));
    const result = { command: 'rolling', ...outcome };
    if (o.json) deps.out(`${JSON.stringify(result)}\n`);
    else if (outcome.ok) {
      const lines = outcome.instances.map((i) => outcomeLine(i, false));
      deps.out(`${lines.join('\n')}\n`);
    } else {
      const untouched = outcome.untouched.length ? ` Not touched (still serving): ${outcome.untouched.join(', ')}.` : '';
      deps.err(`error: instance ${outcome.failure?.instance}, step ${outcome.failure?.step}: ${outcome.failure?.message}${untouched}\n`);
    }
    setExit(outcome.exitCode);
  });
}
