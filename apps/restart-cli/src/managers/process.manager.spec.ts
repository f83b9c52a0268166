import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProcessManager, startScript } from './process.manager';
import { isProcessAlive } from './process-liveness';

describe('ProcessManager with real processes', () => {
  let dir: string;
  const started: number[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'restart-cli-pm-'));
  });

  afterEach(async () => {
    for (const pid of started.splice(0)) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
      }
    }
    await rm(dir, { recursive: true, force: true });
  });

  const waitUntil = async (cond: () => Promise<boolean>, ms = 5_000) => {
    const end = Date.now() + ms;
    while (!(await cond())) {
      if (Date.now() > end) throw new Error('condition not met in time');
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  it('starts the command detached, writes its pid to the pid file and its output to the log', async () => {
    const pidFile = join(dir, 'run', 'api.pid');
    const m = new ProcessManager({ pidFile, start: `GREETING=hello node -e "console.log(process.env.GREETING, process.env.PID_FILE); setInterval(() => {}, 1000)"`, cwd: dir });
    const { pid } = await m.start();
    started.push(pid as number);
    expect(Number((await readFile(pidFile, 'utf8')).trim())).toBe(pid);
    await expect(m.readPid()).resolves.toBe(pid);
    await waitUntil(async () => (await readFile(`${pidFile}.log`, 'utf8')).includes('hello'));
    expect(await readFile(`${pidFile}.log`, 'utf8')).toContain(`hello ${pidFile}`);
    // `exec` keeps the pid: the process in the pid file is node itself, in its own process group.
    expect((await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0')[0]).toMatch(/node$/);
    expect((await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1].split(' ')[2]).toBe(String(pid));
    await expect(m.startFailure()).resolves.toBeUndefined();
  });

  it('signals the pid with SIGTERM and sees it gone', async () => {
    const m = new ProcessManager({ pidFile: join(dir, 'a.pid'), start: 'node -e "setInterval(() => {}, 1000)"', cwd: dir });
    const { pid } = await m.start();
    started.push(pid as number);
    await m.signalStop(pid as number);
    await waitUntil(() => m.isGone(pid as number));
    await expect(isProcessAlive(pid as number)).resolves.toBe(false);
  });

  it('triggers a handoff with SIGHUP to the pid, and starts nothing', async () => {
    const pidFile = join(dir, 'h.pid');
    const m = new ProcessManager({ pidFile, start: `node -e "process.on('SIGHUP', () => console.log('got SIGHUP')); console.log('armed'); setInterval(() => {}, 1000)"`, cwd: dir });
    const { pid } = await m.start();
    started.push(pid as number);
    const log = () => readFile(`${pidFile}.log`, 'utf8');
    await waitUntil(async () => (await log()).includes('armed'), 15_000);
    await expect(m.triggerHandoff(pid as number)).resolves.toBe(`SIGHUP sent to pid ${pid}`);
    await waitUntil(async () => (await log()).includes('got SIGHUP'), 15_000);
    await expect(m.readPid()).resolves.toBe(pid);
  }, 40_000);

  it('needs no start command for a handoff, and says which option a replace needs', async () => {
    const m = new ProcessManager({ pidFile: join(dir, 'n.pid'), cwd: dir });
    expect(m.replaceUsage()).toContain('--start <command>');
    await expect(m.start()).rejects.toThrow('--start <command>');
    expect(new ProcessManager({ pidFile: 'x.pid', start: 'true' }).replaceUsage()).toBeUndefined();
  });

  it('reports a start that dies at once with its exit code and the tail of its log', async () => {
    const m = new ProcessManager({ pidFile: join(dir, 'b.pid'), start: `node -e "console.error('port 99999 is out of range'); process.exit(3)"`, cwd: dir });
    const { pid } = await m.start();
    started.push(pid as number);
    let failure: string | undefined;
    await waitUntil(async () => (failure = await m.startFailure()) !== undefined);
    expect(failure).toContain('exited with code 3');
    expect(failure).toContain('port 99999 is out of range');
  });

  it('treats a stale pid file as no running process and a missing one too', async () => {
    const pidFile = join(dir, 'c.pid');
    const m = new ProcessManager({ pidFile, start: 'true', cwd: dir });
    await expect(m.readPid()).resolves.toBeUndefined();
    await writeFile(pidFile, '999999999\n');
    await expect(m.readPid()).resolves.toBeUndefined();
    await writeFile(pidFile, 'garbage');
    await expect(m.readPid()).rejects.toThrow(/not a pid/);
  });
});

describe('startScript', () => {
  it('execs the command so the shell is replaced by it', () => {
    expect(startScript('node dist/apps/api/main.js')).toBe('exec node dist/apps/api/main.js');
  });

  it('goes through env when the command starts with variable assignments', () => {
    expect(startScript('PORT=8000 node main.js')).toBe('exec env PORT=8000 node main.js');
  });
});
