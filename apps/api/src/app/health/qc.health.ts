import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { API_RUNTIME, type ApiRuntime } from '../runtime/api-runtime';

/** The QC pool as a required part of readiness: down when no browser can be had. */
@Injectable()
export class QcHealthIndicator {
  constructor(
    @Inject(HealthIndicatorService) private readonly indicators: HealthIndicatorService,
    @Inject(API_RUNTIME) private readonly runtime: ApiRuntime,
  ) {}

  /** Whether the indicator applies (QC_ENABLED). */
  get enabled(): boolean {
    return this.runtime.qc !== null;
  }

  check(key = 'qc'): HealthIndicatorResult {
    const session = this.indicators.check(key);
    const pool = this.runtime.qc;
    if (!pool) return session.up({ enabled: false });
    const health = pool.health();
    const details = { browsers: health.browsers, ...(health.message ? { message: health.message } : {}) };
    return health.up ? session.up(details) : session.down(details);
  }
}
