// Each request of a restart, as the client and the server saw it: restart-bench.probe.js
// writes, in every API process, when each request's head was parsed and when its
// response finished, with the client's port; the load generator records when it sent
// the request, on which port, and when the answer came. Joined, a slow request shows
// where it waited: before the server parsed it (the kernel's queues, a loop that did
// not read, a connection on its way to the successor), in the handler, or after it.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RequestRecord } from '@edu-agents/e2e-support';

/** One response of an API process: epoch ms of the parsed head and of the finished response, the client side's port and the one it reached. */
export interface ServerRecord {
  pid: number;
  start: number;
  end: number;
  port: number;
  localPort?: number;
}

/** perf_hooks' names for V8's GC kinds, for the requests file. */
export const GC_KINDS: Readonly<Record<number, string>> = { 1: 'minor', 2: 'major', 4: 'incremental', 8: 'weak callbacks' };

/** A garbage-collection pause of an API process (epoch ms). */
export interface GcPause {
  pid: number;
  start: number;
  ms: number;
  /** V8's kind (perf_hooks' `detail.kind`): 1 minor (scavenge), 2 major (mark-compact), 4 incremental marking, 8 weak callbacks; 0 unknown. */
  kind: number;
}

/** One client request of the window, placed against the server's view of it. */
export interface JoinedRequest {
  /** When the client sent it, ms after `zeroEpoch`. */
  sentMs: number;
  /** From the send to the answer. The bench's latency is counted from the scheduled time: `lagMs` + `latencyMs`. */
  latencyMs: number;
  /** How late the client sent it: its send less its scheduled time (the load process waited for a CPU or its own loop). */
  lagMs: number;
  label: string;
  newConnection: boolean;
  /** Who answered (the run's name for the pid), or `unmatched` when no server record fits. */
  by: string;
  /** Client send to server parse. */
  beforeMs?: number;
  /** Parse to finished response, in the process that answered the client. */
  serverMs?: number;
  /** Finished response to the client's end. */
  afterMs?: number;
  /** The process that answered passed it on to another (the successor's record of it came from a port no client used). */
  forwarded: boolean;
  /** Garbage-collection pauses of the process that answered, between the client's send and the finished response (ms). */
  gcMs?: number;
  /** Behind nginx: nginx's own part of its request time (its request time less the upstream's). */
  nginxMs?: number;
}

export function readServerRecords(dir: string): { records: ServerRecord[]; gc: GcPause[] } {
  const out: ServerRecord[] = [];
  const gc: GcPause[] = [];
  for (const name of readdirSync(dir)) {
    const m = /^requests-(\d+)\.jsonl$/.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    for (const line of readFileSync(join(dir, name), 'utf8').split('\n')) {
      if (!line) continue;
      let parsed: { r?: [number, number, number, number?][]; gc?: [number, number, number?][] };
      try {
        parsed = JSON.parse(line) as typeof parsed;
      } catch {
        continue; // the last line of a process killed mid-write
      }
      for (const [start, end, port, localPort] of parsed.r ?? []) out.push({ pid, start, end, port, localPort });
      for (const [start, ms, kind = 0] of parsed.gc ?? []) gc.push({ pid, start, ms, kind });
    }
  }
  return { records: out, gc };
}

const round = (n: number) => Math.round(n * 100) / 100;

/** Groups `items` by `key`. */
function groupBy<T>(items: Iterable<T>, key: (item: T) => number): Map<number, T[]> {
  const out = new Map<number, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}

/** Garbage-collection time of `pid` within [from, to] (epoch ms). */
function gcWithin(gc: readonly GcPause[], pid: number, from: number, to: number): number {
  return gc.filter((p) => p.pid === pid).reduce((sum, p) => sum + Math.max(0, Math.min(to, p.start + p.ms) - Math.max(from, p.start)), 0);
}

/** The client's requests sent within [fromMs, toMs), each with its send and end as epoch ms and the fields every join reports. */
function clientRequests(opts: { records: readonly RequestRecord[]; t0Epoch: number; fromMs: number; toMs: number; zeroEpoch: number }) {
  const { records, t0Epoch, fromMs, toMs, zeroEpoch } = opts;
  return records.filter((r) => r.startMs >= fromMs && r.startMs < toMs).map((r) => ({
    r, sent: t0Epoch + r.startMs, ended: t0Epoch + r.endMs,
    base: { sentMs: round(t0Epoch + r.startMs - zeroEpoch), latencyMs: round(r.endMs - r.startMs), lagMs: round(r.startMs - r.scheduledMs), label: r.label, newConnection: r.newConnection },
  }));
}

