import { readFileSync } from 'node:fs';
import { startNginx, type RunningNginx, type StartNginxOptions } from './nginx';

/**
 * `startNginx` for load tests: the same shipped server config (or `serverConf`,
 * e.g. the benchmark's copy of the original guide's config) with the wrapper's
 * `worker_connections` raised, 4096 by default (see {@link StartNginxOptions}).
 */
export function startNginxForLoad(upstreamPorts: number[], options: StartNginxOptions = {}): Promise<RunningNginx> {
  return startNginx(upstreamPorts, { workerConnections: 4_096, ...options });
}

/**
 * nginx's error log at level warn or worse, counted by message (time, pid,
 * connection number and request details stripped), e.g.
 * `{ "[error] connect() failed (111: Connection refused) while connecting to upstream": 12 }`:
 * what nginx absorbed by passing requests to the next instance.
 */
export function nginxProblems(nginx: RunningNginx): Record<string, number> {
  const counts: Record<string, number> = {};
  let text: string;
  try {
    text = readFileSync(nginx.files.errorLog, 'utf8');
  } catch (error) {
    return { [`error log unreadable: ${(error as Error).message}`]: 1 };
  }
  for (const line of text.split('\n')) {
    const match = /\[(warn|error|crit|alert|emerg)\] \d+#\d+: (?:\*\d+ )?(.*?)(?:, client: .*)?$/.exec(line);
    if (match) counts[`[${match[1]}] ${match[2]}`] = (counts[`[${match[1]}] ${match[2]}`] ?? 0) + 1;
  }
  return counts;
}
