import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExitCode } from '../app/exit-code';
import { runCli } from '../app/program';
import { captureDeps } from '../testing/capture-deps';

const SHIPPED = join(__dirname, '../../../../deployment');

describe('doctor', () => {
  let copy: string;

  beforeEach(async () => {
    copy = await mkdtemp(join(tmpdir(), 'restart-cli-doctor-'));
    await cp(join(SHIPPED, 'systemd'), join(copy, 'systemd'), { recursive: true });
    await cp(join(SHIPPED, 'nginx'), join(copy, 'nginx'), { recursive: true });
  });

  afterEach(async () => {
    await rm(copy, { recursive: true, force: true });
  });

  const edit = async (rel: string, from: RegExp, to: string) => {
    const path = join(copy, rel);
    const text = await readFile(path, 'utf8');
    expect(text).toMatch(from); // the fixture must really contain what we break
    await writeFile(path, text.replace(from, to));
  };

  const doctor = async (...args: string[]) => {
    const { deps, io } = captureDeps();
    const code = await runCli(['doctor', ...args], deps);
    return { code, ...io };
  };

  it('passes on the shipped deployment files', async () => {
    const { code, out } = await doctor('--deployment', SHIPPED, '--json');
    const result = JSON.parse(out);
    expect(result.checks.filter((c: { ok: boolean }) => !c.ok)).toEqual([]);
    expect(code).toBe(ExitCode.Ok);
    expect(result.checks.map((c: { id: string }) => c.id)).toEqual(expect.arrayContaining(['keepalive-chain', 'timeout-stop', 'exec-start', 'kill-mode', 'kill-signal', 'next-upstream']));
  });

  it('fails with the fix when TimeoutStopSec is below the shutdown budget', async () => {
    await edit('systemd/edu_agents@.service', /^TimeoutStopSec=.*$/m, 'TimeoutStopSec=20');
    const { code, out } = await doctor('--deployment', copy);
    expect(code).toBe(ExitCode.DoctorFailed);
    expect(out).toMatch(/FAIL .*edu_agents@\.service: TimeoutStopSec/);
    expect(out).toContain('fix: raise TimeoutStopSec above 27s');
  });

  it('fails with the fix when nginx keeps idle upstream connections longer than node', async () => {
    await edit('nginx/edu_agents.conf', /keepalive_timeout\s+\d+s;/, 'keepalive_timeout 90s;');
    const { code, out } = await doctor('--deployment', copy);
    expect(code).toBe(ExitCode.DoctorFailed);
    expect(out).toContain('FAIL  nginx upstream keepalive_timeout < KEEP_ALIVE_TIMEOUT_MS');
    expect(out).toContain('set the upstream keepalive_timeout below 75000ms');
  });

  it('fails when headersTimeout is not above keepAliveTimeout', async () => {
    await edit('systemd/edu_agents.env.example', /^HEADERS_TIMEOUT_MS=.*$/m, 'HEADERS_TIMEOUT_MS=70000');
    const { out } = await doctor('--deployment', copy);
    expect(out).toContain('fix: set HEADERS_TIMEOUT_MS above KEEP_ALIVE_TIMEOUT_MS');
  });

  it('fails naming the variable to set when the env file leaves a timeout unset', async () => {
    await edit('systemd/edu_agents.env.example', /^QC_CLOSE_TIMEOUT_MS=.*$/m, '');
    const { code, out } = await doctor('--deployment', copy);
    expect(code).toBe(ExitCode.DoctorFailed);
    expect(out).toContain('QC_CLOSE_TIMEOUT_MS is not set');
    expect(out).toContain('set QC_CLOSE_TIMEOUT_MS=<milliseconds>');
  });

  it('fails when ExecStart goes through npm, and when KillMode is not mixed', async () => {
    await edit('systemd/edu_agents.service', /^ExecStart=.*$/m, 'ExecStart=/usr/bin/npm run start');
    await edit('systemd/edu_agents.service', /^KillMode=.*$/m, 'KillMode=control-group');
    const { out } = await doctor('--deployment', copy);
    expect(out).toContain('npm does not forward SIGTERM reliably; use ExecStart=/usr/bin/node dist/apps/api/main.js');
    expect(out).toContain('set KillMode=mixed');
  });

  it('fails when a unit cannot do the hot handoff: no ExecReload, or NotifyAccess that ignores the successor', async () => {
    await edit('systemd/edu_agents@.service', /^ExecReload=.*$/m, '');
    await edit('systemd/edu_agents.service', /^NotifyAccess=.*$/m, 'NotifyAccess=main');
    const { out } = await doctor('--deployment', copy);
    expect(out).toContain('set ExecReload=/bin/kill -HUP $MAINPID');
    expect(out).toContain('NotifyAccess=main');
    expect(out).toContain('set NotifyAccess=all');
  });

  it('fails when nginx does not retry POSTs on a draining instance', async () => {
    await edit('nginx/edu_agents.conf', /proxy_next_upstream (?!tries|timeout)[^;]*;/, 'proxy_next_upstream error timeout http_502;');
    const { out } = await doctor('--deployment', copy);
    expect(out).toContain("add http_503 non_idempotent to proxy_next_upstream");
  });

  it('reads the env file given with --env-file', async () => {
    const env = join(copy, 'other.env');
    await writeFile(env, 'SHUTDOWN_DELAY_MS=0\nSHUTDOWN_TIMEOUT_MS=60000\nQC_CLOSE_TIMEOUT_MS=5000\nKEEP_ALIVE_TIMEOUT_MS=75000\nHEADERS_TIMEOUT_MS=76000\n');
    const { code, out } = await doctor('--deployment', copy, '--env-file', env);
    expect(code).toBe(ExitCode.DoctorFailed);
    expect(out).toContain('vs 67000ms needed');
  });
});
