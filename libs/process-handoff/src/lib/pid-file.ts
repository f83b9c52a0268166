import type { ProcessEnvironment } from './process-environment';

/**
 * Writes `pid` to `path` atomically: a temporary file beside it, then a rename,
 * so a reader (a process manager, the restart CLI) sees the old pid or the new
 * one, never half a number.
 */
export function writePidFile(fs: Pick<ProcessEnvironment, 'writeFile' | 'rename' | 'removeFile'>, path: string, pid: number): void {
  const tmp = `${path}.${pid}.tmp`;
  try {
    fs.writeFile(tmp, `${pid}\n`);
    fs.rename(tmp, path);
  } catch (error) {
    // A full disk leaves the temporary file created but empty: no half-written file stays behind.
    try {
      fs.removeFile(tmp);
    } catch {
      // a read-only file system that refused the file refuses its removal too: there is nothing to remove
    }
    throw new Error(`cannot write pid file ${path}: ${(error as Error).message}; check that its directory exists and is writable`, {
      cause: error,
    });
  }
}

/**
 * After a failed successor was frozen: if the pid file names it (it claimed the
 * service just before it was stopped), names `pid` again, atomically; a temporary
 * file the successor left mid-write is removed. A pid file that names anyone else
 * is left alone. Returns whether the file was rewritten.
 */
export function reclaimPidFile(
  fs: Pick<ProcessEnvironment, 'writeFile' | 'rename' | 'readFile' | 'removeFile'>,
  path: string,
  pid: number,
  successorPid: number,
): boolean {
  fs.removeFile(`${path}.${successorPid}.tmp`);
  if (Number.parseInt(fs.readFile(path) ?? '', 10) !== successorPid) return false;
  writePidFile(fs, path, pid);
  return true;
}
