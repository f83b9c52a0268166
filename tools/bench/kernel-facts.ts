// What of the kernel decides how a restart's start competes with the serving processes, read
// once per run and written next to its figures: two runs compare only on the same kernel
// settings. The preemption model says where it was read from; what nothing here tells is left
// out of the facts and printed as "unknown".
import { readFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { gunzipSync } from 'node:zlib';

export interface KernelFacts {
  release: string;
  cpus: number;
  /** The preemption model in effect (none, voluntary, full, lazy) and where that was read. */
  preempt: string;
  /** The scheduler tick (CONFIG_HZ), where the kernel's config is readable. */
  hz?: number;
  /** Whether sessions are scheduling groups of their own (/proc/sys/kernel/sched_autogroup_enabled). */
  autogroup?: boolean;
}

/** What {@link kernelFacts} reads: a file's text, or undefined where it is missing or unreadable. */
export type ReadText = (file: string) => string | undefined;

function readOrUndefined(file: string): string | undefined {
  try {
    return file.endsWith('.gz') ? gunzipSync(readFileSync(file)).toString('utf8') : readFileSync(file, 'utf8');
  } catch {
    return undefined; // missing, or refused (debugfs under kernel lockdown)
  }
}

const BUILT_IN: [RegExp, string][] = [
  [/^CONFIG_PREEMPT_NONE=y$/m, 'none'],
  [/^CONFIG_PREEMPT_VOLUNTARY=y$/m, 'voluntary'],
  [/^CONFIG_PREEMPT_LAZY=y$/m, 'lazy'],
  [/^CONFIG_PREEMPT=y$/m, 'full'],
];

/** The preemption model: the live one from debugfs, else the boot line's `preempt=`, else the kernel's built-in default. */
export function preemptModel(read: ReadText, kernelRelease: string): { model: string; config?: string } {
  const config = read('/proc/config.gz') ?? read(`/boot/config-${kernelRelease}`);
  const live = /\((\w+)\)/.exec(read('/sys/kernel/debug/sched/preempt') ?? '');
  if (live) return { model: `${live[1]} (debugfs)`, config };
  const boot = /(?:^|\s)preempt=(\w+)/.exec(read('/proc/cmdline') ?? '');
  if (boot) return { model: `${boot[1]} (boot line)`, config };
  const builtIn = config === undefined ? undefined : BUILT_IN.find(([pattern]) => pattern.test(config));
  if (builtIn) return { model: `${builtIn[1]} (built-in default${/^CONFIG_PREEMPT_DYNAMIC=y$/m.test(config ?? '') ? ', PREEMPT_DYNAMIC' : ''})`, config };
  return { model: 'unknown', config };
}

export function kernelFacts(read: ReadText = readOrUndefined): KernelFacts {
  const kernelRelease = release();
  const { model, config } = preemptModel(read, kernelRelease);
  const hz = /^CONFIG_HZ=(\d+)$/m.exec(config ?? '');
  const autogroup = read('/proc/sys/kernel/sched_autogroup_enabled')?.trim();
  return {
    release: kernelRelease,
    cpus: cpus().length,
    preempt: model,
    ...(hz ? { hz: Number(hz[1]) } : {}),
    ...(autogroup === undefined ? {} : { autogroup: autogroup === '1' }),
  };
}

/** One line for a bench's log. */
export function describeKernel(k: KernelFacts): string {
  const autogroup = k.autogroup === undefined ? 'autogroup unknown' : `autogroup ${k.autogroup ? 'on' : 'off'}`;
  return `kernel ${k.release}, ${k.cpus} CPUs, preemption ${k.preempt}, HZ ${k.hz ?? 'unknown'}, ${autogroup}`;
}
