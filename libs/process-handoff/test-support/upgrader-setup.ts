import { createServer, type Server } from 'node:net';
import { Upgrader } from '../src/lib/upgrader';
import type { UpgraderOptions } from '../src/lib/upgrader-options';
import { FakeEnvironment } from './fake-environment';

export interface LogLine {
  level: string;
  message: string;
  fields?: Record<string, unknown>;
}

/**
 * An upgrader on a {@link FakeEnvironment} with its log recorded, and a real
 * server listening through it on 127.0.0.1 (port from the OS). Close the
 * returned servers in afterEach.
 */
export async function predecessorSetup(options: Partial<UpgraderOptions> = {}, env = new FakeEnvironment()) {
  const logs: LogLine[] = [];
  const upgrader = Upgrader.create({ readyTimeoutMs: 10_000, log: (level, message, fields) => logs.push({ level, message, fields }), environment: env, ...options });
  const server = createServer();
  servers.push(server);
  await upgrader.listen('http', server, { port: 0, host: '127.0.0.1' });
  return { env, upgrader, server, logs };
}

const servers: Server[] = [];

export async function closeServers(): Promise<void> {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
}

/** Lets pending promise callbacks run (the fakes answer on microtasks). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i += 1) await Promise.resolve();
}
