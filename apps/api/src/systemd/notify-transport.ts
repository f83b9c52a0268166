import { execFile } from 'node:child_process';

/** Sends one sd_notify message (newline-separated `KEY=VALUE` lines) to a socket. */
export type NotifyTransport = (socketAddress: string, message: string) => Promise<void>;

/** The part of the `unix-dgram` package this module uses (it ships no types). */
interface UnixDgramSocket {
  on(event: 'error', listener: (error: Error) => void): void;
  send(buf: Buffer, offset: number, length: number, path: string, callback: (error?: Error) => void): void;
  close(): void;
}

interface UnixDgramModule {
  createSocket(type: 'unix_dgram'): UnixDgramSocket;
}

/**
 * Loads the native `unix-dgram` addon on first use, so that an API built
 * without it still starts (the notifier then reports the failure and the
 * service manager's start timeout tells the operator).
 */
function loadUnixDgram(): UnixDgramModule {
  // A lazy require keeps the native addon out of start-up when NOTIFY_SOCKET is unset.
  return require('unix-dgram') as UnixDgramModule;
}

/**
 * Sends the datagram from this very process through the `unix-dgram` addon.
 * systemd checks the sender's PID against the main PID, so this works with
 * `NotifyAccess=main`. One short-lived socket per message: the addon keeps a
 * libuv watcher on every open socket, and a socket that stayed open would
 * keep the process alive after the server closed.
 */
export function sendWithUnixDgram(
  socketPath: string,
  message: string,
  load: () => UnixDgramModule = loadUnixDgram,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const socket = load().createSocket('unix_dgram');
    socket.on('error', reject);
    const buf = Buffer.from(message, 'utf8');
    try {
      socket.send(buf, 0, buf.length, socketPath, (error?: Error) => (error ? reject(error) : resolve()));
    } finally {
      socket.close();
    }
  });
}

/**
 * Sends the message through `systemd-notify`, a child process: the only way
 * to reach an abstract socket (`@name`), which `unix-dgram` cannot address.
 * systemd itself always hands out a path socket; supervisors that use abstract
 * ones do not check the sender, whereas systemd would need `NotifyAccess=all`.
 */
export function sendWithSystemdNotify(socketAddress: string, message: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    execFile(
      'systemd-notify',
      message.split('\n'),
      { env: { ...process.env, NOTIFY_SOCKET: socketAddress }, timeout: 5_000 },
      (error, _stdout, stderr) => {
        if (error) {
          reject(new Error(`systemd-notify failed: ${stderr.trim() || error.message}`, { cause: error }));
        } else {
          resolve();
        }
      },
    );
  });
}

/** Path sockets go through the addon, abstract sockets through systemd-notify. */
export const defaultNotifyTransport: NotifyTransport = (socketAddress, message) =>
  socketAddress.startsWith('@')
    ? sendWithSystemdNotify(socketAddress, message)
    : sendWithUnixDgram(socketAddress, message);
