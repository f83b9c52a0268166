import { withDeadline } from './deadline';
import { isToSuccessor, type OutputStream, type ToPredecessor } from './handoff-messages';
import type { ParentChannel, ProcessEnvironment } from './process-environment';
import type { HandoffLog } from './upgrader-options';

/** A chunk longer than this is cut to its end: the predecessor keeps only the last lines anyway. */
const MAX_CHUNK_CHARS = 16_000;
/** Output messages in flight before further output is held back and coalesced (a slow channel must not grow memory). */
const MAX_IN_FLIGHT = 16;

/**
 * The successor's side of a handoff: greets the predecessor, receives its state,
 * copies this process's output to it until ready (its own stdout/stderr are the
 * predecessor's anyway; the copy is for the failure report), reports a fatal
 * error, and says ready. After ready it only receives the client connections the
 * predecessor hands over (`onConnection`) until the predecessor exits; the channel
 * is unref'd then, so it never keeps this process alive. If the predecessor goes
 * away first, this process carries on standalone: it holds the listeners.
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
  /** Stopped at ready: the output copy and the fatal report. */
  private readonly stops: (() => void)[] = [];
  private stopListening: (() => void) | undefined;

  constructor(
    private readonly channel: ParentChannel,
    private readonly env: ProcessEnvironment,
    private readonly log: HandoffLog,
    /** A client connection the predecessor handed over, for the listener of that name (its socket handle). */
    private readonly onConnection: (listener: string, handle: unknown) => void = () => undefined,
  ) {}

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
    void this.send({ type: 'hello', pid: this.env.pid }).catch((error: Error) => this.log('warn', 'could not greet the predecessor', { error: error.message }));
  }

  /** The predecessor's state, or undefined when none arrives within `timeoutMs` (or the predecessor is gone). */
  async inheritedState(timeoutMs: number): Promise<unknown> {
    await withDeadline(this.env, this.stateSeen, timeoutMs, () => undefined);
    if (!this.state) this.log('warn', `no state from the predecessor within ${timeoutMs} ms; starting without it`);
    return this.state?.data;
  }

  /**
   * Tells the predecessor this process serves and waits until the message left; then
   * stops the output copy and keeps only the channel, unref'd, for handed-over connections.
   */
  async ready(): Promise<void> {
    if (this.finished || this.readied) return;
    this.readied = true;
    if (this.channel.connected) {
      try {
        await this.send({ type: 'ready' });
      } catch (error) {
        this.log('warn', 'could not tell the predecessor that this process is ready; it will time out and kill its successor', {
          error: (error as Error).message,
        });
      }
    }
    this.teeing = false;
    this.stops.splice(0).forEach((stop) => stop());
    this.stateArrived();
    if (this.channel.connected) this.channel.unref();
    else this.close();
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
  }

  private onMessage(message: unknown, handle?: unknown): void {
    if (!isToSuccessor(message)) return;
    if (message.type === 'connection') {
      if (handle !== undefined && handle !== null) this.onConnection(message.listener, handle);
      return;
    }
    if (this.state) return;
    this.state = { data: message.data };
    this.stateArrived();
  }

  private onDisconnect(): void {
    if (this.finished) return;
    // After ready this is the predecessor's exit: the handover of its connections is over.
    if (!this.readied) this.log('warn', 'the predecessor went away before this process was ready; carrying on on its own');
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
