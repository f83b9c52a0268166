// Renders the pool's defect fixture (libs/qc-chrome-pool/test-support/fixtures.ts) as the API
// does for POST /qc/screenshot {"annotate": true}, and its report as for POST /qc/check; writes
// both next to the pool's README (docs/). Run from the workspace root:
//   SWC_NODE_PROJECT=tsconfig.base.json node -r @swc-node/register tools/bench/qc-annotate-fixture.ts
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { QcPool, QC_POOL_DEFAULTS } from '@edu-agents/qc-chrome-pool';
import { DEFECTS } from '../../libs/qc-chrome-pool/test-support/fixtures';

const DOCS = join(__dirname, '../../libs/qc-chrome-pool/docs');
const input = { html: DEFECTS, viewport: { width: 960, height: 400 }, timeoutMs: 30_000 };

async function main(): Promise<void> {
  const pool = await QcPool.launch({ ...QC_POOL_DEFAULTS, chromePath: process.env['CHROME_PATH'] });
  try {
    const report = await pool.check(input);
    const png = await pool.screenshot(input, { annotate: true });
    writeFileSync(join(DOCS, 'defect-fixture.annotated.png'), png);
    writeFileSync(join(DOCS, 'defect-fixture.report.json'), `${JSON.stringify(report, null, 2)}\n`);
    process.stderr.write(`wrote ${DOCS}/defect-fixture.annotated.png (${png.length} bytes) and defect-fixture.report.json\n`);
  } finally {
    await pool.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`qc-annotate-fixture failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
