import { openSync } from 'node:fs';
import { isTerminalHangup } from './terminal';

describe('isTerminalHangup', () => {
  it('is never a hangup for a service, which has no terminal: SIGHUP means reload there', () => {
    const open = jest.fn(() => 3);
    expect(isTerminalHangup(false, open)).toBe(false);
    expect(open).not.toHaveBeenCalled();
  });

  it('is a hangup when the process had a terminal and /dev/tty no longer opens', () => {
    expect(isTerminalHangup(true, () => { throw Object.assign(new Error('No such device or address'), { code: 'ENXIO' }); })).toBe(true);
  });

  it('is a reload request when the terminal is still there (kill -HUP from another shell)', () => {
    expect(isTerminalHangup(true, () => openSync('/dev/null', 'r'))).toBe(false);
  });
});
