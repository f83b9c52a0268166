// A NestJS 11 app with the drain contract and a terminus health indicator wrapping
// shutdownHealth() from the installed @edu-agents/shutdown-state (copied into a consumer
// project outside the workspace by the packages e2e; not compiled here).
import 'reflect-metadata';
import { Body, Controller, Get, HttpCode, Inject, Injectable, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { HealthCheck, HealthCheckService, HealthIndicatorService, TerminusModule } from '@nestjs/terminus';
import type { NextFunction, Request, Response } from 'express';
import {
  InFlightRegistry, SHUTDOWN_DEFAULTS, ShutdownCoordinator, isAdmitting, processShutdownDeps, shutdownHealth,
} from '@edu-agents/shutdown-state';

const registry = new InFlightRegistry();
const coordinator = new ShutdownCoordinator(registry, SHUTDOWN_DEFAULTS, processShutdownDeps((event) => console.log(JSON.stringify(event))));

/** Readiness from the shutdown coordinator: up only in the `ready` phase. */
@Injectable()
class ShutdownHealthIndicator {
  constructor(@Inject(HealthIndicatorService) private readonly indicators: HealthIndicatorService) {}

  isReady(key = 'shutdown') {
    const { status, ...details } = shutdownHealth(coordinator, process.pid);
    const session = this.indicators.check(key);
    return status === 'up' ? session.up(details) : session.down(details);
  }
}

@Controller()
class AppController {
  constructor(
    @Inject(HealthCheckService) private readonly health: HealthCheckService,
    @Inject(ShutdownHealthIndicator) private readonly shutdown: ShutdownHealthIndicator,
  ) {}

  @Get('health')
  @HealthCheck()
  check() {
    return this.health.check([() => this.shutdown.isReady()]);
  }

  @Get()
  hello(): string {
    return 'hello\n';
  }

  @Post('echo')
  @HttpCode(200)
  echo(@Body() body: unknown) {
    return { received: body };
  }
}

@Module({ imports: [TerminusModule], controllers: [AppController], providers: [ShutdownHealthIndicator] })
class AppModule {}

async function main(): Promise<void> {
  const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
  // Before Nest's router (registered at listen): refuse new work once draining, count the rest in flight.
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (req.path === '/health') return next();
    if (!isAdmitting(coordinator.state)) {
      res.status(503).set({ 'Retry-After': '2', Connection: 'close' }).json({ error: 'shutting down, retry elsewhere' });
      return;
    }
    res.once('close', registry.begin(req.method, req.path));
    next();
  });
  coordinator.addHook({ name: 'nest', run: () => app.close() });
  process.on('SIGTERM', () => coordinator.handleSignal('SIGTERM'));
  process.on('SIGINT', () => coordinator.handleSignal('SIGINT'));
  await app.listen(Number(process.env['PORT'] ?? 3000), '127.0.0.1');
  coordinator.markStarted();
  console.log(`listening on ${await app.getUrl()}`);
}
main().catch((error) => {
  console.error(error);
  process.exit(1);
});
