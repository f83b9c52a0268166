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
  /**
   * DAMON's monitors that run (`kdamond` kernel threads, set up through /sys/kernel/mm/damon),
   * one line each: what they watch and do. A hypervisor's host may run one to reclaim its guests'
   * idle memory; its kernel thread then takes CPU beside the run, and pages it evicts are read
   * back from disk when touched. Left out where that interface is missing.
   */
  damon?: string[];
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

const DAMON = '/sys/kernel/mm/damon/admin/kdamonds';

/** The kdamonds that are on, each as "kdamond N: <operations>, <scheme actions>"; undefined without DAMON's sysfs. */
export function damonMonitors(read: ReadText): string[] | undefined {
  const count = Number(read(`${DAMON}/nr_kdamonds`)?.trim());
  if (!Number.isInteger(count)) return undefined;
  const monitors: string[] = [];
  for (let k = 0; k < count; k += 1) {
    if (read(`${DAMON}/${k}/state`)?.trim() !== 'on') continue;
    const context = `${DAMON}/${k}/contexts/0`;
    const intervals = `${context}/monitoring_attrs/intervals`;
    const aggregateUs = Number(read(`${intervals}/aggr_us`)?.trim());
    const sampleUs = Number(read(`${intervals}/sample_us`)?.trim());
    const schemes = Number(read(`${context}/schemes/nr_schemes`)?.trim()) || 0;
    const actions: string[] = [];
    for (let s = 0; s < schemes; s += 1) {
      const action = read(`${context}/schemes/${s}/action`)?.trim() ?? '?';
      const pattern = `${context}/schemes/${s}/access_pattern`;
      const minAge = Number(read(`${pattern}/age/min`)?.trim());
      const maxAccesses = Number(read(`${pattern}/nr_accesses/max`)?.trim());
      // nr_accesses: in how many samples of an aggregation interval a region was seen accessed;
      // age: for how many aggregation intervals that count has stayed about the same.
      const samples = Math.round(aggregateUs / sampleUs);
      const rarely = Number.isFinite(maxAccesses) && samples > 0 && maxAccesses < samples ? ` of memory seen accessed in at most ${maxAccesses} of ${samples} samples` : '';
      const since = Number.isFinite(minAge) && minAge > 0 && aggregateUs > 0 ? ` for ${Math.round((minAge * aggregateUs) / 1e6)} s or more` : '';
      actions.push(`${action}${rarely}${since}`);
    }
    monitors.push(`kdamond ${k}: ${read(`${context}/operations`)?.trim() ?? '?'}${actions.length ? `, ${actions.join('; ')}` : ', monitoring only'}`);
  }
  return monitors;
}

export function kernelFacts(read: ReadText = readOrUndefined): KernelFacts {
  const kernelRelease = release();
  const { model, config } = preemptModel(read, kernelRelease);
  const hz = /^CONFIG_HZ=(\d+)$/m.exec(config ?? '');
  const autogroup = read('/proc/sys/kernel/sched_autogroup_enabled')?.trim();
  const damon = damonMonitors(read);
  return {
    release: kernelRelease,
    cpus: cpus().length,
    preempt: model,
    ...(hz ? { hz: Number(hz[1]) } : {}),
    ...(autogroup === undefined ? {} : { autogroup: autogroup === '1' }),
    ...(damon === undefined ? {} : { damon }),
  };
}

/** One line for a bench's log. */
export function describeKernel(k: KernelFacts): string {
  const autogroup = k.autogroup === undefined ? 'autogroup unknown' : `autogroup ${k.autogroup ? 'on' : 'off'}`;
  const damon = k.damon === undefined ? '' : `, DAMON ${k.damon.length ? k.damon.join(' / ') : 'off'}`;
  return `kernel ${k.release}, ${k.cpus} CPUs, preemption ${k.preempt}, HZ ${k.hz ?? 'unknown'}, ${autogroup}${damon}`;
}
