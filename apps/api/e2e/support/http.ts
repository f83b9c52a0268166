import { request, type Agent, type IncomingHttpHeaders } from 'node:http';

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
  json: <T = Record<string, unknown>>() => T;
}

/** One HTTP request with node:http, no retries; resolves with the whole answer. */
export function http(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer; agent?: Agent | false; timeoutMs?: number } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers, agent: options.agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        const text = body.toString();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text, json: () => JSON.parse(text) });
      });
      res.on('error', reject);
    });
    req.setTimeout(options.timeoutMs ?? 30_000, () => req.destroy(new Error(`${url} took longer than ${options.timeoutMs ?? 30_000} ms`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

export function postJson(url: string, body: unknown, agent?: Agent | false): Promise<Answer> {
  return http(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body), agent });
}

/**
 * A POST whose body arrives slowly: headers and the first part now, the rest
 * when `finish()` is called. It holds a real request in flight, with no
 * test-only route in the API.
 */
export function slowPost(url: string, body: unknown): { finish: () => void; answer: Promise<Answer> } {
  const payload = Buffer.from(JSON.stringify(body));
  let finish = () => undefined as void;
  const answer = new Promise<Answer>((resolve, reject) => {
    const req = request(url, { method: 'POST', agent: false, headers: { 'Content-Type': 'application/json', 'Content-Length': payload.length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const b = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: b, text: b.toString(), json: () => JSON.parse(b.toString()) });
      });
    });
    req.on('error', reject);
    req.write(payload.subarray(0, 5));
    finish = () => void req.end(payload.subarray(5));
  });
  return { finish: () => finish(), answer };
}
