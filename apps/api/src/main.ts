import { reportStartFailure } from '@edu-agents/process-handoff';

// The built entry point, dist/apps/api/main.js. Node maps stack traces through
// source maps only for files compiled after they were enabled, so this loader
// enables them first and then loads the application bundle (api.js, from
// api.ts). A bundle that cannot even load (a broken build) is reported to a
// predecessor waiting for this process in a hot handoff, which then says why.
process.setSourceMapsEnabled(true);
try {
  require('./api.js');
} catch (error) {
  reportStartFailure(error);
  throw error;
}