/**
 * Joins the client's records sent within [fromMs, toMs) (ms after `t0Epoch`) with the
 * servers' records: the server record on the request's port whose parse lies between
 * the client's send and its end. Records on ports no client used are requests one API
 * passed to another; a client request is `forwarded` when such a record lies inside
 * the server time of the process that answered it.
 */
export function joinRequests(opts: {
  records: readonly RequestRecord[]; t0Epoch: number; fromMs: number; toMs: number; zeroEpoch: number;
  server: readonly ServerRecord[]; gc?: readonly GcPause[]; names: ReadonlyMap<number, string>;
}): JoinedRequest[] {
  const { records, server, names, gc = [] } = opts;
  const clientPorts = new Set(records.map((r) => r.localPort).filter((p): p is number => p !== undefined));
  const passedOn = server.filter((s) => !clientPorts.has(s.port));
  const byPort = groupBy(server.filter((s) => clientPorts.has(s.port)), (s) => s.port);
  const SLACK_MS = 2; // two processes' clocks read at different moments
  return clientRequests(opts).map(({ r, sent, ended, base }) => {
    const match = (r.localPort === undefined ? [] : byPort.get(r.localPort) ?? []).find((s) => s.start >= sent - SLACK_MS && s.start <= ended + SLACK_MS);
    if (!match) return { ...base, by: 'unmatched', forwarded: false };
    // Strictly inside: a successor's own warm-up requests (a private port too) never match by a clock's slack.
    const forwarded = passedOn.some((p) => p.pid !== match.pid && p.start > match.start && p.end < match.end);
    return {
      ...base, by: names.get(match.pid) ?? `pid ${match.pid}`, forwarded,
      beforeMs: round(match.start - sent), serverMs: round(match.end - match.start), afterMs: round(ended - match.end),
      gcMs: round(gcWithin(gc, match.pid, sent, match.end)),
    };
  });
}

/** One access-log line of the e2e-support nginx wrapper (log_format `upstreams`), times in epoch ms. */
interface NginxLine {
  start: number;
  end: number;
  requestMs: number;
  upstreamMs: number;
  upstream: string;
  port: number;
}

function parseAccessLog(text: string): NginxLine[] {
  const out: NginxLine[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\d+\.\d+) \d{3} "[^"]*" rt=(\S+) ua="([^"]*)" us="[^"]*" ut="([^"]*)" uc="[^"]*" rp=(\d+)/.exec(line);
    if (!m) continue;
    const end = Number(m[1]) * 1000;
    const requestMs = Number(m[2]) * 1000;
    // Several upstreams tried (proxy_next_upstream): "0.001, 0.004"; "-" when none answered.
    const upstreamMs = m[4].split(/[,:] ?/).map(Number).filter(Number.isFinite).reduce((a, b) => a + b * 1000, 0);
    out.push({ start: end - requestMs, end, requestMs, upstreamMs, upstream: m[3], port: Number(m[5]) });
  }
  return out;
}

/**
 * Behind nginx: joins the client's records sent within [fromMs, toMs) with nginx's access log
 * by the client's port and time. Before parse is the time until nginx began the request, in
 * server the upstream's time, `nginxMs` nginx's own part, after the time from nginx's log
 * line to the client's end (nginx stamps at millisecond resolution). Where an API's record
 * of the same request is found, it names the process that answered and its GC meanwhile.
 */
