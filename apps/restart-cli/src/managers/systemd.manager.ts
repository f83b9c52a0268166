import { execFile } from 'node:child_process';
import type { InstanceManager, StartedInstance } from './instance-manager';
import { parseSystemdTimespan } from './systemd-timespan';
import { assertUnitName } from './unit-name';

/** Runs a program with an argument vector, no shell. Resolves stdout. */
export type ExecFile = (file: string, args: readonly string[]) => Promise<string>;

/** The real `ExecFile`: child_process.execFile with a 120 s bound (a Type=notify start waits for READY=1). */
export const realExecFile: ExecFile = (file, args) =>
  new Promise((resolve, reject) => {
    execFile(file, [...args], { timeout: 120_000, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${file} ${args.join(' ')} failed: ${stderr.trim() || error.message}`, { cause: error }));
      else resolve(stdout);
    });
  });

/** The unit properties the manager reads. */
export interface UnitState {
  readonly mainPid: number | undefined;
  readonly activeState: string;
  readonly timeoutStopMs: number | undefined;
}

/**
 * Manages a systemd unit through systemctl (argument vectors, never a shell):
 * SIGTERM to the main process only, MainPID/ActiveState/TimeoutStopUSec read back;
 * a handoff is `systemctl reload` (the units' ExecReload sends SIGHUP to MainPID).
 */
export class SystemdManager implements InstanceManager {
  readonly label: string;

  constructor(
    private readonly unit: string,
    private readonly exec: ExecFile = realExecFile,
  ) {
    assertUnitName(unit);
    this.label = `systemd unit ${unit}`;
  }

  /** `systemctl show`, parsed by key (systemctl prints properties in its own order). */
  async show(): Promise<UnitState> {
    const out = await this.exec('systemctl', ['show', '-p', 'MainPID,ActiveState,TimeoutStopUSec', this.unit]);
    const props = new Map<string, string>();
    for (const line of out.split('\n')) {
      const eq = line.indexOf('=');
      if (eq > 0) props.set(line.slice(0, eq), line.slice(eq + 1).trim());
    }
    const pid = Number(props.get('MainPID') ?? '0');
    return {
      mainPid: Number.isInteger(pid) && pid > 0 ? pid : undefined,
      activeState: props.get('ActiveState') ?? 'unknown',
      timeoutStopMs: parseSystemdTimespan(props.get('TimeoutStopUSec') ?? ''),
    };
  }

  async readPid(): Promise<number | undefined> {
    return (await this.show()).mainPid;
  }

  async signalStop(_pid: number): Promise<void> {
    // --kill-whom=main: only the main process; Chrome children are the API's to close.
    await this.exec('systemctl', ['kill', '--kill-whom=main', '--signal=SIGTERM', this.unit]);
  }

  async triggerHandoff(pid: number): Promise<string> {
    // Returns once ExecReload ran; with Type=notify and the API's RELOADING=1, once it sent READY=1 again.
    await this.exec('systemctl', ['reload', this.unit]);
    return `systemctl reload ${this.unit} (ExecReload: SIGHUP to MainPID ${pid})`;
  }

  replaceUsage(): undefined {
    return undefined;
  }

  async isGone(pid: number): Promise<boolean> {
    return (await this.show()).mainPid !== pid;
  }

  async start(): Promise<StartedInstance> {
    await this.exec('systemctl', ['start', this.unit]);
    const state = await this.show();
    return { pid: state.mainPid, detail: `systemctl start ${this.unit}: ${state.activeState}, MainPID ${state.mainPid ?? 'none'}` };
  }

  async startFailure(): Promise<string | undefined> {
    const state = await this.show();
    if (state.activeState === 'failed' || state.activeState === 'inactive') {
      return `${this.unit} is ${state.activeState}; see journalctl -u ${this.unit} -n 50`;
    }
    return undefined;
  }

  async stopTimeoutMs(): Promise<number | undefined> {
    return (await this.show()).timeoutStopMs;
  }
}
