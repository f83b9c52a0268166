import { signalAction } from './signal-policy';

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
    expect(signalAction({ begun: true, interrupts: 1 }, 'SIGINT')).toBe('skipDrain');
    expect(signalAction({ begun: true, interrupts: 2 }, 'SIGINT')).toBe('forceExit');
  });

  it('treats a first Ctrl-C after a SIGTERM as a first Ctrl-C', () => {
    expect(signalAction({ begun: true, interrupts: 0 }, 'SIGINT')).toBe('ignore');
  });
});
