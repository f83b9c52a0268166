// Runs the workspace's Verdaccio with the config file given as the first argument,
// on 127.0.0.1 and a port from the OS, and prints one line `{"port":N}` once it
// listens. SIGTERM closes it. Started by verdaccio.ts in a process of its own, so
// that the registry's work never stalls the test's event loop (or the reverse).
const { runServer } = require('verdaccio');

const configPath = process.argv[2];
if (!configPath) {
  console.error('usage: node verdaccio-server.cjs <config.yaml>');
  process.exit(2);
}
runServer(configPath).then(
  (server) => {
    server.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`));
    process.once('SIGTERM', () => {
      server.close();
      server.closeAllConnections?.();
      process.exit(0);
    });
  },
  (error) => {
    console.error('verdaccio did not start:', error);
    process.exit(1);
  },
);
