import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { isAlive, signalIfAlive, stopProcesses } from './processes';

// A process that exits between the moment cleanup sees it alive and its
// signal must not abort the cleanup (it did once: `kill ESRCH` in an afterAll
// left nginx running and Jest waiting for it until CI's limit).
describe('signalling processes that may be gone', () => {
  async function reapedPid(): Promise<number> {
    const child = spawn(process.execPath, ['-e', '']);
    await once(child, 'exit');
    expect(() => process.kill(child.pid as number, 0)).toThrow(/ESRCH/);
    return child.pid as number;
  }

  it('signalIfAlive is silent for a pid and a process group that are gone', async () => {
    const pid = await reapedPid();
    expect(() => signalIfAlive(pid, 'SIGTERM')).not.toThrow();
    expect(() => signalIfAlive(-pid, 'SIGKILL')).not.toThrow();
  });

  it('stopProcesses ends a living process and passes over one that is gone', async () => {
    const gone = await reapedPid();
    const living = spawn(process.execPath, ['-e', 'setInterval(() => undefined, 1000)']);
    const exited = once(living, 'exit');
    await stopProcesses([gone, living.pid as number], 5_000);
    const [code, signal] = await exited;
    expect({ code, signal }).toEqual({ code: null, signal: 'SIGTERM' });
    expect(isAlive(living.pid as number)).toBe(false);
  });
});
