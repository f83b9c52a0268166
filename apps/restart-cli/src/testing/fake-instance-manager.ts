import type { HealthResult, HealthState } from '@edu-agents/health-client';
import type { InstanceManager, StartedInstance } from '../managers/instance-manager';

/** How the fake instance misbehaves, if at all. */
export interface FakeScript {
  readyBefore?: HealthState;
  noPid?: boolean;
  signalThrows?: boolean;
  ignoresSignal?: boolean;
  neverExits?: boolean;
  startThrows?: boolean;
  diesAfterStart?: boolean;
  neverReady?: boolean;
  /** Simulated drain time after SIGTERM. */
  drainMs?: number;
  /** Simulated boot time after start. */
  bootMs?: number;
}

/**
 * An in-memory InstanceManager for unit tests of the CLI's orchestration: one
 * simulated instance on a fake clock, no process and no socket. Its health
 * answers follow its pid and phase; the manager side records every call in
 * `calls` (shared log for ordering). The HTTP fake instance that real nginx
 * talks to is another thing: `startFakeInstance` in @edu-agents/e2e-support.
 */
export class FakeInstanceManager implements InstanceManager {
  readonly label: string;
  pid: number | undefined;
  private phase: 'ready' | 'draining' | 'gone' | 'starting' = 'ready';
  private signalledAt = 0;
  private startedAt = 0;

  constructor(
    readonly name: string,
    private readonly clock: { t: number },
    readonly calls: string[],
    private readonly script: FakeScript = {},
    firstPid = 100,
  ) {
    this.label = `fake ${name}`;
    this.pid = script.noPid ? undefined : firstPid;
    if (script.noPid) this.phase = 'gone';
  }

  private tick(): void {
    const s = this.script;
    if (this.phase === 'draining' && !s.neverExits && this.clock.t - this.signalledAt >= (s.drainMs ?? 300)) this.phase = 'gone';
    if (this.phase === 'starting' && !s.neverReady && !s.diesAfterStart && this.clock.t - this.startedAt >= (s.bootMs ?? 200)) this.phase = 'ready';
  }

  /** The health answer at the current fake time. */
  health(): HealthResult {
    this.tick();
    const base = { body: {}, latencyMs: 2, reason: undefined, inFlight: 0 };
    if (this.phase === 'gone' || (this.phase === 'starting' && this.script.diesAfterStart)) {
      return { ...base, state: 'unreachable', httpStatus: undefined, phase: undefined, pid: undefined, reason: 'ECONNREFUSED' };
    }
    if (this.phase === 'ready' && this.script.readyBefore && this.signalledAt === 0 && this.startedAt === 0) {
      return { ...base, state: this.script.readyBefore, httpStatus: 503, phase: 'ready', pid: this.pid };
    }
    const state: HealthState = this.phase === 'ready' ? 'ready' : this.phase === 'draining' ? 'draining' : 'starting';
    return { ...base, state, httpStatus: state === 'ready' ? 200 : 503, phase: this.phase as 'ready', pid: this.pid, inFlight: this.phase === 'draining' ? 1 : 0 };
  }

  async readPid(): Promise<number | undefined> {
    this.calls.push(`${this.name}:readPid`);
    this.tick();
    return this.phase === 'gone' ? undefined : this.pid;
  }

  async signalStop(pid: number): Promise<void> {
    this.calls.push(`${this.name}:signal ${pid}`);
    if (this.script.signalThrows) throw new Error('EPERM');
    if (this.script.ignoresSignal) return;
    this.phase = 'draining';
    this.signalledAt = this.clock.t || 1;
  }

  async isGone(pid: number): Promise<boolean> {
    this.tick();
    return this.pid !== pid || this.phase === 'gone';
  }

  async start(): Promise<StartedInstance> {
    this.calls.push(`${this.name}:start`);
    if (this.script.startThrows) throw new Error('spawn /bin/sh ENOENT');
    this.pid = (this.pid ?? 100) + 1;
    this.phase = 'starting';
    this.startedAt = this.clock.t || 1;
    return { pid: this.pid, detail: `started pid ${this.pid}` };
  }

  async startFailure(): Promise<string | undefined> {
    return this.script.diesAfterStart && this.phase === 'starting' ? 'exited with code 1' : undefined;
  }
}

/** A fake clock plus `check`/`sleep` that route URLs to fake instances. */
export function fakeWorld(instances: Record<string, FakeInstanceManager>, clock: { t: number }) {
  return {
    now: () => clock.t,
    sleep: async (ms: number) => {
      clock.t += Math.max(1, ms);
    },
    check: async (url: string): Promise<HealthResult> => {
      clock.t += 2;
      const inst = instances[url];
      if (!inst) throw new Error(`no fake instance at ${url}`);
      return inst.health();
    },
  };
}
