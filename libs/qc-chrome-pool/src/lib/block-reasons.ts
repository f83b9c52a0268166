/** Why an attempt of the content was refused, by kind; the report's `blockedRequests[].reason`. */
export const BLOCK_REASONS = {
  file: 'local file access is not allowed',
  nav: 'navigation away from the job document is not allowed',
  popup: 'popup windows are not allowed',
  webrtc: 'WebRTC is not allowed (no packet may reach an ICE server or peer)',
  webtransport: 'WebTransport is not allowed',
  sharedworker: 'shared workers are not allowed (their requests cannot be inspected)',
  websocket: 'WebSocket connections are not allowed',
} as const;

export type BlockKind = keyof typeof BLOCK_REASONS;

/**
 * Prefix of the console.debug lines the in-page guard writes: `<marker><kind> <url>`. Only the
 * kind is taken from the page; the reason text is ours.
 */
export const BLOCKED_MARKER = '__qc_blocked__ ';

/** The line the in-page guard writes when the job document's load event has fired. */
export const LOADED_MARKER = '__qc_loaded__';

/** Parses a marker line into kind and URL; undefined for any other text or an unknown kind. */
export function parseBlockedMarker(text: string): { kind: BlockKind; url: string } | undefined {
  if (!text.startsWith(BLOCKED_MARKER)) return undefined;
  const rest = text.slice(BLOCKED_MARKER.length);
  const space = rest.indexOf(' ');
  const kind = rest.slice(0, space) as BlockKind;
  if (space < 0 || !(kind in BLOCK_REASONS)) return undefined;
  return { kind, url: rest.slice(space + 1) };
}

/**
 * Console noise: Chrome's own lines about what the report lists as blocked/failed requests, and
 * lines that only exist because the job runs inside the host page (origin mode).
 */
export function isGuardConsoleNoise(text: string): boolean {
  return (
    text.startsWith('Failed to load resource') ||
    text.startsWith('Not allowed to load local resource') ||
    text.startsWith('WebSocket connection to') ||
    text.startsWith('Failed to establish a connection to') ||
    text.startsWith('Blocked autofocusing on a') ||
    text.startsWith('Unsafe attempt to initiate navigation for frame with URL')
  );
}

const LOCAL_RESOURCE = /^Not allowed to load local resource: (\S+)/;
const WEB_TRANSPORT = /^Failed to establish a connection to (\S+?): net::/;

/** An attempt Chrome refused on its own and only told the console about, if the line is one. */
export function blockedFromConsole(text: string): { kind: BlockKind; url: string } | undefined {
  const local = LOCAL_RESOURCE.exec(text)?.[1];
  if (local) return { kind: 'file', url: local };
  const transport = WEB_TRANSPORT.exec(text)?.[1];
  if (transport) return { kind: 'webtransport', url: transport };
  return undefined;
}
