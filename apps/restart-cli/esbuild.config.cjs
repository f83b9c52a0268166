const { chmodSync } = require('node:fs');
const { dirname, join } = require('node:path');

/**
 * esbuild options of the CLI bundle (nx's @nx/esbuild executor merges them):
 * an executable dist/apps/restart-cli/main.js (its `#!/usr/bin/env node` line
 * comes from src/main.ts, which esbuild keeps).
 */
module.exports = {
  outExtension: { '.js': '.js' },
  logLevel: 'warning',
  plugins: [
    {
      name: 'executable-entry',
      setup(build) {
        build.onEnd((result) => {
          if (result.errors.length > 0) return;
          const dir = build.initialOptions.outdir ?? dirname(build.initialOptions.outfile);
          chmodSync(join(dir, 'main.js'), 0o755);
        });
      },
    },
  ],
};
