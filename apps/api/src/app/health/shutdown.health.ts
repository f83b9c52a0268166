import { resolve } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { API_RUNTIME, type ApiRuntime } from '../runtime/api-runtime';

/**
 * Readiness from the shutdown coordinator: up only in the `ready` phase. Its
 * details are what operators and the restart CLI follow during a drain.
 */
@Injectable()
export class ShutdownHealthIndicator {
  constructor(
    @Inject(HealthIndicatorService) private readonly indicators: HealthIndicatorService,
    @Inject(API_RUNTIME) private readonly runtime: ApiRuntime,
  ) {}

  readiness(key = 'shutdown'): HealthIndicatorResult {
    const s = this.runtime.coordinator.snapshot();
    const details = {
      phase: s.phase,
      inFlight: s.inFlight,
      oldestInFlightMs: s.oldestInFlightMs,
      drainingSince: s.drainingSince,
      deadline: s.deadline,
      pid: process.pid,
      // The pid file this process writes (PID_FILE, absolute), or null: the restart CLI keeps its own in step.
      pidFile: this.runtime.config.pidFile ? resolve(this.runtime.config.pidFile) : null,
    };
    const session = this.indicators.check(key);
    return s.ready ? session.up(details) : session.down(details);
  }

  /** Liveness: up until the process exits, whatever the phase. */
  liveness(key = 'process'): HealthIndicatorResult {
    return this.indicators.check(key).up({
      pid: process.pid,
      phase: this.runtime.coordinator.snapshot().phase,
      uptimeMs: Date.now() - this.runtime.startedAt,
    });
  }
}
