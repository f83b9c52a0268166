/** A problem with the command line; the CLI exits with `ExitCode.Usage` and prints the message. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
