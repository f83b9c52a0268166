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
  private pending: Buffer[] = [];
  private closed = false;

  constructor(
    private readonly toChrome: Writable,
    fromChrome: Readable,
  ) {
    fromChrome.on('data', (chunk: Buffer) => this.receive(chunk));
    fromChrome.once('close', () => {
      this.closed = true;
      this.onclose?.();
    });
    // A pipe error ends in 'close' above; the browser's 'disconnected' says the rest.
    fromChrome.on('error', () => undefined);
    toChrome.on('error', () => undefined);
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
      // Like puppeteer's transport: one message per macrotask, so a burst cannot starve the loop.
      setImmediate(() => this.onmessage?.(message));
      start = end + 1;
    }
    this.pending = start < data.length ? [data.subarray(start)] : [];
  }
}
