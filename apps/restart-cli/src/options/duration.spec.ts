import { formatDuration, parseDuration } from './duration';
import { expandInstance, instancesArg } from './instances';

describe('parseDuration', () => {
  it.each([['60s', 60_000], ['500ms', 500], ['2m', 120_000], ['1500', 1500], ['1.5s', 1500], ['1h', 3_600_000]])('reads %s as %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', 's', '6x', '-1s', '1 day', '10 s s'])('rejects %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe('formatDuration', () => {
  it('writes short, medium and long durations', () => {
    expect([formatDuration(850), formatDuration(12_340), formatDuration(125_000)]).toEqual(['850ms', '12.3s', '2m05s']);
  });
});

describe('instances', () => {
  it('splits a list and replaces every %i', () => {
    expect(instancesArg('0, 1,web-2')).toEqual(['0', '1', 'web-2']);
    expect(expandInstance('PORT=800%i node x --log /var/log/%i.log', '1')).toBe('PORT=8001 node x --log /var/log/1.log');
  });

  it('rejects names that could smuggle shell or path syntax', () => {
    expect(() => instancesArg('0;reboot')).toThrow(/not an instance name/);
    expect(() => instancesArg('0,../x')).toThrow(/not an instance name/);
  });
});
