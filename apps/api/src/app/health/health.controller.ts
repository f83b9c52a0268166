import { Controller, Get, Header, Inject } from '@nestjs/common';
import { HealthCheck, HealthCheckService, type HealthIndicatorFunction } from '@nestjs/terminus';
import { HandoffHealthIndicator } from './handoff.health';
import { QcHealthIndicator } from './qc.health';
import { ShutdownHealthIndicator } from './shutdown.health';

/**
 * `/health` and `/health/ready`: readiness (200 when ready, 503 while starting or
 * draining or when the QC pool is down). `/health/live`: 200 until the process
 * exits. Bodies keep terminus' shape: status, info, error, details.
 */
@Controller('health')
export class HealthController {
  constructor(
    @Inject(HealthCheckService) private readonly health: HealthCheckService,
    @Inject(ShutdownHealthIndicator) private readonly shutdown: ShutdownHealthIndicator,
    @Inject(QcHealthIndicator) private readonly qc: QcHealthIndicator,
    @Inject(HandoffHealthIndicator) private readonly handoff: HandoffHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  @Header('Cache-Control', 'no-store')
  check() {
    return this.health.check(this.readinessChecks());
  }

  @Get('ready')
  @HealthCheck()
  @Header('Cache-Control', 'no-store')
  ready() {
    return this.health.check(this.readinessChecks());
  }

  @Get('live')
  @HealthCheck()
  @Header('Cache-Control', 'no-store')
  live() {
    return this.health.check([() => this.shutdown.liveness()]);
  }

  private readinessChecks(): HealthIndicatorFunction[] {
    const checks: HealthIndicatorFunction[] = [() => this.shutdown.readiness()];
    if (this.qc.enabled) checks.push(() => this.qc.check());
    checks.push(() => this.handoff.check());
    return checks;
  }
}
