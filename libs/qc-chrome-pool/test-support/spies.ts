import { createSocket, type Socket } from 'node:dgram';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Live listeners on 127.0.0.1 that content must never reach: an HTTP server (which also sees
 * WebSocket upgrades and bare TCP connections) and a UDP socket (STUN, TURN, QUIC, anything).
 * `seen` lists every contact; a test that expects silence asserts it stays empty.
 */
export interface Spies {
  tcpPort: number;
  udpPort: number;
  seen: string[];
  close(): Promise<void>;
}

export async function startSpies(): Promise<Spies> {
  const seen: string[] = [];
  const server: Server = createHttpServer((req, res) => {
    seen.push(`HTTP ${req.method} ${req.url}`);
    if (req.url === '/redirect-to-file') {
      res.writeHead(302, { location: 'file:///etc/passwd' }).end();
      return;
    }
    res.end('secret from the local server');
  });
  server.on('connection', () => seen.push('TCP connection'));
  server.on('upgrade', (req, socket) => {
    seen.push(`UPGRADE ${req.url}`);
    socket.destroy();
  });
  const udp: Socket = createSocket('udp4');
  udp.on('message', (message, from) => seen.push(`UDP ${message.length} bytes from port ${from.port}`));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
  return {
    tcpPort: (server.address() as AddressInfo).port,
    udpPort: udp.address().port,
    seen,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await new Promise<void>((resolve) => udp.close(() => resolve()));
    },
  };
}
