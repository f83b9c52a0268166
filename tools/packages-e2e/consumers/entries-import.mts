// Every entry point of the four packages through import: its named exports and the file it resolved to.
import * as handoff from '@edu-agents/process-handoff';
import * as handoffTesting from '@edu-agents/process-handoff/testing';
import * as shutdown from '@edu-agents/shutdown-state';
import * as health from '@edu-agents/health-client';
import * as pool from '@edu-agents/qc-chrome-pool';
import { Upgrader } from '@edu-agents/process-handoff';
import { StubUpgrader } from '@edu-agents/process-handoff/testing';
import { ShutdownCoordinator, shutdownHealth } from '@edu-agents/shutdown-state';
import { check, waitFor } from '@edu-agents/health-client';
import { QcPool, QC_POOL_DEFAULTS } from '@edu-agents/qc-chrome-pool';

const entries: Record<string, object> = {
  '@edu-agents/process-handoff': handoff,
  '@edu-agents/process-handoff/testing': handoffTesting,
  '@edu-agents/shutdown-state': shutdown,
  '@edu-agents/health-client': health,
  '@edu-agents/qc-chrome-pool': pool,
};
const used = [typeof Upgrader.create, new StubUpgrader().snapshot().state, typeof ShutdownCoordinator, typeof shutdownHealth, typeof check, typeof waitFor, typeof QcPool.launch, QC_POOL_DEFAULTS.browsers];
console.log(JSON.stringify({
  used,
  entries: Object.fromEntries(Object.entries(entries).map(([name, module]) => [name, { file: import.meta.resolve(name), exports: Object.keys(module).filter((key) => key !== 'default' && key !== '__esModule').sort() }])),
}));
