import type { ShutdownCoordinator, ShutdownState } from '@edu-agents/shutdown-state';
import type { SdNotifier } from '../../systemd/sd-notify';

/** How often the drain is reported to the service manager. */
export const DRAIN_REPORT_INTERVAL_MS = 2_000;
/** Time asked for on each sign of progress; our own SHUTDOWN_TIMEOUT_MS still bounds the drain. */
export const DRAIN_EXTEND_USEC = 10_000_000;

/**
 * Tells systemd what the shutdown does: READY=1 once serving, STOPPING=1 and a
 * STATUS= line when the drain begins, then every couple of seconds a STATUS=
 * with the in-flight count, and EXTEND_TIMEOUT_USEC while that count still drops.
 */
export function reportLifecycleToSystemd(coordinator: ShutdownCoordinator, notifier: SdNotifier): void {
  if (!notifier.enabled) return;
  let timer: NodeJS.Timeout | undefined;
  let lastInFlight = Number.POSITIVE_INFINITY;
  const tick = () => {
    const s = coordinator.snapshot();
    notifier.status(`draining: ${s.inFlight} in flight, deadline ${s.deadline ?? 'none'}`);
    if (s.inFlight > 0 && s.inFlight < lastInFlight) notifier.extendTimeout(DRAIN_EXTEND_USEC);
    lastInFlight = s.inFlight;
  };
  coordinator.onStateChange((state: ShutdownState) => {
    switch (state) {
      case 'ready':
        notifier.ready('serving');
        return;
      case 'delaying':
      case 'draining':
        if (!timer) {
          notifier.stopping(`draining: ${coordinator.snapshot().inFlight} in flight`);
          timer = setInterval(tick, DRAIN_REPORT_INTERVAL_MS).unref();
        }
        return;
      case 'cleaning':
        clearInterval(timer);
        notifier.status('cleaning up: closing HTTP server and QC pool');
        return;
      case 'starting':
      case 'stopped':
        return;
    }
  });
}
