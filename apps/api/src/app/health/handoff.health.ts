import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { API_RUNTIME, type ApiRuntime } from '../runtime/api-runtime';

/**
 * The hot handoff as `/health` shows it, always `up` (it never makes the
 * instance unready): whether this process can hand over, what it is doing
 * (`idle`, `spawning`, `starting`, `killing`, `handed-over`), the successor's
 * or predecessor's pid, and the last attempt with a failed successor's output.
 * The restart CLI reads it to choose handoff by default and to report a failure.
 */
@Injectable()
export class HandoffHealthIndicator {
  constructor(
    @Inject(HealthIndicatorService) private readonly indicators: HealthIndicatorService,
    @Inject(API_RUNTIME) private readonly runtime: ApiRuntime,
  ) {}

  check(key = 'handoff'): HealthIndicatorResult {
    const snapshot = this.runtime.handoff.snapshot();
    return this.indicators.check(key).up({ ...snapshot, supported: snapshot.enabled && snapshot.supported });
  }
}
