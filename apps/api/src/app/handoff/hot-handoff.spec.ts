import type { HandoffState, RetireIdleResult, UpgradeOutcome } from '@edu-agents/process-handoff';
import { StubUpgrader } from '@edu-agents/process-handoff/testing';
import { InFlightRegistry, ShutdownCoordinator } from '@edu-agents/shutdown-state';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../logging/logger';
import { createSdNotifier } from '../../systemd/sd-notify';
import { HotHandoff } from './hot-handoff';

describe('HotHandoff.reclaim (a failed successor, stopped, before it is killed)', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'hot-handoff-spec-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function setup(pidFile: string) {
    const sent: string[] = [];
    const notifier = createSdNotifier({ NOTIFY_SOCKET: '/run/test.sock' }, { transport: async (_socket, message) => void sent.push(message) });
    const coordinator = new ShutdownCoordinator(new InFlightRegistry(), { timeoutMs: 1_000, delayMs: 0, hookTimeoutMs: 1_000 }, {
      now: Date.now, setTimer: (fn, ms) => setTimeout(fn, ms).unref(), clearTimer: (h) => clearTimeout(h as NodeJS.Timeout), exit: () => undefined, log: () => undefined,
    });
    const handoff = new HotHandoff({
      upgrader: new StubUpgrader(), coordinator, notifier, logger: createLogger('text', 'error', () => undefined), enabled: true, lingerMs: 1_000, pidFile, retireAfterMs: 0, retireIdle: false,
    });
    return { handoff, sent };
  }

  it('names this process again in PID_FILE and as MAINPID when the successor had claimed both, and removes its temporary file', async () => {
    const pidFile = join(dir, 'api.pid');
    writeFileSync(pidFile, '4242\n');
    writeFileSync(`${pidFile}.4242.tmp`, '4242\n');
    const { handoff, sent } = setup(pidFile);
    await handoff.reclaim(4242);
    expect(readFileSync(pidFile, 'utf8')).toBe(`${process.pid}\n`);
    expect(readdirSync(dir)).toEqual(['api.pid']);
    expect(sent).toEqual([`MAINPID=${process.pid}`]);
  });

  it('leaves a pid file that names another process alone', async () => {
    const pidFile = join(dir, 'api.pid');
    writeFileSync(pidFile, '777\n');
    const { handoff } = setup(pidFile);
    await handoff.reclaim(4242);
    expect(readFileSync(pidFile, 'utf8')).toBe('777\n');
  });
});

describe('HotHandoff.trigger: what runs while a successor starts', () => {
  function setup(outcome: UpgradeOutcome, state: HandoffState = 'idle') {
    const events: string[] = [];
    const notifier = createSdNotifier({}, { transport: async () => undefined });
    const coordinator = new ShutdownCoordinator(new InFlightRegistry(), { timeoutMs: 1_000, delayMs: 0, hookTimeoutMs: 1_000 }, {
      now: Date.now, setTimer: (fn, ms) => setTimeout(fn, ms).unref(), clearTimer: (h) => clearTimeout(h as NodeJS.Timeout), exit: () => undefined, log: () => undefined,
    });
    coordinator.markStarted();
    const upgrader = new StubUpgrader({ outcomes: [outcome] });
    const upgrade = upgrader.upgrade.bind(upgrader);
    const snapshot = upgrader.snapshot.bind(upgrader);
    upgrader.snapshot = () => ({ ...snapshot(), state });
    upgrader.upgrade = async () => {
      events.push('upgrade');
      return upgrade();
    };
    const handoff = new HotHandoff({ upgrader, coordinator, notifier, logger: createLogger('text', 'error', () => undefined), enabled: true, lingerMs: 1_000, retireAfterMs: 0, retireIdle: false });
    handoff.attach({
      stopAccepting: () => void events.push('stopAccepting'),
      connections: { count: 0, onClose: () => () => undefined },
      whileSuccessorStarts: () => {
        events.push('successor starts');
        return () => void events.push('restored');
      },
    });
    return { handoff, events, coordinator };
  }

  it('calls whileSuccessorStarts before the upgrade and its restore after a failed one', async () => {
    const { handoff, events } = setup({ ok: false, reason: 'exited', message: 'successor exited with code 1', output: [], durationMs: 5 });
    await handoff.trigger('SIGHUP');
    expect(events).toEqual(['successor starts', 'upgrade', 'restored']);
  });

  it('restores after a successful upgrade too, before the switch', async () => {
    const { handoff, events, coordinator } = setup({ ok: true, successorPid: 4242, durationMs: 5 });
    await handoff.trigger('SIGHUP');
    expect(events.slice(0, 4)).toEqual(['successor starts', 'upgrade', 'restored', 'stopAccepting']);
    await coordinator.stop('test over');
  });

  it('does not call it for a trigger that is refused because a handoff already runs', async () => {
    const { handoff, events } = setup({ ok: false, reason: 'busy', message: 'an upgrade is already running', output: [], durationMs: 0 }, 'spawning');
    await handoff.trigger('SIGHUP');
    expect(events).toEqual(['upgrade']);
  });
});

