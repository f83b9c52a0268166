import { Module, type DynamicModule } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HandoffHealthIndicator } from './health/handoff.health';
import { HealthController } from './health/health.controller';
import { QcHealthIndicator } from './health/qc.health';
import { ShutdownHealthIndicator } from './health/shutdown.health';
import { MetricsController } from './metrics/metrics.controller';
import { METRICS_REGISTRY, createMetricsRegistry } from './metrics/metrics.registry';
import { QcController } from './qc/qc.controller';
import { API_RUNTIME, type ApiRuntime } from './runtime/api-runtime';

/** The Nest application: routes only. Lifecycle and signals belong to main. */
@Module({})
export class AppModule {
  static forRoot(runtime: ApiRuntime): DynamicModule {
    return {
      module: AppModule,
      imports: [TerminusModule.forRoot({ logger: false })],
      controllers: [HealthController, QcController, MetricsController],
      providers: [
        { provide: API_RUNTIME, useValue: runtime },
        { provide: METRICS_REGISTRY, useValue: createMetricsRegistry(runtime) },
        ShutdownHealthIndicator,
        QcHealthIndicator,
        HandoffHealthIndicator,
      ],
    };
  }
}
