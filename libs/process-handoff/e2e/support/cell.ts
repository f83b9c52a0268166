import { acceptedClientPorts, judgeLoad, listenerHolders, outcomeGaps, startLoadProcess, waitFor, type LoadMix, type LoadProcess, type LoadVerdict } from '@edu-agents/e2e-support';
import { readdirSync } from 'node:fs';
import { request } from 'node:http';
import { Fixture, type FixtureEvent, type FixtureOptions } from './fixture';
import { isRunning, signal, stateOf } from './proc';

/** Every request a plain GET: the fixture answers with the pid that served it. */
const GET_ROOT: LoadMix = { entries: [{ label: 'GET /', method: 'GET', path: '/' }] };

export interface CellOptions extends FixtureOptions {
  /** Mode words of the successor (written before the SIGHUP). */
  successor?: string;
  /** Open-loop requests per second, in a process of their own; 0 for none. */
  rate?: number;
}

/** A client's outcome of one request outside the load: the pid that answered, or the error. */
export interface Answer {
  pid?: number;
  error?: string;
}

/** GET `path` on a fresh connection; resolves with the answering pid or the error code. */
export function ask(port: number, path = '/', timeoutMs = 10_000): Promise<Answer> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, headers: { connection: 'close' } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ pid: Number(body) }));
      res.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
    });
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
    // A socket that is held but never accepted on (the measured outage) queues connections forever.
    req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'TIMEOUT' })));
    req.end();
  });
}

/**
 * One cell of the fault campaign: the fixture serving under open-loop load (in a
 * process of its own), a handoff driven to a phase, a fault injected there, and
 * the invariants checked afterwards:
 * - the port never refuses a connection while a process that holds it lives, and
 *   no request fails except on the connections of a process that was SIGKILLed or
 *   crashed ({@link kill}, {@link crash} record those connections; a successor that a
 *   failed upgrade killed counts too), or, once the cell stopped the service on
 *   purpose ({@link refusalsExpected}), a refused or reset new connection;
 * - afterwards exactly one process of the run lives and holds the listening socket,
 *   it answers, and the pid file names it ({@link expectServing}) - or, where the
 *   fault is a stop, none ({@link expectNone});
 * - nothing is left behind: no other process of the run (a grandchild), no temporary file.
 */
export class Cell {
  successor: number | undefined;
  private load: LoadProcess | undefined;
  /** Which SIGHUP of the first generation {@link sighup} sent last (1-based): its outcome is the one awaited. */
  private hups = 1;
  private readonly excusedPorts = new Set<number>();
  /** Epoch ms from which a refused connection is expected: the cell stopped the service on purpose. */
  private refusalsFrom: number | undefined;
  /** The pid file the fixture writes (FIXTURE_PID_FILE, else in the run's directory). */
  pidFilePath: string | undefined;
  private readonly crashed = new Set<number>();

  private constructor(
    readonly fixture: Fixture,
    readonly port: number,
    readonly first: number,
    private readonly options: CellOptions,
  ) {
    this.pidFilePath = options.env?.['FIXTURE_PID_FILE'];
  }

  /** Starts the first generation, waits until it is ready, and starts the load against it. */
  static async start(options: CellOptions = {}): Promise<Cell> {
    const fixture = new Fixture(options);
    try {
      const first = await fixture.firstPid();
      const { port } = (await fixture.next('the first generation to listen', (e) => e.event === 'listening' && e.pid === first)) as FixtureEvent & { port: number };
      await fixture.next('the first generation to be ready', (e) => e.event === 'ready' && e.pid === first);
      const cell = new Cell(fixture, port, first, options);
      if ((options.rate ?? 100) > 0) {
        cell.load = await startLoadProcess({ port, ratePerSec: options.rate ?? 100, maxDurationMs: 180_000, baseClients: 8, maxClients: 256, timeoutMs: 20_000, mix: GET_ROOT });
        await fixture.next('the load to reach the first generation', (e) => e.event === 'conn' && e.pid === first);
      }
      if (options.successor !== undefined) fixture.mode(options.successor);
      return cell;
    } catch (error) {
      fixture.cleanup();
      throw error;
    }
  }

