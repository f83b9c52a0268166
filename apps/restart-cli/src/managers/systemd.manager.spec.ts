import { SystemdManager, type ExecFile } from './systemd.manager';
import { parseSystemdTimespan } from './systemd-timespan';
import { isValidUnitName } from './unit-name';

function recorder(showOutput = 'ActiveState=active\nMainPID=4242\nTimeoutStopUSec=30s\n') {
  const calls: Array<[string, readonly string[]]> = [];
  const exec: ExecFile = async (file, args) => {
    calls.push([file, args]);
    return args[0] === 'show' ? showOutput : '';
  };
  return { calls, exec };
}

describe('SystemdManager', () => {
  it('reads MainPID, ActiveState and TimeoutStopUSec with one systemctl show argument vector', async () => {
    const { calls, exec } = recorder();
    const m = new SystemdManager('edu_agents@0', exec);
    await expect(m.show()).resolves.toEqual({ mainPid: 4242, activeState: 'active', timeoutStopMs: 30_000 });
    expect(calls).toEqual([['systemctl', ['show', '-p', 'MainPID,ActiveState,TimeoutStopUSec', 'edu_agents@0']]]);
  });

  it('signals only the main process with SIGTERM', async () => {
    const { calls, exec } = recorder();
    await new SystemdManager('edu_agents', exec).signalStop(4242);
    expect(calls).toEqual([['systemctl', ['kill', '--kill-whom=main', '--signal=SIGTERM', 'edu_agents']]]);
  });

  it('triggers a handoff with systemctl reload (ExecReload sends SIGHUP to MainPID)', async () => {
    const { calls, exec } = recorder();
    const m = new SystemdManager('edu_agents@0', exec);
    await expect(m.triggerHandoff(4242)).resolves.toBe('systemctl reload edu_agents@0 (ExecReload: SIGHUP to MainPID 4242)');
    expect(calls).toEqual([['systemctl', ['reload', 'edu_agents@0']]]);
    expect(m.replaceUsage()).toBeUndefined();
  });

  it('starts the unit and reads back the new main pid', async () => {
    const { calls, exec } = recorder('MainPID=5000\nActiveState=active\nTimeoutStopUSec=1min 30s\n');
    const started = await new SystemdManager('edu_agents@1.service', exec).start();
    expect(started.pid).toBe(5000);
    expect(calls).toEqual([
      ['systemctl', ['start', 'edu_agents@1.service']],
      ['systemctl', ['show', '-p', 'MainPID,ActiveState,TimeoutStopUSec', 'edu_agents@1.service']],
    ]);
  });

  it('calls the old process gone once MainPID changed, and no pid when MainPID is 0', async () => {
    const { exec } = recorder('MainPID=0\nActiveState=inactive\nTimeoutStopUSec=30s\n');
    const m = new SystemdManager('edu_agents', exec);
    await expect(m.isGone(4242)).resolves.toBe(true);
    await expect(m.readPid()).resolves.toBeUndefined();
  });

  it('reports a failed unit after start with the journalctl command to read', async () => {
    const { exec } = recorder('MainPID=0\nActiveState=failed\nTimeoutStopUSec=30s\n');
    await expect(new SystemdManager('edu_agents', exec).startFailure()).resolves.toContain('journalctl -u edu_agents');
  });

  it.each(['edu;rm -rf /', 'edu agents', '$(reboot)', 'edu`id`', 'a|b', '--now', 'edu\\x2d', 'a@b@c', '../etc', 'x&y', "it's", 'a>b'])(
    'refuses the unit name %j before running anything',
    (name) => {
      const { calls, exec } = recorder();
      expect(() => new SystemdManager(name, exec)).toThrow(/not a valid unit name/);
      expect(calls).toEqual([]);
    },
  );

  it.each(['edu_agents', 'edu_agents@0', 'edu_agents@1.service', 'edu-agents.service', 'a:b'])('accepts the unit name %j', (name) => {
    expect(isValidUnitName(name)).toBe(true);
  });
});

describe('parseSystemdTimespan', () => {
  it('reads the spans systemctl show prints', () => {
    expect(parseSystemdTimespan('30s')).toBe(30_000);
    expect(parseSystemdTimespan('1min 30s')).toBe(90_000);
    expect(parseSystemdTimespan('500ms')).toBe(500);
    expect(parseSystemdTimespan('infinity')).toBeUndefined();
    expect(parseSystemdTimespan('soon')).toBeUndefined();
  });
});
