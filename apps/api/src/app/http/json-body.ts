import { json } from 'express';
import type { NextFunction, Request, Response } from 'express';

interface BodyParserError extends Error {
  status?: number;
  type?: string;
  limit?: number;
}

/** Sends an error in the same JSON shape Nest uses for its own exceptions. */
export function sendJsonError(res: Response, status: number, error: string, message: string, extra: Record<string, unknown> = {}): void {
  res.status(status).json({ statusCode: status, error, message, ...extra });
}

/**
 * JSON body parsing for the routes that take a body, with clear 4xx errors in
 * JSON (never Express' HTML page): 415 for a non-JSON content type, 413 over
 * the limit, 400 for malformed JSON. Nothing reaches a handler (or Chrome)
 * unless the body parsed.
 */
export function jsonBody(limitBytes: number) {
  const parse = json({ limit: limitBytes, strict: false });
  return (req: Request, res: Response, next: NextFunction): void => {
    if (req.method !== 'POST' && req.method !== 'PUT' && req.method !== 'PATCH') return next();
    if (!req.is('application/json')) {
      sendJsonError(res, 415, 'Unsupported Media Type', `Content-Type must be application/json (got ${req.headers['content-type'] ?? 'none'}).`);
      return;
    }
    parse(req, res, (err?: BodyParserError) => {
      if (!err) return next();
      if (err.type === 'entity.too.large') {
        sendJsonError(res, 413, 'Payload Too Large', `The body is larger than the limit of ${limitBytes} bytes (BODY_LIMIT_BYTES).`);
      } else if (err.type === 'entity.parse.failed') {
        sendJsonError(res, 400, 'Bad Request', `Malformed JSON body: ${err.message}`);
      } else {
        const status = err.status && err.status >= 400 && err.status < 500 ? err.status : 400;
        sendJsonError(res, status, 'Bad Request', `Unreadable body: ${err.message}`);
      }
    });
  };
}
