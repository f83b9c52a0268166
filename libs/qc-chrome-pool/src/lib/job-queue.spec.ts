import { JobQueue } from './job-queue';
import { AcquireTimeoutError, PoolClosedError, QueueFullError } from './qc-errors';

describe('JobQueue', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('hands slots to waiters in arrival order', async () => {
    const queue = new JobQueue<string>(2, () => 1);
    const first = queue.wait(1_000);
    const second = queue.wait(1_000);
    expect(queue.handOff('a')).toBe(true);
    expect(queue.handOff('b')).toBe(true);
    expect(queue.handOff('c')).toBe(false);
    await expect(first).resolves.toBe('a');
    await expect(second).resolves.toBe('b');
  });

  it('refuses at once with QueueFullError carrying Retry-After when full', async () => {
    const queue = new JobQueue<string>(1, () => 7);
    void queue.wait(1_000).catch(() => undefined);
    await expect(queue.wait(1_000)).rejects.toEqual(expect.objectContaining({ retryAfterSec: 7 }));
    await expect(queue.wait(1_000)).rejects.toBeInstanceOf(QueueFullError);
  });

  it('gives up after the acquire timeout and frees the place', async () => {
    const queue = new JobQueue<string>(1, () => 1);
    const waiting = queue.wait(500);
    jest.advanceTimersByTime(499);
    expect(queue.length).toBe(1);
    jest.advanceTimersByTime(1);
    await expect(waiting).rejects.toBeInstanceOf(AcquireTimeoutError);
    expect(queue.length).toBe(0);
  });

  it('rejects every waiter on close and reports how many', async () => {
    const queue = new JobQueue<string>(3, () => 1);
    const waits = [queue.wait(1_000), queue.wait(1_000)];
    expect(queue.rejectAll(new PoolClosedError())).toBe(2);
    for (const w of waits) await expect(w).rejects.toBeInstanceOf(PoolClosedError);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('takes a job out of the queue when its signal aborts, with the signal\'s reason', async () => {
    const queue = new JobQueue<string>(2, () => 1);
    const gone = new AbortController();
    const leaving = queue.wait(1_000, gone.signal);
    const staying = queue.wait(1_000);
    gone.abort(new PoolClosedError());
    await expect(leaving).rejects.toBeInstanceOf(PoolClosedError);
    expect(queue.length).toBe(1);
    expect(queue.handOff('a')).toBe(true);
    await expect(staying).resolves.toBe('a');
    expect(jest.getTimerCount()).toBe(0);
  });
});