  /** SIGHUP to the first generation; resolves with the successor's pid once it was spawned. */
  async sighup(): Promise<number> {
    const spawned = this.fixture.events.filter((e) => this.isSpawn(e)).length;
    this.hups = this.fixture.events.filter((e) => e.event === 'sighup' && e.pid === this.first).length + 1;
    signal(this.first, 'SIGHUP');
    const started = await this.fixture.next('the successor to be spawned', (e) => this.isSpawn(e), 30_000, spawned + 1);
    this.successor = (started['fields'] as { successorPid: number }).successorPid;
    return this.successor;
  }

  /** The successor's node runs (its module loaded) but its library has not greeted yet: mode `hold`. */
  async beforeHello(): Promise<number> {
    const pid = await this.sighup();
    await this.fixture.next('the successor to load', (e) => e.event === 'loaded' && e.pid === pid);
    return pid;
  }

  /** The successor greeted, took the state and listens, and is not ready: mode `gate`. */
  async whileStarting(): Promise<number> {
    const pid = await this.sighup();
    await this.fixture.next('the successor to listen', (e) => e.event === 'listening' && e.pid === pid);
    return pid;
  }

  /**
   * The successor claimed the pid file and sent `ready`, which the predecessor has
   * not read: the predecessor is stopped (SIGSTOP) when this resolves; the caller
   * continues or kills it. Mode `gate`.
   */
  async atReady(): Promise<number> {
    const pid = await this.whileStarting();
    signal(this.first, 'SIGSTOP');
    // A signal is delivered, not obeyed at once: on a busy machine the predecessor may still run for a
    // moment, long enough to read the ready this cell needs unread.
    await waitFor('the predecessor to be stopped', () => stateOf(this.first) === 'T', 10_000);
    this.fixture.open('release');
    await this.fixture.next('the successor to say ready', (e) => e.event === 'ready' && e.pid === pid);
    return pid;
  }

  /** The predecessor's outcome of the n-th SIGHUP it got (default: the one {@link sighup} sent last). */
  outcome(n = this.hups): Promise<FixtureEvent & { outcome: { ok: boolean; reason?: string; message?: string; output?: string[]; successorPid?: number } }> {
    return this.fixture.next(`outcome #${n} of the first generation`, (e) => e.event === 'outcome' && e.pid === this.first, 60_000, n) as never;
  }

  /** Waits until the predecessor handed over (it drains from then on). */
  async handedOver(): Promise<void> {
    const outcome = (await this.outcome()).outcome;
    if (!outcome.ok) throw new Error(`the handoff failed: ${JSON.stringify(outcome)}`);
  }

  /**
   * A request the first generation accepts and answers only when the test opens the
   * gate: it keeps the predecessor draining. Resolves with the answer or the error.
   */
  async holdRequest(gate: string): Promise<{ answer: Promise<Answer> }> {
    const before = this.fixture.accepted(this.first).length;
    const answer = ask(this.port, `/wait?gate=${gate}`, 120_000);
    await this.fixture.next('the held request to be accepted', (e) => e.event === 'conn' && e.pid === this.first, 10_000, before + 1);
    return { answer }; // wrapped: an async function would wait for the answer itself
  }

  /**
   * SIGKILL, as the OOM killer or `kill -9` sends it. The process is stopped first
   * for an instant to read which client connections it holds: requests on those may
   * fail, nothing else may. Resolves once the process is dead (a zombie counts).
   */
  async kill(pid: number): Promise<void> {
    signal(pid, 'SIGSTOP');
    // Until the stop takes effect (a busy machine delays it) the process still accepts.
    await waitFor(`pid ${pid} to stop before its SIGKILL`, () => ['T', 't', 'Z', 'X', undefined].includes(stateOf(pid)), 10_000);
    for (const port of acceptedClientPorts(pid, this.port)) this.excusedPorts.add(port);
    for (const port of this.fixture.accepted(pid)) this.excusedPorts.add(port);
    signal(pid, 'SIGKILL');
    // Dead before the cell goes on: on a busy machine the kill takes effect only when the process next runs.
    await this.gone(pid);
  }

  /**
   * From now on the port may refuse: the fault stops the service (SIGTERM, or the only
   * holder dies), and no process that holds the socket is left to accept.
   */
  refusalsExpected(): void {
    this.refusalsFrom ??= Date.now();
  }

  /** An uncaught exception in `pid` (the fixture throws on SIGUSR2); its connections die with it. */
  crash(pid: number): void {
    this.crashed.add(pid);
    signal(pid, 'SIGUSR2');
  }

