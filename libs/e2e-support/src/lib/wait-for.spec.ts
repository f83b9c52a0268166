import { waitFor } from './wait-for';

describe('waitFor', () => {
  it('returns the first value that is not undefined, null or false, in either argument order', async () => {
    let n = 0;
    await expect(waitFor('n to reach 3', () => (++n >= 3 ? n : false))).resolves.toBe(3);
    let m = 0;
    await expect(waitFor(() => (++m >= 2 ? 'done' : undefined), 'm to reach 2')).resolves.toBe('done');
    await expect(waitFor('zero', () => 0)).resolves.toBe(0);
  });

  it('retries a probe that throws and names what it waited for, with the last error, at the deadline', async () => {
    const failure = waitFor('the moon', () => {
      throw new Error('not yet risen');
    }, 50);
    await expect(failure).rejects.toThrow('timed out after 50 ms waiting for the moon (last error: not yet risen)');
  });
});
