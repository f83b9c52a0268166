import { http, slowPost, waitFor } from '@edu-agents/e2e-support';

/** What `/health` says of the shutdown (terminus' shape: `details.shutdown`). */
async function shutdownFacts(port: number): Promise<{ httpStatus: number; phase?: string; inFlight?: number; pid?: number }> {
  const answer = await http(`http://127.0.0.1:${port}/health`, { timeoutMs: 5_000 });
  const shutdown = (answer.json() as { details?: { shutdown?: { phase?: string; inFlight?: number; pid?: number } } }).details?.shutdown;
  return { httpStatus: answer.status, ...shutdown };
}

/** How the drain went, for the caller's expectations. */
export interface DrainResult {
  readyBefore: { httpStatus: number; phase?: string; pid?: number };
  duringDrain: { httpStatus: number; phase?: string };
  refused: { status: number; retryAfter: string | undefined; connection: string | undefined };
  inFlight: { status: number; body: string };
}

/**
 * The drain contract, on a server that serves `POST /echo` (JSON) and reports its phase on
 * `/health`: a POST whose body is held back is in flight; SIGTERM; once `/health` says
 * `draining`, a new request gets 503 with Retry-After; then the held body is sent and that
 * request completes normally. The caller checks the exit (or, for a process that is not
 * its child, the last phase logged).
 */
export async function drainContract(port: number, sigterm: () => void): Promise<DrainResult> {
  const readyBefore = await shutdownFacts(port);
  const held = slowPost(`http://127.0.0.1:${port}/echo`, { lesson: 'fractions' });
  try {
    await waitFor('the held request to count as in flight', async () => (await shutdownFacts(port)).inFlight === 1, 10_000);
    sigterm();
    const duringDrain = await waitFor('/health to say draining', async () => {
      const facts = await shutdownFacts(port);
      return facts.phase === 'draining' && facts;
    }, 10_000);
    const refusal = await http(`http://127.0.0.1:${port}/`, { timeoutMs: 5_000 });
    held.finish();
    const answer = await held.answer;
    return {
      readyBefore,
      duringDrain,
      refused: { status: refusal.status, retryAfter: header(refusal.headers['retry-after']), connection: header(refusal.headers['connection']) },
      inFlight: { status: answer.status, body: answer.text },
    };
  } finally {
    held.destroy();
  }
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}
