import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { FixtureRun, waitFor, type FixtureEvent } from '../../test-support/fixture-process';

/** Keep-alive clients, each on its own connection, each sending its next request as soon as the last one was answered. */
class KeepAliveClients {
  readonly answers: { pid: number; local: number; at: number }[] = [];
  readonly errors: string[] = [];
  readonly connections = new Set<number>();
  private running = true;
  private readonly loops: Promise<void>[] = [];
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 4, maxFreeSockets: 4 });

  constructor(private readonly port: number, clients: number, private readonly path = '/') {
    for (let i = 0; i < clients; i += 1) this.loops.push(this.loop());
  }

  private async loop(): Promise<void> {
    while (this.running) {
      try {
        this.answers.push(await this.get(this.path));
      } catch (error) {
        this.errors.push((error as Error).message);
      }
    }
  }

  get(path: string): Promise<{ pid: number; local: number; at: number }> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: this.port, path, agent: this.agent }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ pid: Number(body), local: (req.socket as Socket).localPort as number, at: Date.now() }));
      });
      req.on('socket', (socket: Socket) => socket.once('connect', () => this.connections.add(socket.localPort as number)));
      req.on('error', reject);
      req.end();
    });
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    this.agent.destroy();
  }
}

const outcomeOf = (e: FixtureEvent) => e['outcome'] as { ok: boolean; successorPid?: number };

describe('connections handed over between real processes', () => {
  let run: FixtureRun | undefined;
  let clients: KeepAliveClients | undefined;
  afterEach(async () => {
    await clients?.stop();
    clients = undefined;
    run?.cleanup();
  });

  it('moves every keep-alive connection to the successor: the same connections go on, answered by the new pid, nothing fails, and the old pid exits at once instead of lingering', async () => {
    run = new FixtureRun('serve', { FIXTURE_HANDOVER: '1' });
    const first = run.firstPid;
    const { port } = (await run.next('the first generation to listen', (e) => e.event === 'listening')) as FixtureEvent & { port: number };
    await run.next('ready', (e) => e.event === 'ready');
    clients = new KeepAliveClients(port, 4);
    await waitFor('answers on four connections', () => clients && clients.connections.size === 4 && clients.answers.length > 100);
    const before = new Set(clients.connections);

    run.signal(first, 'SIGHUP');
    const second = outcomeOf(await run.next('the outcome', (e) => e.event === 'outcome')).successorPid as number;
    const switchedAt = Date.now();
    await waitFor('the old pid to exit', () => run?.exit, 10_000);
    const exitMs = Date.now() - switchedAt;
    await waitFor('answers by the successor', () => clients && clients.answers.filter((a) => a.pid === second).length > 100);
    await clients.stop();

    expect(run.exit).toEqual({ code: 0, signal: null });
    expect(clients.errors).toEqual([]);
    // Not one new connection: the clients never noticed.
    expect([...clients.connections].sort()).toEqual([...before].sort());
    const moved = new Set(clients.answers.filter((a) => a.pid === second).map((a) => a.local));
    expect([...moved].sort()).toEqual([...before].sort());
    const handovers = run.events.filter((e) => e.event === 'handover' && e.pid === first).map((e) => e['result']);
    expect(handovers.filter((r) => r === 'passed')).toHaveLength(4);
    expect(handovers).not.toContain('unavailable');
    // Keep-alive timeout is 5 s in node:http: an exit well before it is the handover, not the idle timer.
    expect(exitMs).toBeLessThan(4_000);
  });

  it('a connection opened before the switch that has sent nothing yet moves too: its first request is answered by the successor, and the old pid does not linger', async () => {
    run = new FixtureRun('serve', { FIXTURE_HANDOVER: '1' });
    const first = run.firstPid;
    const { port } = (await run.next('the first generation to listen', (e) => e.event === 'listening')) as FixtureEvent & { port: number };
    await run.next('ready', (e) => e.event === 'ready');
    // As a client that opens its connection ahead of its first request (a pool, a browser's preconnect).
    const silent = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => silent.once('connect', resolve).once('error', reject));
    await run.next('the connection accepted', (e) => e.event === 'conn' && e['port'] === silent.localPort);
    try {
      run.signal(first, 'SIGHUP');
      const second = outcomeOf(await run.next('the outcome', (e) => e.event === 'outcome')).successorPid as number;
      await run.next('the silent connection handed over', (e) => e.event === 'handover' && e['remote'] === silent.localPort && e['result'] === 'passed');
      // Keep-alive timeout is 60 s in the fixture: an exit before it is the handover.
      await waitFor('the old pid to exit', () => run?.exit, 10_000);
      const answer = new Promise<string>((resolve, reject) => {
        let text = '';
        silent.on('data', (chunk: Buffer) => {
          text += chunk.toString();
          if (/\r\n\r\n\d+$/.test(text)) resolve(text);
        }).once('error', reject);
      });
      silent.write('GET / HTTP/1.1\r\nHost: fixture\r\nContent-Length: 0\r\n\r\n');
      const text = await answer;
      expect(text.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
      expect(Number(/\r\n\r\n(\d+)$/.exec(text)?.[1])).toBe(second);
      expect(run.exit).toEqual({ code: 0, signal: null });
    } finally {
      silent.destroy();
    }
  });

  it('a request in flight at the switch is answered by the old pid, then its connection moves', async () => {
    run = new FixtureRun('serve', { FIXTURE_HANDOVER: '1' });
    const first = run.firstPid;
    const { port } = (await run.next('the first generation to listen', (e) => e.event === 'listening')) as FixtureEvent & { port: number };
    await run.next('ready', (e) => e.event === 'ready');
    clients = new KeepAliveClients(port, 0);
    const warm = await clients.get('/');
    const slow = clients.get('/slow?ms=1500');
    run.signal(first, 'SIGHUP');
    const second = outcomeOf(await run.next('the outcome', (e) => e.event === 'outcome')).successorPid as number;
    const answered = await slow;
    expect(answered).toMatchObject({ pid: first, local: warm.local });
    await run.next('the busy connection handed over', (e) => e.event === 'handover' && e['result'] === 'passed');
    await expect(clients.get('/')).resolves.toMatchObject({ pid: second, local: warm.local });
    await waitFor('the old pid to exit', () => run?.exit, 10_000);
    expect(run.exit).toEqual({ code: 0, signal: null });
  });
});
