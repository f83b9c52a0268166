import { connect, type Socket } from 'node:net';

/**
 * A POST /qc/check whose body arrives in two parts: headers and the first half now,
 * the rest on `finish()`. While the body is incomplete the request is in flight on
 * the server. The body is not valid QC input, so the API answers 400 after reading it
 * all: a complete non-5xx answer means the request was served normally.
 */
export class SlowRequest {
  private readonly socket: Socket;
  private response = '';
  private readonly body = JSON.stringify({ notHtml: 'x'.repeat(64) });
  readonly closed: Promise<string>;

  constructor(port: number) {
    this.socket = connect(port, '127.0.0.1');
    this.socket.on('data', (c) => (this.response += c.toString()));
    this.closed = new Promise((resolve, reject) => {
      this.socket.once('error', reject);
      this.socket.once('close', () => resolve(this.response));
    });
  }

  async begin(): Promise<void> {
    await new Promise<void>((resolve) => this.socket.once('connect', () => resolve()));
    this.socket.write(`POST /qc/check HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${this.body.length}\r\nConnection: close\r\n\r\n`);
    this.socket.write(this.body.slice(0, 10));
  }

  finish(): void {
    this.socket.end(this.body.slice(10));
  }

  /** Status code of the complete response, once the server closed the connection. */
  async status(): Promise<number> {
    const text = await this.closed;
    const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
    if (!m) throw new Error(`no complete HTTP response: ${JSON.stringify(text)}`);
    return Number(m[1]);
  }

  destroy(): void {
    this.socket.destroy();
  }
}
