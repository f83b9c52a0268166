import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseUnitFile, readUnit, SYSTEMD_DIR, systemdSpanMs, UNIT_FILES, verifyUnits } from './support/unit-file';

// The shipped units, checked offline by systemd's own verifier (systemd is
// never booted here) and for the settings the graceful restart depends on.

describe('shipped systemd units', () => {
  it('pass systemd-analyze verify without a single warning, templates as instances 0 and 1', () => {
    const result = verifyUnits();
    expect(result.output).toBe('');
    expect(result.status).toBe(0);
  });

  it('are rejected by the same check when a setting is broken, so the check above can fail', () => {
    const dir = mkdtempSync(join(tmpdir(), 'edu-broken-units-'));
    try {
      for (const name of UNIT_FILES) copyFileSync(join(SYSTEMD_DIR, name), join(dir, name));
      const service = join(dir, 'edu_agents.service');
      writeFileSync(service, readFileSync(service, 'utf8').replace(/^KillMode=mixed$/m, 'KillMode=gently'));
      const result = verifyUnits(dir);
      expect(result.output).toContain('kill mode');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each(['edu_agents.service', 'edu_agents@.service'])(
    '%s runs node directly, notifies readiness, reloads by hot handoff and stops gracefully',
    (name) => {
      const service = readUnit(name)['Service'];
      expect(service['ExecStart']).toEqual(['/usr/bin/node dist/apps/api/main.js']);
      expect(service['Type']).toEqual(['notify']);
      // The hot handoff: SIGHUP on reload; the successor sends MAINPID= and
      // READY=1 before it is the main process.
      expect(service['ExecReload']).toEqual(['/bin/kill -HUP $MAINPID']);
      expect(service['NotifyAccess']).toEqual(['all']);
      expect(service['KillSignal']).toEqual(['SIGTERM']);
      expect(service['KillMode']).toEqual(['mixed']);
      expect(service['TimeoutStopSec']).toEqual(['30']);
      expect(service['Restart']).toEqual(['always']);
      expect(service['RestartSec']).toEqual(['1']);
      expect(service['EnvironmentFile']).toEqual(['-/etc/edu_agents/edu_agents.env']);
      expect(service['WorkingDirectory']).toEqual(['/opt/edu-agents']);
      // An unprivileged successor started at SCHED_IDLE sets itself back with RLIMIT_NICE 20 (nice 0).
      expect(service['User']).toEqual(['edu-agents']);
      expect(service['LimitNICE']).toEqual(['+0']);
    },
  );

  it('pairs the single service with its socket unit and leaves the template socket optional (refused connects are retried by nginx at once)', () => {
    expect(readUnit('edu_agents.service')['Service']['Sockets']).toEqual(['edu_agents.socket']);
    expect(readUnit('edu_agents.service')['Unit']['Requires']).toEqual(['edu_agents.socket']);
    expect(readUnit('edu_agents.socket')['Socket']['ListenStream']).toEqual(['8000']);

    const template = readUnit('edu_agents@.service');
    expect(template['Service']['Environment']).toContain('PORT=800%i');
    expect(template['Service']['Sockets']).toBeUndefined();
    expect(template['Unit']['Requires']).toBeUndefined();
    expect(readUnit('edu_agents@.socket')['Socket']['Service']).toEqual(['edu_agents@%i.service']);
    expect(readUnit('edu_agents@.socket')['Socket']['ListenStream']).toEqual(['127.0.0.1:800%i']);
  });

  it("gives the template's instances one yield directory they share, kept while any of them runs", () => {
    const service = readUnit('edu_agents@.service')['Service'];
    expect(service['RuntimeDirectory']).toEqual(['edu_agents']);
    expect(service['RuntimeDirectoryPreserve']).toEqual(['yes']);
    expect(service['Environment']).toContain('HANDOFF_YIELD_DIR=/run/edu_agents');
  });

  it('leave the sockets open while a service restarts (no PartOf= on the sockets)', () => {
    for (const name of ['edu_agents.socket', 'edu_agents@.socket']) {
      expect(readUnit(name)['Unit']['PartOf']).toBeUndefined();
    }
  });

  it('stop after the whole drain fits: TimeoutStopSec above delay + drain timeout + Chrome close', () => {
    const env = parseUnitFile(readFileSync(join(SYSTEMD_DIR, 'edu_agents.env.example'), 'utf8'))[''];
    const ms = (key: string): number => {
      expect(env[key]).toHaveLength(1);
      return Number(env[key][0]);
    };
    const drainMs = ms('SHUTDOWN_DELAY_MS') + ms('SHUTDOWN_TIMEOUT_MS') + ms('QC_CLOSE_TIMEOUT_MS');
    for (const name of ['edu_agents.service', 'edu_agents@.service']) {
      const stopMs = systemdSpanMs(readUnit(name)['Service']['TimeoutStopSec'][0]);
      expect(drainMs).toBeLessThan(stopMs);
    }
    expect(ms('KEEP_ALIVE_TIMEOUT_MS')).toBeLessThan(ms('HEADERS_TIMEOUT_MS'));
  });
});
