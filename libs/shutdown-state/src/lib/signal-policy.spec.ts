import { SAME_KEYPRESS_MS, signalAction } from './signal-policy';

describe('signalAction', () => {
  it('begins the shutdown on the first signal of either kind', () => {
    expect(signalAction({ begun: false, interrupts: 0 }, 'SIGTERM')).toBe('begin');
    expect(signalAction({ begun: false, interrupts: 0 }, 'SIGINT')).toBe('begin');
  });

  it('ignores any number of repeated SIGTERMs', () => {
    expect(signalAction({ begun: true, interrupts: 0 }, 'SIGTERM')).toBe('ignore');
    expect(signalAction({ begun: true, interrupts: 2 }, 'SIGTERM')).toBe('ignore');
  });

  it('skips the drain on the second Ctrl-C and exits on the third', () => {
    expect(signalAction({ begun: true, interrupts: 1, sinceLastInterruptMs: 900 }, 'SIGINT')).toBe('skipDrain');
    expect(signalAction({ begun: true, interrupts: 2, sinceLastInterruptMs: 900 }, 'SIGINT')).toBe('forceExit');
  });

  it('counts one Ctrl-C delivered twice (terminal group + forwarding parent) once', () => {
    expect(signalAction({ begun: true, interrupts: 1, sinceLastInterruptMs: SAME_KEYPRESS_MS - 1 }, 'SIGINT')).toBe('ignore');
    expect(signalAction({ begun: true, interrupts: 1, sinceLastInterruptMs: SAME_KEYPRESS_MS }, 'SIGINT')).toBe('skipDrain');
  });

  it('treats a first Ctrl-C after a SIGTERM as a first Ctrl-C', () => {
    expect(signalAction({ begun: true, interrupts: 0 }, 'SIGINT')).toBe('ignore');
  });
});
