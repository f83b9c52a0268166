import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { QcPool } from '@edu-agents/qc-chrome-pool';
import { StubUpgrader } from '@edu-agents/process-handoff/testing';
import { InFlightRegistry, ShutdownCoordinator } from '@edu-agents/shutdown-state';
import type { AddressInfo } from 'node:net';
import { AppModule } from '../app.module';
import { API_CONFIG_DEFAULTS } from '../config/api-config';
import { HotHandoff } from '../handoff/hot-handoff';
import { createLogger } from '../logging/logger';
import { createSdNotifier } from '../../systemd/sd-notify';

/** The health routes over real HTTP, with a stand-in pool whose health the test sets. */
async function setup() {
  const registry = new InFlightRegistry();
  const exit = jest.fn();
  const coordinator = new ShutdownCoordinator(registry, { timeoutMs: 60_000, delayMs: 0, hookTimeoutMs: 1_000 }, {
    now: Date.now, setTimer: (fn, ms) => setTimeout(fn, ms).unref(), clearTimer: (h) => clearTimeout(h as NodeJS.Timeout), exit, log: () => undefined,
  });
  const poolHealth = { up: true, browsers: 1 } as { up: boolean; browsers: number; message?: string };
  const pool = { health: () => poolHealth } as unknown as QcPool;
  const logger = createLogger('text', 'error', () => undefined);
  const upgrader = new StubUpgrader({ outcomes: [{ ok: false, reason: 'exited', message: 'successor 4242 exited with code 1', successorPid: 4242, exit: { code: 1, signal: null }, output: ['Error: broken build'], durationMs: 80 }] });
  const handoff = new HotHandoff({ upgrader, coordinator, notifier: createSdNotifier({}), logger, enabled: true, lingerMs: 1_000, retireAfterMs: 0, retireIdle: false });
  const moduleRef = await Test.createTestingModule({
    imports: [AppModule.forRoot({ config: API_CONFIG_DEFAULTS, coordinator, qc: pool, logger, handoff, startedAt: Date.now() })],
  }).compile();
  const app: INestApplication = moduleRef.createNestApplication({ logger: false });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  const get = async (path: string) => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`);
    return { status: res.status, body: (await res.json()) as { status: string; error: Record<string, Record<string, unknown>>; details: Record<string, Record<string, unknown>> } };
  };
  return { app, coordinator, registry, poolHealth, handoff, get };
}

describe('health routes', () => {
  let ctx: Awaited<ReturnType<typeof setup>>;
  beforeEach(async () => (ctx = await setup()));
  afterEach(() => ctx.app.close());

  it('answers 503 while starting and 200 once ready, with the shutdown details', async () => {
    expect((await ctx.get('/health')).status).toBe(503);
    ctx.coordinator.markStarted();
    const ready = await ctx.get('/health');
    expect(ready.status).toBe(200);
    expect(ready.body.details['shutdown']).toEqual({ status: 'up', phase: 'ready', inFlight: 0, oldestInFlightMs: 0, drainingSince: null, deadline: null, pid: process.pid, pidFile: null });
    expect(ready.body.details['qc']).toEqual({ status: 'up', browsers: 1 });
    expect((await ctx.get('/health/ready')).status).toBe(200);
  });

  it('turns readiness down when the QC pool has no browser, naming why', async () => {
    ctx.coordinator.markStarted();
    Object.assign(ctx.poolHealth, { up: false, browsers: 0, message: 'no Chrome browser is running; replacement pending' });
    const down = await ctx.get('/health');
    expect(down.status).toBe(503);
    expect(down.body.error['qc']).toEqual({ status: 'down', browsers: 0, message: 'no Chrome browser is running; replacement pending' });
    expect((await ctx.get('/health/live')).status).toBe(200);
  });

  it('reports the drain: phase, in-flight work, when it began and its deadline; liveness stays 200', async () => {
    ctx.coordinator.markStarted();
    ctx.registry.begin('POST', '/qc/check');
    void ctx.coordinator.stop('test');
    const draining = await ctx.get('/health');
    expect(draining.status).toBe(503);
    expect(draining.body.error['shutdown']).toMatchObject({ status: 'down', phase: 'draining', inFlight: 1, drainingSince: expect.any(String), deadline: expect.any(String) });
    const live = await ctx.get('/health/live');
    expect(live.status).toBe(200);
    expect(live.body.details['process']).toMatchObject({ status: 'up', phase: 'draining', pid: process.pid });
  });

  it('shows the hot handoff: supported and idle, then the failed attempt with the successor\'s last output, while staying ready', async () => {
    ctx.coordinator.markStarted();
    expect((await ctx.get('/health')).body.details['handoff']).toMatchObject({ status: 'up', enabled: true, supported: true, state: 'idle', attempts: 0 });
    ctx.handoff.attach({ stopAccepting: () => undefined, connections: { count: 0, onClose: () => () => undefined } });
    await ctx.handoff.trigger('test');
    const after = await ctx.get('/health');
    expect(after.status).toBe(200);
    expect(after.body.details['handoff']).toMatchObject({
      attempts: 1, last: { ok: false, reason: 'exited', successorPid: 4242, output: ['Error: broken build'] },
    });
  });
});
