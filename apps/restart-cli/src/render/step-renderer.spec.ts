import { makeStepRenderer } from './step-renderer';

describe('makeStepRenderer', () => {
  const run = (tty: boolean) => {
    let text = '';
    const emit = makeStepRenderer((t) => (text += t), tty);
    emit({ type: 'step-start', instance: '0', step: 'check' });
    emit({ type: 'step-end', instance: '0', step: 'check', status: 'ok', durationMs: 12, detail: 'ready, pid 7' });
    emit({ type: 'step-end', instance: '0', step: 'verify', status: 'failed', durationMs: 61_000, detail: 'never ready' });
    return text;
  };

  it('prints plain ASCII lines with marks and durations when not on a terminal', () => {
    const text = run(false);
    expect(text).toBe([
      '..   [0] check current health',
      'ok   [0] check current health: ready, pid 7 (12ms)',
      'FAIL [0] verify the new instance is healthy: never ready (1m01s)',
      '',
    ].join('\n'));
    // eslint-disable-next-line no-control-regex
    expect(text).not.toMatch(/\x1b/);
  });

  it('uses coloured marks on a terminal', () => {
    expect(run(true)).toContain('\x1b[32m\u2714\x1b[0m [0] check current health: ready, pid 7 (12ms)');
  });
});
