import { hasSysNice, lowerAutogroup, priorityCommand, validNice, type AutogroupSystem } from './chrome-priority';

const found = (name: string) => `/usr/bin/${name}`;
const errno = (code: string) => Object.assign(new Error(code), { code });

describe('priorityCommand', () => {
  it('starts Chromium itself when no lowering is asked (nice 0)', () => {
    expect(priorityCommand('/usr/bin/chromium', ['--a'], 0, true, found)).toEqual({ file: '/usr/bin/chromium', args: ['--a'], processes: 'not asked' });
  });

  it('starts Chromium under nice when this process cannot raise priorities', () => {
    expect(priorityCommand('/usr/bin/chromium', ['--a'], 19, false, found)).toEqual({
      file: '/usr/bin/nice', args: ['-n', '19', '/usr/bin/chromium', '--a'], processes: 'nice',
    });
  });

  it('drops CAP_SYS_NICE first when this process holds it, so Chromium cannot raise its threads back', () => {
    expect(priorityCommand('/c', ['--a'], 10, true, found)).toEqual({
      file: '/usr/bin/setpriv',
      args: ['--bounding-set', '-sys_nice', '--inh-caps', '-sys_nice', '--', '/usr/bin/nice', '-n', '10', '/c', '--a'],
      processes: 'nice without CAP_SYS_NICE',
    });
  });

  it('says what is missing instead of failing the launch', () => {
    expect(priorityCommand('/c', [], 19, false, () => undefined).processes).toMatch(/no `nice` program/);
    expect(priorityCommand('/c', [], 19, true, (n) => (n === 'nice' ? '/bin/nice' : undefined))).toMatchObject({
      file: '/bin/nice', processes: expect.stringMatching(/may raise its own threads: no `setpriv`/),
    });
  });
});

describe('hasSysNice', () => {
  it('reads CAP_SYS_NICE (bit 23) from the effective set', () => {
    expect(hasSysNice(() => 'Name:\tnode\nCapEff:\t000001ffffffffff\n')).toBe(true);
    expect(hasSysNice(() => 'CapEff:\t0000000000000000\n')).toBe(false);
    expect(hasSysNice(() => 'CapEff:\t0000000000800000\n')).toBe(true);
    expect(hasSysNice(() => { throw errno('ENOENT'); })).toBe(false);
  });
});

describe('lowerAutogroup', () => {
  const system = (writes: (string | Error)[], enabled = '1\n') => {
    const calls: string[] = [];
    let slept = 0;
    const fake: AutogroupSystem = {
      write: (path, text) => {
        calls.push(`${path}=${text}`);
        const next = writes.shift();
        if (next instanceof Error) throw next;
      },
      read: () => enabled,
      sleep: async (ms) => void (slept += ms),
    };
    return { fake, calls, slept: () => slept };
  };

  it('writes the nice value to the session autogroup of the pid', async () => {
    const s = system(['ok']);
    await expect(lowerAutogroup(42, 19, s.fake)).resolves.toBe('set');
    expect(s.calls).toEqual(['/proc/42/autogroup=19']);
  });

  it('retries while the kernel rate-limits unprivileged writes (EAGAIN within 100 ms of another)', async () => {
    const s = system([errno('EAGAIN'), errno('EAGAIN'), 'ok']);
    await expect(lowerAutogroup(42, 19, s.fake)).resolves.toBe('set');
    expect(s.calls).toHaveLength(3);
    expect(s.slept()).toBeGreaterThanOrEqual(200);
  });

  it('reports a kernel without autogroups, one with autogrouping off, and a refusal', async () => {
    await expect(lowerAutogroup(42, 19, system([errno('ENOENT')]).fake)).resolves.toBe('unsupported');
    await expect(lowerAutogroup(42, 19, system(['ok'], '0\n').fake)).resolves.toBe('off');
    await expect(lowerAutogroup(42, 19, system([errno('EACCES')]).fake)).resolves.toBe('failed: EACCES');
    await expect(lowerAutogroup(42, 19, system(Array.from({ length: 30 }, () => errno('EAGAIN'))).fake)).resolves.toBe('failed: EAGAIN');
  });

  it('touches nothing when no lowering is asked', async () => {
    const s = system([]);
    await expect(lowerAutogroup(42, 0, s.fake)).resolves.toBe('not asked');
    expect(s.calls).toEqual([]);
  });
});

describe('validNice', () => {
  it('takes integers 0..19 only', () => {
    expect([0, 10, 19].every(validNice)).toBe(true);
    expect([-1, 20, 1.5, Number.NaN, '19'].some(validNice)).toBe(false);
  });
});
