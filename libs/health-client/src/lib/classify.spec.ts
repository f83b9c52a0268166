import { classify, extractFacts } from './classify';

const body = (phase: string, extra: Record<string, unknown> = {}) => ({
  status: phase === 'ready' ? 'ok' : 'error',
  details: { shutdown: { status: phase === 'ready' ? 'up' : 'down', phase, inFlight: 2, pid: 4321, ...extra } },
});

describe('classify', () => {
  it('calls a 200 answer with phase ready "ready"', () => {
    expect(classify(200, body('ready')).state).toBe('ready');
  });

  it('calls phase starting "starting"', () => {
    expect(classify(503, body('starting')).state).toBe('starting');
  });

  it('calls phases draining and stopped "draining" whatever the status code', () => {
    expect(classify(503, body('draining')).state).toBe('draining');
    expect(classify(503, body('stopped')).state).toBe('draining');
    expect(classify(200, body('draining')).state).toBe('draining');
  });

  it('calls a 503 with phase ready "down" and names the indicator that is down', () => {
    const out = classify(503, { ...body('ready'), error: { qc: { status: 'down' } } });
    expect(out.state).toBe('down');
    expect(out.reason).toContain('qc');
  });

  it('calls a body without a shutdown phase "down"', () => {
    expect(classify(200, { hello: 'world' }).state).toBe('down');
    expect(classify(200, 'plain').state).toBe('down');
  });

  it('exposes pid and in-flight count from the body', () => {
    expect(extractFacts(body('draining'))).toEqual({ phase: 'draining', pid: 4321, inFlight: 2 });
  });

  it('tells a pid file the instance writes, none (null), and a body that does not say (absent)', () => {
    expect(extractFacts(body('ready', { pidFile: '/run/edu/api.pid' }))).toMatchObject({ pidFile: '/run/edu/api.pid' });
    expect(extractFacts(body('ready', { pidFile: null }))).toMatchObject({ pidFile: null });
    expect(extractFacts(body('ready'))).not.toHaveProperty('pidFile');
    expect(extractFacts(body('ready', { pidFile: 42 }))).not.toHaveProperty('pidFile');
  });

  it('reads pid and phase from the liveness body too', () => {
    const live = { status: 'ok', details: { process: { status: 'up', pid: 77, phase: 'ready' } } };
    expect(extractFacts(live)).toEqual({ phase: 'ready', pid: 77, inFlight: undefined });
  });
});
