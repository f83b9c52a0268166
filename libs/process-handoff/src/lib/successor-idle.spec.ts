import { readFileSync } from 'node:fs';
import { closeServers, predecessorSetup } from '../../test-support/upgrader-setup';
import { HANDOFF_ENV } from './inheritance';
import { hasCapSysNice, idleRequest, idleSupport, parseNice, parseNiceLimit, parsePolicy, SCHED_IDLE, SCHED_OTHER, type IdleProbe } from './successor-idle';

// A /proc/<pid>/stat line whose command holds spaces and a parenthesis; nice (field 19) 7, policy (field 41) 5.
const fields = Array.from({ length: 52 - 2 }, (_, i) => String(i + 3));
fields[19 - 3] = '7';
fields[41 - 3] = '5';
const STAT = `4242 (my (odd) cmd) ${fields.join(' ')}`;

const CAP_SYS_NICE_ONLY = (1n << 23n).toString(16).padStart(16, '0');

function probe(over: Partial<IdleProbe> & { files?: Record<string, string> } = {}): IdleProbe {
  const files = over.files ?? {};
  return { platform: 'linux', path: '/opt/bin:/usr/bin', readText: (path) => files[path], isFile: (path) => path === '/usr/bin/chrt', ...over };
}

const noCap = 'CapEff:\t0000000000000000\n';
const limits = (soft: string) => `Limit                     Soft Limit           Hard Limit           Units\nMax nice priority         ${soft}                    ${soft}\n`;
const statWithNice = (nice: number) => STAT.replace(/^(\S+ \(.*\) (?:\S+ ){16})7/, `$1${nice}`);

describe('reading scheduling facts from /proc', () => {
  it('finds the policy (field 41) and the nice value (field 19) after a command name with spaces and parentheses', () => {
    expect(parsePolicy(STAT)).toBe(SCHED_IDLE);
    expect(parseNice(STAT)).toBe(7);
    expect(parseNice(statWithNice(0))).toBe(0);
    expect(parsePolicy(undefined)).toBeUndefined();
    expect(parsePolicy('garbage')).toBeUndefined();
  });

  it('reads this very process as SCHED_OTHER', () => {
    expect(parsePolicy(readFileSync('/proc/self/stat', 'utf8'))).toBe(SCHED_OTHER);
  });

  it('tells CAP_SYS_NICE in CapEff apart from other capabilities', () => {
    expect(hasCapSysNice(`CapInh:\t0\nCapEff:\t${CAP_SYS_NICE_ONLY}\n`)).toBe(true);
    expect(hasCapSysNice('CapEff:\t000001ffffffffff\n')).toBe(true);
    expect(hasCapSysNice(`CapEff:\t${(1n << 22n).toString(16)}\n`)).toBe(false);
    expect(hasCapSysNice(undefined)).toBe(false);
  });

  it('reads the soft RLIMIT_NICE', () => {
    expect(parseNiceLimit(limits('20'))).toBe(20);
    expect(parseNiceLimit(limits('unlimited'))).toBe(40);
    expect(parseNiceLimit('')).toBeUndefined();
  });
});

