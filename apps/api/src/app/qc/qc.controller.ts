import { Body, Controller, Get, Header, HttpCode, Inject, Post, Res, ServiceUnavailableException, UseFilters } from '@nestjs/common';
import { parseQcJobInput, parseQcScreenshotInput, type QcPool, type QcReport } from '@edu-agents/qc-chrome-pool';
import type { Response } from 'express';
import { API_RUNTIME, type ApiRuntime } from '../runtime/api-runtime';
import { signalOnClientGone } from './client-gone';
import { QcErrorFilter } from './qc-error.filter';

/**
 * QC endpoints: a report of what a learner would see broken, a PNG of the rendered content
 * (annotated on request), and the pool's statistics. Input is validated before any work
 * reaches Chrome; a client that goes away stops waiting without stopping a render others share.
 */
@Controller()
@UseFilters(QcErrorFilter)
export class QcController {
  constructor(@Inject(API_RUNTIME) private readonly runtime: ApiRuntime) {}

  @Post('qc/check')
  @HttpCode(200)
  check(@Body() body: unknown, @Res({ passthrough: true }) res: Response): Promise<QcReport> {
    const input = parseQcJobInput(body, this.limits());
    return this.pool().check(input, { signal: signalOnClientGone(res) });
  }

  @Post('qc/screenshot')
  @HttpCode(200)
  async screenshot(@Body() body: unknown, @Res() res: Response): Promise<void> {
    const { input, annotate } = parseQcScreenshotInput(body, this.limits());
    const png = await this.pool().screenshot(input, { annotate, signal: signalOnClientGone(res) });
    res.setHeader('Content-Type', 'image/png');
    res.setHeader('Content-Length', String(png.length));
    res.end(png);
  }

  @Get('qc-stats')
  @Header('Cache-Control', 'no-store')
  stats() {
    const pool = this.runtime.qc;
    return pool ? { enabled: true, ...pool.stats() } : { enabled: false };
  }

  private limits(): { maxTimeoutMs: number; defaultTimeoutMs: number } {
    const { jobTimeoutMs } = this.runtime.config.qc;
    return { maxTimeoutMs: jobTimeoutMs, defaultTimeoutMs: jobTimeoutMs };
  }

  private pool(): QcPool {
    if (this.runtime.qc) return this.runtime.qc;
    throw new ServiceUnavailableException('QC is disabled on this instance (QC_ENABLED=false).');
  }
}
