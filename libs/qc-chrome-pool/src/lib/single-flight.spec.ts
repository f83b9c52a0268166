import { JobCancelledError, JobTimeoutError } from './qc-errors';
import { Flight } from './single-flight';

/** A render the test finishes by hand; records the cancel signal it was given. */
function controlledRender() {
  const control: { signal?: AbortSignal; start?: () => void; finish?: (v: string) => void; fail?: (e: Error) => void } = {};
  const flight = new Flight<string>((signal, started) => {
    control.signal = signal;
    control.start = started;
    return new Promise<string>((resolve, reject) => {
      control.finish = resolve;
      control.fail = reject;
      signal.addEventListener('abort', () => reject(signal.reason));
    });
  });
  return { flight, control };
}

describe('Flight (single flight of one render)', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('gives every caller the one result', async () => {
    const { flight, control } = controlledRender();
    const callers = [flight.join({ timeoutMs: 1_000 }), flight.join({ timeoutMs: 1_000 }), flight.join({ timeoutMs: 1_000 })];
    control.start?.();
    control.finish?.('report');
    await expect(Promise.all(callers)).resolves.toEqual(['report', 'report', 'report']);
    expect(flight.waiting).toBe(0);
  });

  it("counts a caller's timeout from the render's start, not from the queue", async () => {
    const { flight, control } = controlledRender();
    const caller = flight.join({ timeoutMs: 100 });
    jest.advanceTimersByTime(10_000); // still queued: the timeout has not started
    control.start?.();
    jest.advanceTimersByTime(99);
    control.finish?.('in time');
    await expect(caller).resolves.toBe('in time');
  });

  it('lets one caller time out while the render goes on for another', async () => {
    const { flight, control } = controlledRender();
    const impatient = flight.join({ timeoutMs: 100 });
    const patient = flight.join({ timeoutMs: 5_000 });
    control.start?.();
    jest.advanceTimersByTime(100);
    await expect(impatient).rejects.toEqual(new JobTimeoutError(100));
    expect(control.signal?.aborted).toBe(false);
    control.finish?.('late but fine');
    await expect(patient).resolves.toBe('late but fine');
  });

  it('lets one caller go away (signal) while the render goes on for another', async () => {
    const { flight, control } = controlledRender();
    const gone = new AbortController();
    const leaving = flight.join({ timeoutMs: 5_000, signal: gone.signal });
    const staying = flight.join({ timeoutMs: 5_000 });
    control.start?.();
    gone.abort();
    await expect(leaving).rejects.toBeInstanceOf(JobCancelledError);
    expect(control.signal?.aborted).toBe(false);
    control.finish?.('for the one who stayed');
    await expect(staying).resolves.toBe('for the one who stayed');
  });

  it('cancels the render with the last reason when every caller has left', async () => {
    const { flight, control } = controlledRender();
    const gone = new AbortController();
    const first = flight.join({ timeoutMs: 5_000, signal: gone.signal });
    const second = flight.join({ timeoutMs: 200 });
    control.start?.();
    gone.abort();
    await expect(first).rejects.toBeInstanceOf(JobCancelledError);
    jest.advanceTimersByTime(200);
    await expect(second).rejects.toBeInstanceOf(JobTimeoutError);
    expect(control.signal?.aborted).toBe(true);
    expect(control.signal?.reason).toBeInstanceOf(JobTimeoutError);
    expect(flight.abandoned).toBe(true);
  });

  it('fails every waiting caller with the same error', async () => {
    const { flight, control } = controlledRender();
    const callers = [flight.join({ timeoutMs: 1_000 }), flight.join({ timeoutMs: 1_000 })].map((p) => p.catch((e: unknown) => e));
    control.start?.();
    const crash = new Error('renderer crashed');
    control.fail?.(crash);
    const [a, b] = await Promise.all(callers);
    expect(a).toBe(crash);
    expect(b).toBe(crash);
  });

  it('refuses a caller whose signal is already aborted without touching the render', async () => {
    const { flight, control } = controlledRender();
    const stays = flight.join({ timeoutMs: 1_000 });
    const gone = new AbortController();
    gone.abort();
    await expect(flight.join({ timeoutMs: 1_000, signal: gone.signal })).rejects.toBeInstanceOf(JobCancelledError);
    expect(control.signal?.aborted).toBe(false);
    control.start?.();
    control.finish?.('ok');
    await expect(stays).resolves.toBe('ok');
    expect(jest.getTimerCount()).toBe(0);
  });
});
