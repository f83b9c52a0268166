import { Controller, Get, Header, Inject } from '@nestjs/common';
import { METRICS_REGISTRY, type MetricsRegistry } from './metrics.registry';

/** Prometheus text format: process metrics, shutdown state and the QC pool. */
@Controller('metrics')
export class MetricsController {
  constructor(@Inject(METRICS_REGISTRY) private readonly metrics: MetricsRegistry) {}

  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
