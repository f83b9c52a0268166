import { Command } from 'commander';
import { join } from 'node:path';
import type { CliDeps } from '../app/cli-deps';
import { ExitCode } from '../app/exit-code';
import { runDoctorChecks } from '../doctor/doctor.checks';

/** `doctor`: checks the deployment files' timeout chain and signal path; each check says the fix. */
export function doctorCommand(deps: CliDeps, setExit: (code: ExitCode) => void): Command {
  return new Command('doctor')
    .description('check the deployment files: keep-alive chain, TimeoutStopSec budget, ExecStart, KillMode, nginx retries')
    .option('--deployment <dir>', 'deployment directory (systemd/, nginx/)', 'deployment')
    .option('--env-file <path>', 'API environment file (default <deployment>/systemd/edu_agents.env.example)')
    .option('--json', 'print one JSON result object on stdout')
    .action(async (o: { deployment: string; envFile?: string; json?: boolean }) => {
      const systemdDir = join(o.deployment, 'systemd');
      const envPath = o.envFile ?? join(systemdDir, 'edu_agents.env.example');
      const nginxPath = join(o.deployment, 'nginx', 'edu_agents.conf');
      const unitNames = (await deps.listDir(systemdDir)).filter((n) => n.endsWith('.service')).sort();
      const units = [];
      for (const name of unitNames) {
        const path = join(systemdDir, name);
        units.push({ path, text: (await deps.readText(path)) ?? '' });
      }
      const checks = runDoctorChecks({
        env: { path: envPath, text: await deps.readText(envPath) },
        units,
        nginx: { path: nginxPath, text: await deps.readText(nginxPath) },
      });
      const ok = checks.every((c) => c.ok);
      const exitCode = ok ? ExitCode.Ok : ExitCode.DoctorFailed;
      if (o.json) deps.out(`${JSON.stringify({ command: 'doctor', ok, exitCode, deployment: o.deployment, envFile: envPath, checks })}\n`);
      else {
        for (const c of checks) {
          deps.out(`${c.ok ? 'pass' : 'FAIL'}  ${c.title}: ${c.detail}\n${c.fix ? `      fix: ${c.fix}\n` : ''}`);
        }
        deps.out(`${checks.filter((c) => !c.ok).length} of ${checks.length} checks failed\n`);
      }
      setExit(exitCode);
    });
}
