// The built entry point, dist/apps/api/main.js. Node maps stack traces through
// source maps only for files compiled after they were enabled, so this loader
// enables them first and then loads the application bundle (api.js, from api.ts).
process.setSourceMapsEnabled(true);
require('./api.js');
