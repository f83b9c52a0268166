import type { ToPredecessor, ToSuccessor } from '../src/lib/handoff-messages';
import type { ChildHandlers, ParentChannel, ParentHandlers, SpawnedChild, SpawnRequest } from '../src/lib/process-environment';

/** A successor as the fake spawn made it: the test plays its part. */
export class FakeChild implements SpawnedChild {
  readonly sent: ToSuccessor[] = [];
  /** Handles sent with messages, in order. */
  readonly handles: unknown[] = [];
  disconnected = false;
  unrefed = false;
  exited = false;
  sendFails = false;
  /** Where sent messages go besides `sent` (a connected {@link FakeParentChannel}). */
  peer: ((message: ToSuccessor, handle?: unknown) => void) | undefined;

  constructor(
    readonly pid: number | undefined,
    readonly request: SpawnRequest,
    private readonly handlers: ChildHandlers,
  ) {}

  async send(message: ToSuccessor, handle?: unknown): Promise<void> {
    if (this.sendFails || this.disconnected) throw new Error('channel closed');
    this.sent.push(message);
    const peer = this.peer;
    if (peer) void Promise.resolve().then(() => peer(message, handle));
  }

  async sendHandle(message: ToSuccessor, handle: unknown): Promise<void> {
    await this.send(message, handle);
    this.handles.push(handle);
  }

  disconnect(): void {
    this.disconnected = true;
  }

  unref(): void {
    this.unrefed = true;
  }

  /** The successor sends a message. */
  says(message: ToPredecessor | unknown): void {
    this.handlers.message(message);
  }

  exit(code: number | null, signal: NodeJS.Signals | null = null): void {
    if (this.exited) return;
    this.exited = true;
    this.handlers.exit(code, signal);
  }

  /** The successor closes its end of the channel (it keeps running). */
  closeChannel(): void {
    this.handlers.disconnect?.();
  }

  failToSpawn(error: Error): void {
    this.handlers.spawnError(error);
  }
}

/** The successor's channel to its predecessor. */
export class FakeParentChannel implements ParentChannel {
  readonly sent: ToPredecessor[] = [];
  connected = true;
  unrefed = false;
  /** Where sent messages go besides `sent` (a connected {@link FakeChild}). */
  peer: ((message: ToPredecessor) => void) | undefined;
  private handlers: ParentHandlers | undefined;

  async send(message: ToPredecessor): Promise<void> {
    if (!this.connected) throw new Error('channel closed');
    this.sent.push(message);
    const peer = this.peer;
    if (peer) void Promise.resolve().then(() => peer(message));
  }

  listen(handlers: ParentHandlers): () => void {
    this.handlers = handlers;
    return () => (this.handlers = undefined);
  }

  disconnect(): void {
    this.connected = false;
  }

  unref(): void {
    this.unrefed = true;
  }

  get listening(): boolean {
    return this.handlers !== undefined;
  }

  /** The predecessor sends a message. */
  deliver(message: ToSuccessor, handle?: unknown): void {
    this.handlers?.message(message, handle);
  }

  /** The predecessor goes away. */
  drop(): void {
    this.connected = false;
    this.handlers?.disconnect();
  }
}
