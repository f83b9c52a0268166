import type { ProcessEnvironment } from './process-environment';

/**
 * Writes `pid` to `path` atomically: a temporary file beside it, then a rename,
 * so a reader (a process manager, the restart CLI) sees the old pid or the new
 * one, never half a number.
 */
export function writePidFile(fs: Pick<ProcessEnvironment, 'writeFile' | 'rename'>, path: string, pid: number): void {
  const tmp = `${path}.${pid}.tmp`;
  try {
    fs.writeFile(tmp, `${pid}\n`);
    fs.rename(tmp, path);
  } catch (error) {
    throw new Error(`cannot write pid file ${path}: ${(error as Error).message}; check that its directory exists and is writable`, {
      cause: error,
    });
  }
}
