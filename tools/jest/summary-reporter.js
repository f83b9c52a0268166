const { mkdirSync, writeFileSync, renameSync } = require('node:fs');
const { join } = require('node:path');

/**
 * Jest reporter that records one project's counts in tmp/test-results/<name>.json.
 * A suite that failed to run (syntax error, failing hook) counts as one failure,
 * so a broken file can never disappear from the summary.
 */
class SummaryReporter {
  onRunComplete(contexts, results) {
    const [context] = [...contexts];
    const name = (context && context.config.displayName && context.config.displayName.name) || 'jest';
    const dir = join(__dirname, '../../tmp/test-results');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${name}.json`);
    const body = {
      name,
      passed: results.numPassedTests,
      failed: results.numFailedTests + results.numRuntimeErrorTestSuites,
      skipped: results.numPendingTests + results.numTodoTests,
      failures: results.testResults
        .flatMap((s) =>
          s.testExecError
            ? [`${s.testFilePath}: ${s.testExecError.message}`]
            : s.testResults.filter((t) => t.status === 'failed').map((t) => `${s.testFilePath}: ${t.fullName}`),
        ),
    };
    writeFileSync(`${file}.tmp`, JSON.stringify(body, null, 2));
    renameSync(`${file}.tmp`, file);
  }
}

module.exports = SummaryReporter;
