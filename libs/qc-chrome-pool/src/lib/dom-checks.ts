/// <reference lib="dom" />
import type { DomFindings } from './qc-report.types';

const MAX_OVERFLOWING = 20;

/**
 * Runs inside the page (serialised by puppeteer): broken images, images without alt,
 * outermost elements overflowing the viewport width. Must stay self-contained.
 */
export function runDomChecks(maxOverflowing: number = MAX_OVERFLOWING): DomFindings {
  const srcOf = (img: HTMLImageElement) => img.getAttribute('src') ?? img.currentSrc ?? '';
  const images = Array.from(document.images);
  const brokenImages = images
    .filter((img) => img.getAttribute('src') !== null && img.complete && img.naturalWidth === 0)
    .map((img) => ({ src: srcOf(img) }));
  const imagesMissingAlt = images.filter((img) => !img.hasAttribute('alt')).map((img) => ({ src: srcOf(img) }));
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
      overflowingElements.push({ selector: selectorOf(el), right: Math.round(right), viewportWidth });
    }
  }
  return { brokenImages, imagesMissingAlt, overflowingElements };
}
