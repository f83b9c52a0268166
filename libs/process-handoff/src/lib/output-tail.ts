import type { OutputStream } from './handoff-messages';

/** A line longer than this keeps its end: the end of a stack line or log line says the most. */
const MAX_LINE_CHARS = 2_000;

/**
 * The last lines a successor wrote, for the failure report. Text arrives in
 * chunks per stream; a line is complete at its newline, and a chunk may end
 * mid-line, so each stream keeps its unfinished line apart until it is done.
 * Blank lines are dropped: they would only push real ones out of the tail.
 */
export class OutputTail {
  private readonly kept: string[] = [];
  private readonly unfinished: Record<OutputStream, string> = { stdout: '', stderr: '' };

  constructor(private readonly maxLines: number) {}

  /** Adds a chunk written to `stream`. */
  write(stream: OutputStream, text: string): void {
    const parts = (this.unfinished[stream] + text).split('\n');
    this.unfinished[stream] = clip(parts.pop() ?? '');
    parts.forEach((line) => this.push(line));
  }

  /** Adds the text of a fatal error after what was written so far. */
  fatal(text: string): void {
    this.flush();
    text.split('\n').forEach((line) => this.push(line));
  }

  /** The last lines, oldest first, unfinished ones included. */
  lines(): string[] {
    this.flush();
    return [...this.kept];
  }

  get isEmpty(): boolean {
    return this.kept.length === 0 && this.unfinished.stdout === '' && this.unfinished.stderr === '';
  }

  private flush(): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      this.push(this.unfinished[stream]);
      this.unfinished[stream] = '';
    }
  }

  private push(line: string): void {
    const clean = clip(line.replace(/\r$/, ''));
    if (clean.trim() === '') return;
    this.kept.push(clean);
    if (this.kept.length > this.maxLines) this.kept.splice(0, this.kept.length - this.maxLines);
  }
}

function clip(line: string): string {
  return line.length > MAX_LINE_CHARS ? `...${line.slice(-MAX_LINE_CHARS)}` : line;
}
