import { readFileSync } from 'node:fs';
import { connect, createServer, Server as NetServer, type Server } from 'node:net';
import { commandLine, FixtureRun, isAlive, waitFor, type FixtureEvent } from '../../test-support/fixture-process';
import { Hammer } from '../../test-support/hammer';
import { parseStat } from './proc-stat';
import { Upgrader } from './upgrader';

// prepareSuccessor, through real processes: the next successor's process is forked when a
// process listens, waits in /bin/sh, and becomes the successor at SIGHUP by exec.

const PREPARE = { FIXTURE_PREPARE: '1' };
const outcomeOf = (e: FixtureEvent) => e['outcome'] as { ok: boolean; reason?: string; successorPid?: number; message?: string };
const fieldsOf = (e: FixtureEvent) => (e['fields'] ?? {}) as Record<string, unknown>;
const isLog = (e: FixtureEvent, pid: number, text: string) => e.event === 'log' && e.pid === pid && String(e['message']).includes(text);

const parentOf = (pid: number) => parseStat(pid, readFileSync(`/proc/${pid}/stat`, 'utf8'))?.ppid;

/** Resolves with the error code of a connection attempt ('connected' when it was accepted by the kernel). */
function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' }, () => {
      socket.destroy();
      resolve('connected');
    });
    socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

describe('a successor prepared ahead (prepareSuccessor)', () => {
  let run: FixtureRun | undefined;
  afterEach(() => run?.cleanup());

  /** The pid `pid` logged as prepared (the n-th time). */
  const preparedBy = async (pid: number, n = 1) => fieldsOf(await (run as FixtureRun).nth(`pid ${pid} to prepare a successor (#${n})`, (e) => isLog(e, pid, "prepared the next successor's process"), n))['preparedPid'] as number;

  it('the process forked when the first generation listened becomes the successor at SIGHUP: same pid, zero errors under load, and it prepares its own', async () => {
    run = new FixtureRun('serve', PREPARE);
    const first = run.firstPid;
    const { port } = (await run.next('the first generation to listen', (e) => e.event === 'listening')) as FixtureEvent & { port: number };
    await run.next('ready', (e) => e.event === 'ready');
    const prepared = await preparedBy(first);
    expect(parentOf(prepared)).toBe(first);
    expect(commandLine(prepared).slice(0, 2)).toEqual(['/bin/sh', '-c']);

    const hammer = new Hammer(port);
    await waitFor('answers from the first generation', () => hammer.answeredBy(first) >= 50);
    run.signal(first, 'SIGHUP');
    const outcome = outcomeOf(await run.next('the outcome', (e) => e.event === 'outcome'));
    expect(outcome).toMatchObject({ ok: true, successorPid: prepared });
    expect(fieldsOf(await run.next('the start', (e) => isLog(e, first, 'successor started')))).toMatchObject({ successorPid: prepared, prepared: true });
    // Its own, forked before it listened on the inherited socket.
    const next = await preparedBy(prepared);
    expect(parentOf(next)).toBe(prepared);
    await waitFor('the old pid to exit', () => run?.exit);
    await waitFor('answers from the successor', () => hammer.answeredBy(prepared) >= 50);
    await hammer.stop();
    expect(run.exit).toEqual({ code: 0, signal: null });
    expect(hammer.errors).toEqual([]);
    expect(run.pidFile()).toBe(prepared);
  });

  it('a prepared process that was killed is not used: the upgrade spawns a successor and says why', async () => {
    run = new FixtureRun('serve', PREPARE);
    const first = run.firstPid;
    await run.next('ready', (e) => e.event === 'ready');
    const prepared = await preparedBy(first);
    // Stopped, the upgrader gets SIGHUP and SIGCHLD at once, and the kernel hands over the
    // lower-numbered first: the upgrade begins before the prepared process's exit is seen.
    run.signal(first, 'SIGSTOP');
    process.kill(prepared, 'SIGKILL');
    await run.gone(prepared);
    run.signal(first, 'SIGHUP');
    run.signal(first, 'SIGCONT');
    const outcome = outcomeOf(await run.next('the outcome', (e) => e.event === 'outcome'));
    expect(outcome.ok).toBe(true);
    expect(outcome.successorPid).not.toBe(prepared);
    expect(String((await run.next('why it was not used', (e) => isLog(e, first, `the prepared successor ${prepared} is not used`)))['message'])).toContain('killed by SIGKILL before the upgrade');
    expect(fieldsOf(await run.next('the start', (e) => isLog(e, first, 'successor started')))['prepared']).toBeUndefined();
  });

  it('a broken build fails the upgrade; a new process is prepared at once, and the fixed build hands over through it', async () => {
    run = new FixtureRun('serve', PREPARE);
    const first = run.firstPid;
    await run.next('ready', (e) => e.event === 'ready');
    const prepared = await preparedBy(first);
    run.setMode('throw');
    run.signal(first, 'SIGHUP');
    expect(outcomeOf(await run.next('the failed outcome', (e) => e.event === 'outcome'))).toMatchObject({ ok: false, reason: 'exited', successorPid: prepared });
    const again = await preparedBy(first, 2);
    expect(again).not.toBe(prepared);
    expect(isAlive(prepared)).toBe(false);
    run.setMode('serve');
    run.signal(first, 'SIGHUP');
    expect(outcomeOf(await run.nth('the second outcome', (e) => e.event === 'outcome', 2))).toMatchObject({ ok: true, successorPid: again });
  });
});

describe('a prepared process and the listener it holds', () => {
  let upgrader: Upgrader | undefined;
  let server: Server | undefined;
  afterEach(() => {
    upgrader?.close();
    server?.close();
  });

  async function listening(): Promise<{ port: number; prepared: number }> {
    upgrader = Upgrader.create({ prepareSuccessor: true, log: () => undefined });
    server = createServer((socket) => socket.end());
    const { port } = await upgrader.listen('tcp', server, { port: 0, host: '127.0.0.1' });
    const prepared = upgrader.preparedPid as number;
    expect(isAlive(prepared)).toBe(true);
    expect(commandLine(prepared)).toContain('handoff-prepared');
    return { port, prepared };
  }

  it('ends when the server stops accepting through net.Server.prototype.close (as an app that keeps its connections does): new connections are refused, not queued', async () => {
    const { port, prepared } = await listening();
    NetServer.prototype.close.call(server);
    await waitFor(`prepared process ${prepared} to end`, () => !isAlive(prepared), 5_000);
    expect(upgrader?.preparedPid).toBeUndefined();
    expect(await tryConnect(port)).toBe('ECONNREFUSED');
  });

  it('ends at upgrader.close()', async () => {
    const { prepared } = await listening();
    upgrader?.close();
    await waitFor(`prepared process ${prepared} to end`, () => !isAlive(prepared), 5_000);
  });
});
