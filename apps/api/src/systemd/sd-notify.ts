import { defaultNotifyTransport, type NotifyTransport } from './notify-transport';

/** Where notification failures are reported; Nest's Logger and `console` fit. */
export interface SdNotifyLogger {
  warn(message: string): void;
}

/** Side effects of the notifier, injectable for tests. */
export interface SdNotifyDeps {
  /** Delivers one message; defaults to `unix-dgram` (path) or `systemd-notify` (`@abstract`). */
  transport?: NotifyTransport;
  logger?: SdNotifyLogger;
}

/**
 * The service-manager side of the API's lifecycle (sd_notify(3) protocol).
 * Every method is a no-op when `enabled` is false and none of them ever
 * throws: a failed notification is logged, the API keeps serving.
 */
export interface SdNotifier {
  /** True when NOTIFY_SOCKET was set, i.e. a service manager listens. */
  readonly enabled: boolean;
  /** `READY=1`: the API serves (Type=notify units leave "activating"). */
  ready(status?: string): void;
  /** `STOPPING=1`: the API began its graceful shutdown. */
  stopping(status?: string): void;
  /** `STATUS=...`: one line shown by `systemctl status`. */
  status(text: string): void;
  /**
   * `MAINPID=<pid>`: this process is now the unit's main process. A successor
   * of a hot handoff sends it before `READY=1` (the unit needs `NotifyAccess=all`,
   * since the sender is not yet the main process when it sends).
   */
  mainPid(pid: number): void;
  /**
   * `RELOADING=1` with `MONOTONIC_USEC=`: a hot handoff began; `systemctl status`
   * shows "reloading" until a `READY=1` (from the successor, or from this
   * process when the handoff failed and it serves on).
   */
  reloading(status?: string): void;
  /**
   * `EXTEND_TIMEOUT_USEC=...`: asks for this many more microseconds before
   * the current start/stop timeout fires; send it again while progress lasts.
   */
  extendTimeout(usec: number): void;
  /** Stops sending; later calls are no-ops. */
  close(): void;
  /** Resolves once every message sent so far was delivered or its failure logged. */
  flush(): Promise<void>;
}

/** CLOCK_MONOTONIC in microseconds, as systemd wants it next to RELOADING=1 (libuv's hrtime is CLOCK_MONOTONIC on Linux). */
function monotonicUsec(): string {
  return (process.hrtime.bigint() / 1_000n).toString();
}

/** A STATUS= value is one line: the protocol separates fields by newlines. */
function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').trim();
}

/**
 * Creates the notifier from `NOTIFY_SOCKET` (a path, or `@name` for an
 * abstract socket).
 *
 * @example
 * const notifier = createSdNotifier(process.env, { logger });
 * await app.listen(port);
 * notifier.ready(`serving on port ${port}`);
 * // on SIGTERM:
 * notifier.stopping('draining 3 requests');
 */
export function createSdNotifier(
  env: Readonly<Record<string, string | undefined>> = process.env,
  deps: SdNotifyDeps = {},
): SdNotifier {
  const socketAddress = env['NOTIFY_SOCKET']?.trim() ?? '';
  const transport = deps.transport ?? defaultNotifyTransport;
  const logger = deps.logger ?? { warn: (message: string) => console.warn(message) };
  let open = socketAddress !== '';
  // Messages go out one after the other, so READY never overtakes a STATUS.
  let queue: Promise<void> = Promise.resolve();

  const send = (fields: string[]): void => {
    if (!open) return;
    const message = fields.join('\n');
    queue = queue
      .then(() => transport(socketAddress, message))
      .catch((error: unknown) => {
        const reason = error instanceof Error ? error.message : String(error);
        logger.warn(
          `sd_notify to ${socketAddress} failed (${message.replace(/\n/g, ' ')}): ${reason}; ` +
            'the service manager may time out the unit - check NOTIFY_SOCKET and NotifyAccess= in the unit',
        );
      });
  };

  const withStatus = (field: string, status?: string): string[] =>
    status === undefined ? [field] : [field, `STATUS=${oneLine(status)}`];

  return {
    get enabled() {
      return open;
    },
    ready: (status) => send(withStatus('READY=1', status)),
    mainPid: (pid) => {
      if (!Number.isInteger(pid) || pid <= 1) {
        logger.warn(`sd_notify: ignored MAINPID=${pid}; pass the pid of a running process`);
        return;
      }
      send([`MAINPID=${pid}`]);
    },
    reloading: (status) => send(withStatus(`RELOADING=1\nMONOTONIC_USEC=${monotonicUsec()}`, status)),
    stopping: (status) => send(withStatus('STOPPING=1', status)),
    status: (text) => send([`STATUS=${oneLine(text)}`]),
    extendTimeout: (usec) => {
      if (!Number.isFinite(usec) || usec <= 0) {
        logger.warn(`sd_notify: ignored EXTEND_TIMEOUT_USEC=${usec}; pass a positive number of microseconds`);
        return;
      }
      send([`EXTEND_TIMEOUT_USEC=${Math.ceil(usec)}`]);
    },
    close: () => {
      open = false;
    },
    flush: () => queue,
  };
}