describe('HotHandoff: after the switch, the old process retires later and at SCHED_IDLE', () => {
  function setup(options: { retireIdle: boolean; idle?: RetireIdleResult; retireYield?: boolean }) {
    const events: string[] = [];
    const lines: string[] = [];
    const timers: { fn: () => void; ms: number }[] = [];
    const coordinator = new ShutdownCoordinator(new InFlightRegistry(), { timeoutMs: 1_000, delayMs: 0, hookTimeoutMs: 1_000 }, {
      now: Date.now, setTimer: (fn, ms) => setTimeout(fn, ms).unref(), clearTimer: (h) => clearTimeout(h as NodeJS.Timeout), exit: () => undefined, log: () => undefined,
    });
    coordinator.markStarted();
    const upgrader = new StubUpgrader();
    if (options.idle) upgrader.retireIdle = async () => (events.push('retireIdle'), options.idle as RetireIdleResult);
    else {
      const retireIdle = upgrader.retireIdle.bind(upgrader);
      upgrader.retireIdle = () => (events.push('retireIdle'), retireIdle());
    }
    upgrader.retiring = (offer?: { offer?: boolean }) => (events.push(`retiring offer=${offer?.offer}`), 0);
    upgrader.untilSuccessorIdle = async () => (events.push('untilSuccessorIdle'), 0);
    const logger = createLogger('text', 'info', (line) => void lines.push(line));
    const handoff = new HotHandoff({
      upgrader, coordinator, notifier: createSdNotifier({}, { transport: async () => undefined }), logger, enabled: true, lingerMs: 1_000,
      retireAfterMs: 1_500, retireIdle: options.retireIdle, retireYield: options.retireYield, setTimer: (fn, ms) => void timers.push({ fn, ms }),
    });
    let released!: () => void;
    const release = new Promise<void>((resolve) => (released = resolve));
    handoff.attach({
      stopAccepting: () => void events.push('stopAccepting'),
      connections: { count: 0, onClose: () => () => undefined },
      forwardToSuccessor: () => void events.push('forward'),
      moveConnections: () => void events.push('move'),
      releaseAfterSwitch: async () => {
        events.push('release');
        released();
      },
    });
    return { handoff, events, lines, timers, coordinator, release };
  }

  it('stops accepting and moves the connections at the switch; the release and the stop wait for HANDOFF_RETIRE_AFTER_MS, after SCHED_IDLE', async () => {
    const { handoff, events, lines, timers, coordinator, release } = setup({ retireIdle: true });
    await handoff.trigger('SIGHUP');
    expect(events).toEqual(['stopAccepting', 'forward', 'move']);
    expect(timers.map((t) => t.ms)).toEqual([1_500]);
    expect(coordinator.state).toBe('ready');
    timers[0].fn();
    await release;
    expect(events.slice(3)).toEqual(['retireIdle', 'release']);
    expect(coordinator.state).not.toBe('ready');
    expect(lines.join('\n')).toContain('then retiring in 1500 ms');
    expect(lines.join('\n')).toContain('handed over: retiring at SCHED_IDLE (1 processes of this tree)');
    await coordinator.stop('test over');
  });

  it('with HANDOFF_RETIRE_YIELD, asks the successor to report its work and waits for a gap in it before anything else of the retirement', async () => {
    const { handoff, events, timers, coordinator, release } = setup({ retireIdle: true, retireYield: true });
    await handoff.trigger('SIGHUP');
    timers[0].fn();
    await release;
    expect(events.slice(3)).toEqual(['retiring offer=false', 'untilSuccessorIdle', 'retireIdle', 'release']);
    await coordinator.stop('test over');
  });

  it('without HANDOFF_RETIRE_IDLE it releases at its own priority', async () => {
    const { handoff, events, timers, coordinator, release } = setup({ retireIdle: false });
    await handoff.trigger('SIGHUP');
    timers[0].fn();
    await release;
    expect(events).toEqual(['stopAccepting', 'forward', 'move', 'release']);
    await coordinator.stop('test over');
  });

  it('says why it retires at its own priority where it cannot go idle, and still releases and stops', async () => {
    const { handoff, events, lines, timers, coordinator, release } = setup({ retireIdle: true, idle: { ok: false, reason: 'chrt (util-linux) is neither on PATH nor in /usr/bin or /bin' } });
    await handoff.trigger('SIGHUP');
    timers[0].fn();
    await release;
    expect(events.slice(3)).toEqual(['retireIdle', 'release']);
    expect(lines.join('\n')).toContain("handed over: retiring at this process's priority: chrt (util-linux) is neither on PATH");
    expect(coordinator.state).not.toBe('ready');
    await coordinator.stop('test over');
  });

  it('a stop signal before the retirement shuts down at once; the retirement then does nothing', async () => {
    const { handoff, events, timers, coordinator } = setup({ retireIdle: true });
    await handoff.trigger('SIGHUP');
    const stopped = coordinator.stop('received SIGTERM');
    timers[0].fn();
    await stopped;
    expect(events).toEqual(['stopAccepting', 'forward', 'move']);
  });
});
