import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAlive, removeProfilesOf, signalIfAlive, stopProcesses } from './processes';

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

describe('removeProfilesOf', () => {
  it('removes the QC profiles of the given processes that are gone, and nothing of a living one or of another pid', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'remove-profiles-spec-'));
    try {
      const gone = spawn(process.execPath, ['-e', '']);
      await once(gone, 'exit');
      const dead = gone.pid as number;
      const profile = join(dir, `edu-agents-qc-${dead}-AbC123`);
      mkdirSync(join(profile, 't', 'org.chromium.Chromium.XyZ789'), { recursive: true });
      writeFileSync(join(profile, 'Local State'), '{}');
      const names = [`edu-agents-qc-${process.pid}-live`, `edu-agents-qc-${dead}1-other`, 'something-else'];
      for (const name of names) mkdirSync(join(dir, name));

      expect(removeProfilesOf([dead, process.pid], dir)).toEqual([`edu-agents-qc-${dead}-AbC123`]);
      expect(readdirSync(dir).sort()).toEqual([...names].sort());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
