import type { ExitCode } from '../app/exit-code';
import type { StepName } from './step-event';

/** A step that failed for a known reason; carries the exit code the CLI ends with. */
export class RestartFailure extends Error {
  override readonly name = 'RestartFailure';
  constructor(
    readonly step: StepName,
    readonly exitCode: ExitCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
