import { Agent, request, type IncomingHttpHeaders, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Headers of one hop only (RFC 9110 7.6.1): never forwarded. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authorization', 'proxy-authenticate']);

function endToEnd(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name.toLowerCase())));
}

/** Where to reach the process that accepts on our listening socket now: a wildcard address is reached on loopback. */
export function successorTarget(address: AddressInfo): { host: string; port: number } {
  const host = address.address === '0.0.0.0' ? '127.0.0.1' : address.address === '::' ? '::1' : address.address;
  return { host, port: address.port };
}

/**
 * After a hot handoff the successor accepts on the socket this process listened
 * on. A request passed to this listener (the request gate passes on QC work that
 * still starts here, on a connection accepted before the switch) goes to the
 * successor over loopback, so that this process's Chromium takes no new job and
 * can be released. The response carries the successor's status, headers and body;
 * the request gate adds `Connection: close` where the connection cannot move, so
 * that the client's next request goes to the successor.
 */
export function successorProxy(target: { host: string; port: number }, onError: (error: Error) => void): RequestListener {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  return (req: IncomingMessage, res: ServerResponse) => {
    const upstream = request({ host: target.host, port: target.port, method: req.method, path: req.url, headers: endToEnd(req.headers), agent }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, endToEnd(answer.headers));
      answer.pipe(res);
    });
    upstream.on('error', (error) => {
      onError(error);
      if (res.headersSent) {
        res.destroy(error);
        return;
      }
      const body = JSON.stringify({ statusCode: 502, error: 'Bad Gateway', message: `the successor that took over this socket did not answer: ${error.message}; retry` });
      res.writeHead(502, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body), 'Retry-After': '1' });
      res.end(body);
    });
    // The client went away: so does the forwarded request.
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  };
}
