/// <reference lib="dom" />
import type { DomFindings, ElementBox } from './qc-report.types';

const MAX_OVERFLOWING = 20;

/** Everything one in-page pass finds: the report's element lists plus what the guard needs. */
export interface DomCheckResult extends DomFindings {
  /** Navigations the document declares (meta refresh), resolved; they fire after load, whenever. */
  navigations: string[];
  /** Connections it asks for without a request to intercept (preconnect, dns-prefetch, speculation rules). */
  connections: string[];
  /** The URL of the document the checks ran on. */
  documentUrl: string;
  /** Scroll offset when the checks ran: boxes minus this are screenshot coordinates. */
  scroll: { x: number; y: number };
}

/**
 * Runs inside the page (serialised by puppeteer): broken images, images without alt,
 * outermost elements overflowing the viewport width, each with its box; and the attempts
 * the document only declares. Must stay self-contained.
 */
export async function runDomChecks(maxOverflowing: number = MAX_OVERFLOWING): Promise<DomCheckResult> {
  // One task turn first: work the document queued while loading (a form.submit() is a planned
  // navigation that starts in a later task) happens, and is reported, before the checks.
  await new Promise((resolve) => setTimeout(resolve, 0));
  const boxOf = (el: Element): ElementBox => {
    const r = el.getBoundingClientRect();
    const [left, top] = [Math.round(r.left + scrollX), Math.round(r.top + scrollY)];
    return { x: left, y: top, width: Math.round(r.right + scrollX) - left, height: Math.round(r.bottom + scrollY) - top };
  };
  const srcOf = (img: HTMLImageElement) => img.getAttribute('src') ?? img.currentSrc ?? '';
  const images = Array.from(document.images);
  const brokenImages = images
    .filter((img) => img.getAttribute('src') !== null && img.complete && img.naturalWidth === 0)
    .map((img) => ({ src: srcOf(img), box: boxOf(img) }));
  const imagesMissingAlt = images.filter((img) => !img.hasAttribute('alt')).map((img) => ({ src: srcOf(img), box: boxOf(img) }));
  const viewportWidth = document.documentElement.clientWidth;
  const selectorOf = (el: Element): string => {
    const parts: string[] = [];
    for (let node: Element | null = el; node && node !== document.documentElement; node = node.parentElement) {
      if (node.id) {
        parts.unshift(`#${node.id}`);
        break;
      }
      const parent: Element | null = node.parentElement;
      const index = parent ? Array.from(parent.children).indexOf(node) + 1 : 1;
      parts.unshift(`${node.tagName.toLowerCase()}:nth-child(${index})`);
    }
    return parts.join(' > ');
  };
  const overflowingElements: DomFindings['overflowingElements'] = [];
  const reported: Element[] = [];
  for (const el of Array.from(document.body ? document.body.querySelectorAll('*') : [])) {
    if (overflowingElements.length >= maxOverflowing) break;
    if (reported.some((outer) => outer.contains(el))) continue;
    const right = el.getBoundingClientRect().right;
    if (right > viewportWidth + 1) {
      reported.push(el);
      overflowingElements.push({ selector: selectorOf(el), right: Math.round(right), viewportWidth, box: boxOf(el) });
    }
  }
  const absolute = (url: string): string | undefined => {
    try {
      return new URL(url, document.baseURI).href;
    } catch {
      return undefined;
    }
  };
  const navigations: string[] = [];
  for (const meta of Array.from(document.querySelectorAll('meta[http-equiv="refresh" i]'))) {
    const match = /^\s*[\d.]*\s*(?:[;,]\s*(?:url\s*=\s*)?(.*))?$/i.exec(meta.getAttribute('content') ?? '');
    const target = (match?.[1] ?? '').trim().replace(/^(['"])(.*?)\1?$/, '$2');
    const url = match ? absolute(target || location.href) : undefined;
    if (url) navigations.push(url);
  }
  const connections: string[] = [];
  for (const link of Array.from(document.querySelectorAll('link[rel~="preconnect" i], link[rel~="dns-prefetch" i]'))) {
    const url = absolute(link.getAttribute('href') ?? '');
    if (url) connections.push(url);
  }
  for (const script of Array.from(document.querySelectorAll('script[type="speculationrules" i]'))) {
    try {
      const rules = JSON.parse(script.textContent ?? '') as Record<string, { urls?: unknown[] }[] | undefined>;
      for (const rule of [...(rules['prefetch'] ?? []), ...(rules['prerender'] ?? [])]) {
        for (const url of rule.urls ?? []) connections.push(absolute(String(url)) ?? String(url));
      }
    } catch {
      continue; // not JSON: Chrome ignores such rules too
    }
  }
  return { brokenImages, imagesMissingAlt, overflowingElements, navigations, connections, documentUrl: location.href, scroll: { x: scrollX, y: scrollY } };
}
