import { PassThrough } from 'node:stream';
import { CdpPipeTransport } from './cdp-pipe.transport';

/** What a transport delivered, once the macrotasks it scheduled ran. */
function collect(transport: CdpPipeTransport): string[] {
  const messages: string[] = [];
  transport.onmessage = (message) => messages.push(message);
  return messages;
}
const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('CdpPipeTransport', () => {
  it('delivers each NUL-ended message once, however the pipe cuts it', async () => {
    const fromChrome = new PassThrough();
    const transport = new CdpPipeTransport(new PassThrough(), fromChrome);
    const messages = collect(transport);
    fromChrome.write('{"id":1}\0{"id"');
    fromChrome.write(':2}\0');
    await turn();
    expect(messages).toEqual(['{"id":1}', '{"id":2}']);
  });

  it('lets go with the part of a message it has read, and the next transport delivers that message whole', async () => {
    // Two processes' ends of one pipe: what the first read before it let go, and what is left in the pipe for the second.
    const first = new PassThrough();
    const toChrome = new PassThrough();
    const before = new CdpPipeTransport(toChrome, first);
    const mine = collect(before);
    let closed = false;
    before.onclose = () => (closed = true);
    first.write('{"id":1}\0{"method":"Target.targetCr');
    await turn();
    const leftover = before.release();
    expect(leftover.toString()).toBe('{"method":"Target.targetCr');
    await turn();
    expect(mine).toEqual(['{"id":1}']);
    expect(closed).toBe(false);
    // The streams are the caller's to pass on: still open, and nothing more is read from them here.
    expect(first.destroyed || toChrome.destroyed).toBe(false);
    first.write('{"id":3}\0');
    await turn();
    expect(mine).toEqual(['{"id":1}']);
    // Closing this process's copy once passed on is not the browser closing.
    first.destroy();
    await turn();
    expect(closed).toBe(false);

    const second = new PassThrough();
    const after = new CdpPipeTransport(new PassThrough(), second, leftover);
    const theirs = collect(after);
    second.write('eated"}\0{"id":2}\0');
    await turn();
    expect(theirs).toEqual(['{"method":"Target.targetCreated"}', '{"id":2}']);
  });

  it('reads nothing more and sends nothing once it let go', async () => {
    const fromChrome = new PassThrough();
    const toChrome = new PassThrough();
    const transport = new CdpPipeTransport(toChrome, fromChrome);
    const messages = collect(transport);
    const written: string[] = [];
    toChrome.on('data', (chunk: Buffer) => written.push(chunk.toString()));
    transport.send('{"id":1}');
    await turn();
    expect(written.join('')).toBe('{"id":1}\0');
    transport.release();
    transport.send('{"id":2}');
    await turn();
    expect(written.join('')).toBe('{"id":1}\0');
    expect(messages).toEqual([]);
  });
});
