// The naive way, for restart-bench: a NestJS app with the framework's defaults
// (no enableShutdownHooks, so SIGTERM/SIGINT end the process at once with
// whatever is in flight; default body parser; app.listen). Same routes as the
// API's load mix: GET /qc-stats, POST /qc/check, GET /health. The QC route
// does not render: it validates the body and answers a small report at once,
// which favours this app on latency (see tools/bench/README.md). Plain JS
// (decorators applied by hand), so it needs no build.
require('reflect-metadata');
const { Body, Controller, Get, HttpCode, Module, Post } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');

class NaiveController {
  stats() {
    return { enabled: true, pid: process.pid };
  }
  health() {
    return { status: 'ok' };
  }
  check(body) {
    const html = typeof body?.html === 'string' ? body.html : '';
    return { ok: html.length > 0, issues: [], bytes: html.length };
  }
}
const method = (name) => Object.getOwnPropertyDescriptor(NaiveController.prototype, name);
Controller()(NaiveController);
Get('qc-stats')(NaiveController.prototype, 'stats', method('stats'));
Get('health')(NaiveController.prototype, 'health', method('health'));
Post('qc/check')(NaiveController.prototype, 'check', method('check'));
HttpCode(200)(NaiveController.prototype, 'check', method('check'));
Body()(NaiveController.prototype, 'check', 0);

class AppModule {}
Module({ controllers: [NaiveController] })(AppModule);

async function main() {
  const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
  await app.listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? '127.0.0.1');
  // One JSON line like the API's LOG_FORMAT=json, so the benchmark reads both the same way.
  const port = app.getHttpServer().address().port;
  const url = `http://${process.env.HOST ?? '127.0.0.1'}:${port}`;
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), level: 'info', msg: 'listening', pid: process.pid, url, port })}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error.stack}\n`);
  process.exit(1);
});
