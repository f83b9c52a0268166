import { killLeftoverApis, startApi, waitFor } from '@edu-agents/e2e-support';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { handOff } from './handoff-support';

// A real notify socket (a unix datagram socket, as systemd's /run/systemd/notify
// is), bound by the test; systemd itself is never started.
const unixDgram = require('unix-dgram') as {
  createSocket(type: 'unix_dgram', onMessage: (buf: Buffer) => void): { bind(path: string): void; close(): void; on(e: 'error', l: (error: Error) => void): void };
};

describe('a hot handoff as systemd sees it', () => {
  let dir: string;
  let socket: { close(): void } | undefined;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'edu-handoff-notify-'))));
  afterEach(async () => {
    socket?.close();
    await killLeftoverApis();
    rmSync(dir, { recursive: true, force: true });
  });

  it('announces RELOADING=1, then the successor sends MAINPID=<its pid> and READY=1; the old main never says STOPPING=1', async () => {
    const received: string[] = [];
    const path = join(dir, 'notify.sock');
    const receiver = unixDgram.createSocket('unix_dgram', (buf) => received.push(buf.toString('utf8')));
    receiver.on('error', (error) => received.push(`socket error: ${error.message}`));
    receiver.bind(path);
    socket = receiver;
    const pidFile = join(dir, 'api.pid');
    const api = await startApi({ QC_ENABLED: 'false', LOG_FORMAT: 'json', NOTIFY_SOCKET: path }, { pidFile, timeoutMs: 60_000 });
    await waitFor('READY=1 of the first process', () => received.some((m) => m.startsWith('READY=1')), 15_000);
    const { newPid } = await handOff(api, pidFile);
    const handoff = received.slice(received.findIndex((m) => m.startsWith('READY=1')) + 1);
    expect(handoff[0]).toMatch(/^RELOADING=1\nMONOTONIC_USEC=\d+\nSTATUS=handoff: starting a successor \(SIGHUP\)$/);
    expect(handoff.slice(1, 3)).toEqual([`MAINPID=${newPid}`, expect.stringMatching(/^READY=1\n/)]);
    expect(handoff.filter((m) => m.startsWith('STOPPING=1'))).toEqual([]);
    // The successor is the service now: its own stop is what systemd hears next.
    process.kill(newPid, 'SIGTERM');
    await waitFor('STOPPING=1 from the successor', () => received.some((m) => m.startsWith('STOPPING=1')), 15_000);
  }, 120_000);
});
