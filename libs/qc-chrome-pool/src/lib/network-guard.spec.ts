import { BLOCK_REASONS, blockedFromConsole, isGuardConsoleNoise, parseBlockedMarker } from './block-reasons';
import { decideRequest, jobOrigin, navigationReason } from './network-guard';

const origin = jobOrigin(7);

describe('decideRequest', () => {
  it("serves the submitted document once, to the job frame's first navigation", () => {
    expect(decideRequest('https://j7.qc.invalid/', origin, 'job-navigation', false)).toEqual({ action: 'serve-document' });
    expect(decideRequest('https://j7.qc.invalid/', origin, 'job-navigation', true)).toMatchObject({ action: 'block', keepDocument: true });
    expect(decideRequest('https://j7.qc.invalid/', origin, 'subresource', false)).toEqual({ action: 'not-found', report: true });
  });

  it('refuses every other navigation of the job frame or the host page and keeps the document', () => {
    for (const url of ['http://127.0.0.1:9/x', 'https://j7.qc.invalid/next.html', 'https://j7.qc.invalid/?a=b', 'blob:https://j7.qc.invalid/1']) {
      expect(decideRequest(url, origin, 'job-navigation', true)).toEqual({ action: 'block', reason: BLOCK_REASONS.nav, keepDocument: true });
      expect(decideRequest(url, origin, 'host-navigation', true)).toEqual({ action: 'block', reason: BLOCK_REASONS.nav, keepDocument: true });
    }
    expect(decideRequest('file:///etc/hostname', origin, 'job-navigation', true)).toMatchObject({ reason: BLOCK_REASONS.file });
  });

  it('answers other paths of the job origin with a reported 404, the favicon silently', () => {
    expect(decideRequest('https://j7.qc.invalid/missing.png', origin, 'subresource', true)).toEqual({ action: 'not-found', report: true });
    expect(decideRequest('https://j7.qc.invalid/favicon.ico', origin, 'subresource', true)).toEqual({ action: 'not-found', report: false });
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
    'https://host.qc.invalid/',
  ])('blocks the subresource %s with an error page where it would show', (url) => {
    expect(decideRequest(url, origin, 'subresource', true)).toMatchObject({ action: 'block', keepDocument: false });
  });

  it('lets data: and blob: subresources through and blocks everything while no job owns the page', () => {
    expect(decideRequest('data:image/png;base64,AA', origin, 'subresource', true)).toEqual({ action: 'pass' });
    expect(decideRequest('blob:https://j7.qc.invalid/abc', origin, 'subresource', true)).toEqual({ action: 'pass' });
    expect(decideRequest('https://j7.qc.invalid/x', undefined, 'subresource', true)).toMatchObject({ action: 'block' });
    expect(decideRequest('https://j7.qc.invalid/', undefined, 'job-navigation', false)).toMatchObject({ action: 'block' });
  });

  it('gives file:// navigations the local-file reason and the rest the navigation reason', () => {
    expect(navigationReason('FILE:///etc/passwd')).toBe(BLOCK_REASONS.file);
    expect(navigationReason('https://example.com/')).toBe(BLOCK_REASONS.nav);
  });
});

describe('console and marker helpers', () => {
  it('reads the in-page guard markers and refuses an unknown kind', () => {
    expect(parseBlockedMarker('__qc_blocked__ webrtc stun:127.0.0.1:3478')).toEqual({ kind: 'webrtc', url: 'stun:127.0.0.1:3478' });
    expect(parseBlockedMarker('__qc_blocked__ nav http://x/ y')).toEqual({ kind: 'nav', url: 'http://x/ y' });
    expect(parseBlockedMarker('__qc_blocked__ evil http://x/')).toBeUndefined();
    expect(parseBlockedMarker('__qc_blocked__ nav')).toBeUndefined();
    expect(parseBlockedMarker('hello')).toBeUndefined();
  });

  it('extracts what Chrome refused on its own and recognises guard noise', () => {
    expect(blockedFromConsole('Not allowed to load local resource: file:///etc/passwd')).toEqual({ kind: 'file', url: 'file:///etc/passwd' });
    expect(blockedFromConsole('Failed to establish a connection to https://127.0.0.1:4433/wt: net::ERR_TUNNEL_CONNECTION_FAILED.'))
      .toEqual({ kind: 'webtransport', url: 'https://127.0.0.1:4433/wt' });
    expect(blockedFromConsole('something else')).toBeUndefined();
    expect(isGuardConsoleNoise('Failed to load resource: net::ERR_BLOCKED_BY_CLIENT')).toBe(true);
    expect(isGuardConsoleNoise('Blocked autofocusing on a <input> element in a cross-origin subframe.')).toBe(true);
    expect(isGuardConsoleNoise('Uncaught TypeError: x is not a function')).toBe(false);
  });
});
