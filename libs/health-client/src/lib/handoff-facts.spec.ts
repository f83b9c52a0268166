import { extractHandoff } from './handoff-facts';

/** A /health body as the API sends it, with `handoff` beside `shutdown`. */
const body = (handoff: unknown) => ({ status: 'ok', info: {}, error: {}, details: { shutdown: { status: 'up', phase: 'ready', pid: 10 }, handoff } });

describe('extractHandoff', () => {
  it('reads an idle instance that can hand over', () => {
    expect(extractHandoff(body({ status: 'up', enabled: true, supported: true, state: 'idle', attempts: 0 }))).toEqual({
      supported: true, enabled: true, state: 'idle', attempts: 0, successorPid: undefined, predecessorPid: undefined, last: undefined,
    });
  });

  it('reads a running attempt with its successor pid, and the successor side with its predecessor pid', () => {
    expect(extractHandoff(body({ enabled: true, supported: true, state: 'spawning', attempts: 2, successorPid: 501 }))).toMatchObject({ state: 'spawning', attempts: 2, successorPid: 501 });
    expect(extractHandoff(body({ enabled: true, supported: true, state: 'idle', attempts: 0, predecessorPid: 500 }))).toMatchObject({ predecessorPid: 500, successorPid: undefined });
  });

  it('reads a failed last attempt with its exit, message and output lines', () => {
    const last = {
      ok: false, reason: 'exited', message: 'successor 501 exited with code 1 before it was ready', successorPid: 501,
      exit: { code: 1, signal: null }, durationMs: 1310, at: '2026-12-01T22:47:38.325Z', output: ['Error: broken build', '    at main.js:1:7'],
    };
    expect(extractHandoff(body({ enabled: true, supported: true, state: 'idle', attempts: 1, last }))?.last).toEqual({ ...last, output: ['Error: broken build', '    at main.js:1:7'] });
  });

  it('calls an instance with HANDOFF_ENABLED=false unsupported', () => {
    expect(extractHandoff(body({ enabled: false, supported: false, state: 'idle', attempts: 0 }))).toMatchObject({ supported: false, enabled: false });
  });

  it('returns undefined for a body without a handoff entry (an API without hot handoff)', () => {
    expect(extractHandoff({ status: 'ok', details: { shutdown: { phase: 'ready' } } })).toBeUndefined();
    expect(extractHandoff('<html>')).toBeUndefined();
    expect(extractHandoff(undefined)).toBeUndefined();
  });

  it('reads anything but a literal true as unsupported, and drops what it does not understand', () => {
    const out = extractHandoff(body({ supported: 'yes', state: 'warping', attempts: 'many', last: { ok: 'no' } }));
    expect(out).toEqual({ supported: false, enabled: false, state: undefined, attempts: 0, successorPid: undefined, predecessorPid: undefined, last: undefined });
    expect(extractHandoff(body({ supported: true, last: { ok: true, output: ['a', 3, null] } }))?.last).toMatchObject({ ok: true, output: ['a'], exit: undefined });
  });
});
