// The server of scavenge.bench.ts: Nest on Express 5 on node:http, with one GET route answering
// as the API's GET /qc-stats does with QC off, served through the API's own createHttpServer.
// MESSAGES=app builds requests and responses with the Express app's prototypes
// (messageClassesFor, what the API does); MESSAGES=plain leaves node:http's own classes, whose
// objects Express gives its prototypes as it takes them. V8's trace of each scavenge goes to
// stdout (--trace-gc-nvp); a line {"mark": ms} says where the measured window starts, on the same
// clock, when the parent sends "mark".
import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import express = require('express');
import { setFlagsFromString } from 'node:v8';
import type { AddressInfo } from 'node:net';
import { createHttpServer, messageClassesFor } from '../../apps/api/src/app/http/http-server';

const mode = process.env.MESSAGES;
if (mode !== 'app' && mode !== 'plain') throw new Error(`MESSAGES must be app or plain (got ${mode ?? 'nothing'})`);

class StatsController {
  stats(): { enabled: boolean } {
    return { enabled: false };
  }
}
Controller()(StatsController);
Get('qc-stats')(StatsController.prototype, 'stats', Object.getOwnPropertyDescriptor(StatsController.prototype, 'stats') as PropertyDescriptor);
class AppModule {}
Module({ controllers: [StatsController] })(AppModule);

async function main(): Promise<void> {
  const expressApp = express();
  expressApp.disable('x-powered-by');
  const app = await NestFactory.create(AppModule, new ExpressAdapter(expressApp), { logger: ['error', 'warn'], bodyParser: false });
  await app.init();
  const server = createHttpServer(expressApp, { keepAliveTimeoutMs: 75_000, headersTimeoutMs: 76_000, ...(mode === 'app' ? { messages: messageClassesFor(expressApp) } : {}) });
  server.listen(0, '127.0.0.1', () => {
    setFlagsFromString('--trace-gc-nvp');
    process.stdout.write(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
  });
  process.on('message', (message) => {
    if (message === 'mark') process.stdout.write(`${JSON.stringify({ mark: performance.now() })}\n`);
  });
  process.on('SIGTERM', () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}

main().catch((error: Error) => {
  process.stderr.write(`${error.stack}\n`);
  process.exit(1);
});
