import { execFile } from 'node:child_process';
import { setFlagsFromString } from 'node:v8';

/**
 * V8 optimizes a function once it has run `--ticks-before-optimization` times
 * `--interrupt-budget` bytes of bytecode. A successor's 200 warm-up requests reach that
 * for a few dozen functions; the rest of the request path is optimized after the switch,
 * under the whole load, over seconds (tools/bench/README.md, "What a successor compiles
 * after its ready"). During the warm-up, a function is optimized after an eighth of the
 * budget and one tick: a 24th of the runs. The flags are set back to what they were after it.
 */
const FLAGS = ['interrupt-budget', 'ticks-before-optimization'] as const;
type Flag = (typeof FLAGS)[number];
const warmValue: Record<Flag, (value: number) => number> = {
  'interrupt-budget': (value) => Math.max(1, Math.round(value / 8)),
  'ticks-before-optimization': () => 1,
};

/** The flag strings for the warm-up and for after it, or why the warm-up runs with V8's own. */
export type TierUpPlan = { ok: true; warm: string; after: string } | { ok: false; reason: string };

/**
 * The plan from this process's command line and `node --v8-options`: the operator's own
 * values of these flags win (nothing is changed), and the values set back after the
 * warm-up are this V8's defaults, read from its own list.
 */
export function planTierUp(execArgv: readonly string[], v8Options: string): TierUpPlan {
  const given = FLAGS.filter((flag) => execArgv.some((arg) => new RegExp(`^--${flag}(=|$)`).test(arg.replaceAll('_', '-'))));
  if (given.length > 0) return { ok: false, reason: `the command line sets ${given.map((flag) => `--${flag}`).join(' and ')}` };
  const defaults = FLAGS.map((flag) => {
    const found = new RegExp(`default: --${flag}=(\\d+)`).exec(v8Options);
    return found ? Number(found[1]) : undefined;
  });
  const missing = FLAGS.filter((_, i) => defaults[i] === undefined);
  if (missing.length > 0) return { ok: false, reason: `this V8 lists no default for ${missing.map((flag) => `--${flag}`).join(' and ')}` };
  const values = defaults as number[];
  return {
    ok: true,
    warm: FLAGS.map((flag, i) => `--${flag}=${warmValue[flag](values[i])}`).join(' '),
    after: FLAGS.map((flag, i) => `--${flag}=${values[i]}`).join(' '),
  };
}

/** `node --v8-options` of this node, or '' when it cannot be run within 10 s. */
export function readV8Options(execPath = process.execPath): Promise<string> {
  return new Promise((resolve) => {
    execFile(execPath, ['--v8-options'], { timeout: 10_000, maxBuffer: 8 * 1024 * 1024 }, (error, stdout) => resolve(error ? '' : stdout));
  });
}

export interface TierUpDeps {
  execArgv: readonly string[];
  v8Options: () => Promise<string>;
  setFlags: (flags: string) => void;
}

const defaultDeps = (): TierUpDeps => ({ execArgv: process.execArgv, v8Options: () => readV8Options(), setFlags: setFlagsFromString });

/**
 * Runs `warmUp` with V8 optimizing after fewer runs, and sets the flags back after it,
 * whether it resolved or threw. Says what it did: the flags it used, or why none.
 * `overrides` replace this process's command line, `node --v8-options` or V8's setter.
 */
export async function withFastTierUp<T>(warmUp: () => Promise<T>, overrides: Partial<TierUpDeps> = {}): Promise<{ result: T; tierUp: string }> {
  const deps = { ...defaultDeps(), ...overrides };
  const plan = planTierUp(deps.execArgv, await deps.v8Options());
  if (!plan.ok) return { result: await warmUp(), tierUp: `V8's own (${plan.reason})` };
  deps.setFlags(plan.warm);
  try {
    return { result: await warmUp(), tierUp: plan.warm };
  } finally {
    deps.setFlags(plan.after);
  }
}
