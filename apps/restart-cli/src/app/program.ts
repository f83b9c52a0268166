import { Command, CommanderError } from 'commander';
import { doctorCommand } from '../commands/doctor.command';
import { gracefulCommand } from '../commands/graceful.command';
import { rollingCommand } from '../commands/rolling.command';
import { statusCommand } from '../commands/status.command';
import type { CliDeps } from './cli-deps';
import { describeExitCodes, ExitCode } from './exit-code';
import { UsageError } from './usage-error';

/** A commander program plus the exit code its last command set. */
export interface Program {
  readonly command: Command;
  exitCode(): ExitCode;
}

/**
 * Builds the CLI with its side effects injected. Tests call this with fakes;
 * `main.ts` calls it with `realDeps()`.
 */
export function makeProgram(deps: CliDeps): Program {
  let code = ExitCode.Ok;
  const setExit = (c: ExitCode) => (code = c);
  const command = new Command('restart-cli')
    .description('Restart Educational Agents API instances without failing a request, watching health at every step.')
    .exitOverride()
    .configureOutput({ writeOut: deps.out, writeErr: deps.err })
    .showHelpAfterError('(add --help for usage)')
    .addHelpText('after', `\n${describeExitCodes()}\n`);
  for (const make of [gracefulCommand, rollingCommand, statusCommand, doctorCommand]) {
    command.addCommand(make(deps, setExit).exitOverride().configureOutput({ writeOut: deps.out, writeErr: deps.err }).showHelpAfterError('(add --help for usage)').addHelpText('after', `\n${describeExitCodes()}\n`));
  }
  return { command, exitCode: () => code };
}

/** Parses `argv` (without node and script), runs the command, and returns the exit code. Never throws. */
export async function runCli(argv: readonly string[], deps: CliDeps): Promise<ExitCode> {
  const program = makeProgram(deps);
  try {
    await program.command.parseAsync([...argv], { from: 'user' });
    return program.exitCode();
  } catch (error) {
    if (error instanceof CommanderError) {
      const quiet = ['commander.helpDisplayed', 'commander.version'];
      if (error.code === 'commander.excessArguments') {
        // nx run-commands forwards an argument containing '=' without its quotes.
        deps.err("hint: quote values with spaces; through `nx run`, write them as --start='PORT=8000 node ...' (nx drops the quotes around a value that contains '=').\n");
      }
      return quiet.includes(error.code) ? ExitCode.Ok : ExitCode.Usage;
    }
    if (error instanceof UsageError) {
      deps.err(`error: ${error.message}\n`);
      return ExitCode.Usage;
    }
    deps.err(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    return ExitCode.Internal;
  }
}
