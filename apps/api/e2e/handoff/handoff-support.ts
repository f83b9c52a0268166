import { check } from '@edu-agents/health-client';
import { processTree, readPid, track, waitFor, type ApiProcess, type SpawnedApi } from '@edu-agents/e2e-support';
import { readFileSync } from 'node:fs';

/** One JSON log line of the API (LOG_FORMAT=json): every line names the pid that wrote it. */
export interface LogLine {
  msg: string;
  pid: number;
  [field: string]: unknown;
}

/** Every JSON line the API and its successors wrote to the shared stdout. */
export function logLines(api: SpawnedApi): LogLine[] {
  return api.output().split('\n').flatMap((line) => {
    if (!line.startsWith('{')) return [];
    try {
      return [JSON.parse(line) as LogLine];
    } catch {
      return [];
    }
  });
}

/** The health of whatever process answers on the port. */
export const health = (api: ApiProcess) => check(api.healthUrl, { timeoutMs: 10_000 });

/**
 * Sends SIGHUP to the pid in `pidFile` and waits for the whole handoff: the pid
 * file names a new pid, /health answers ready from it, and the old pid logged
 * `phase stopped` and is gone. Returns both pids.
 */
export async function handOff(api: SpawnedApi & { healthUrl: string }, pidFile: string, timeoutMs = 90_000): Promise<{ oldPid: number; newPid: number }> {
  const oldPid = readPid(pidFile);
  if (oldPid === undefined) throw new Error(`no pid in ${pidFile}`);
  process.kill(oldPid, 'SIGHUP');
  const newPid = await waitFor(`a successor of pid ${oldPid} in ${pidFile}`, () => {
    const pid = readPid(pidFile);
    return pid !== undefined && pid !== oldPid ? track(pid) : undefined;
  }, timeoutMs).catch((error: Error) => {
    const recent = logLines(api).filter((l) => l.pid === oldPid || l['predecessorPid'] === oldPid).slice(-15).map((l) => JSON.stringify(l));
    throw new Error(`${error.message}; last log lines of pid ${oldPid} and its successors:\n${recent.join('\n')}`, { cause: error });
  });
  await waitFor(`pid ${newPid} to answer ready`, async () => {
    const h = await check(api.healthUrl, { timeoutMs: 5_000 });
    return h.state === 'ready' && h.pid === newPid;
  }, timeoutMs);
  await waitFor(`pid ${oldPid} to drain and stop`, () => logLines(api).some((l) => l.pid === oldPid && l.msg === 'phase stopped') && !isRunning(oldPid), timeoutMs);
  return { oldPid, newPid };
}

function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.charAt(stat.lastIndexOf(')') + 2) !== 'Z';
  } catch {
    return false;
  }
}

export { openFds, rssKb } from '@edu-agents/e2e-support';

/** Chromium processes under `pid` (puppeteer starts Chromium in a group of its own, so by ancestry). */
export function chromiumUnder(pid: number): number[] {
  return processTree(pid).filter((p) => {
    if (p === pid) return false;
    try {
      return /chrom/.test(readFileSync(`/proc/${p}/cmdline`, 'utf8'));
    } catch {
      return false; // gone while we looked
    }
  });
}

/** The `details.handoff` entry of the answering process's /health. */
export async function handoffDetails(api: ApiProcess): Promise<Record<string, unknown> & { state?: string; successorPid?: number; attempts?: number }> {
  const h = await health(api);
  const details = (h.body as { details?: Record<string, Record<string, unknown>> } | undefined)?.details;
  return { ...(details?.['handoff'] ?? {}), answeredBy: h.pid };
}

/** Waits until the process on the port reports a successor being started, and returns its pid. */
export function successorStarting(api: ApiProcess, timeoutMs = 30_000): Promise<number> {
  return waitFor('a successor to be starting', async () => {
    const h = await handoffDetails(api);
    return (h.state === 'spawning' || h.state === 'starting') && typeof h.successorPid === 'number' ? track(h.successorPid) : undefined;
  }, timeoutMs);
}

export { isRunning };
