import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { QcPool, QC_POOL_DEFAULTS, type QcPoolConfig } from '../src/index';
import { chromeProcsOf, listProcs } from '../src/lib/proc-tree';

/** A pool with small test-friendly bounds; close it in afterEach/afterAll. */
export function launchTestPool(overrides: Partial<QcPoolConfig> = {}): Promise<QcPool> {
  return QcPool.launch({ ...QC_POOL_DEFAULTS, browsers: 1, pagesPerBrowser: 2, jobTimeoutMs: 8_000, ...overrides });
}

export const VIEWPORT = { width: 1280, height: 800 };
export const job = (html: string, timeoutMs = 8_000) => ({ html, viewport: VIEWPORT, timeoutMs });

/** A live HTTP/WebSocket-upgrade server on 127.0.0.1 that records every request it sees. */
export async function startRecordingServer(): Promise<{ server: Server; port: number; seen: string[] }> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    if (req.url === '/redirect-to-file') {
      res.writeHead(302, { location: 'file:///etc/passwd' }).end();
      return;
    }
    res.end('secret from the local server');
  });
  server.on('upgrade', (req, socket) => {
    seen.push(`UPGRADE ${req.url}`);
    socket.destroy();
  });
  server.on('connection', () => seen.push('TCP connection'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, seen };
}

/** Polls `probe` until it returns true or the deadline passes; returns the last probe result. */
export async function waitFor(probe: () => boolean | Promise<boolean>, deadlineMs: number, everyMs = 100): Promise<boolean> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    if (await probe()) return true;
    if (Date.now() > end) return false;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** Live (non-zombie) processes using the given profile dir or in the given process group. */
export function liveChromeProcs(profileDir: string, pgid?: number): number[] {
  return chromeProcsOf(profileDir, pgid, listProcs()).map((p) => p.pid);
}
