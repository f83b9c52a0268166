// Every entry point of the four packages through require(): its exports and the file it resolved to.
import handoff = require('@edu-agents/process-handoff');
import handoffTesting = require('@edu-agents/process-handoff/testing');
import shutdown = require('@edu-agents/shutdown-state');
import health = require('@edu-agents/health-client');
import pool = require('@edu-agents/qc-chrome-pool');

const entries: Record<string, object> = {
  '@edu-agents/process-handoff': handoff,
  '@edu-agents/process-handoff/testing': handoffTesting,
  '@edu-agents/shutdown-state': shutdown,
  '@edu-agents/health-client': health,
  '@edu-agents/qc-chrome-pool': pool,
};
// A few values used for real, so that a wrong declaration fails the type check, not only the run.
const used = [handoff.HANDOFF_DEFAULTS.readyTimeoutMs, new handoffTesting.StubUpgrader().snapshot().state, shutdown.phaseOf('draining'), health.DEFAULT_CHECK_TIMEOUT_MS, pool.QC_POOL_DEFAULTS.browsers];
console.log(JSON.stringify({
  used,
  entries: Object.fromEntries(Object.entries(entries).map(([name, module]) => [name, { file: require.resolve(name), exports: Object.keys(module).filter((key) => key !== '__esModule').sort() }])),
}));
