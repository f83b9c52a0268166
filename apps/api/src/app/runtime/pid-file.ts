import { readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';

/** Writes our pid atomically (temporary file + rename), so a reader never sees half a number. */
export function writePidFile(path: string, pid = process.pid): void {
  const tmp = `${path}.${pid}.tmp`;
  try {
    writeFileSync(tmp, `${pid}\n`);
    renameSync(tmp, path);
  } catch (error) {
    try {
      rmSync(tmp, { force: true }); // a full disk leaves it created but empty
    } catch {
      // a read-only file system refused the file, so there is none to remove
    }
    throw error;
  }
}

/** Removes the pid file if it still names us (a newer instance may have replaced it). */
export function removePidFile(path: string, pid = process.pid): void {
  let content: string;
  try {
    content = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new Error(`cannot read pid file ${path}`, { cause: error });
  }
  if (Number.parseInt(content, 10) === pid) unlinkSync(path);
}

/**
 * Names this process again in a pid file that names `fromPid` (a failed successor
 * that claimed it just before it was stopped), and removes the temporary file that
 * successor may have left mid-write. Returns whether the file was rewritten.
 */
export function takeBackPidFile(path: string, fromPid: number, pid = process.pid): boolean {
  rmSync(`${path}.${fromPid}.tmp`, { force: true });
  let content: string;
  try {
    content = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new Error(`cannot read pid file ${path}`, { cause: error });
  }
  if (Number.parseInt(content, 10) !== fromPid) return false;
  writePidFile(path, pid);
  return true;
}
