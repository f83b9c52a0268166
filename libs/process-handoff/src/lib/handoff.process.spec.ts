import { askPid, FixtureRun, waitFor, type FixtureEvent } from '../../test-support/fixture-process';
import { Hammer, longestGap } from '../../test-support/hammer';

const outcomeOf = (e: FixtureEvent) => e['outcome'] as { ok: boolean; reason?: string; successorPid?: number; message?: string; output?: string[] };

describe('a handoff between real processes', () => {
  let run: FixtureRun | undefined;
  afterEach(() => run?.cleanup());

  it('SIGHUP hands over to a successor on the same socket: zero errors under a tight connect loop, answers from both pids, the old pid exits 0', async () => {
    run = new FixtureRun('serve');
    const first = run.firstPid;
    const { port } = (await run.next('the first generation to listen', (e) => e.event === 'listening')) as FixtureEvent & { port: number };
    await run.next('the first generation to be ready', (e) => e.event === 'ready');
    expect(run.pidFile()).toBe(first);

    const hammer = new Hammer(port);
    await waitFor('answers from the first generation', () => hammer.answeredBy(first) >= 50);
    const signalledAt = Date.now();
    run.signal(first, 'SIGHUP');
    const outcome = outcomeOf(await run.next('the outcome', (e) => e.event === 'outcome'));
    expect(outcome).toMatchObject({ ok: true });
    const second = outcome.successorPid as number;
    const successorListening = await run.next('the successor to listen', (e) => e.event === 'listening' && e.pid === second);
    expect(successorListening).toMatchObject({ port, generation: 2, inherited: true });
    await waitFor('the old pid to exit', () => run?.exit);
    const exitedAt = Date.now();
    await waitFor('answers from the successor after the old pid exited', () => hammer.shots.filter((s) => s.pid === second && s.at > exitedAt).length >= 50);
    const shots = await hammer.stop();

    expect(run.exit).toEqual({ code: 0, signal: null });
    expect(hammer.errors).toEqual([]);
    expect(hammer.answeredBy(first)).toBeGreaterThan(0);
    expect(hammer.answeredBy(second)).toBeGreaterThan(0);
    expect(run.pidFile()).toBe(second);
    const steadyGap = longestGap(shots, 0, signalledAt);
    const switchGap = longestGap(shots, signalledAt, exitedAt);
    process.stdout.write(
      `handoff under a tight connect loop: ${shots.length} requests, 0 failed; longest gap between answers ` +
        `steady ${steadyGap} ms, from SIGHUP to the old pid's exit ${switchGap} ms\n`,
    );
  });

  it('a successor hands over again with a fresh inheritance, and keeps serving after SIGKILL of its predecessor right after the switch', async () => {
    run = new FixtureRun('serve');
    const { port } = (await run.next('the first generation to listen', (e) => e.event === 'listening')) as FixtureEvent & { port: number };
    await run.next('ready', (e) => e.event === 'ready');
    run.signal(run.firstPid, 'SIGHUP');
    const second = outcomeOf(await run.next('the first outcome', (e) => e.event === 'outcome')).successorPid as number;
    await waitFor('the first generation to exit', () => run?.exit);

    run.signal(second, 'SIGHUP');
    const outcome = outcomeOf(await run.next('the second outcome', (e) => e.event === 'outcome' && e.pid === second));
    expect(outcome).toMatchObject({ ok: true });
    const third = outcome.successorPid as number;
    run.signal(second, 'SIGKILL');
    await run.gone(second);

    expect(await run.next('the third generation ready', (e) => e.event === 'ready' && e.pid === third)).toMatchObject({ generation: 3 });
    const answers = [];
    for (let i = 0; i < 20; i += 1) answers.push(await askPid(port));
    expect(new Set(answers)).toEqual(new Set([third]));
    expect(run.pidFile()).toBe(third);
    expect(run.events.find((e) => e.event === 'starting' && e.pid === third)).toMatchObject({ predecessorPid: second });
  });
});
