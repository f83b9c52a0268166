/** Content is served only from `https://j<jobId>.<QC_ORIGIN_HOST>/`; everything else is denied. */
export const QC_ORIGIN_HOST = 'qc.invalid';

/** The origin a job's document is served from; per job so storage is partitioned by construction. */
export function jobOrigin(jobId: number): string {
  return `https://j${jobId}.${QC_ORIGIN_HOST}`;
}

/**
 * Browser-level guard behind request interception, for the paths interception does not see
 * (WebSockets, some worker and redirect paths): no host resolves, and everything that would
 * touch the network goes to a dead proxy, loopback included (`<-loopback>`).
 */
export const NETWORK_GUARD_CHROME_ARGS = [
  '--host-resolver-rules=MAP * ~NOTFOUND',
  '--proxy-server=http://127.0.0.1:9',
  '--proxy-bypass-list=<-loopback>',
];

/** URL patterns also blocked through CDP Network.setBlockedURLs (defence in depth). */
export const CDP_BLOCKED_URL_PATTERNS = ['ws://*', 'wss://*', 'file://*', 'ftp://*'];

export type GuardDecision =
  | { action: 'serve-document' }
  | { action: 'not-found'; report: boolean }
  | { action: 'pass' }
  | { action: 'block'; reason: string };

/** What to do with one intercepted request of the job served from `origin`. */
export function decideRequest(url: string, origin: string | undefined, isMainFrameNavigation: boolean): GuardDecision {
  if (url.startsWith('data:') || url.startsWith('blob:') || url === 'about:blank') return { action: 'pass' };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { action: 'block', reason: 'unparsable URL' };
  }
  if (parsed.protocol === 'file:') return { action: 'block', reason: 'local file access is not allowed' };
  if (origin === undefined) return { action: 'block', reason: 'no job is running on this page' };
  if (parsed.origin === origin) {
    if (parsed.pathname === '/' && parsed.search === '' && isMainFrameNavigation) return { action: 'serve-document' };
    // The browser asks for a favicon on its own; it is not the content's fault.
    return { action: 'not-found', report: parsed.pathname !== '/favicon.ico' };
  }
  if (parsed.hostname === QC_ORIGIN_HOST || parsed.hostname.endsWith(`.${QC_ORIGIN_HOST}`)) {
    return { action: 'block', reason: "another job's origin" };
  }
  return { action: 'block', reason: `network access to ${parsed.protocol}//${parsed.host} is not allowed` };
}

/** Console noise that duplicates what the report lists as blocked/failed requests. */
export function isNetworkConsoleNoise(text: string): boolean {
  return (
    text.startsWith('Failed to load resource') ||
    text.startsWith('Not allowed to load local resource') ||
    text.startsWith('WebSocket connection to')
  );
}

const LOCAL_RESOURCE = /^Not allowed to load local resource: (\S+)/;

/** The file:// URL Chrome refused, from its console message, if it is one. */
export function localResourceFromConsole(text: string): string | undefined {
  return LOCAL_RESOURCE.exec(text)?.[1];
}

/** Marker the init script logs when content calls fetch/XHR on a URL the renderer refuses on its own. */
export const BLOCKED_MARKER = '__qc_blocked__ ';

/**
 * Runs before the content on every document: clears window.name and notes fetch/XHR to file://,
 * which Chrome refuses inside the renderer without any network event we could observe.
 */
export const GUARD_INIT_SCRIPT = `(() => {
  try { window.name = ''; } catch (e) {}
  const note = (u) => { try { const s = String(u); if (/^file:/i.test(s)) console.debug(${JSON.stringify(BLOCKED_MARKER)} + s); } catch (e) {} };
  const f = window.fetch;
  if (f) window.fetch = function (input, init) { note(input && input.url ? input.url : input); return f.call(this, input, init); };
  const open = XMLHttpRequest.prototype.open;
  XMLHttpRequest.prototype.open = function (m, u) { note(u); return open.apply(this, arguments); };
})();`;
