import { isUpgrading, transition, triggerVerdict, type HandoffEvent, type HandoffState } from './handoff-state';

const run = (events: HandoffEvent['type'][], from: HandoffState = 'idle') =>
  events.reduce<HandoffState>((state, type) => transition(state, { type }), from);

describe('handoff state machine', () => {
  it('goes idle -> spawning -> starting -> handed-over on a successful handoff', () => {
    expect(run(['trigger'])).toBe('spawning');
    expect(run(['trigger', 'hello'])).toBe('starting');
    expect(run(['trigger', 'hello', 'ready'])).toBe('handed-over');
  });

  it('returns to idle through killing when the successor fails, before or after its hello', () => {
    expect(run(['trigger', 'failed'])).toBe('killing');
    expect(run(['trigger', 'hello', 'failed', 'killed'])).toBe('idle');
  });

  it('returns to idle at once when nothing could be spawned', () => {
    expect(run(['trigger', 'spawnFailed'])).toBe('idle');
  });

  it('ignores a ready that arrives while a failed successor is being killed', () => {
    expect(run(['trigger', 'hello', 'failed', 'ready'])).toBe('killing');
  });

  it('ignores a second trigger during an upgrade and every event after the handoff', () => {
    expect(run(['trigger', 'hello', 'trigger'])).toBe('starting');
    for (const type of ['trigger', 'hello', 'failed', 'killed', 'spawnFailed', 'ready'] as const) {
      expect(transition('handed-over', { type })).toBe('handed-over');
    }
  });

  it('starts an upgrade only when idle, refuses busy while one runs and handed-over after a handoff', () => {
    expect(triggerVerdict('idle')).toBe('start');
    expect(['spawning', 'starting', 'killing'].map((s) => triggerVerdict(s as HandoffState))).toEqual(['busy', 'busy', 'busy']);
    expect(triggerVerdict('handed-over')).toBe('handed-over');
    expect(isUpgrading('killing')).toBe(true);
    expect(isUpgrading('handed-over')).toBe(false);
  });
});
