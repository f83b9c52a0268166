import { formatDuration } from '../options/duration';
import { STEP_TITLES, type EmitStep, type StepStatus } from '../restart/step-event';

const MARKS: Record<'tty' | 'plain', Record<StepStatus | 'start' | 'progress', string>> = {
  tty: { start: '\u2192', progress: '\u2026', ok: '\x1b[32m\u2714\x1b[0m', failed: '\x1b[31m\u2716\x1b[0m', skipped: '\x1b[33m\u2212\x1b[0m' },
  plain: { start: '..', progress: '..', ok: 'ok', failed: 'FAIL', skipped: 'skip' },
};

/**
 * Prints step events as lines: a mark, the instance, the step, the detail and the
 * duration. With `tty` false: ASCII marks, no colours, no cursor tricks (logs, CI).
 */
export function makeStepRenderer(write: (line: string) => void, tty: boolean): EmitStep {
  const marks = MARKS[tty ? 'tty' : 'plain'];
  const pad = (mark: string) => (tty ? mark : mark.padEnd(4));
  return (event) => {
    const where = `[${event.instance}] ${STEP_TITLES[event.step]}`;
    switch (event.type) {
      case 'step-start':
        write(`${pad(marks.start)} ${where}\n`);
        break;
      case 'step-progress':
        write(`${pad(marks.progress)} ${where}: ${event.detail}\n`);
        break;
      case 'step-end':
        write(`${pad(marks[event.status])} ${where}: ${event.detail.split('\n').join(`\n${' '.repeat(5)}`)} (${formatDuration(event.durationMs)})\n`);
        break;
    }
  };
}