export function joinThroughNginx(opts: {
  records: readonly RequestRecord[]; t0Epoch: number; fromMs: number; toMs: number; zeroEpoch: number; accessLog: string;
  server?: readonly ServerRecord[]; gc?: readonly GcPause[]; names?: ReadonlyMap<number, string>;
}): JoinedRequest[] {
  const { server = [], gc = [], names = new Map<number, string>() } = opts;
  // The API side of an nginx line: a response on the upstream's port that lies inside nginx's
  // request, the one whose time is closest to the upstream's (an instance serves one at a time
  // most of the time; the predecessor and the successor of an instance share its port).
  const byLocalPort = groupBy(server.filter((r) => r.localPort), (r) => r.localPort as number);
  const apiSide = (l: NginxLine) => {
    const port = Number(/:(\d+)$/.exec(l.upstream)?.[1]);
    const inside = (byLocalPort.get(port) ?? []).filter((r) => r.start >= l.start - 1 && r.end <= l.end + 1);
    return inside.sort((a, b) => Math.abs(a.end - a.start - l.upstreamMs) - Math.abs(b.end - b.start - l.upstreamMs))[0];
  };
  const byPort = groupBy(parseAccessLog(opts.accessLog), (l) => l.port);
  const SLACK_MS = 2; // nginx's millisecond stamps
  return clientRequests(opts).map(({ r, sent, ended, base }) => {
    const match = (r.localPort === undefined ? [] : byPort.get(r.localPort) ?? []).find((l) => l.start >= sent - SLACK_MS && l.end <= ended + SLACK_MS);
    if (!match) return { ...base, by: 'unmatched', forwarded: false };
    const api = apiSide(match);
    return {
      ...base, forwarded: false, by: api ? `${names.get(api.pid) ?? `pid ${api.pid}`} via nginx` : `nginx -> ${match.upstream || 'none'}`,
      beforeMs: round(Math.max(0, match.start - sent)), serverMs: round(match.upstreamMs), nginxMs: round(match.requestMs - match.upstreamMs), afterMs: round(Math.max(0, ended - match.end)),
      ...(api ? { gcMs: round(gcWithin(gc, api.pid, match.start, match.end)) } : {}),
    };
  });
}

/** A request's latency as the bench counts it: from when it was due (the sender's lag and the answer). */
const dueLatency = (r: JoinedRequest) => r.lagMs + r.latencyMs;

/** The slowest requests first (timed from when they were due), as a table for the log. */
export function slowestTable(joined: readonly JoinedRequest[], count: number): string {
  const rows = [...joined].sort((a, b) => dueLatency(b) - dueLatency(a)).slice(0, count);
  const f = (n: number | undefined) => (n === undefined ? '-' : n.toFixed(1));
  const lines = ['| sent (ms from ready) | latency from due | send lag | label | answered by | forwarded | new conn | before parse | in server | in nginx | after | its GC meanwhile |', '|---:|---:|---:|---|---|---|---|---:|---:|---:|---:|---:|'];
  for (const r of rows) lines.push(`| ${f(r.sentMs)} | ${f(dueLatency(r))} | ${f(r.lagMs)} | ${r.label} | ${r.by} | ${r.forwarded ? 'yes' : ''} | ${r.newConnection ? 'yes' : ''} | ${f(r.beforeMs)} | ${f(r.serverMs)} | ${f(r.nginxMs)} | ${f(r.afterMs)} | ${f(r.gcMs)} |`);
  return lines.join('\n');
}

/**
 * Where the slow requests of a restart came from: those other than QC renders above
 * `thresholdMs` (timed from when they were due), per 100 ms from the ready, with the part of
 * their time that dominated (the sender's lag, before the parse, in the server, after it) and
 * how many were passed on.
 */
export function slowByMoment(joined: readonly JoinedRequest[], thresholdMs: number): string {
  const groups = groupBy(joined.filter((r) => !r.label.startsWith('POST /qc') && dueLatency(r) > thresholdMs), (r) => Math.floor(r.sentMs / 100) * 100);
  const part = (r: JoinedRequest) => {
    const parts: [string, number][] = [['send lag', r.lagMs], ['before parse', r.beforeMs ?? 0], ['in server', r.serverMs ?? 0], ['in nginx', r.nginxMs ?? 0], ['after', r.afterMs ?? 0]];
    return r.by === 'unmatched' ? 'unmatched' : parts.sort((a, b) => b[1] - a[1])[0][0];
  };
  const lines = [`| ms from ready | requests above ${thresholdMs} ms | worst (ms) | mostly | answered by | passed on | in a GC of their process (> half their time) |`, '|---:|---:|---:|---|---|---:|---:|'];
  for (const [at, rs] of [...groups.entries()].sort((a, b) => a[0] - b[0])) {
    const count = (values: string[]) => [...values.reduce((m, v) => m.set(v, (m.get(v) ?? 0) + 1), new Map<string, number>())].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ');
    lines.push(`| ${at} | ${rs.length} | ${Math.max(...rs.map(dueLatency)).toFixed(1)} | ${count(rs.map(part))} | ${count(rs.map((r) => r.by.replace(/ \(\d+\)$/, '')))} | ${rs.filter((r) => r.forwarded).length} | ${rs.filter((r) => (r.gcMs ?? 0) > dueLatency(r) / 2).length} |`);
  }
  return lines.join('\n');
}
