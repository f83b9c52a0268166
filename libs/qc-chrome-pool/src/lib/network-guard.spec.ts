import { decideRequest, isNetworkConsoleNoise, jobOrigin, localResourceFromConsole } from './network-guard';

const origin = jobOrigin(7);

describe('decideRequest', () => {
  it("serves the submitted document only for the main frame's navigation to the job origin", () => {
    expect(decideRequest('https://j7.qc.invalid/', origin, true)).toEqual({ action: 'serve-document' });
    expect(decideRequest('https://j7.qc.invalid/', origin, false)).toEqual({ action: 'not-found', report: true });
  });

  it('answers other paths of the job origin with a reported 404, the favicon silently', () => {
    expect(decideRequest('https://j7.qc.invalid/missing.png', origin, false)).toEqual({ action: 'not-found', report: true });
    expect(decideRequest('https://j7.qc.invalid/favicon.ico', origin, false)).toEqual({ action: 'not-found', report: false });
  });

  it.each([
    'http://169.254.169.254/latest/meta-data/',
    'http://127.0.0.1:8080/',
    'http://10.0.0.1/',
    'https://example.com/x.js',
    'ws://127.0.0.1:1/',
    'file:///etc/passwd',
    'https://j6.qc.invalid/',
    'https://qc.invalid/',
  ])('blocks %s', (url) => {
    expect(decideRequest(url, origin, false)).toMatchObject({ action: 'block' });
  });

  it('lets data: and blob: through and blocks everything while no job owns the page', () => {
    expect(decideRequest('data:image/png;base64,AA', origin, false)).toEqual({ action: 'pass' });
    expect(decideRequest('blob:https://j7.qc.invalid/abc', origin, false)).toEqual({ action: 'pass' });
    expect(decideRequest('https://j7.qc.invalid/', undefined, true)).toMatchObject({ action: 'block' });
  });
});

describe('console helpers', () => {
  it('extracts the refused file URL and recognises network noise', () => {
    expect(localResourceFromConsole('Not allowed to load local resource: file:///etc/passwd')).toBe('file:///etc/passwd');
    expect(localResourceFromConsole('something else')).toBeUndefined();
    expect(isNetworkConsoleNoise('Failed to load resource: net::ERR_BLOCKED_BY_CLIENT')).toBe(true);
    expect(isNetworkConsoleNoise('Uncaught TypeError: x is not a function')).toBe(false);
  });
});