describe('whether a successor may start at SCHED_IDLE here', () => {
  it('needs Linux and chrt, and says which is missing', () => {
    expect(idleSupport(probe({ platform: 'darwin' }))).toEqual({ ok: false, reason: expect.stringContaining('this is darwin') });
    expect(idleSupport(probe({ isFile: () => false }))).toEqual({ ok: false, reason: expect.stringContaining('chrt (util-linux) is neither on PATH') });
  });

  it('finds chrt on PATH before the usual places', () => {
    const support = idleSupport(probe({ isFile: (path) => path === '/opt/bin/chrt' || path === '/usr/bin/chrt', files: { '/proc/self/status': `CapEff:\t${CAP_SYS_NICE_ONLY}\n` } }));
    expect(support).toEqual({ ok: true, chrt: '/opt/bin/chrt' });
  });

  it('is allowed with CAP_SYS_NICE, or with an RLIMIT_NICE that lets the process go back to its nice value', () => {
    expect(idleSupport(probe({ files: { '/proc/self/status': `CapEff:\t${CAP_SYS_NICE_ONLY}\n` } }))).toEqual({ ok: true, chrt: '/usr/bin/chrt' });
    expect(idleSupport(probe({ files: { '/proc/self/status': noCap, '/proc/self/stat': statWithNice(0), '/proc/self/limits': limits('20') } }))).toEqual({ ok: true, chrt: '/usr/bin/chrt' });
    expect(idleSupport(probe({ files: { '/proc/self/status': noCap, '/proc/self/stat': statWithNice(5), '/proc/self/limits': limits('15') } }))).toEqual({ ok: true, chrt: '/usr/bin/chrt' });
  });

  it('is refused without either, naming the limit, what is needed and how to grant it', () => {
    const support = idleSupport(probe({ files: { '/proc/self/status': noCap, '/proc/self/stat': statWithNice(0), '/proc/self/limits': limits('0') } }));
    expect(support).toEqual({ ok: false, reason: expect.stringContaining('RLIMIT_NICE is 0 where nice 0 needs 20') });
    expect(support.ok ? '' : support.reason).toContain('LimitNICE=+0');
  });

  it('runs the command through chrt --idle 0, which execs it (same pid)', () => {
    const request = { command: '/usr/bin/node', args: ['--enable-source-maps', 'main.js'], cwd: '/srv', env: { A: '1' }, fds: [4] };
    expect(idleRequest(request, '/usr/bin/chrt')).toEqual({ ...request, command: '/usr/bin/chrt', args: ['--idle', '0', '/usr/bin/node', '--enable-source-maps', 'main.js'] });
  });
});

describe('a successor started at SCHED_IDLE', () => {
  afterEach(closeServers);

  it('is spawned through chrt in this session (not detached), told to leave SCHED_IDLE, and no scheduling group is lowered', async () => {
    const { env, upgrader, logs } = await predecessorSetup({ successorIdle: true, successorNice: 19 });
    env.files.set('/proc/self/status', `CapEff:\t${CAP_SYS_NICE_ONLY}\n`);
    env.files.set('/proc/self/autogroup', '/autogroup-7 nice 0\n');
    void upgrader.upgrade();
    const child = env.lastChild;
    expect(child.request.command).toBe('/usr/bin/chrt');
    expect(child.request.args.slice(0, 3)).toEqual(['--idle', '0', env.execPath]);
    expect(child.request.detached).toBeUndefined();
    const inheritance = JSON.parse(child.request.env[HANDOFF_ENV] as string);
    expect(inheritance).toMatchObject({ idle: true });
    expect(inheritance).not.toHaveProperty('nice');
    await Promise.resolve();
    expect([...env.files.keys()].filter((k) => k.includes(`/proc/${child.pid}`))).toEqual([]);
    expect(logs.map((l) => l.message)).toContain(`successor ${child.pid} starts at SCHED_IDLE in this process's scheduling group until it listens`);
    upgrader.close();
  });

  it('falls back to the lowered group where it could not leave SCHED_IDLE again, and says why', async () => {
    const { env, upgrader, logs } = await predecessorSetup({ successorIdle: true, successorNice: 19 });
    env.files.set('/proc/self/status', noCap);
    env.files.set('/proc/self/limits', limits('0'));
    env.files.set('/proc/self/autogroup', '/autogroup-7 nice 0\n');
    void upgrader.upgrade();
    const child = env.lastChild;
    expect(child.request.command).toBe(env.execPath);
    expect(child.request.detached).toBe(true);
    expect(JSON.parse(child.request.env[HANDOFF_ENV] as string)).not.toHaveProperty('idle');
    expect(logs).toContainEqual(expect.objectContaining({ level: 'warn', message: expect.stringMatching(/cannot start at SCHED_IDLE here \(.*RLIMIT_NICE is 0.*\); it starts as successorNice says/) }));
    upgrader.close();
  });

  it('retireIdle changes nothing while this process still serves (no handoff happened)', async () => {
    const { upgrader } = await predecessorSetup({ successorIdle: true });
    await expect(upgrader.retireIdle()).resolves.toEqual({ ok: false, reason: 'no handoff has happened: this process still serves' });
    upgrader.close();
  });

  it('is refused as an option that is not a boolean', async () => {
    await expect(predecessorSetup({ successorIdle: 'yes' as unknown as boolean })).rejects.toThrow('process-handoff: successorIdle must be true or false, got yes');
  });
});
