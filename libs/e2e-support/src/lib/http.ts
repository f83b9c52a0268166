import { request, type Agent, type ClientRequest, type IncomingHttpHeaders } from 'node:http';

/** A whole HTTP answer. */
export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
  /** Milliseconds from the call to the end of the answer. */
  ms: number;
  json: <T = Record<string, unknown>>() => T;
}

export interface HttpOptions {
  method?: string;
  headers?: Record<string, string | number>;
  body?: string | Buffer;
  /** Default `false`: a fresh connection, closed after the answer. */
  agent?: Agent | false;
  /** No answer within this long destroys the request with an error (default 30 s). */
  timeoutMs?: number;
}

function answerOf(req: ClientRequest, started: number, resolve: (a: Answer) => void, reject: (e: Error) => void): void {
  req.on('response', (res) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => {
      const body = Buffer.concat(chunks);
      const text = body.toString();
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text, ms: Date.now() - started, json: () => JSON.parse(text) });
    });
    res.on('error', reject);
  });
  req.on('error', reject);
}

/** One HTTP request with node:http, never retried; resolves with the whole answer. */
export function http(url: string, options: HttpOptions = {}): Promise<Answer> {
  const started = Date.now();
  const timeoutMs = options.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers, agent: options.agent ?? false });
    answerOf(req, started, resolve, reject);
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${options.method ?? 'GET'} ${url}: no answer within ${timeoutMs} ms`)));
    req.end(options.body);
  });
}

/** POST `body` as JSON. */
export function postJson(url: string, body: unknown, agent?: Agent | false): Promise<Answer> {
  return http(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body), agent });
}

/** The answer of {@link httpRequest}: the body as text. */
export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  ms: number;
}

/** One request to 127.0.0.1:`port` on a fresh connection (no agent, no retry, 15 s bound); a JSON `body` is labelled so. */
export async function httpRequest(port: number, method: 'GET' | 'POST', path: string, body?: string): Promise<HttpAnswer> {
  const headers: Record<string, string | number> = body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
  const answer = await http(`http://127.0.0.1:${port}${path}`, { method, headers, body, timeoutMs: 15_000 });
  return { status: answer.status, headers: answer.headers, body: answer.text, ms: answer.ms };
}

/** GET a JSON route of the instance on 127.0.0.1:`port`. */
export async function getJson<T = Record<string, unknown>>(port: number, path: string): Promise<{ status: number; body: T }> {
  const answer = await httpRequest(port, 'GET', path);
  return { status: answer.status, body: JSON.parse(answer.body) as T };
}

/** A request held in flight by {@link slowPost}. */
export interface SlowPost {
  /** Sends the rest of the body: the server can now answer. */
  finish(): void;
  /** Cuts the connection (cleanup); `answer` then rejects. */
  destroy(): void;
  answer: Promise<Answer>;
}

/**
 * A POST whose JSON body arrives in two parts: headers and the first 5 bytes
 * now, the rest on `finish()`. Until then the request is in flight on the
 * server, with no test-only route in the API.
 */
export function slowPost(url: string, body: unknown): SlowPost {
  const payload = Buffer.from(JSON.stringify(body));
  const started = Date.now();
  const req = request(url, { method: 'POST', agent: false, headers: { 'Content-Type': 'application/json', 'Content-Length': payload.length } });
  const answer = new Promise<Answer>((resolve, reject) => answerOf(req, started, resolve, reject));
  req.write(payload.subarray(0, 5));
  const destroy = () => {
    answer.catch(() => undefined); // cut on purpose: nobody waits for this answer any more
    req.destroy();
  };
  return { finish: () => void req.end(payload.subarray(5)), destroy, answer };
}
