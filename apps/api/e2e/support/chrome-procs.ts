import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { PROFILE_PREFIX } from '@edu-agents/qc-chrome-pool';

/** Pids of live processes whose command line uses a QC profile dir of API process `apiPid`. */
export function chromeProcessesOf(apiPid: number): number[] {
  const marker = `${PROFILE_PREFIX}${apiPid}-`;
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (/\) Z /.test(stat)) continue; // a zombie holds nothing
    } catch {
      continue; // the process ended while we looked
    }
    if (cmdline.includes(marker)) pids.push(Number(entry));
  }
  return pids;
}

/** Temporary profile directories of API process `apiPid` still on disk. */
export function profileDirsOf(apiPid: number): string[] {
  return readdirSync(tmpdir()).filter((name) => name.startsWith(`${PROFILE_PREFIX}${apiPid}-`));
}

/** Scheduling policy (0 SCHED_OTHER, 5 SCHED_IDLE) and nice value of every thread of `pid`, from /proc; empty once it is gone. */
export function threadsSchedOf(pid: number): { policy: number; nice: number }[] {
  try {
    return readdirSync(`/proc/${pid}/task`).map((tid) => {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return { policy: Number(fields[41 - 3]), nice: Number(fields[19 - 3]) };
    });
  } catch {
    return [];
  }
}
