import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
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

  it('knows who keeps the pid file true after a handoff from what the API reports, through symlinks and relative paths', async () => {
    await mkdir(join(dir, 'real'));
    await symlink(join(dir, 'real'), join(dir, 'link'));
    const manager = new ProcessManager({ pidFile: 'link/api.pid', cwd: dir });
    await expect(manager.pidFileOwner(null)).resolves.toEqual({ owner: 'cli' });
    await expect(manager.pidFileOwner(undefined)).resolves.toEqual({ owner: 'api' });
    await expect(manager.pidFileOwner(join(dir, 'real/api.pid'))).resolves.toEqual({ owner: 'api' });
    const other = await manager.pidFileOwner(join(dir, 'real/other.pid'));
    expect(other).toHaveProperty('conflict');
    expect((other as { conflict: string }).conflict).toContain(`--pid-file link/api.pid (${join(dir, 'link/api.pid')})`);
    expect((other as { conflict: string }).conflict).toContain(join(dir, 'real/other.pid'));
  });

  it('records a pid atomically: the file holds the new pid and no temporary file is left', async () => {
    const manager = new ProcessManager({ pidFile: join(dir, 'run/api.pid') });
    await manager.recordPid(process.pid);
    await expect(readFile(join(dir, 'run/api.pid'), 'utf8')).resolves.toBe(`${process.pid}\n`);
    await expect(manager.readPid()).resolves.toBe(process.pid);
    await expect(readdir(join(dir, 'run'))).resolves.toEqual(['api.pid']);
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
