import { Body, Controller, Get, Header, HttpCode, Inject, Post, Res, ServiceUnavailableException, UseFilters } from '@nestjs/common';
import { parseQcJobInput, type QcJobInput, type QcPool, type QcReport } from '@edu-agents/qc-chrome-pool';
import type { Response } from 'express';
import { API_RUNTIME, type ApiRuntime } from '../runtime/api-runtime';
import { QcErrorFilter } from './qc-error.filter';

/**
 * QC endpoints: a report of what a learner would see broken, a PNG of the
 * rendered content, and the pool's statistics. Input is validated before any
 * work reaches Chrome.
 */
@Controller()
@UseFilters(QcErrorFilter)
export class QcController {
  constructor(@Inject(API_RUNTIME) private readonly runtime: ApiRuntime) {}

  @Post('qc/check')
  @HttpCode(200)
  check(@Body() body: unknown): Promise<QcReport> {
    const input = this.parse(body);
    return this.pool().check(input);
  }

  @Post('qc/screenshot')
  @HttpCode(200)
  async screenshot(@Body() body: unknown, @Res() res: Response): Promise<void> {
    const input = this.parse(body);
    const png = await this.pool().screenshot(input);
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

  private parse(body: unknown): QcJobInput {
    const { jobTimeoutMs } = this.runtime.config.qc;
    return parseQcJobInput(body, { maxTimeoutMs: jobTimeoutMs, defaultTimeoutMs: jobTimeoutMs });
  }

  private pool(): QcPool {
    if (this.runtime.qc) return this.runtime.qc;
    throw new ServiceUnavailableException('QC is disabled on this instance (QC_ENABLED=false).');
  }
}
