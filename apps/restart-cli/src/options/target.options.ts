import type { Command } from 'commander';
import { Option } from 'commander';
import { DEFAULT_CHECK_TIMEOUT_MS } from '@edu-agents/health-client';
import { UsageError } from '../app/usage-error';
import type { CliDeps } from '../app/cli-deps';
import type { InstanceManager } from '../managers/instance-manager';
import { isValidUnitName } from '../managers/unit-name';
import type { RestartMode, RestartSettings, RestartTarget } from '../restart/restart.types';
import { durationArg, positiveIntArg } from './duration';
import { expandInstance, hasPlaceholder } from './instances';

/** Options shared by `graceful` and `rolling`, as commander parses them. */
export interface TargetOptions {
  readonly url: string;
  readonly mode: RestartMode;
  readonly manager?: 'systemd' | 'process';
  readonly service?: string;
  readonly pidFile?: string;
  readonly start?: string;
  readonly logFile?: string;
  readonly timeout: number;
  readonly healthyCount: number;
  readonly interval: number;
  readonly checkTimeout: number;
  readonly force?: boolean;
  readonly json?: boolean;
}

/** Adds the manager, timing and output options to a restart command. */
export function addTargetOptions(command: Command, urlDefault?: string): Command {
  const url = new Option('--url <url>', 'health URL of the instance (%i = instance name)');
  return command
    .addOption(urlDefault ? url.default(urlDefault) : url.makeOptionMandatory())
    .addOption(new Option('--mode <mode>', 'handoff: the API starts its successor on the same socket, the old process exits once it is ready; replace: stop, then start; auto: handoff when /health advertises it, else replace').choices(['handoff', 'replace', 'auto']).default('auto'))
    .addOption(new Option('--manager <kind>', 'how to stop and start: systemd or process (default: systemd with --service, process with --pid-file)').choices(['systemd', 'process']))
    .option('--service <unit>', 'systemd unit (%i = instance name), e.g. edu_agents or edu_agents@%i')
    .option('--pid-file <path>', 'process manager: pid file of the running instance (%i = instance name)')
    .option('--start <command>', "process manager, replace only: start command, run as /bin/sh -c 'exec <command>' (%i = instance name)")
    .option('--log-file <path>', 'process manager: output of the new instance (default <pid-file>.log)')
    .option('--timeout <duration>', 'bound of each waiting step: acknowledgment, drain, verification; successor, drain in a handoff', durationArg, 60_000)
    .option('--healthy-count <n>', 'consecutive ready answers that prove the new instance healthy', positiveIntArg, 3)
    .option('--interval <duration>', 'first pause between health polls', durationArg, 250)
    .option('--check-timeout <duration>', 'how long one health request may take before it counts as unreachable', durationArg, DEFAULT_CHECK_TIMEOUT_MS)
    .option('--force', 'restart even when the instance is not ready before the start')
    .option('--json', 'print one JSON result object on stdout');
}

/** Settings from the parsed options. */
export function restartSettings(o: TargetOptions): RestartSettings {
  return { mode: o.mode, timeoutMs: o.timeout, healthyCount: o.healthyCount, force: Boolean(o.force), intervalMs: o.interval, checkTimeoutMs: o.checkTimeout };
}

/** Resolves the manager and expands `%i` for one instance; usage errors name the option. */
export function resolveTarget(o: TargetOptions, instance: string | undefined, deps: CliDeps): RestartTarget {
  const name = instance ?? 'default';
  for (const [flag, value] of [['--url', o.url], ['--service', o.service], ['--pid-file', o.pidFile], ['--start', o.start], ['--log-file', o.logFile]] as const) {
    if (instance === undefined && hasPlaceholder(value)) throw new UsageError(`option ${flag} contains %i but no instance was given; pass --instance <name>.`);
  }
  const kind = o.manager ?? (o.service && !o.pidFile ? 'systemd' : o.pidFile && !o.service ? 'process' : undefined);
  if (!kind) {
    throw new UsageError(o.service
      ? 'both --service and --pid-file given; choose one with --manager systemd|process.'
      : 'option --service <unit> (systemd) or --pid-file <path> (process; with --start <command> to replace) is required.');
  }
  let url: URL;
  try {
    url = new URL(expandInstance(o.url, instance));
  } catch (error) {
    throw new UsageError(`option --url: '${expandInstance(o.url, instance)}' is not a URL (e.g. http://127.0.0.1:8000/health).`, { cause: error });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`option --url: '${url.href}' must be http or https.`);
  let manager: InstanceManager;
  if (kind === 'systemd') {
    if (!o.service) throw new UsageError('option --service <unit> is required with --manager systemd.');
    const unit = expandInstance(o.service, instance);
    if (!isValidUnitName(unit)) throw new UsageError(`option --service: '${unit}' is not a valid unit name (letters, digits, _ . : - and at most one @; no shell characters).`);
    manager = deps.systemdManager(unit);
  } else {
    if (!o.pidFile) throw new UsageError('option --pid-file <path> is required with --manager process.');
    // auto may still resolve to replace: the check step refuses then, before anything is touched.
    if (!o.start && o.mode === 'replace') throw new UsageError('option --start <command> is required with --manager process and --mode replace.');
    manager = deps.processManager({
      pidFile: expandInstance(o.pidFile, instance),
      ...(o.start && { start: expandInstance(o.start, instance) }),
      ...(o.logFile && { logFile: expandInstance(o.logFile, instance) }),
    });
  }
  return { instance: name, url: url.href, manager };
}
