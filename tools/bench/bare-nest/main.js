// The comparison point of shutdown-overhead.bench.mjs: a bare NestJS app with
// the same GET /qc-stats answer as the API with QC disabled and the same body
// parsing (none on this route) and headers, but no shutdown tracking, no
// request gate, Nest's own listen(). Plain JS (decorators applied by hand), so
// it needs no build.
require('reflect-metadata');
const { Controller, Get, Module } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');

class StatsController {
  stats() {
    return { enabled: false };
  }
}
Controller()(StatsController);
Get('qc-stats')(StatsController.prototype, 'stats', Object.getOwnPropertyDescriptor(StatsController.prototype, 'stats'));

class AppModule {}
Module({ controllers: [StatsController] })(AppModule);

async function main() {
  const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'], bodyParser: false });
  app.getHttpAdapter().getInstance().disable('x-powered-by');
  await app.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1');
  const { port } = app.getHttpServer().address();
  process.stdout.write(`listening on http://127.0.0.1:${port}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error.stack}\n`);
  process.exit(1);
});
