#!/usr/bin/env node
// The built entry point, dist/apps/restart-cli/main.js. Node maps stack traces
// through source maps only for files compiled after they were enabled, so this
// loader enables them first and then loads the CLI bundle (cli.js, from cli.ts).
process.setSourceMapsEnabled(true);
require('./cli.js');
