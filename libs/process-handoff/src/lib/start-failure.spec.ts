import { HANDOFF_ENV } from './inheritance';
import { reportStartFailure } from './start-failure';

describe('reportStartFailure', () => {
  it('sends the error with its stack as a fatal message to a waiting predecessor', () => {
    const send = jest.fn();
    const error = new Error('cannot load api.js');
    reportStartFailure(error, { [HANDOFF_ENV]: '{"v":1}' }, send);
    expect(send).toHaveBeenCalledWith({ type: 'fatal', text: error.stack });
  });

  it('sends a plain text as it is', () => {
    const send = jest.fn();
    reportStartFailure('invalid configuration: PORT', { [HANDOFF_ENV]: '{"v":1}' }, send);
    expect(send).toHaveBeenCalledWith({ type: 'fatal', text: 'invalid configuration: PORT' });
  });

  it('does nothing outside a handoff, or without a channel, and never throws when the channel is gone', () => {
    const send = jest.fn();
    reportStartFailure(new Error('x'), {}, send);
    expect(send).not.toHaveBeenCalled();
    expect(() => reportStartFailure(new Error('x'), { [HANDOFF_ENV]: '{}' }, undefined)).not.toThrow();
    expect(() => reportStartFailure(new Error('x'), { [HANDOFF_ENV]: '{}' }, () => { throw new Error('channel closed'); })).not.toThrow();
  });
});
