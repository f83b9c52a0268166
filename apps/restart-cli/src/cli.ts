import { realDeps } from './app/cli-deps';
import { runCli } from './app/program';

// Only parse and set the exit code; everything else lives in makeProgram().
void runCli(process.argv.slice(2), realDeps()).then((code) => {
  process.exitCode = code;
});
