import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { API_MAIN, freePort, httpRequest, requireBuilt, waitFor, WORKSPACE } from '@edu-agents/e2e-support';

// The built API (dist/apps/api/main.js) started the way the shipped socket
// unit starts it: systemd-socket-activate hands it the listening socket
// (LISTEN_FDS) and a notify socket (NOTIFY_SOCKET) that a real unix datagram
// socket in this test receives. QC is off: this is about the systemd contract.

const unixDgram = require('unix-dgram') as {
  createSocket(type: 'unix_dgram', onMessage: (buf: Buffer) => void): { bind(path: string): void; close(): void };
};

describe('the built API under a socket unit with Type=notify', () => {
  let dir: string;
  let receiver: { close(): void } | undefined;
  let api: ChildProcess | undefined;

  beforeAll(() => {
    requireBuilt(API_MAIN);
  });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'edu-api-sd-'));
  });

  afterEach(async () => {
    if (api && api.exitCode === null && api.signalCode === null) {
      const exited = new Promise((done) => api?.once('exit', done));
      api.kill('SIGKILL');
      await exited;
    }
    api = undefined;
    receiver?.close();
    receiver = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves on the inherited socket, sends READY=1, and on SIGTERM STOPPING=1 before exiting 0', async () => {
    const notifications: string[] = [];
    const notifySocket = join(dir, 'notify.sock');
    const socket = unixDgram.createSocket('unix_dgram', (buf) => notifications.push(buf.toString('utf8')));
    socket.bind(notifySocket);
    receiver = socket;

    const port = await freePort();
    let stderr = '';
    const child = spawn(
      'systemd-socket-activate',
      [
        '-l', `127.0.0.1:${port}`,
        '-E', `NOTIFY_SOCKET=${notifySocket}`,
        '-E', 'QC_ENABLED=false',
        '-E', 'PORT=1', // must be ignored: the inherited socket decides
        '-E', 'SHUTDOWN_TIMEOUT_MS=5000',
        process.execPath, API_MAIN,
      ],
      { cwd: WORKSPACE, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    api = child;
    child.stdout?.resume();
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    await waitFor('systemd-socket-activate to listen', () => stderr.includes('Listening on'));

    // This connection starts the API (as with a socket unit) and waits in the backlog meanwhile.
    const health = await httpRequest(port, 'GET', '/health');

    expect(health.status).toBe(200);
    const ready = await waitFor('READY=1', () => notifications.find((n) => n.startsWith('READY=1')));
    expect(ready).toMatch(/^READY=1(\nSTATUS=.+)?$/);

    const exit = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
    const stopping = await waitFor('STOPPING=1', () => notifications.find((n) => n.startsWith('STOPPING=1')));
    expect(stopping).toContain('STATUS=draining');
    expect(notifications.indexOf(ready)).toBeLessThan(notifications.indexOf(stopping));
  });
});
