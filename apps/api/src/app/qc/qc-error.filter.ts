import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import {
  AcquireTimeoutError,
  BrowserCrashedError,
  ContentNavigatedError,
  JobCancelledError,
  JobTimeoutError,
  PoolClosedError,
  QcError,
  QcInputError,
  QueueFullError,
} from '@edu-agents/qc-chrome-pool';
import type { Response } from 'express';
import { RETRY_AFTER_SEC } from '../http/request-gate';

/** HTTP status and reason phrase of each QC error. */
export function httpStatusOf(error: QcError): [number, string] {
  if (error instanceof QcInputError) return [400, 'Bad Request'];
  if (error instanceof QueueFullError) return [503, 'Service Unavailable'];
  if (error instanceof AcquireTimeoutError) return [503, 'Service Unavailable'];
  if (error instanceof PoolClosedError) return [503, 'Service Unavailable'];
  if (error instanceof JobTimeoutError) return [422, 'Unprocessable Entity'];
  if (error instanceof ContentNavigatedError) return [422, 'Unprocessable Entity'];
  // nginx's code for a client that closed the connection first; nobody reads this answer.
  if (error instanceof JobCancelledError) return [499, 'Client Closed Request'];
  if (error instanceof BrowserCrashedError) return [502, 'Bad Gateway'];
  return [500, 'Internal Server Error'];
}

/** Maps the pool's typed errors to clear JSON answers; 503s carry Retry-After. */
@Catch(QcError)
export class QcErrorFilter implements ExceptionFilter<QcError> {
  catch(error: QcError, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const [status, reason] = httpStatusOf(error);
    if (status === 503) {
      const retryAfter = error instanceof QueueFullError ? error.retryAfterSec : RETRY_AFTER_SEC;
      res.setHeader('Retry-After', String(retryAfter));
    }
    res.status(status).json({
      statusCode: status,
      error: reason,
      code: error.code,
      message: error.message,
      ...(error instanceof QcInputError ? { field: error.field } : {}),
    });
  }
}
