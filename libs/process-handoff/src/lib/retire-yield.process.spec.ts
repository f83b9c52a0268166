import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FixtureRun, getLater, stateOf, waitFor, type FixtureEvent } from '../../test-support/fixture-process';
import { nodeProcessEnvironment } from './node-process-environment';

// Real processes and signals: a predecessor with a stand-in browser (a child with a child of its
// own: a process group of its own, or in the predecessor's group with the helper started from a
// worker thread) hands over and offers that group as it retires
// (`retiring()`); the successor, with retireYield, stops the group while it holds
// yieldStart() for a request to /busy, and continues it when the request ends. Neither
// process's death may leave the group stopped.

/** Every thread's children: the shared browser starts its helper from a worker thread. */
const childrenOf = (pid: number): number[] => nodeProcessEnvironment().listChildren?.(pid) ?? [];

describe('a retiring predecessor that yields its browser to the successor\'s work, with real processes', () => {
  let run: FixtureRun | undefined;
  afterEach(() => run?.cleanup());

  /** Hands over with a connection that keeps the predecessor draining; the successor holds its work: the old browser is stopped. */
  async function retireWithWorkHeld(mode: 'browser' | 'browser-shared' = 'browser') {
    // One stop may last a minute here, so that what the test sees is the gate's doing, not a bound's.
    run = new FixtureRun(mode, { FIXTURE_RETIRE: '1', FIXTURE_RETIRE_YIELD: JSON.stringify({ maxStopMs: 60_000, maxShare: 1 }) });
    const { port } = (await run.next('the first generation to listen', (e) => e.event === 'listening')) as FixtureEvent & { port: number };
    const { browser } = (await run.next('its browser', (e) => e.event === 'browser' && e.pid === run?.firstPid)) as FixtureEvent & { browser: number };
    const helper = await waitFor('the browser\'s own child', () => childrenOf(browser)[0]);
    await run.next('ready', (e) => e.event === 'ready');
    const draining = getLater(port, '/wait?gate=drain');
    await run.next('the draining request to arrive', (e) => e.event === 'conn');
    run.signal(run.firstPid, 'SIGHUP');
    const retiring = await run.next('the predecessor to retire', (e) => e.event === 'retiring');
    // One group, or (in the fixture's own group) the two processes; never the successor.
    expect(retiring['offered']).toBe(mode === 'browser' ? 1 : 2);
    const outcome = await run.next('the outcome', (e) => e.event === 'outcome');
    const successor = (outcome['outcome'] as { successorPid: number }).successorPid;
    await run.next('the successor to follow the retirement', (e) => e.event === 'log' && e.pid === successor && /^predecessor \d+ retires/.test(e['message'] as string));
    expect([stateOf(browser), stateOf(helper)]).not.toContain('T');
    const work = getLater(port, '/busy?gate=work');
    await run.next('the successor to hold its work', (e) => e.event === 'busy' && e.pid === successor);
    await waitFor(() => `the old browser's group to be stopped (${stateOf(browser)}, ${stateOf(helper)})`, () => stateOf(browser) === 'T' && stateOf(helper) === 'T');
    return { browser, helper, successor, work, draining };
  }

  const runs = (pid: number) => stateOf(pid) !== undefined && stateOf(pid) !== 'T';

  it.each(['browser', 'browser-shared'] as const)('stops the old %s (with its helper) while the successor works, continues it after, and logs the yield when the predecessor exits', async (mode) => {
    const { browser, helper, successor, work, draining } = await retireWithWorkHeld(mode);
    expect(stateOf(successor)).not.toBe('T');
    writeFileSync(join(run?.dir as string, 'work'), '');
    expect(await work).toBe(`answered ${successor}`);
    await waitFor(() => `the old browser's group to run again (${stateOf(browser)}, ${stateOf(helper)})`, () => runs(browser) && runs(helper));
    writeFileSync(join(run?.dir as string, 'drain'), '');
    expect(await draining).toBe(`answered ${run?.firstPid}`);
    const summary = await run?.next('the yield\'s summary', (e) => e.event === 'log' && /^retiring predecessor \d+ yielded to this process's work/.test(e['message'] as string));
    expect(summary?.['fields']).toMatchObject({ predecessorPid: run?.firstPid, stops: 1, cut: 0 });
  });

  it('is continued by the predecessor when the successor is SIGKILLed while the group is stopped', async () => {
    const { browser, helper, successor } = await retireWithWorkHeld();
    run?.signal(successor, 'SIGKILL');
    await run?.gone(successor);
    await waitFor(() => `the old browser's group to run again (${stateOf(browser)}, ${stateOf(helper)})`, () => runs(browser) && runs(helper));
  });

  it('is continued by the successor when the predecessor is SIGKILLed while the group is stopped', async () => {
    const { browser, helper, successor } = await retireWithWorkHeld();
    run?.signal(run.firstPid, 'SIGKILL');
    await run?.gone(run.firstPid);
    await waitFor(() => `the orphaned browser's group to run again (${stateOf(browser)}, ${stateOf(helper)})`, () => runs(browser) && runs(helper));
    expect(runs(successor)).toBe(true);
  });
});
