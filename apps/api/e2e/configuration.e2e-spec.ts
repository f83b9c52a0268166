import { killLeftoverApis, runApi, waitFor } from '@edu-agents/e2e-support';

afterEach(killLeftoverApis);

describe('configuration validated at start-up', () => {
  it.each([
    ['PORT', 'eighty', /PORT="eighty": must be an integer from 0 to 65535/],
    ['SHUTDOWN_TIMEOUT_MS', '-5', /SHUTDOWN_TIMEOUT_MS="-5": must be an integer from 0/],
    ['LOG_FORMAT', 'xml', /LOG_FORMAT="xml": must be one of text, json/],
    ['QC_ISOLATION', 'none', /QC_ISOLATION="none": must be one of origin, context/],
    ['HEADERS_TIMEOUT_MS', '1000', /HEADERS_TIMEOUT_MS="1000": must be greater than KEEP_ALIVE_TIMEOUT_MS/],
    ['HANDOFF_YIELD_DIR', 'run/edu_agents', /HANDOFF_YIELD_DIR="run\/edu_agents": must be an absolute path to a directory the instances share/],
  ])('exits 2 naming %s when it is %j', async (variable, value, message) => {
    const api = runApi({ [variable]: value });
    const exit = await api.exited;
    expect(exit.code).toBe(2);
    expect(api.output()).toMatch(message);
  });

  it('stops the start naming a HANDOFF_YIELD_DIR that is not a directory it can write', async () => {
    const api = runApi({ HANDOFF_YIELD_DIR: '/nonexistent/edu_agents' });
    expect((await api.exited).code).toBe(1);
    expect(api.output()).toMatch(/start failed: process-handoff: yieldDir \/nonexistent\/edu_agents cannot be used: ENOENT/);
  });

  it('names every bad variable at once', async () => {
    const api = runApi({ QC_BROWSERS: '0', QC_QUEUE_MAX: 'many' });
    expect((await api.exited).code).toBe(2);
    expect(api.output()).toMatch(/QC_BROWSERS="0"/);
    expect(api.output()).toMatch(/QC_QUEUE_MAX="many"/);
  });

  it('writes JSON log lines with LOG_FORMAT=json', async () => {
    const api = runApi({ LOG_FORMAT: 'json' });
    const jsonLines = () => api.output().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    const listening = await waitFor('the listening line', () => jsonLines().find((l) => l['msg'] === 'listening'), 15_000);
    expect(listening).toMatchObject({ level: 'info', port: expect.any(Number) });
    api.child.kill('SIGTERM');
    expect((await api.exited).code).toBe(0);
    const phases = jsonLines().filter((l) => String(l['msg']).startsWith('phase'));
    expect(phases.map((l) => l['msg'])).toEqual(['phase starting', 'phase ready', 'phase draining', 'phase draining (cleaning)', 'phase stopped']);
  });
});
