/**
 * Every exit code the CLI uses. One enum so that scripts, `--help` and the README
 * agree; `describeExitCodes()` renders the list for `--help`.
 */
export enum ExitCode {
  /** Everything asked for was done and verified. */
  Ok = 0,
  /** An unexpected error (a bug, or the environment broke mid-run). */
  Internal = 1,
  /** Bad command line: unknown option, missing value, bad duration or instance list. */
  Usage = 2,
  /** An instance was not ready before the restart began (refused; `--force` overrides), or `status` found one not ready. */
  Unhealthy = 3,
  /** A deadline passed: no shutdown acknowledgment, the old process did not exit, or a handoff's successor was not ready in time. */
  Timeout = 4,
  /** The new instance could not be started or died right after starting; in a handoff, the successor failed and the old process still serves. */
  StartFailed = 5,
  /** The graceful shutdown signal could not be sent (no pid, permission, systemctl failed). */
  SignalFailed = 6,
  /** The new instance started but did not answer ready often enough, or the load balancer check failed. */
  VerifyFailed = 7,
  /** `doctor` found at least one failing check. */
  DoctorFailed = 8,
  /** `--mode handoff` against an instance whose /health does not advertise hot handoff; nothing was touched. */
  HandoffUnsupported = 9,
}

const MEANING: Record<ExitCode, string> = {
  [ExitCode.Ok]: 'ok',
  [ExitCode.Internal]: 'unexpected error',
  [ExitCode.Usage]: 'usage error (message names the argument)',
  [ExitCode.Unhealthy]: 'instance not ready before the restart (use --force), or status found one not ready',
  [ExitCode.Timeout]: 'timeout: no shutdown acknowledgment, the old process did not exit, or the successor was not ready in time',
  [ExitCode.StartFailed]: 'the new instance failed to start or died at once (handoff: the successor failed; the old pid still serves)',
  [ExitCode.SignalFailed]: 'the shutdown signal could not be sent',
  [ExitCode.VerifyFailed]: 'the new instance (or the load balancer) never answered ready enough times',
  [ExitCode.DoctorFailed]: 'doctor found a failing check',
  [ExitCode.HandoffUnsupported]: '--mode handoff, but the instance does not support hot handoff (nothing touched)',
};

/** The exit code table as text, for `--help`. */
export function describeExitCodes(): string {
  const codes = Object.values(ExitCode).filter((v): v is ExitCode => typeof v === 'number');
  return ['Exit codes:', ...codes.map((c) => `  ${String(c).padStart(2)}  ${MEANING[c]}`)].join('\n');
}
