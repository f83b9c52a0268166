import { ExitCode } from '../app/exit-code';
import { RestartFailure } from './restart-failure';
import type { EmitStep, StepName, StepRecord } from './step-event';

/** What a step body returns: the detail line, or `skipped` with the reason. */
export type StepBodyResult = string | { skipped: string };

/**
 * Runs step bodies for one instance: emits start/end events, times each step, keeps
 * the records, and turns unexpected errors into `RestartFailure`s of that step.
 */
export class StepRunner {
  readonly records: StepRecord[] = [];

  constructor(
    private readonly instance: string,
    private readonly emit: EmitStep,
    private readonly now: () => number,
  ) {}

  /** Emits a progress line for the running step. */
  progress(step: StepName, detail: string): void {
    this.emit({ type: 'step-progress', instance: this.instance, step, detail });
  }

  async run(step: StepName, body: () => Promise<StepBodyResult>): Promise<void> {
    this.emit({ type: 'step-start', instance: this.instance, step });
    const started = this.now();
    try {
      const out = await body();
      const skipped = typeof out !== 'string';
      this.finish(step, skipped ? 'skipped' : 'ok', started, skipped ? out.skipped : out);
    } catch (error) {
      const failure =
        error instanceof RestartFailure
          ? error
          : new RestartFailure(step, ExitCode.Internal, `unexpected error: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      this.finish(step, 'failed', started, failure.message);
      throw failure;
    }
  }

  private finish(step: StepName, status: StepRecord['status'], started: number, detail: string): void {
    const record: StepRecord = { step, status, durationMs: Math.round(this.now() - started), detail };
    this.records.push(record);
    this.emit({ type: 'step-end', instance: this.instance, ...record });
  }
}
