const { join } = require('node:path');
const nxPreset = require('@nx/jest/preset').default;

// Every project's Jest run writes its counts to tmp/test-results so that
// tools/scripts/run-tests.mjs can print one `N passed, N failed` line for all.
module.exports = {
  ...nxPreset,
  reporters: ['default', join(__dirname, 'tools/jest/summary-reporter.js')],
};
