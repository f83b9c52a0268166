// A spinner for the benches that measure what work on another CPU costs: a node process that
// keeps one CPU busy, and a wait until it does.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** The spinner's script: `node -e SPIN`. */
export const SPIN = 'for(;;){}';

/** CPU time (clock ticks) a spinner has used once it spins: node's own start takes about 6. */
const SPINNING_TICKS = 10;

/**
 * Resolves once `pid` runs node (through chrt, nice or taskset, which exec it) and has used
 * SPINNING_TICKS of CPU, so that it spins; rejects after `deadlineMs` or when it is gone.
 */
export async function untilSpinning(pid, deadlineMs = 10_000) {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    let stat;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      throw new Error(`spinner ${pid} is gone`);
    }
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of /proc/<pid>/stat (utime, stime), counted from field 3.
    if (comm === 'node' && Number(fields[11]) + Number(fields[12]) >= SPINNING_TICKS) return;
    if (Date.now() > deadline) throw new Error(`spinner ${pid} did not spin within ${deadlineMs} ms`);
    await sleep(10);
  }
}
