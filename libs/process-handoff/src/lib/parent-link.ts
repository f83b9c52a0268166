import { withDeadline } from './deadline';
import { isToSuccessor, type OutputStream, type ToPredecessor } from './handoff-messages';
import type { ParentChannel, ProcessEnvironment } from './process-environment';
import { describeExit, isGone, tryStat, type ProcStat } from './proc-stat';
import type { HandoffLog } from './upgrader-options';
import type { PredecessorLoss } from './upgrader.types';

/** The predecessor as the successor knows it: its pid, and its start time when it passed one. */
export interface PredecessorRef {
  pid: number;
  start?: number;
}

/** A chunk longer than this is cut to its end: the predecessor keeps only the last lines anyway. */
const MAX_CHUNK_CHARS = 16_000;
/** Output messages in flight before further output is held back and coalesced (a slow channel must not grow memory). */
const MAX_IN_FLIGHT = 16;

/**
 * The successor's side of a handoff: greets the predecessor, receives its state,
 * copies this process's output to it until ready (its own stdout/stderr are the
 * predecessor's anyway; the copy is for the failure report), reports a fatal
 * error, and says ready. After ready it only receives the client connections the
 * predecessor hands over (`onConnection`), and the processes it offers to stop as it
 * retires (`afterReady.retiring`), and reports its work meanwhile (`reportWork`), until
 * the predecessor exits; the channel is unref'd
 * then, so it never keeps this process alive.
 *
 * When the channel closes before ready, the predecessor's fate decides: if it is
 * gone (or dying: the kernel marks a process exiting before its sockets close),
 * this process carries on standalone on the listeners it holds and takes over
 * when it is ready ({@link lost} says what happened). If it still runs, the
 * channel broke under it: it still decides, cannot hear us any more, and will
 * kill us, so {@link ready} refuses to take over.
 */
export class ParentLink {
  private state: { data: unknown } | undefined;
  private stateArrived!: () => void;
  private readonly stateSeen = new Promise<void>((resolve) => (this.stateArrived = resolve));
  private teeing = true;
  private inFlight = 0;
  private readonly held: Record<OutputStream, string> = { stdout: '', stderr: '' };
  private finished = false;
  private readied = false;
  private broken = false;
  private loss: PredecessorLoss | undefined;
  /** Stopped at ready: the output copy and the fatal report. */
  private readonly stops: (() => void)[] = [];
  private stopListening: (() => void) | undefined;
  /** The app's listeners for the predecessor's messages, by kind (Upgrader.onPredecessorMessage). */
  readonly appListeners = new Map<string, (data: unknown) => void>();

  constructor(
    private readonly channel: ParentChannel,
    private readonly env: ProcessEnvironment,
    private readonly log: HandoffLog,
    private readonly predecessor: PredecessorRef,
    /** A client connection the predecessor handed over, for the listener of that name (its socket handle). */
    private readonly onConnection: (listener: string, handle: unknown) => void = () => undefined,
    /** The predecessor went away before this process was ready (after {@link lost} is set). */
    private readonly onLoss: () => void = () => undefined,
    /** After ready: the predecessor retires and offers these processes to stop (`retiring`); the channel closed (`closed`). */
    private readonly afterReady: { retiring?: (targets: number[]) => void; closed?: () => void; handle?: (kind: string, data: unknown, handle: unknown) => void } = {},
  ) {}

  /** The predecessor died before this process was ready; undefined while it did not. */
  get lost(): PredecessorLoss | undefined {
    return this.loss;
  }

  /** Starts listening and greets the predecessor; call once, as early as possible. */
  start(): void {
    this.stopListening = this.channel.listen({ message: (message, handle) => this.onMessage(message, handle), disconnect: () => this.onDisconnect() });
    this.stops.push(
      this.env.tapOutput((stream, text) => this.forward(stream, text)),
      this.env.onFatal((error) => {
        const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
        void this.send({ type: 'fatal', text }).catch(() => undefined); // the process dies next; nobody to tell
      }),
    );
    if (!this.channel.connected) {
      this.onDisconnect(); // closed before we ran (the app, or a predecessor that died very early)
      return;
    }
    void this.send({ type: 'hello', pid: this.env.pid }).catch((error: Error) => this.log('warn', 'could not greet the predecessor', { error: error.message }));
  }

  /** The predecessor's state, or undefined when none arrives within `timeoutMs` (or the predecessor is gone). */
  async inheritedState(timeoutMs: number): Promise<unknown> {
    await withDeadline(this.env, this.stateSeen, timeoutMs, () => undefined);
    if (!this.state && this.loss) this.log('warn', 'starting without the predecessor\'s state: it is gone');
    else if (!this.state) this.log('warn', `no state from the predecessor within ${timeoutMs} ms; starting without it`);
    return this.state?.data;
  }

