import { isAdmitting, isReady, phaseOf, transition, type ShutdownEvent, type ShutdownState } from './shutdown-state';

const states: ShutdownState[] = ['starting', 'ready', 'delaying', 'draining', 'cleaning', 'stopped'];

describe('transition', () => {
  const table: Array<[ShutdownState, ShutdownEvent, ShutdownState]> = [
    ['starting', { type: 'started' }, 'ready'],
    ['ready', { type: 'stop', delay: false }, 'draining'],
    ['ready', { type: 'stop', delay: true }, 'delaying'],
    ['starting', { type: 'stop', delay: false }, 'draining'],
    ['delaying', { type: 'delayElapsed' }, 'draining'],
    ['delaying', { type: 'drained' }, 'cleaning'],
    ['draining', { type: 'drained' }, 'cleaning'],
    ['cleaning', { type: 'cleanedUp' }, 'stopped'],
  ];

  it.each(table)('moves from %s on %j to %s', (from, event, to) => {
    expect(transition(from, event)).toBe(to);
  });

  it('ignores a repeated stop request in every phase after the first', () => {
    for (const state of ['delaying', 'draining', 'cleaning', 'stopped'] as const) {
      expect(transition(state, { type: 'stop', delay: false })).toBe(state);
    }
  });

  it('never leaves stopped', () => {
    const events: ShutdownEvent[] = [{ type: 'started' }, { type: 'stop', delay: true }, { type: 'delayElapsed' }, { type: 'drained' }, { type: 'cleanedUp' }];
    for (const event of events) expect(transition('stopped', event)).toBe('stopped');
  });

  it('does not become ready again once a shutdown began', () => {
    for (const state of ['delaying', 'draining', 'cleaning'] as const) expect(transition(state, { type: 'started' })).toBe(state);
  });
});

describe('phaseOf, isAdmitting and isReady', () => {
  it('reports the internal steps of a shutdown as the public draining phase', () => {
    expect(states.map(phaseOf)).toEqual(['starting', 'ready', 'draining', 'draining', 'draining', 'stopped']);
  });

  it('admits new work until the propagation delay is over', () => {
    expect(states.filter(isAdmitting)).toEqual(['starting', 'ready', 'delaying']);
  });

  it('is ready only in the ready state', () => {
    expect(states.filter(isReady)).toEqual(['ready']);
  });
});
