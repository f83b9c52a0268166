import type { HealthResult, HealthState } from '@edu-agents/health-client';
import type { InstanceManager, PidFileOwner, StartedInstance } from '../managers/instance-manager';
import { FakeHandoff, type FakeHandoffScript } from './fake-handoff';

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
  /** The API's hot handoff; absent: an API without one (no details.handoff). */
  handoff?: FakeHandoffScript;
  /** The manager has no start command (process manager without --start). */
  noStartCommand?: boolean;
  /**
   * A pid-file manager: the pid file the API reports on /health (`null`: it writes none,
   * so the pid file keeps the old pid until the CLI records the successor), and whether
   * that is another file than the CLI's.
   */
  pidFile?: { reported: string | null; conflict?: boolean };
}

/**
 * An in-memory InstanceManager for unit tests of the CLI's orchestration: one
 * simulated instance on a fake clock, no process and no socket. Its health
 * answers follow its pid and phase; the manager side records every call in
 * `calls` (shared log for ordering). With `script.handoff` it also plays the
 * API's hot handoff (see FakeHandoff). The HTTP fake instance that real nginx
 * talks to is another thing: `startFakeInstance` in @edu-agents/e2e-support.
 */
export class FakeInstanceManager implements InstanceManager {
  readonly label: string;
  pid: number | undefined;
  private phase: 'ready' | 'draining' | 'gone' | 'starting' = 'ready';
  private signalledAt = 0;
  private startedAt = 0;
  private readonly handoff: FakeHandoff | undefined;
  /** Set when the pid file / MainPID keeps naming a pid that handed over. */
  private stalePid: number | undefined;

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
    this.handoff = script.handoff && new FakeHandoff(script.handoff, clock);
  }

  private tick(): void {
    const s = this.script;
    if (this.phase === 'draining' && !s.neverExits && this.clock.t - this.signalledAt >= (s.drainMs ?? 300)) this.phase = 'gone';
    if (this.phase === 'starting' && !s.neverReady && !s.diesAfterStart && this.clock.t - this.startedAt >= (s.bootMs ?? 200)) this.phase = 'ready';
    const successor = this.pid === undefined ? undefined : this.handoff?.tick(this.pid);
    if (successor !== undefined) {
      if (this.handoff?.pidFileStays || this.script.pidFile?.reported === null) this.stalePid = this.pid;
      this.pid = successor;
    }
  }

  /** Whether `pid` is a live process of this instance (the serving one, a successor starting, a predecessor draining). */
  isAlive(pid: number): boolean {
    this.tick();
    return (pid === this.pid && this.phase !== 'gone') || (this.handoff?.isAlive(pid) ?? false);
  }

  /** The health answer at the current fake time. */
  health(): HealthResult {
    this.tick();
    const base = {
      body: {}, latencyMs: 2, reason: undefined, inFlight: 0, ...(this.handoff && { handoff: this.handoff.facts() }),
      ...(this.script.pidFile && { pidFile: this.script.pidFile.reported }),
    };
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
    return this.phase === 'gone' ? undefined : (this.stalePid ?? this.pid);
  }

  async signalStop(pid: number): Promise<void> {
    this.calls.push(`${this.name}:signal ${pid}`);
    if (this.script.signalThrows) throw new Error('EPERM');
    if (this.script.ignoresSignal) return;
    this.phase = 'draining';
    this.signalledAt = this.clock.t || 1;
  }

  async triggerHandoff(pid: number): Promise<string> {
    this.calls.push(`${this.name}:hup ${pid}`);
    if (this.script.signalThrows) throw new Error('EPERM');
    this.handoff?.trigger(pid);
    return `SIGHUP sent to pid ${pid}`;
  }

  replaceUsage(): string | undefined {
    return this.script.noStartCommand ? 'option --start <command> is required to replace the instance.' : undefined;
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

  async pidFileOwner(reported: string | null | undefined): Promise<PidFileOwner> {
    if (this.script.pidFile?.conflict) return { conflict: `--pid-file is not ${String(reported)}` };
    return { owner: reported === null ? 'cli' : 'api' };
  }

  async recordPid(pid: number): Promise<void> {
    this.calls.push(`${this.name}:recordPid ${pid}`);
    this.stalePid = undefined;
    if (this.pid !== pid) throw new Error(`recorded pid ${pid}, but ${this.pid ?? 'none'} serves`);
  }

  async startFailure(): Promise<string | undefined> {
    return this.script.diesAfterStart && this.phase === 'starting' ? 'exited with code 1' : undefined;
  }
}

/** A fake clock plus `check`/`sleep` that route URLs to fake instances. */
export function fakeWorld(instances: Record<string, FakeInstanceManager>, clock: { t: number }) {
  return {
    now: () => clock.t,
    isAlive: async (pid: number) => Object.values(instances).some((inst) => inst.isAlive(pid)),
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
