/// <reference lib="dom" />

/** Arguments of {@link installPageGuard}. */
export interface PageGuardOptions {
  blockedMarker: string;
  loadedMarker: string;
  /** RegExp source matching job origins. */
  jobOriginPattern: string;
}

/**
 * Runs in every document of a guarded page before any content script (serialised by puppeteer,
 * so it must stay self-contained). It reports attempts the browser blocks without telling
 * interception, synchronously, so a report lists them the same way every time; the browser-level
 * guard is what stops the packets. In the job's own document it also cancels navigations (the
 * checks must run on the job's document) and says when the document has loaded.
 */
export function installPageGuard(options: PageGuardOptions): void {
  const debug = console.debug.bind(console);
  const report = (kind: string, url: string) => debug(`${options.blockedMarker}${kind} ${url}`);
  const resolve = (url: unknown): string => {
    try {
      return new URL(String(url), document.baseURI).href;
    } catch {
      return String(url);
    }
  };
  const win = window as unknown as Record<string, unknown>;
  const isForeign = (other: Window | null) => {
    if (other === null || other === window) return false;
    try {
      return other.location.origin === undefined;
    } catch {
      return true; // cross-origin access throws
    }
  };
  const realParent = window.parent;
  const parentIsForeign = realParent !== window && isForeign(realParent); // the host page (origin mode)
  const isJobDocument = new RegExp(options.jobOriginPattern).test(location.origin) && (window === window.top || parentIsForeign);
  try {
    window.name = '';
  } catch {
    // a sandboxed document may refuse; nothing to clear then
  }

  if (isJobDocument) {
    // Content looks for an LMS API up the parent chain; as a page of its own it has no parent.
    if (parentIsForeign) Object.defineProperty(window, 'parent', { get: () => window, configurable: true });
    // readyState, not the load event: Chrome skips the load event of a document that started a
    // navigation (a form submission the guard refused) while loading, and would leave us waiting.
    document.addEventListener('readystatechange', () => document.readyState === 'complete' && debug(options.loadedMarker), { capture: true });
  }
  const navigation = win['navigation'] as EventTarget | undefined;
  if ((isJobDocument || window === window.top) && navigation) {
    navigation.addEventListener('navigate', (event) => {
      const e = event as Event & { destination: { url: string; sameDocument: boolean }; hashChange: boolean; formData: unknown; cancelable: boolean };
      if (e.hashChange || (e.destination.sameDocument && e.destination.url === location.href)) return;
      report('nav', e.destination.url);
      // A cancelled form submission leaves Chrome waiting for a load that never comes; interception
      // refuses its request instead (the document stays either way).
      if (e.cancelable && !e.formData) e.preventDefault();
    });
  }

  // Windows: a new one is a popup (refused); the parent or top window is the host page in origin
  // mode (refused as a navigation); this window or a named frame of it may be navigated.
  const windowFor = (target: string): 'popup' | 'host' | 'here' => {
    const keyword = target.toLowerCase();
    if (keyword === '_parent' || keyword === '_top') return isForeign(keyword === '_top' ? window.top : realParent) ? 'host' : 'here';
    if (keyword === '' || keyword === '_self') return 'here';
    return keyword !== '_blank' && (window.frames as unknown as Record<string, unknown>)[target] ? 'here' : 'popup';
  };
  const refuse = (where: 'popup' | 'host', url: string) => report(where === 'popup' ? 'popup' : 'nav', url);
  const open = window.open;
  window.open = function (this: Window, url?: string | URL, target?: string, features?: string) {
    const where = windowFor(target === undefined ? '_blank' : String(target));
    if (where === 'here') return open.call(this, url, target, features);
    refuse(where, url ? resolve(url) : 'about:blank');
    return null;
  } as typeof window.open;
  const baseTarget = () => document.querySelector('base[target]')?.getAttribute('target') ?? '';
  addEventListener(
    'click',
    (event) => {
      const origin = event.composedPath()[0];
      const link = origin instanceof Element ? origin.closest('a[href], area[href]') : null;
      if (!(link instanceof HTMLAnchorElement || link instanceof HTMLAreaElement)) return;
      const where = windowFor(link.getAttribute('target') ?? baseTarget());
      if (where === 'here') return;
      refuse(where, link.href);
      event.preventDefault();
    },
    { capture: true },
  );
  const formWindow = (form: HTMLFormElement, submitter?: Element | null) =>
    windowFor(submitter?.getAttribute('formtarget') ?? form.getAttribute('target') ?? baseTarget());
  addEventListener(
    'submit',
    (event) => {
      const form = event.target as HTMLFormElement;
      const where = formWindow(form, (event as SubmitEvent).submitter);
      if (where === 'here') return;
      refuse(where, form.action);
      event.preventDefault();
    },
    { capture: true },
  );
  const submit = HTMLFormElement.prototype.submit;
  HTMLFormElement.prototype.submit = function (this: HTMLFormElement) {
    const where = formWindow(this);
    if (where === 'here') return submit.call(this);
    refuse(where, this.action);
  };

  const wrapConstructor = (name: string, onConstruct: (args: unknown[]) => void, alias?: string) => {
    const Original = win[name] as (new (...args: unknown[]) => object) | undefined;
    if (typeof Original !== 'function') return;
    const Wrapped = function (this: unknown, ...args: unknown[]) {
      if (!new.target) return (Original as unknown as (...a: unknown[]) => unknown)(...args); // throws like the original
      onConstruct(args);
      return Reflect.construct(Original, args, new.target);
    };
    Wrapped.prototype = Original.prototype;
    Object.setPrototypeOf(Wrapped, Original);
    if (alias && win[alias] === Original) win[alias] = Wrapped;
    win[name] = Wrapped;
  };
  const iceUrls = (config: unknown): string[] => {
    const servers = (config as { iceServers?: { urls?: unknown; url?: unknown }[] } | undefined)?.iceServers ?? [];
    return servers.flatMap((server) => {
      const urls = server?.urls ?? server?.url;
      return (Array.isArray(urls) ? urls : [urls]).filter((u) => u !== undefined && u !== null).map(String);
    });
  };
  const reportIce = (config: unknown) => {
    const urls = iceUrls(config);
    for (const url of urls.length > 0 ? urls : ['webrtc:peer-connection']) report('webrtc', url);
  };
  wrapConstructor('RTCPeerConnection', (args) => reportIce(args[0]), 'webkitRTCPeerConnection');
  const rtc = win['RTCPeerConnection'] as { prototype: { setConfiguration?: (c: unknown) => void } } | undefined;
  const setConfiguration = rtc?.prototype.setConfiguration;
  if (rtc && setConfiguration) {
    rtc.prototype.setConfiguration = function (this: unknown, config: unknown) {
      reportIce(config);
      return setConfiguration.call(this, config);
    };
  }
  wrapConstructor('WebTransport', (args) => report('webtransport', resolve(args[0])));
  wrapConstructor('WebSocket', (args) => report('websocket', resolve(args[0]).replace(/^http/, 'ws')));
  wrapConstructor('SharedWorker', (args) => {
    report('sharedworker', resolve(args[0]));
    throw new DOMException('shared workers are disabled in QC rendering', 'SecurityError');
  });

  // Chrome refuses fetch/XHR to file: inside the renderer, without a network event to observe.
  const noteFile = (url: unknown) => {
    const text = resolve(url);
    if (/^file:/i.test(text)) report('file', text);
  };
  const fetch = window.fetch;
  window.fetch = function (this: unknown, input: RequestInfo | URL, init?: RequestInit) {
    noteFile(input instanceof Request ? input.url : input);
    return fetch.call(this, input, init);
  } as typeof window.fetch;
  const xhrOpen = XMLHttpRequest.prototype.open;
  XMLHttpRequest.prototype.open = function (this: XMLHttpRequest, ...args: unknown[]) {
    noteFile(args[1]);
    return (xhrOpen as (...a: unknown[]) => void).apply(this, args);
  } as typeof xhrOpen;
}
