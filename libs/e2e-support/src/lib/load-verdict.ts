import type { LoadRun, RequestRecord } from './load-generator';
import { isFailure } from './load-report';

/** How a request fails when the process holding its connection dies under it. */
const CUT_OFF = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

/** What a fault may excuse: connections of processes that were killed, and refusals once the service was stopped on purpose. */
export interface FaultExcuses {
  /** Client ports (records' `localPort`) of connections a killed or crashed process held. */
  ports: ReadonlySet<number>;
  /** Epoch ms from which no process holds the listening socket on purpose (a stop): refused or reset new connections are expected. */
  refusalsFrom?: number;
}

/** Every request of a load run judged against the fault-campaign invariant. */
export interface LoadVerdict {
  requests: number;
  failed: number;
  /** Failures the fault excuses. */
  excused: number;
  /** Every other failure: a refused connection, a timeout, a status, an error on a survivor's connection. */
  violations: RequestRecord[];
}

/**
 * No admitted request fails, except those on the connections of a process that was
 * SIGKILLed (or crashed), and the port never refuses while a process that holds it
 * lives: refusals, and resets of connections still queued, only after `refusalsFrom`.
 */
export function judgeLoad(run: LoadRun, excuses: FaultExcuses): LoadVerdict {
  const failures = run.records.filter(isFailure);
  const { ports, refusalsFrom } = excuses;
  const after = (ms: number) => refusalsFrom !== undefined && run.t0Epoch + ms >= refusalsFrom;
  const excused = failures.filter(
    (r) =>
      (r.error !== undefined && CUT_OFF.has(r.error) && r.localPort !== undefined && ports.has(r.localPort)) ||
      (r.error === 'ECONNREFUSED' && after(r.startMs)) ||
      // A connection still in the accept queue when its last holder died is reset with it.
      (r.error !== undefined && CUT_OFF.has(r.error) && r.newConnection && after(r.endMs)),
  );
  return { requests: run.records.length, failed: failures.length, excused: excused.length, violations: failures.filter((r) => !excused.includes(r)) };
}
