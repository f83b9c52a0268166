import { Command } from 'commander';
import type { CliDeps } from '../app/cli-deps';
import { ExitCode } from '../app/exit-code';
import { UsageError } from '../app/usage-error';
import { durationArg } from '../options/duration';
import { expandInstance, hasPlaceholder, instancesArg } from '../options/instances';
import { DEFAULT_CHECK_TIMEOUT_MS } from '@edu-agents/health-client';

/** One line of `status`. */
export interface InstanceStatus {
  readonly instance: string;
  readonly url: string;
  readonly state: string;
  readonly httpStatus: number | null;
  readonly phase: string | null;
  readonly inFlight: number | null;
  readonly pid: number | null;
  readonly latencyMs: number;
  readonly reason: string | null;
}

/** `status`: one line per instance (URL, state, phase, in-flight, latency) or JSON. */
export function statusCommand(deps: CliDeps, setExit: (code: ExitCode) => void): Command {
  return new Command('status')
    .description('show the health of each instance; exit 0 only when all are ready')
    .option('--instances <list>', 'comma-separated instance names substituted for %i', instancesArg)
    .option('--url <url>', 'health URL (%i = instance name)', 'http://127.0.0.1:8000/health')
    .option('--check-timeout <duration>', 'how long one health request may take before it counts as unreachable', durationArg, DEFAULT_CHECK_TIMEOUT_MS)
    .option('--json', 'print one JSON result object on stdout')
    .action(async (o: { instances?: string[]; url: string; checkTimeout: number; json?: boolean }) => {
      if (!o.instances && hasPlaceholder(o.url)) throw new UsageError('option --url contains %i; pass --instances <list>.');
      const names = o.instances ?? ['default'];
      const rows: InstanceStatus[] = await Promise.all(names.map(async (instance) => {
        const url = expandInstance(o.url, o.instances ? instance : undefined);
        const r = await deps.check(url, { timeoutMs: o.checkTimeout });
        return { instance, url, state: r.state, httpStatus: r.httpStatus ?? null, phase: r.phase ?? null, inFlight: r.inFlight ?? null, pid: r.pid ?? null, latencyMs: Math.round(r.latencyMs), reason: r.reason ?? null };
      }));
      const ok = rows.every((r) => r.state === 'ready');
      const exitCode = ok ? ExitCode.Ok : ExitCode.Unhealthy;
      if (o.json) deps.out(`${JSON.stringify({ command: 'status', ok, exitCode, instances: rows })}\n`);
      else {
        for (const r of rows) {
          deps.out(`${r.instance}  ${r.url}  ${r.state}  phase=${r.phase ?? '-'}  inFlight=${r.inFlight ?? '-'}  pid=${r.pid ?? '-'}  ${r.latencyMs}ms${r.reason ? `  (${r.reason})` : ''}\n`);
        }
      }
      setExit(exitCode);
    });
}
