import type { ToPredecessor } from './handoff-messages';
import { HANDOFF_ENV } from './inheritance';

/**
 * Tells a waiting predecessor why this process cannot start, for failures that
 * happen before the upgrader exists: an entry file that loads the application
 * in a second step (a loader that requires the bundle) and fails there, or a
 * configuration check that runs first. The predecessor's failure report then
 * carries the error instead of "no output captured". Outside a handoff it does
 * nothing. The caller still exits or rethrows; the message leaves at once.
 *
 * @example
 * try { require('./api.js'); } catch (error) { reportStartFailure(error); throw error; }
 */
export function reportStartFailure(
  error: unknown,
  env: Record<string, string | undefined> = process.env,
  send: ((message: ToPredecessor) => unknown) | undefined = process.send ? (message) => process.send?.(message) : undefined,
): void {
  if (env[HANDOFF_ENV] === undefined || !send) return;
  const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
  try {
    send({ type: 'fatal', text });
  } catch {
    // The channel is already gone: the predecessor reports the exit without the text.
  }
}
