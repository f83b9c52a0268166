import { Agent } from 'node:http';
import { SAME_KEYPRESS_MS } from '@edu-agents/shutdown-state';
import { http, killLeftoverApis, slowPost, startApi, waitFor, type ApiProcess } from '@edu-agents/e2e-support';

/**
 * The gap between two Ctrl-Cs of a person. Closer SIGINTs are one keypress
 * delivered twice (terminal group + a forwarding parent such as npm) and count once.
 */
const aPersonsPause = () => new Promise((resolve) => setTimeout(resolve, SAME_KEYPRESS_MS + 100));

const LESSON = { html: '<main><h1>Fractions</h1><p>Half of 4 is 2.</p></main>' };

const health = async (api: ApiProcess, path = '/health') => {
  const answer = await http(`${api.url}${path}`);
  return { status: answer.status, body: answer.json<{ details: Record<string, Record<string, unknown>> }>() };
};
const signalLines = (api: ApiProcess, action: string) => api.output().split('\n').filter((l) => l.includes(`signal SIGTERM action=${action}`)).length;

afterEach(killLeftoverApis);

describe('graceful shutdown of the built API', () => {
  it('finishes a request in flight at SIGTERM, refuses new ones with 503, and exits 0 soon after', async () => {
    const api = await startApi({ QC_ENABLED: 'true', QC_BROWSERS: '1' });
    const inFlight = slowPost(`${api.url}/qc/check`, LESSON);
    await waitFor('the slow request to be in flight', async () => (await health(api)).body.details['shutdown']['inFlight'] === 1);

    api.signal('SIGTERM');
    const draining = await waitFor('readiness to turn 503', async () => {
      const h = await health(api);
      return h.status === 503 ? h : undefined;
    });
    expect(draining.body.details['shutdown']).toMatchObject({ phase: 'draining', status: 'down' });
    expect(draining.body.details['shutdown']['inFlight']).toBeGreaterThanOrEqual(1);
    expect(typeof draining.body.details['shutdown']['drainingSince']).toBe('string');
    expect((await health(api, '/health/live')).status).toBe(200);

    const refused = await http(`${api.url}/qc-stats`);
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('2');
    expect(refused.headers['connection']).toBe('close');
    expect(refused.json()).toMatchObject({ statusCode: 503, phase: 'draining' });

    inFlight.finish();
    const answer = await inFlight.answer;
    const answeredAt = Date.now();
    expect(answer.status).toBe(200);
    expect(answer.headers['connection']).toBe('close');
    expect(answer.json()).toMatchObject({ ok: true, cached: false });

    const exit = await api.exited;
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(exit.at - answeredAt).toBeLessThan(2_000);
  });

  it('does not let 50 idle keep-alive connections delay the exit', async () => {
    const api = await startApi();
    const agent = new Agent({ keepAlive: true, maxSockets: 50 });
    const answers = await Promise.all(Array.from({ length: 50 }, () => http(`${api.url}/health`, { agent })));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    const idle = Object.values(agent.freeSockets).reduce((n, list) => n + (list?.length ?? 0), 0);
    expect(idle).toBe(50);

    const signalledAt = Date.now();
    api.signal('SIGTERM');
    const exit = await api.exited;
    expect(exit.code).toBe(0);
    expect(exit.at - signalledAt).toBeLessThan(2_000);
    agent.destroy();
  });

  it('cuts a request that outlasts SHUTDOWN_TIMEOUT_MS and names it in the log', async () => {
    const api = await startApi({ SHUTDOWN_TIMEOUT_MS: '1500' });
    const stuck = slowPost(`${api.url}/qc/check`, LESSON);
    stuck.answer.catch(() => undefined); // the server cuts it: a socket error is expected
    await waitFor('the request to be in flight', async () => (await health(api)).body.details['shutdown']['inFlight'] === 1);

    const signalledAt = Date.now();
    api.signal('SIGTERM');
    const exit = await api.exited;
    expect(exit.code).toBe(0);
    expect(exit.at - signalledAt).toBeGreaterThanOrEqual(1_500);
    expect(exit.at - signalledAt).toBeLessThan(1_500 + 2_000);
    expect(api.output()).toMatch(/cut off POST \/qc\/check ageMs=\d+ reason=timeout/);
  });

  it('does not shorten the drain when SIGTERM is repeated', async () => {
    const api = await startApi({ SHUTDOWN_TIMEOUT_MS: '20000' });
    const slow = slowPost(`${api.url}/qc/check`, { html: 42 });
    await waitFor('the request to be in flight', async () => (await health(api)).body.details['shutdown']['inFlight'] === 1);

    api.signal('SIGTERM');
    await waitFor('the drain to begin', () => signalLines(api, 'begin') === 1);
    for (let i = 1; i <= 3; i += 1) {
      api.signal('SIGTERM');
      await waitFor(`repeated SIGTERM ${i} to be logged`, () => signalLines(api, 'ignore') === i);
    }
    expect(api.isRunning()).toBe(true);
    expect((await health(api)).body.details['shutdown']).toMatchObject({ phase: 'draining', inFlight: 1 });

    slow.finish();
    const answer = await slow.answer;
    expect(answer.status).toBe(400);
    expect(answer.json()).toMatchObject({ field: 'html' });
    expect((await api.exited).code).toBe(0);
  });

  it('keeps serving during SHUTDOWN_DELAY_MS while readiness is already 503, then refuses', async () => {
    const api = await startApi({ SHUTDOWN_DELAY_MS: '1500' });
    api.signal('SIGTERM');
    await waitFor('readiness to turn 503', async () => (await health(api)).status === 503);
    expect((await health(api)).body.details['shutdown']['phase']).toBe('draining');
    expect((await http(`${api.url}/qc-stats`)).status).toBe(200);
    await api.exited.then((exit) => expect(exit.code).toBe(0));
    expect(api.output()).toMatch(/phase draining .*reason="propagation delay elapsed"/);
  });

  it('skips the drain on a second Ctrl-C', async () => {
    const api = await startApi({ SHUTDOWN_TIMEOUT_MS: '20000' });
    const slow = slowPost(`${api.url}/qc/check`, LESSON);
    slow.answer.catch(() => undefined);
    await waitFor('the request to be in flight', async () => (await health(api)).body.details['shutdown']['inFlight'] === 1);
    const signalledAt = Date.now();
    api.signal('SIGINT');
    await waitFor('the drain to begin', () => api.output().includes('signal SIGINT action=begin'));
    await aPersonsPause();
    api.signal('SIGINT');
    const exit = await api.exited;
    expect(exit.code).toBe(0);
    expect(exit.at - signalledAt).toBeLessThan(5_000);
    expect(api.output()).toMatch(/cut off POST \/qc\/check .*reason=skipped/);
  });

  it('treats Ctrl-C after a SIGTERM as a first Ctrl-C: the drain goes on until a second one', async () => {
    const api = await startApi({ SHUTDOWN_TIMEOUT_MS: '20000' });
    const slow = slowPost(`${api.url}/qc/check`, LESSON);
    slow.answer.catch(() => undefined);
    await waitFor('the request to be in flight', async () => (await health(api)).body.details['shutdown']['inFlight'] === 1);
    api.signal('SIGTERM');
    await waitFor('the drain to begin', () => signalLines(api, 'begin') === 1);
    api.signal('SIGINT');
    await waitFor('the first Ctrl-C to be logged', () => api.output().includes('signal SIGINT action=ignore'));
    expect((await health(api)).body.details['shutdown']).toMatchObject({ phase: 'draining', inFlight: 1 });
    await aPersonsPause();
    api.signal('SIGINT');
    await waitFor('the second Ctrl-C to be logged', () => api.output().includes('signal SIGINT action=skipDrain'));
    expect((await api.exited).code).toBe(0);
  });
});
