import { PassThrough } from 'node:stream';
import { CdpPipeTransport } from './cdp-pipe.transport';
import { ChromeRelayHost, RelayedTransport, sessionOf } from './cdp-relay';

const BROWSER = 'B0B0B0B0B0B0B0B0B0B0B0B0B0B0B0B0';
const PAGE = 'C1C1C1C1C1C1C1C1C1C1C1C1C1C1C1C1';
const OTHER = 'D2D2D2D2D2D2D2D2D2D2D2D2D2D2D2D2';
const turn = () => new Promise((resolve) => setImmediate(resolve));
const written = (stream: PassThrough) => String(stream.read() ?? '').split('\0').filter(Boolean);

describe('sessionOf', () => {
  it('reads the top-level session Chromium writes last, and none from a message of the connection itself', () => {
    expect(sessionOf(`{"id":3,"result":{},"sessionId":"${PAGE}"}`)).toBe(PAGE);
    expect(sessionOf(`{"method":"Target.attachedToTarget","params":{"sessionId":"${PAGE}"}}`)).toBeUndefined();
    expect(sessionOf('{"id":1,"result":{"sessionId":"x"}}')).toBeUndefined();
  });
});

describe('RelayedTransport (the borrower\'s side)', () => {
  it('puts its browser-level session on commands that name none, takes it off answers, follows attached sessions, and drops what is not its own', async () => {
    const sent: string[][] = [];
    const transport = new RelayedTransport(BROWSER, (batch) => sent.push(batch));
    const got: string[] = [];
    transport.onmessage = (message) => got.push(message);
    transport.send('{"method":"Target.getBrowserContexts","params":{},"id":1}');
    transport.send(`{"method":"Page.enable","params":{},"id":2,"sessionId":"${PAGE}"}`);
    await Promise.resolve();
    expect(sent).toEqual([[`{"method":"Target.getBrowserContexts","params":{},"id":1,"sessionId":"${BROWSER}"}`, `{"method":"Page.enable","params":{},"id":2,"sessionId":"${PAGE}"}`]]);
    transport.deliver([
      `{"id":1,"result":{"browserContextIds":[]},"sessionId":"${BROWSER}"}`,
      `{"id":2,"result":{},"sessionId":"${PAGE}"}`, // not attached yet: not its own
      `{"method":"Target.attachedToTarget","params":{"sessionId":"${PAGE}","targetInfo":{}},"sessionId":"${BROWSER}"}`,
      `{"id":3,"result":{},"sessionId":"${PAGE}"}`,
      `{"id":4,"result":{},"sessionId":"${OTHER}"}`,
      '{"id":5,"result":{}}',
    ]);
    await turn();
    expect(got).toEqual([
      '{"id":1,"result":{"browserContextIds":[]}}',
      `{"method":"Target.attachedToTarget","params":{"sessionId":"${PAGE}","targetInfo":{}}}`,
      `{"id":3,"result":{},"sessionId":"${PAGE}"}`,
    ]);
  });

  it('never has the browser\'s new pages wait for it (browser-wide auto-attach without waitForDebuggerOnStart); what its pages attach to still does', async () => {
    const sent: string[][] = [];
    const transport = new RelayedTransport(BROWSER, (batch) => sent.push(batch));
    transport.send('{"method":"Target.setAutoAttach","params":{"waitForDebuggerOnStart":true,"flatten":true,"autoAttach":true},"id":4}');
    transport.send(`{"method":"Target.setAutoAttach","params":{"waitForDebuggerOnStart":true,"flatten":true,"autoAttach":true},"id":5,"sessionId":"${PAGE}"}`);
    await Promise.resolve();
    expect(sent.flat().map((m) => JSON.parse(m) as { id: number; params: { waitForDebuggerOnStart: boolean }; sessionId: string }).map((m) => [m.id, m.params.waitForDebuggerOnStart, m.sessionId])).toEqual([[4, false, BROWSER], [5, true, PAGE]]);
  });

  it('holds its commands while the pipe moves and writes them to the pipe, after what the host had read, once it came', async () => {
    const sent: string[][] = [];
    const transport = new RelayedTransport(BROWSER, (batch) => sent.push(batch));
    const got: string[] = [];
    transport.onmessage = (message) => got.push(message);
    transport.send('{"method":"A","params":{},"id":1}');
    transport.hold();
    transport.send('{"method":"B","params":{},"id":2}');
    await Promise.resolve();
    expect(sent.flat()).toEqual([`{"method":"A","params":{},"id":1,"sessionId":"${BROWSER}"}`]);
    const [toChrome, fromChrome] = [new PassThrough(), new PassThrough()];
    transport.moveTo(toChrome, fromChrome, Buffer.from(`{"id":1,"result":{},"sessi`));
    expect(written(toChrome)).toEqual([`{"method":"B","params":{},"id":2,"sessionId":"${BROWSER}"}`]);
    fromChrome.write(`onId":"${BROWSER}"}\0{"id":9,"result":{},"sessionId":"${OTHER}"}\0`);
    await turn();
    await turn();
    expect(got).toEqual(['{"id":1,"result":{}}']);
    expect(transport.pipe).toBeInstanceOf(CdpPipeTransport);
  });
});

