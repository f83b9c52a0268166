// Launched by lifecycle.chrome.spec.ts: starts a pool, prints its Chrome processes as one JSON
// line, runs a job, then waits to be killed. Run: node -r @swc-node/register pool-child.ts
import { QcPool, QC_POOL_DEFAULTS } from '../src/index';

void (async () => {
  const pool = await QcPool.launch({ ...QC_POOL_DEFAULTS, browsers: 2, pagesPerBrowser: 1 });
  await pool.check({ html: '<p>warm</p>', viewport: { width: 800, height: 600 }, timeoutMs: 10_000 });
  process.stdout.write(`${JSON.stringify({ ready: true, processes: pool.stats().browserProcesses })}\n`);
  setInterval(() => undefined, 60_000);
})();
