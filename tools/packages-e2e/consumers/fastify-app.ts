// A Fastify 5 app with the drain contract, built on the installed @edu-agents/shutdown-state
// (copied into a consumer project outside the workspace by the packages e2e; not compiled here).
import Fastify from 'fastify';
import {
  InFlightRegistry, SHUTDOWN_DEFAULTS, ShutdownCoordinator, isAdmitting, processShutdownDeps, shutdownHealth,
} from '@edu-agents/shutdown-state';

const registry = new InFlightRegistry();
const coordinator = new ShutdownCoordinator(registry, SHUTDOWN_DEFAULTS, processShutdownDeps((event) => console.log(JSON.stringify(event))));
const app = Fastify();

// Before routing and body parsing: health always passes, new work is refused once draining.
app.addHook('onRequest', async (request, reply) => {
  if (request.url === '/health') return;
  if (!isAdmitting(coordinator.state)) {
    return reply.code(503).header('retry-after', '2').header('connection', 'close').send({ error: 'shutting down, retry elsewhere' });
  }
  reply.raw.once('close', registry.begin(request.method, request.url));
  return;
});
app.get('/health', async (_request, reply) => {
  const health = shutdownHealth(coordinator, process.pid);
  return reply.code(health.status === 'up' ? 200 : 503).send({ status: health.status === 'up' ? 'ok' : 'error', details: { shutdown: health } });
});
app.get('/', async () => 'hello\n');
app.post('/echo', async (request) => ({ received: request.body }));

coordinator.addHook({ name: 'fastify', run: () => app.close() });
process.on('SIGTERM', () => coordinator.handleSignal('SIGTERM'));
process.on('SIGINT', () => coordinator.handleSignal('SIGINT'));

app.listen({ port: Number(process.env['PORT'] ?? 3000), host: '127.0.0.1' }).then(
  (address) => {
    coordinator.markStarted();
    console.log(`listening on ${address}`);
  },
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