describe('ChromeRelayHost (the lender\'s side)', () => {
  it('opens a browser-level session, passes on its messages in one batch per read and keeps its own, and writes the borrower\'s', async () => {
    const [toChrome, fromChrome] = [new PassThrough(), new PassThrough()];
    const pipe = new CdpPipeTransport(toChrome, fromChrome);
    const own: string[] = [];
    pipe.onmessage = (message) => own.push(message);
    const batches: string[][] = [];
    const host = new ChromeRelayHost(pipe, (batch) => batches.push(batch));
    const opened = host.open();
    const [open] = written(toChrome);
    const { id, method } = JSON.parse(open as string) as { id: number; method: string };
    expect(method).toBe('Target.attachToBrowserTarget');
    fromChrome.write(`{"id":${id},"result":{"sessionId":"${BROWSER}"}}\0`);
    await expect(opened).resolves.toBe(BROWSER);

    host.fromClient([`{"method":"Target.createBrowserContext","params":{},"id":7,"sessionId":"${BROWSER}"}`]);
    expect(written(toChrome)).toEqual([`{"method":"Target.createBrowserContext","params":{},"id":7,"sessionId":"${BROWSER}"}`]);
    fromChrome.write(`{"id":7,"result":{"browserContextId":"CTX"},"sessionId":"${BROWSER}"}\0{"id":7,"result":{}}\0{"method":"Target.attachedToTarget","params":{"sessionId":"${PAGE}"},"sessionId":"${BROWSER}"}\0{"id":1,"result":{},"sessionId":"${PAGE}"}\0`);
    await turn();
    expect(batches).toEqual([[
      `{"id":7,"result":{"browserContextId":"CTX"},"sessionId":"${BROWSER}"}`,
      `{"method":"Target.attachedToTarget","params":{"sessionId":"${PAGE}"},"sessionId":"${BROWSER}"}`,
      `{"id":1,"result":{},"sessionId":"${PAGE}"}`,
    ]]);
    expect(own).toEqual(['{"id":7,"result":{}}']);
    expect(host.clientContexts).toEqual(['CTX']);

    // The borrower went away: its context is closed and its session detached.
    const ended = host.end();
    const closing = written(toChrome).map((m) => JSON.parse(m) as { id: number; method: string; params: object });
    expect(closing.map(({ method, params }) => [method, params])).toEqual([['Target.disposeBrowserContext', { browserContextId: 'CTX' }], ['Target.detachFromTarget', { sessionId: BROWSER }]]);
    fromChrome.write(closing.map((c) => `{"id":${c.id},"result":{}}\0`).join(''));
    await ended;
    fromChrome.write(`{"id":2,"result":{},"sessionId":"${PAGE}"}\0`);
    await turn();
    expect(batches).toHaveLength(1);
    expect(pipe.divert).toBeUndefined();
  });
});