  /** Waits until `pid` has exited (a zombie counts as gone). */
  gone(pid: number, deadlineMs = 30_000): Promise<true> {
    return waitFor(`pid ${pid} to be gone`, () => !isRunning(pid), deadlineMs);
  }

  /** Waits until `pid` is a zombie: dead, its children reparented, not reaped (under a `lazy` parent). */
  zombie(pid: number, deadlineMs = 30_000): Promise<true> {
    return waitFor(`pid ${pid} to be a zombie`, () => stateOf(pid) === 'Z', deadlineMs);
  }

  /**
   * Waits until exactly `pid` is left of the run, holding the listening socket, then
   * checks that it answers every request and that the pid file names it.
   */
  async expectServing(pid: number, deadlineMs = 40_000): Promise<void> {
    await waitFor(`only pid ${pid} to be left of the run`, () => {
      const live = this.fixture.processes();
      return live.length === 1 && live[0] === pid && listenerHolders(this.port, live).join() === String(pid);
    }, deadlineMs).catch((error: Error) => {
      throw new Error(`${error.message}: running ${JSON.stringify(this.fixture.processes())}, holding the socket ${JSON.stringify(listenerHolders(this.port, this.fixture.processes()))}\n${this.transcript()}`, { cause: error });
    });
    const answers = await Promise.all(Array.from({ length: 10 }, () => ask(this.port)));
    expect(answers).toEqual(Array.from({ length: 10 }, () => ({ pid })));
    expect(this.fixture.pidFile(this.pidFilePath)).toBe(pid);
  }

  /** Waits until no process of the run is left (the fault was a stop: nothing should serve). */
  async expectNone(deadlineMs = 40_000): Promise<void> {
    await waitFor('no process of the run to be left', () => this.fixture.processes().length === 0, deadlineMs);
  }

  /** Stops the load and judges every request it sent (call before the last holder of the socket exits on purpose). */
  async stopLoad(): Promise<LoadVerdict> {
    if (!this.load) return { requests: 0, failed: 0, excused: 0, violations: [] };
    const load = this.load;
    this.load = undefined;
    load.stop();
    const { run } = await load.done;
    for (const pid of this.crashed) for (const port of this.fixture.accepted(pid)) this.excusedPorts.add(port);
    // A failed upgrade SIGKILLs its successor, which accepts from the moment it listens: its connections die with it.
    for (const e of this.fixture.events.filter((e) => e.event === 'outcome')) {
      const outcome = e['outcome'] as { ok: boolean; successorPid?: number };
      if (!outcome.ok && outcome.successorPid !== undefined) for (const port of this.fixture.accepted(outcome.successorPid)) this.excusedPorts.add(port);
    }
    expect(outcomeGaps(run)).toEqual({ missing: [], repeated: [] });
    const verdict = judgeLoad(run, { ports: this.excusedPorts, refusalsFrom: this.refusalsFrom });
    return verdict;
  }

  /** Stops the load and asserts the load invariants; no temporary file may be left in the run's directory. */
  async finish(): Promise<LoadVerdict> {
    const verdict = await this.stopLoad();
    expect({ violations: verdict.violations.slice(0, 10), count: verdict.violations.length }).toEqual({ violations: [], count: 0 });
    expect(readdirSync(this.fixture.dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    return verdict;
  }

  cleanup(): void {
    this.load?.stop();
    this.fixture.cleanup();
  }

  /** What the run printed, for a failure message. */
  transcript(): string {
    const events = this.fixture.events.filter((e) => e.event !== 'conn').map((e) => JSON.stringify(e));
    return `--- events (accepted connections left out) ---\n${events.join('\n')}\n--- stderr ---\n${this.fixture.output.slice(-4_000)}`;
  }

  private isSpawn(e: FixtureEvent): boolean {
    return e.event === 'log' && e.pid === this.first && e['message'] === 'successor started';
  }
}

/** Cells not cleaned up yet: a cell whose test timed out never reaches its own cleanup. */
const open = new Set<Cell>();
afterAll(() => {
  for (const cell of open) cell.cleanup();
  open.clear();
});

/** Runs `body` with a cell and always cleans up (at the end of the file at the latest); the name shows in a failure. */
export async function inCell(options: CellOptions, body: (cell: Cell) => Promise<void>): Promise<void> {
  const cell = await Cell.start(options);
  open.add(cell);
  try {
    await body(cell);
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${cell.transcript()}`, { cause: error });
  } finally {
    open.delete(cell);
    cell.cleanup();
  }
}
