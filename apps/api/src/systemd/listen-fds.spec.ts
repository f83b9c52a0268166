import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { inheritedListenFd, SD_LISTEN_FDS_START } from './listen-fds';

describe('inheritedListenFd', () => {
  it('returns fd 3 when LISTEN_PID names this process and LISTEN_FDS is at least 1', () => {
    const env: Record<string, string | undefined> = { LISTEN_PID: '4242', LISTEN_FDS: '1', OTHER: 'kept' };
    expect(inheritedListenFd(env, 4242)).toBe(SD_LISTEN_FDS_START);
    expect(SD_LISTEN_FDS_START).toBe(3);
  });

  it('removes LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES so that children do not inherit them', () => {
    const env: Record<string, string | undefined> = {
      LISTEN_PID: '4242',
      LISTEN_FDS: '2',
      LISTEN_FDNAMES: 'http:admin',
      OTHER: 'kept',
    };
    expect(inheritedListenFd(env, 4242)).toBe(3);
    expect(env).toEqual({ OTHER: 'kept' });
  });

  it('ignores sockets meant for another process and still removes the variables', () => {
    const env: Record<string, string | undefined> = { LISTEN_PID: '1', LISTEN_FDS: '1' };
    expect(inheritedListenFd(env, 4242)).toBeUndefined();
    expect(env).toEqual({});
  });

  it('returns undefined when no socket was passed', () => {
    expect(inheritedListenFd({}, 4242)).toBeUndefined();
    expect(inheritedListenFd({ LISTEN_PID: '4242', LISTEN_FDS: '0' }, 4242)).toBeUndefined();
    expect(inheritedListenFd({ LISTEN_PID: '4242' }, 4242)).toBeUndefined();
  });

  it('rejects a LISTEN_FDS that is not an integer with a message that says what to check', () => {
    expect(() => inheritedListenFd({ LISTEN_PID: '4242', LISTEN_FDS: 'three' }, 4242)).toThrow(
      /LISTEN_FDS="three" is not a non-negative integer.*check the \.socket unit/,
    );
  });

  describe('with a socket passed by systemd-socket-activate', () => {
    let dir: string;
    let activator: ChildProcess | undefined;

    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'listen-fds-'));
    });

    afterEach(async () => {
      if (activator && activator.exitCode === null && activator.signalCode === null) {
        const exited = new Promise((done) => activator?.once('exit', done));
        activator.kill('SIGKILL');
        await exited;
      }
      activator = undefined;
      rmSync(dir, { recursive: true, force: true });
    });

    async function freePort(): Promise<number> {
      const server = createServer();
      await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
      const address = server.address();
      await new Promise((done) => server.close(done));
      if (address === null || typeof address === 'string') throw new Error('no TCP address from the OS');
      return address.port;
    }

    function get(port: number): Promise<{ status: number; body: string }> {
      return new Promise((done, fail) => {
        const req = request({ host: '127.0.0.1', port, path: '/', agent: false, timeout: 20_000 }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => done({ status: res.statusCode ?? 0, body }));
        });
        req.on('timeout', () => req.destroy(new Error('no answer within 20 s')));
        req.on('error', fail);
        req.end();
      });
    }

    it('serves HTTP on the inherited socket, answering the connection that started it', async () => {
      const script = join(dir, 'serve-inherited.js');
      writeFileSync(
        script,
        [
          `require(${JSON.stringify(require.resolve('@swc-node/register'))});`,
          `const { inheritedListenFd } = require(${JSON.stringify(resolve(__dirname, 'listen-fds.ts'))});`,
          `const { createServer } = require('node:http');`,
          `const fd = inheritedListenFd();`,
          `const leftover = Object.keys(process.env).filter((name) => name.startsWith('LISTEN_'));`,
          `createServer((req, res) => res.end(JSON.stringify({ fd, pid: process.pid, leftover })))`,
          `  .listen({ fd });`,
        ].join('\n'),
      );
      const port = await freePort();
      activator = spawn(
        'systemd-socket-activate',
        ['-l', `127.0.0.1:${port}`, '-E', `SWC_NODE_PROJECT=${resolve(__dirname, '../../tsconfig.app.json')}`, process.execPath, script],
        { stdio: ['ignore', 'inherit', 'pipe'] },
      );
      let stderr = '';
      activator.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      const deadline = Date.now() + 5_000;
      while (!stderr.includes('Listening on')) {
        if (Date.now() > deadline) throw new Error(`systemd-socket-activate did not listen: ${stderr}`);
        await new Promise((done) => setTimeout(done, 10));
      }

      // Nothing serves the port yet: this connection waits in the backlog of
      // the passed socket while node starts, as during a restart.
      const answer = await get(port);

      expect(answer.status).toBe(200);
      const body = JSON.parse(answer.body) as { fd: number; pid: number; leftover: string[] };
      expect(body.fd).toBe(3);
      expect(body.pid).toBe(activator.pid);
      expect(body.leftover).toEqual([]);
    });
  });
});
