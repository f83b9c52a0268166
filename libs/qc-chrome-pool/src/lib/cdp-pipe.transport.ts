import type { Readable, Writable } from 'node:stream';
import type { ConnectionTransport } from 'puppeteer';

/**
 * Chrome's `--remote-debugging-pipe`: DevTools messages as JSON, each ended by a NUL
 * byte, written to Chrome's fd 3 and read from its fd 4. puppeteer's own pipe
 * transport is internal to it; this is the public `ConnectionTransport` that
 * `puppeteer.connect` takes.
 */
export class CdpPipeTransport implements ConnectionTransport {
  onmessage?: (message: string) => void;
  onclose?: () => void;
  /**
   * Sees each message as it is read, before `onmessage`; one it returns true for is not delivered
   * here (a relay takes it: see cdp-relay.ts).
   */
  divert?: (message: string) => boolean;
  private pending: Buffer[] = [];
  private closed = false;
  private readonly onData = (chunk: Buffer) => this.receive(chunk);
  private readonly onClose = () => {
    this.closed = true;
    this.onclose?.();
  };

  /**
   * `leftover`: the bytes another process's transport had read from the same pipe but not yet as a
   * whole message when it let go ({@link release}); they come before anything read here.
   */
  constructor(
    /** The pipe's end this transport writes to (Chromium's fd 3); {@link release} leaves it open. */
    readonly toChrome: Writable,
    /** The pipe's end this transport reads from (Chromium's fd 4). */
    readonly fromChrome: Readable,
    leftover?: Buffer,
  ) {
    if (leftover !== undefined && leftover.length > 0) this.pending.push(leftover);
    fromChrome.on('data', this.onData);
    // A stream another transport of this process released was paused: a 'data' listener alone does not resume it.
    fromChrome.resume();
    fromChrome.once('close', this.onClose);
    // A pipe error ends in 'close' above; the browser's 'disconnected' says the rest.
    fromChrome.on('error', () => undefined);
    toChrome.on('error', () => undefined);
  }

  /**
   * Lets go of the browser for another process to go on with it over the same pipe: stops
   * reading and sending, and returns what was read but is not yet a whole message, for the
   * other side's `leftover`. Messages read whole are still delivered here. The streams stay
   * open: the caller passes them on (`subprocess.send(message, stream)` over an IPC channel, or
   * inherited descriptors), keeps them to take the browser back, or closes them. Call it once
   * every reply this side waits for has come; no `onclose` follows, since the browser lives on.
   */
  release(): Buffer {
    this.closed = true;
    this.fromChrome.off('data', this.onData);
    this.fromChrome.off('close', this.onClose);
    this.fromChrome.pause();
    // pause() alone lets a pipe go on reading into the stream's buffer: stop the reads themselves
    // (and say so, so that a transport of this process that goes on with the stream starts them again).
    const handle = (this.fromChrome as Readable & { _handle?: { readStop?: () => void; reading?: boolean } })._handle;
    handle?.readStop?.();
    if (handle) handle.reading = false;
    // The stream's own pending read would never complete now: clear it too, for the same reason.
    const state = (this.fromChrome as Readable & { _readableState?: { reading?: boolean } })._readableState;
    if (state) state.reading = false;
    for (let chunk = this.fromChrome.read() as Buffer | null; chunk !== null; chunk = this.fromChrome.read() as Buffer | null) this.receive(chunk);
    const rest = Buffer.concat(this.pending);
    this.pending = [];
    return rest;
  }

  send(message: string): void {
    if (this.closed) return;
    this.toChrome.write(message);
    this.toChrome.write('\0');
  }

  close(): void {
    this.closed = true;
  }

  private receive(chunk: Buffer): void {
    if (chunk.indexOf(0) === -1) {
      this.pending.push(chunk);
      return;
    }
    const data = Buffer.concat([...this.pending, chunk]);
    let start = 0;
    for (let end = data.indexOf(0); end !== -1; end = data.indexOf(0, start)) {
      const message = data.toString('utf8', start, end);
      start = end + 1;
      if (this.divert?.(message)) continue;
      // Like puppeteer's transport: one message per macrotask, so a burst cannot starve the loop.
      setImmediate(() => this.onmessage?.(message));
    }
    this.pending = start < data.length ? [data.subarray(start)] : [];
  }
}
