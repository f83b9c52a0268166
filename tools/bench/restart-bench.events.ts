// What the processes of a restart said and when: the JSON log lines of the API
// (LOG_FORMAT=json) and of the baseline app, and the exits the benchmark saw,
// turned into the markers of a timeline (ms after the load's t0).
import { isAlive } from '@edu-agents/e2e-support';

/** One JSON log line: when (epoch ms), which process, what. */
export interface LogEvent {
  at: number;
  pid: number;
  msg: string;
}

/** The JSON lines of `text` that carry time, pid and msg; other lines are skipped. */
export function parseLogEvents(text: string): LogEvent[] {
  const events: LogEvent[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const { time, pid, msg } = JSON.parse(line) as { time?: string; pid?: number; msg?: string };
      if (typeof time === 'string' && typeof pid === 'number' && typeof msg === 'string') events.push({ at: Date.parse(time), pid, msg });
    } catch {
      continue; // a line cut by a process killed mid-write
    }
  }
  return events.sort((a, b) => a.at - b.at);
}

export type MarkerKind = 'signal' | 'ready' | 'exit' | 'listening';

/** A vertical line on the timeline. */
export interface Marker {
  kind: MarkerKind;
  /** Ms after the load's t0. */
  ms: number;
  label: string;
}

/** The first event of `pid` whose msg passes `match`, or undefined. */
function first(events: readonly LogEvent[], pid: number, match: (msg: string) => boolean): LogEvent | undefined {
  return events.find((e) => e.pid === pid && match(e.msg));
}

/**
 * Markers of one restart: for each old pid the signal it got (its own log line,
 * else the benchmark's send time) and its exit; for each new pid when it
 * listened and when it was ready. `handoff` names them as a handoff does
 * (successor ready, predecessor exit).
 */
export function restartMarkers(opts: {
  events: readonly LogEvent[];
  t0Epoch: number;
  oldPids: readonly number[];
  newPids: readonly number[];
  signalAt: readonly number[];
  exits: ReadonlyMap<number, number>;
  handoff: boolean;
}): Marker[] {
  const { events, t0Epoch, handoff } = opts;
  const ms = (epoch: number) => Math.round((epoch - t0Epoch) * 10) / 10;
  const markers: Marker[] = [];
  const many = opts.oldPids.length > 1;
  opts.oldPids.forEach((pid, k) => {
    const logged = first(events, pid, (m) => m.startsWith('signal ') || m.startsWith('handoff requested'));
    const at = logged?.at ?? opts.signalAt[k];
    if (at !== undefined) markers.push({ kind: 'signal', ms: ms(at), label: many ? `signal ${k}` : 'signal' });
    const exit = opts.exits.get(pid) ?? first(events, pid, (m) => m === 'phase stopped')?.at;
    if (exit !== undefined) markers.push({ kind: 'exit', ms: ms(exit), label: `${handoff ? 'predecessor' : 'old'} exit${many ? ` ${k}` : ''}` });
  });
  opts.newPids.forEach((pid, k) => {
    const suffix = opts.newPids.length > 1 ? ` ${k}` : '';
    const listening = first(events, pid, (m) => m === 'listening');
    const ready = first(events, pid, (m) => m === 'phase ready');
    if (!handoff && listening) markers.push({ kind: 'listening', ms: ms(listening.at), label: `new listening${suffix}` });
    // The baseline app logs only `listening`: for it that is also when it serves.
    const readyAt = ready?.at ?? listening?.at;
    if (readyAt !== undefined) markers.push({ kind: 'ready', ms: ms(readyAt), label: `${handoff ? 'successor' : 'new'} ready${suffix}` });
  });
  return markers.sort((a, b) => a.ms - b.ms);
}

/**
 * Polls pids every 10 ms and keeps when each was first seen gone: exits of
 * processes the benchmark did not start (the CLI's, a handoff's), in this
 * process, which sends no load.
 */
export function watchExits(): { add(pid: number): void; exits: Map<number, number>; stop(): void } {
  const watched = new Set<number>();
  const exits = new Map<number, number>();
  const timer = setInterval(() => {
    for (const pid of watched) {
      if (!isAlive(pid)) {
        exits.set(pid, Date.now());
        watched.delete(pid);
      }
    }
  }, 10);
  return { add: (pid) => void (exits.has(pid) || watched.add(pid)), exits, stop: () => clearInterval(timer) };
}
