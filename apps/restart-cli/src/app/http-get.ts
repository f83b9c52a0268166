import type { HealthFetch } from '@edu-agents/health-client';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** Redirects a health URL may take before the answer counts, as `fetch` follows them (it allows 20). */
const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * One GET through `node:http`/`node:https`: the `HealthFetch` the CLI gives `check()`. Node 20's
 * `fetch` loads undici and compiles its WebAssembly parser on first use, 0.15 core-seconds more
 * than `node:http` for a process's first request (tools/bench/README.md, "The CLI's first
 * request"), paid at the start of every restart while the instances serve. Failures keep `fetch`'s shape: a `TypeError` whose `cause` has the system
 * error's `code`, or the signal's reason (a `TimeoutError`) once it fired. Redirects are
 * followed as `fetch` does, up to {@link MAX_REDIRECTS}.
 */
export function httpGet(url: string | URL, init: { signal?: AbortSignal; headers?: Record<string, string> } = {}, redirects = 0): ReturnType<HealthFetch> {
  return new Promise((resolve, reject) => {
    let target: URL;
    try {
      target = new URL(url);
    } catch (error) {
      reject(new TypeError(`not a URL: ${String(url)}`, { cause: error }));
      return;
    }
    const request = target.protocol === 'http:' ? httpRequest : target.protocol === 'https:' ? httpsRequest : undefined;
    if (request === undefined) {
      reject(new TypeError(`not an http or https URL: ${target.href}`, { cause: { code: 'ERR_INVALID_PROTOCOL', message: `protocol ${target.protocol}` } }));
      return;
    }
    // As fetch fails: the signal's reason once it fired, else a TypeError carrying the system error.
    const failure = (error: unknown): unknown => (init.signal?.aborted ? init.signal.reason : new TypeError('fetch failed', { cause: error }));
    // agent: false, a connection of its own that closes after the answer (no pool to leave behind).
    const req = request(target, { method: 'GET', headers: init.headers, signal: init.signal, agent: false }, (res: IncomingMessage) => {
      const location = res.headers.location;
      if (res.statusCode !== undefined && REDIRECTS.has(res.statusCode) && location !== undefined) {
        res.resume();
        if (redirects >= MAX_REDIRECTS) {
          reject(new TypeError('fetch failed', { cause: { code: 'ERR_TOO_MANY_REDIRECTS', message: `more than ${MAX_REDIRECTS} redirects` } }));
          return;
        }
        httpGet(new URL(location, target), init, redirects + 1).then(resolve, reject);
        return;
      }
      const chunks: Buffer[] = [];
      const body = new Promise<string>((done, failed) => {
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => done(Buffer.concat(chunks).toString('utf8')));
        res.on('error', (error) => failed(failure(error)));
      });
      body.catch(() => undefined); // read by text(); not an unhandled rejection before that
      resolve({ status: res.statusCode ?? 0, text: () => body });
    });
    req.on('error', (error) => reject(failure(error)));
    req.end();
  });
}
