import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { API_MAIN, stopProcesses, waitFor, WORKSPACE } from '@edu-agents/e2e-support';

export const RESTART_LOOP = join(__dirname, 'restart-loop.sh');

/** One API instance run by restart-loop.sh: restarted each time it exits. */
export interface LoopedApi {
  /** The process that holds the loop (and, with a socket, the listening socket). */
  holder: ChildProcess;
  /** Everything the holder and the API wrote. */
  output(): string;
  /** Ends the loop: no more restarts, the API gets SIGTERM, then everything is killed by pid. */
  stop(apiPid: number | undefined): Promise<void>;
}

/**
 * Runs the built API under restart-loop.sh on 127.0.0.1:`port`.
 * `inheritSocket`: systemd-socket-activate creates the listening socket and
 * the loop passes it to each run (LISTEN_FDS), as a socket unit does; else each
 * run binds PORT itself, as a plain service does. The API starts with the first
 * connection in the socket case (systemd-socket-activate waits for one), so
 * wait for readiness with a health check, which is that connection.
 */
export async function startLoopedApi(port: number, inheritSocket: boolean, dir: string, env: Record<string, string>): Promise<LoopedApi> {
  const stopFile = join(dir, `stop-${port}`);
  const apiEnv: Record<string, string> = { ...env, HOST: '127.0.0.1', PORT: inheritSocket ? '1' : String(port), STOP_FILE: stopFile };
  const program = [process.execPath, API_MAIN];
  const [file, args] = inheritSocket
    ? ['systemd-socket-activate', ['-l', `127.0.0.1:${port}`, '--fdname=http', ...Object.entries(apiEnv).flatMap(([k, v]) => ['-E', `${k}=${v}`]), '/bin/sh', RESTART_LOOP, ...program]]
    : ['/bin/sh', [RESTART_LOOP, ...program]];
  const holder = spawn(file, args, { cwd: WORKSPACE, env: { ...process.env, ...apiEnv }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  holder.stdout?.on('data', (c: Buffer) => (text += c.toString()));
  holder.stderr?.on('data', (c: Buffer) => (text += c.toString()));
  const stop = async (apiPid: number | undefined) => {
    writeFileSync(stopFile, 'stop\n');
    // The loop exits once the API did; past the grace period both process groups are killed.
    await stopProcesses([apiPid, holder.pid].filter((pid): pid is number => pid !== undefined), 15_000);
  };
  if (inheritSocket) {
    await waitFor(`systemd-socket-activate to listen on ${port}`, () => {
      if (holder.exitCode !== null) throw new Error(`systemd-socket-activate exited with ${holder.exitCode}: ${text}`);
      return text.includes('Listening on');
    });
  }
  return { holder, output: () => text, stop };
}
