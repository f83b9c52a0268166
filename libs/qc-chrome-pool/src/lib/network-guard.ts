import { BLOCK_REASONS } from './block-reasons';

/** Content is served only from `https://j<jobId>.<QC_ORIGIN_HOST>/`; everything else is denied. */
export const QC_ORIGIN_HOST = 'qc.invalid';

/** Where a warm page's trusted host document lives (origin mode); it embeds each job in an iframe. */
export const HOST_URL = `https://host.${QC_ORIGIN_HOST}/`;

/**
 * The stable origin reports use for the job's own origin, so that the same content gives the
 * same report whatever job number rendered it.
 */
export const CONTENT_ORIGIN = `https://content.${QC_ORIGIN_HOST}`;

/** The origin a job's document is served from; per job so storage is partitioned by construction. */
export function jobOrigin(jobId: number): string {
  return `https://j${jobId}.${QC_ORIGIN_HOST}`;
}

/** Source of a RegExp matching job origins (the in-page guard uses it to find the job document). */
export const JOB_ORIGIN_PATTERN = `^https://j\\d+\\.${QC_ORIGIN_HOST.replace('.', '\\.')}$`;

/**
 * Browser-level guard behind request interception, for the paths interception does not see
 * (WebSockets, WebTransport, some worker and redirect paths): no host resolves, everything that
 * would touch the network goes to a dead proxy, loopback included (`<-loopback>`), and WebRTC
 * may not use UDP unless a proxy carries it (it cannot: the proxy is dead), so no STUN or TURN
 * packet and no ICE connectivity check leaves the browser. Measured: the last flag is the one
 * Chromium 156 honours; `--force-webrtc-ip-handling-policy` is silently ignored (README).
 */
export const NETWORK_GUARD_CHROME_ARGS = [
  '--host-resolver-rules=MAP * ~NOTFOUND',
  '--proxy-server=http://127.0.0.1:9',
  '--proxy-bypass-list=<-loopback>',
  '--webrtc-ip-handling-policy=disable_non_proxied_udp',
];

/** The same WebRTC policy as a profile preference, a second layer if the switch is ever dropped. */
export const NETWORK_GUARD_PREFERENCES = { webrtc: { ip_handling_policy: 'disable_non_proxied_udp' } };

/** How a request relates to the job: its document's navigation, the host page's, or anything else. */
export type RequestRole = 'job-navigation' | 'host-navigation' | 'subresource';

export type GuardDecision =
  | { action: 'serve-document' }
  | { action: 'not-found'; report: boolean }
  | { action: 'pass' }
  /** `keepDocument`: abort as a cancelled navigation so the current document stays (no error page). */
  | { action: 'block'; reason: string; keepDocument: boolean };

/** The reason a navigation to `url` is refused: file:// has its own, everything else leaves the job. */
export function navigationReason(url: string): string {
  return /^file:/i.test(url) ? BLOCK_REASONS.file : BLOCK_REASONS.nav;
}

/**
 * What to do with one intercepted request of the job served from `origin`. The job's document is
 * served once, to the job frame's first navigation; any later navigation of the job frame or of
 * the host page is refused and the current document stays.
 */
export function decideRequest(url: string, origin: string | undefined, role: RequestRole, documentServed: boolean): GuardDecision {
  if (role !== 'subresource') {
    if (role === 'job-navigation' && origin !== undefined && !documentServed && url === `${origin}/`) {
      return { action: 'serve-document' };
    }
    return { action: 'block', reason: navigationReason(url), keepDocument: true };
  }
  if (url.startsWith('data:') || url.startsWith('blob:') || url === 'about:blank') return { action: 'pass' };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { action: 'block', reason: 'unparsable URL', keepDocument: false };
  }
  if (parsed.protocol === 'file:') return { action: 'block', reason: BLOCK_REASONS.file, keepDocument: false };
  if (origin === undefined) return { action: 'block', reason: 'no job is running on this page', keepDocument: false };
  if (parsed.origin === origin) {
    // The browser asks for a favicon on its own; it is not the content's fault.
    return { action: 'not-found', report: parsed.pathname !== '/favicon.ico' };
  }
  if (parsed.hostname === QC_ORIGIN_HOST || parsed.hostname.endsWith(`.${QC_ORIGIN_HOST}`)) {
    return { action: 'block', reason: "another job's origin", keepDocument: false };
  }
  return { action: 'block', reason: `network access to ${parsed.protocol}//${parsed.host} is not allowed`, keepDocument: false };
}
