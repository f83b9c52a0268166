import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createSdNotifier } from './sd-notify';

// A real receiving unix datagram socket, as systemd's /run/systemd/notify is.
const unixDgram = require('unix-dgram') as {
  createSocket(type: 'unix_dgram', onMessage: (buf: Buffer) => void): {
    on(event: 'error', listener: (error: Error) => void): void;
    bind(path: string): void;
    close(): void;
  };
};

async function waitFor<T>(read: () => T | undefined, what: string, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function collectWarnings(): { warn(message: string): void; messages: string[] } {
  const messages: string[] = [];
  return { messages, warn: (message: string) => messages.push(message) };
}

describe('createSdNotifier', () => {
  let dir: string;
  let received: string[];
  let receiver: { close(): void } | undefined;
  let python: ChildProcess | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sd-notify-'));
    received = [];
  });

  afterEach(() => {
    receiver?.close();
    receiver = undefined;
    python?.kill('SIGKILL');
    python = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  function listenOnPath(): string {
    const path = join(dir, 'notify.sock');
    const socket = unixDgram.createSocket('unix_dgram', (buf) => received.push(buf.toString('utf8')));
    socket.on('error', (error) => {
      throw error;
    });
    socket.bind(path);
    receiver = socket;
    return path;
  }

  it('is disabled and sends nothing when NOTIFY_SOCKET is unset', async () => {
    const transport = jest.fn(async () => undefined);
    const notifier = createSdNotifier({}, { transport });
    notifier.ready('serving');
    notifier.stopping();
    notifier.status('draining');
    notifier.extendTimeout(1_000_000);
    await notifier.flush();
    expect(notifier.enabled).toBe(false);
    expect(transport).not.toHaveBeenCalled();
  });

  it('delivers READY=1 with its STATUS line to a real unix datagram socket', async () => {
    const notifier = createSdNotifier({ NOTIFY_SOCKET: listenOnPath() });
    expect(notifier.enabled).toBe(true);
    notifier.ready('serving on port 8000');
    const message = await waitFor(() => received[0], 'the READY datagram');
    expect(message).toBe('READY=1\nSTATUS=serving on port 8000');
  });

  it('delivers STOPPING=1, STATUS= and EXTEND_TIMEOUT_USEC= in the order they were sent', async () => {
    const notifier = createSdNotifier({ NOTIFY_SOCKET: listenOnPath() });
    notifier.stopping('draining');
    notifier.status('draining: 3 requests in flight');
    notifier.extendTimeout(5_000_000.4);
    await waitFor(() => (received.length >= 3 ? received : undefined), 'three datagrams');
    expect(received).toEqual([
      'STOPPING=1\nSTATUS=draining',
      'STATUS=draining: 3 requests in flight',
      'EXTEND_TIMEOUT_USEC=5000001',
    ]);
  });

  it('delivers a handoff in order: RELOADING=1 with MONOTONIC_USEC from the predecessor, then MAINPID= and READY=1 from the successor', async () => {
    const path = listenOnPath();
    const predecessor = createSdNotifier({ NOTIFY_SOCKET: path });
    const successor = createSdNotifier({ NOTIFY_SOCKET: path });
    predecessor.reloading('handoff: starting a successor');
    await predecessor.flush();
    successor.mainPid(4242);
    successor.ready('serving');
    await waitFor(() => (received.length >= 3 ? received : undefined), 'three datagrams');
    expect(received[0]).toMatch(/^RELOADING=1\nMONOTONIC_USEC=\d+\nSTATUS=handoff: starting a successor$/);
    expect(received.slice(1)).toEqual(['MAINPID=4242', 'READY=1\nSTATUS=serving']);
  });

  it('refuses a MAINPID that is not a pid, with a warning instead of a datagram', async () => {
    const warnings = collectWarnings();
    const transport = jest.fn(async () => undefined);
    const notifier = createSdNotifier({ NOTIFY_SOCKET: '/run/x' }, { transport, logger: warnings });
    notifier.mainPid(0);
    await notifier.flush();
    expect(transport).not.toHaveBeenCalled();
    expect(warnings.messages[0]).toMatch(/ignored MAINPID=0/);
  });

  it('keeps a STATUS value on one line so that it cannot inject other fields', async () => {
    const notifier = createSdNotifier({ NOTIFY_SOCKET: listenOnPath() });
    notifier.status('phase draining\nREADY=1');
    const message = await waitFor(() => received[0], 'the STATUS datagram');
    expect(message).toBe('STATUS=phase draining READY=1');
  });

  it('reaches an abstract socket (@name) through systemd-notify', async () => {
    const name = `edu-agents-test-${process.pid}-${Date.now()}`;
    const script = [
      'import socket, sys',
      's = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)',
      `s.bind("\\0${name}")`,
      'print("bound", flush=True)',
      'while True:',
      '    print(repr(s.recv(4096).decode()), flush=True)',
    ].join('\n');
    python = spawn('python3', ['-c', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const lines: string[] = [];
    createInterface({ input: python.stdout as NodeJS.ReadableStream }).on('line', (line) => lines.push(line));
    await waitFor(() => (lines.includes('bound') ? true : undefined), 'the python receiver to bind');

    const warnings = collectWarnings();
    const notifier = createSdNotifier({ NOTIFY_SOCKET: `@${name}` }, { logger: warnings });
    notifier.ready('up');
    await notifier.flush();
    const message = await waitFor(() => lines.find((line) => line.includes('READY=1')), 'READY=1 on @name', 10_000);
    expect(message).toContain('STATUS=up');
    expect(warnings.messages).toEqual([]);
  });

  it('logs a failed delivery with what to check and never throws into the caller', async () => {
    const warnings = collectWarnings();
    const notifier = createSdNotifier({ NOTIFY_SOCKET: join(dir, 'nobody-listens.sock') }, { logger: warnings });
    expect(() => notifier.ready()).not.toThrow();
    await notifier.flush();
    expect(warnings.messages).toHaveLength(1);
    expect(warnings.messages[0]).toMatch(/sd_notify to .*nobody-listens\.sock failed \(READY=1\)/);
    expect(warnings.messages[0]).toContain('NotifyAccess=');
  });

  it('rejects a timeout extension that is not a positive number without sending it', async () => {
    const transport = jest.fn(async () => undefined);
    const warnings = collectWarnings();
    const notifier = createSdNotifier({ NOTIFY_SOCKET: '/run/test.sock' }, { transport, logger: warnings });
    notifier.extendTimeout(0);
    notifier.extendTimeout(Number.NaN);
    await notifier.flush();
    expect(transport).not.toHaveBeenCalled();
    expect(warnings.messages).toHaveLength(2);
  });

  it('sends nothing once closed', async () => {
    const transport = jest.fn(async () => undefined);
    const notifier = createSdNotifier({ NOTIFY_SOCKET: '/run/test.sock' }, { transport });
    notifier.status('before');
    notifier.close();
    notifier.ready();
    await notifier.flush();
    expect(notifier.enabled).toBe(false);
    expect(transport).toHaveBeenCalledTimes(1);
    expect(transport).toHaveBeenCalledWith('/run/test.sock', 'STATUS=before');
  });
});
