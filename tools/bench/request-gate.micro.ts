// Cost of the request gate alone (admission check, in-flight registration,
// close listener) per request, against calling the app directly, on fake
// request/response objects: a CPU number without the network's noise.
//
//   SWC_NODE_PROJECT=tsconfig.base.json node -r @swc-node/register tools/bench/request-gate.micro.ts
import { EventEmitter } from 'node:events';
import type { RequestListener } from 'node:http';
import { InFlightRegistry, ShutdownCoordinator, processShutdownDeps } from '@edu-agents/shutdown-state';
import { RequestGate } from '../../apps/api/src/app/http/request-gate';

const N = 1_000_000;
const registry = new InFlightRegistry();
const coordinator = new ShutdownCoordinator(registry, { timeoutMs: 1_000, delayMs: 0, hookTimeoutMs: 1_000 }, processShutdownDeps(() => undefined));
coordinator.markStarted();
const app: RequestListener = () => undefined;
const gated = new RequestGate(registry, coordinator).wrap(app);
const requests = Array.from({ length: 1_000 }, (_, i) => ({ url: `/qc-stats?i=${i}`, method: 'GET' }));

function nsPerRequest(handler: RequestListener): number {
  const started = process.hrtime.bigint();
  for (let i = 0; i < N; i += 1) {
    const res = new EventEmitter();
    handler(requests[i % requests.length] as never, res as never);
    res.emit('close');
  }
  return Number(process.hrtime.bigint() - started) / N;
}

nsPerRequest(gated); // warm-up
const result = { bench: 'request-gate', date: new Date().toISOString(), requests: N, gatedNs: Math.round(nsPerRequest(gated)), bareNs: Math.round(nsPerRequest(app)) };
console.error(`| path | ns per request |\n|---|---|\n| app behind the gate | ${result.gatedNs} |\n| app alone | ${result.bareNs} |`);
console.log(JSON.stringify({ ...result, overheadNs: result.gatedNs - result.bareNs }));
