import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Agent } from 'node:http';
import { join } from 'node:path';
import { askPid, FixtureRun, getLater, isAlive, stateOf, waitFor, type FixtureEvent } from '../../test-support/fixture-process';
import { continueStoppedTree } from './start-yield';

// Real processes and signals: the fixture holds yieldStart() for a request to /busy, and
// a successor started meanwhile must be stopped (state T) until that request ends, and
// must be continued by the kernel (setpriv --pdeathsig CONT) when its predecessor dies.

/** A request to the fixture that holds its work until the file `gate` exists; its outcome is kept. */
const busy = (port: number, gate: string, agent: Agent | false = false) => ({ done: getLater(port, `/busy?gate=${gate}`, agent) });

const startedPid = (e: FixtureEvent) => (e['fields'] as { successorPid?: number } | undefined)?.successorPid;

describe('a successor start that yields to the predecessor\'s work, with real processes', () => {
  let run: FixtureRun | undefined;
  afterEach(() => run?.cleanup());

  /**
   * A successor that has started, stopped by work the predecessor began after it (held until the
   * file `gate` exists). It says ready only once the file `release` exists, which is written once it
   * is stopped: so the test, not the fixture's speed, decides when it may hand over.
   */
  async function startWithWorkHeld(gate: string) {
    // One stop may last a minute here, so that what the test sees is the gate's doing, not a bound's.
    run = new FixtureRun('serve', { FIXTURE_YIELD: JSON.stringify({ maxStopMs: 60_000, maxShare: 1 }) });
    const { port } = (await run.next('the first generation to listen', (e) => e.event === 'listening')) as FixtureEvent & { port: number };
    await run.next('ready', (e) => e.event === 'ready');
    // A connection the predecessor accepted: the successor listens on the same socket from its start.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    expect(await askPid(port, agent)).toBe(run.firstPid);
    run.setMode('serve gate');
    run.signal(run.firstPid, 'SIGHUP');
    const started = await run.next('the successor to start', (e) => e.event === 'log' && (e['message'] as string) === 'successor started');
    const successor = startedPid(started) as number;
    const request = busy(port, gate, agent);
    await run.next('the fixture to hold its work', (e) => e.event === 'busy');
    await waitFor(() => `successor ${successor} to be stopped (state ${stateOf(successor)})`, () => stateOf(successor) === 'T');
    writeFileSync(join(run.dir, 'release'), '');
    return { port, request, successor, agent };
  }

  it('begins the successor only once the work in flight at the signal ended: its exec cannot be stopped', async () => {
    run = new FixtureRun('serve', { FIXTURE_YIELD: JSON.stringify({ maxStopMs: 60_000, maxShare: 1 }) });
    const { port } = (await run.next('the first generation to listen', (e) => e.event === 'listening')) as FixtureEvent & { port: number };
    await run.next('ready', (e) => e.event === 'ready');
    const request = busy(port, 'work');
    await run.next('the fixture to hold its work', (e) => e.event === 'busy');
    run.signal(run.firstPid, 'SIGHUP');
    await run.next('the upgrade to begin', (e) => e.event === 'log' && /handoff idle -> spawning/.test(e['message'] as string));
    expect(run.events.some((e) => e.event === 'log' && e['message'] === 'successor started')).toBe(false);
    writeFileSync(join(run.dir, 'work'), '');
    expect(await request.done).toBe(`answered ${run.firstPid}`);
    await run.next('the successor to start', (e) => e.event === 'log' && (e['message'] as string) === 'successor started');
    expect(run.events).toContainEqual(expect.objectContaining({ event: 'log', message: expect.stringMatching(/^the successor starts after this process's work in flight \(waited \d+ ms\)$/) }));
    const outcome = await run.next('the outcome', (e) => e.event === 'outcome');
    expect(outcome['outcome']).toMatchObject({ ok: true });
    expect(await askPid(port)).toBe((outcome['outcome'] as { successorPid: number }).successorPid);
  });

  it('stays stopped while the work is held, then starts and hands over when it ends; the predecessor logs the stop', async () => {
    const { port, request, successor, agent } = await startWithWorkHeld('work');
    expect(run?.events.some((e) => e.event === 'ready' && e.pid === successor)).toBe(false);
    writeFileSync(join(run?.dir as string, 'work'), '');
    expect(await request.done).toBe(`answered ${run?.firstPid}`);
    agent.destroy();
    const outcome = await run?.next('the outcome', (e) => e.event === 'outcome');
    expect(outcome?.['outcome']).toMatchObject({ ok: true, successorPid: successor });
    expect(run?.events.some((e) => e.event === 'listening' && e.pid === successor)).toBe(true);
    const summary = run?.events.find((e) => e.event === 'log' && /^successor \d+ yielded to this process's work/.test(e['message'] as string));
    expect(summary?.['fields']).toMatchObject({ successorPid: successor, stops: 1, cut: 0 });
    expect(await askPid(port)).toBe(successor);
  });

  it('stops what the successor started (its browser) with it, the moment it exists, and continues both', async () => {
    run = new FixtureRun('serve', { FIXTURE_YIELD: JSON.stringify({ maxStopMs: 60_000, maxShare: 1 }) });
    const { port } = (await run.next('the first generation to listen', (e) => e.event === 'listening')) as FixtureEvent & { port: number };
    await run.next('ready', (e) => e.event === 'ready');
    // A connection the predecessor accepted: the successor listens on the same socket from its start,
    // and a new connection could be its own (under load it was), which stops nothing.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    expect(await askPid(port, agent)).toBe(run.firstPid);
    run.setMode('hang'); // the successor starts a grandchild, a stand-in for Chromium, and never says ready
    run.signal(run.firstPid, 'SIGHUP');
    const { grandchild, pid: successor } = (await run.next('the successor\'s grandchild', (e) => e.event === 'grandchild')) as FixtureEvent & { grandchild: number };
    const request = busy(port, 'work', agent);
    await waitFor(() => `both to be stopped (${stateOf(successor)}, ${stateOf(grandchild)})`, () => stateOf(successor) === 'T' && stateOf(grandchild) === 'T');
    writeFileSync(join(run.dir, 'work'), '');
    expect(await request.done).toBe(`answered ${run.firstPid}`);
    agent.destroy();
    await waitFor(() => `both to run again (${stateOf(successor)}, ${stateOf(grandchild)})`, () => stateOf(successor) !== 'T' && stateOf(grandchild) !== 'T');
  });

  it('is continued by the kernel when the predecessor is SIGKILLed while it is stopped, and takes over', async () => {
    const { port, successor, agent } = await startWithWorkHeld('never');
    run?.signal(run.firstPid, 'SIGKILL');
    await run?.gone(run.firstPid);
    await waitFor(() => `successor ${successor} to run again (state ${stateOf(successor)})`, () => stateOf(successor) !== 'T' && stateOf(successor) !== undefined);
    await run?.next('the successor to be ready', (e) => e.event === 'ready' && e.pid === successor);
    expect(run?.events).toContainEqual(expect.objectContaining({ event: 'log', pid: successor, message: expect.stringMatching(/took over from predecessor/) }));
    const answers = [];
    for (let i = 0; i < 10; i += 1) answers.push(await askPid(port));
    expect(new Set(answers)).toEqual(new Set([successor]));
    agent.destroy();
  });
});

describe('instances that share a yield directory, with real processes', () => {
  const runs: FixtureRun[] = [];
  let shared: string;
  beforeEach(() => (shared = mkdtempSync(join(tmpdir(), 'process-handoff-peers-'))));
  afterEach(() => {
    for (const run of runs.splice(0)) run.cleanup();
    rmSync(shared, { recursive: true, force: true });
  });

  /** Two serving instances, each ready: A yields its starts (one stop may last a minute); B only works. B's directory is `bDir` when given. */
  async function twoInstances(bDir: string | undefined) {
    const a = new FixtureRun('serve', { FIXTURE_YIELD: JSON.stringify({ maxStopMs: 60_000, maxShare: 1 }), FIXTURE_YIELD_DIR: shared });
    const b = new FixtureRun('serve', bDir === undefined ? {} : { FIXTURE_YIELD_DIR: bDir });
    runs.push(a, b);
    const portOf = async (run: FixtureRun) => ((await run.next('listening', (e) => e.event === 'listening')) as FixtureEvent & { port: number }).port;
    const [aPort, bPort] = [await portOf(a), await portOf(b)];
    await a.next('ready', (e) => e.event === 'ready');
    await b.next('ready', (e) => e.event === 'ready');
    a.setMode('serve gate');
    a.signal(a.firstPid, 'SIGHUP');
    const successor = startedPid(await a.next('the successor to start', (e) => e.event === 'log' && (e['message'] as string) === 'successor started')) as number;
    return { a, b, aPort, bPort, successor };
  }

  it("stops one instance's starting successor while the other instance works, and continues it when that work ends", async () => {
    const { a, b, aPort, bPort, successor } = await twoInstances(shared);
    const work = busy(bPort, 'work');
    await b.next('b to hold its work', (e) => e.event === 'busy');
    expect(readdirSync(shared)).toEqual([`${b.firstPid}.busy`]);
    await waitFor(() => `successor ${successor} of the other instance to be stopped (state ${stateOf(successor)})`, () => stateOf(successor) === 'T');
    writeFileSync(join(b.dir, 'work'), '');
    expect(await work.done).toBe(`answered ${b.firstPid}`);
    await waitFor(() => `successor ${successor} to run again (state ${stateOf(successor)})`, () => stateOf(successor) !== 'T');
    expect(readdirSync(shared)).toEqual([]);
    a.release();
    expect((await a.next('the outcome', (e) => e.event === 'outcome'))['outcome']).toMatchObject({ ok: true, successorPid: successor });
    const summary = a.events.find((e) => e.event === 'log' && /^successor \d+ yielded to this process's work/.test(e['message'] as string));
    expect(summary?.['fields']).toMatchObject({ successorPid: successor, stops: 1, cut: 0 });
    expect(await askPid(aPort)).toBe(successor);
  });

  it('hands over while the other instance works when that one does not share the directory', async () => {
    const { a, b, bPort, successor } = await twoInstances(undefined);
    const work = busy(bPort, 'work');
    await b.next('b to hold its work', (e) => e.event === 'busy');
    a.release();
    // With B's work followed, one stop would last until that work ends (a minute at most): the handoff completes first.
    expect((await a.next('the outcome', (e) => e.event === 'outcome'))['outcome']).toMatchObject({ ok: true, successorPid: successor });
    expect(a.events.some((e) => e.event === 'log' && /^successor \d+ yielded/.test(e['message'] as string))).toBe(false);
    writeFileSync(join(b.dir, 'work'), '');
    expect(await work.done).toBe(`answered ${b.firstPid}`);
  });
});

describe('continueStoppedTree, with real processes', () => {
  let parent: ChildProcess | undefined;
  let pids: number[] = [];
  afterEach(async () => {
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    await waitFor('the test processes to exit', () => pids.every((pid) => !isAlive(pid)) || undefined, 10_000);
    parent = undefined;
    pids = [];
  });

  it('continues every stopped process of the tree, and only those', async () => {
    const CHILD = `
      const { spawn } = require('node:child_process');
      const a = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
      const b = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
      process.stdout.write(a.pid + ' ' + b.pid + '\\n');
      setInterval(() => {}, 1000);
    `;
    parent = spawn(process.execPath, ['-e', CHILD], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    parent.stdout?.on('data', (chunk) => (out += String(chunk)));
    const [a, b] = await waitFor('the children to report their pids', () => (/^(\d+) (\d+)\n/.exec(out)?.slice(1).map(Number)));
    pids = [parent.pid as number, a as number, b as number];
    process.kill(a as number, 'SIGSTOP');
    await waitFor('the first child to be stopped', () => stateOf(a as number) === 'T');
    expect(continueStoppedTree(parent.pid as number)).toBe(1);
    await waitFor('the first child to run again', () => stateOf(a as number) !== 'T');
    expect(stateOf(b as number)).not.toBe('T');
    expect(continueStoppedTree(parent.pid as number)).toBe(0);
  });
});