  /**
   * Tells the predecessor this process serves and waits until the message left; then
   * stops the output copy and keeps only the channel, unref'd, for handed-over
   * connections. Without a predecessor any more, nothing to tell.
   * @throws when the channel closed while the predecessor still runs: it decides
   *   whether this process may serve, and it can no longer hear it.
   */
  async ready(): Promise<void> {
    if (this.readied) return;
    if (!this.finished && !this.channel.connected) this.onDisconnect();
    if (!this.finished) {
      try {
        await this.send({ type: 'ready' });
        // A dying process keeps its sockets open while the kernel tears down its memory
        // (tens of ms for node): `ready` may have gone into the socket of one that is gone.
        if (this.predecessorGone()) this.onDisconnect('at the moment this process said ready');
      } catch (error) {
        this.log('warn', 'could not tell the predecessor that this process is ready', { error: (error as Error).message });
        this.onDisconnect();
      }
    }
    if (this.broken) {
      throw new Error(
        `the handoff channel to predecessor ${this.predecessor.pid} closed while it still runs: it cannot hear that this process is ready ` +
          'and will kill it; not taking over (the predecessor serves on)',
      );
    }
    this.readied = true;
    this.teeing = false;
    this.stops.splice(0).forEach((stop) => stop());
    this.stateArrived();
    if (this.channel.connected && !this.finished) this.channel.unref();
    else this.close();
  }

  /** Tells the predecessor that this process takes handles of `kind` (see Upgrader.onHandle). */
  wants(kind: string): void {
    if (this.finished) return;
    void this.send({ type: 'wants', kind }).catch(() => undefined); // the predecessor is gone: it passes nothing
  }

  /** Sends a message of the app's own to the predecessor; rejects once the channel is gone (or closed here). */
  async message(kind: string, data: unknown): Promise<void> {
    if (this.finished) throw new Error('the handoff channel to the predecessor is closed');
    await this.send({ type: 'message', kind, data });
  }

  /**
   * After ready, while the predecessor retires: tells it whether this process does work whose
   * latency counts now, so that it lets go of what it holds between such work. Nothing once the
   * channel closed; a failed send means it closed.
   */
  reportWork(busy: boolean): void {
    if (!this.readied || this.finished) return;
    void this.send({ type: 'work', busy }).catch(() => undefined);
  }

  /** Stops the copy of the output and every listener, and disconnects the channel. */
  close(): void {
    if (this.finished) return;
    this.finished = true;
    this.teeing = false;
    this.stops.splice(0).forEach((stop) => stop());
    this.stopListening?.();
    this.stateArrived();
    this.channel.disconnect();
    if (this.readied) this.afterReady.closed?.();
  }

  private onMessage(message: unknown, handle?: unknown): void {
    if (!isToSuccessor(message)) return;
    if (message.type === 'connection') {
      if (handle !== undefined && handle !== null) this.onConnection(message.listener, handle);
      return;
    }
    if (message.type === 'handle') {
      if (handle !== undefined && handle !== null) this.afterReady.handle?.(message.kind, message.data, handle);
      return;
    }
    if (message.type === 'message') {
      const listener = this.appListeners.get(message.kind);
      if (listener) listener(message.data);
      else this.log('warn', `ignored a ${message.kind} message from the predecessor: nothing here listens for it`);
      return;
    }
    if (message.type === 'retiring') {
      if (this.readied && !this.finished) this.afterReady.retiring?.(message.targets);
      return;
    }
    if (this.state) return;
    this.state = { data: message.data };
    this.stateArrived();
  }

  /** The predecessor's stat; null when /proc cannot be read here (our fd limit). */
  private predecessorStat(): ProcStat | undefined | null {
    return tryStat(this.env, this.predecessor.pid);
  }

  /**
   * Unreadable counts as gone: taking over is then the available choice, and never
   * two, since a predecessor that still runs sees the channel close and kills us.
   */
  private predecessorGone(): boolean {
    const stat = this.predecessorStat();
    return stat === null || isGone(stat, this.predecessor.start);
  }

  private onDisconnect(when = 'before this process was ready'): void {
    if (this.finished) return;
    if (this.readied) {
      this.close(); // the predecessor's exit: the handover of its connections is over
      return;
    }
    const { pid } = this.predecessor;
    const stat = this.predecessorStat() ?? undefined;
    if (this.predecessorGone()) {
      const how = describeExit(stat) ?? 'went away';
      this.loss = {
        pid, at: new Date(this.env.now()).toISOString(), ...(describeExit(stat) ? { exit: how } : {}),
        message: `predecessor ${pid} ${how} ${when}; this process serves on the sockets it passed and takes over`,
      };
      this.log('warn', `the ${this.loss.message}`, { predecessorPid: pid });
      this.onLoss();
    } else {
      this.broken = true;
      this.log('error', `the handoff channel to predecessor ${pid} closed while it still runs; this process will not take over`, { predecessorPid: pid });
    }
    this.close();
  }

  private forward(stream: OutputStream, text: string): void {
    if (!this.teeing) return;
    if (this.inFlight >= MAX_IN_FLIGHT) {
      this.held[stream] = clipChunk(this.held[stream] + text);
      return;
    }
    this.sendOutput(stream, clipChunk(text));
  }

  private sendOutput(stream: OutputStream, text: string): void {
    this.inFlight += 1;
    this.send({ type: 'output', stream, text })
      // A failed copy only means the channel closed; the disconnect handler says so.
      .catch(() => (this.teeing = false))
      .finally(() => {
        this.inFlight -= 1;
        for (const held of ['stdout', 'stderr'] as const) {
          if (this.held[held] === '' || !this.teeing) continue;
          const text = this.held[held];
          this.held[held] = '';
          this.sendOutput(held, text);
        }
      });
  }

  private send(message: ToPredecessor): Promise<void> {
    return this.channel.send(message);
  }
}

function clipChunk(text: string): string {
  return text.length > MAX_CHUNK_CHARS ? text.slice(-MAX_CHUNK_CHARS) : text;
}
