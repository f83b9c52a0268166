/**
 * Keeps a closed stdout or stderr from killing the process. When whatever reads
 * them goes away (a log pipe whose reader died, a journald that restarted), the
 * next write fails with EPIPE; without a listener Node turns that into an
 * uncaught exception and exits 1. During a hot handoff both processes write to
 * the same stream, so both would die at their next log line and nothing would
 * serve. Logs are lost from then on; the service is not. Call once, first thing.
 */
export function guardStdio(streams: NodeJS.WriteStream[] = [process.stdout, process.stderr]): void {
  for (const stream of streams) {
    if (stream.listeners('error').includes(ignoreClosedPipe)) continue;
    stream.on('error', ignoreClosedPipe);
  }
}

function ignoreClosedPipe(error: NodeJS.ErrnoException): void {
  // Nowhere left to say it: the stream this would be logged to is the one that failed.
  if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') return;
  throw error;
}
