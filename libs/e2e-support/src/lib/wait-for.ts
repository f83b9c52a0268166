/** A probe's answer: `undefined`, `null` or `false` mean "not yet"; anything else ends the wait. */
export type Probe<T> = () => T | undefined | null | false | Promise<T | undefined | null | false>;

/**
 * Polls `probe` until it returns a value other than undefined/null/false, or
 * fails after `timeoutMs` naming what was awaited (with the probe's last error
 * as the cause). A probe that throws is retried. The deadline only bounds the
 * wait; the poll interval never decides an outcome.
 *
 * @example
 * const pid = await waitFor('the API to be ready', async () => (await check(url)).pid, 30_000);
 */
export function waitFor<T>(what: string, probe: Probe<T>, timeoutMs?: number): Promise<T>;
/** The same with the probe first (the older deployment-suite order, still used by some specs). */
export function waitFor<T>(probe: Probe<T>, what: string, timeoutMs?: number): Promise<T>;
export async function waitFor<T>(a: string | Probe<T>, b: string | Probe<T>, timeoutMs = 10_000): Promise<T> {
  const [what, probe] = typeof a === 'string' ? [a, b as Probe<T>] : [b as string, a];
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== null && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const detail = lastError === undefined ? '' : ` (last error: ${lastError instanceof Error ? lastError.message : String(lastError)})`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`, { cause: lastError });
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
