import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { DEPLOYMENT_DIR } from '@edu-agents/e2e-support';

/** deployment/container: Containerfile, containers.conf and the host scripts. */
export const CONTAINER_DIR = join(DEPLOYMENT_DIR, 'container');
export const CONTAINERS_CONF = join(CONTAINER_DIR, 'containers.conf');
/** The repository root, the image's build context. */
export const BUILD_CONTEXT = join(DEPLOYMENT_DIR, '..');

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/**
 * Runs a command to its end without a shell, with the project's podman
 * settings (CONTAINERS_CONF) in its environment. Never rejects for a non-zero
 * exit: callers decide what a code means.
 */
export function run(file: string, args: string[], options: { cwd?: string; echo?: boolean } = {}): Promise<CommandResult> {
  const started = Date.now();
  const child = spawn(file, args, {
    cwd: options.cwd ?? BUILD_CONTEXT,
    env: { ...process.env, CONTAINERS_CONF },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    if (options.echo) process.stderr.write(chunk);
  });
  return new Promise((resolve, reject) => {
    child.once('error', (error) => reject(new Error(`could not run ${file}`, { cause: error })));
    child.once('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - started }));
  });
}

/** `podman <args>`; rejects with podman's own message when it exits non-zero. */
export async function podman(args: string[], options: { echo?: boolean } = {}): Promise<string> {
  const result = await run('podman', args, options);
  if (result.code !== 0) {
    throw new Error(`podman ${args.join(' ')} exited ${result.code}: ${result.stderr.trim().split('\n').slice(-5).join('\n')}`);
  }
  return result.stdout;
}

/** Runs one of the shipped scripts in deployment/container; rejects naming it when it fails. */
export async function runContainerScript(script: string, args: string[] = []): Promise<CommandResult> {
  const result = await run(join(CONTAINER_DIR, script), args, { echo: true });
  if (result.code !== 0) throw new Error(`${script} exited ${result.code}:\n${result.stderr.slice(-2_000)}`);
  return result;
}

/** CONTAINER_E2E_KEEP_IMAGES=1: keep the images and build cache of a run for a faster next one. */
export function keepImages(): boolean {
  return process.env['CONTAINER_E2E_KEEP_IMAGES'] === '1';
}

/** The label that marks every image (stages and cached layers included) a build of run `runId` made. */
export const RUN_LABEL = 'edu-agents.e2e-run';

/** Installs what the suite runs (podman, runc, mmdebstrap, ...) where it is missing: before the first podman call. */
export async function installHostTools(): Promise<void> {
  await runContainerScript('install-host-tools.sh');
}

/**
 * Builds the image from the repository root as the operator guide says, on
 * the stand-in base that local-base.sh prints last, labelling every image the
 * build commits with `RUN_LABEL=runId` so that {@link removeRunImages} finds
 * them all. Reports how long each part took on stderr. Needs {@link installHostTools}.
 */
export async function buildImage(tag: string, runId: string): Promise<{ baseImage: string; baseBuilt: boolean; baseMs: number; buildMs: number }> {
  const base = await runContainerScript('local-base.sh');
  const baseImage = base.stdout.trim().split('\n').pop() ?? '';
  if (!baseImage) throw new Error('local-base.sh printed no image name');
  // Layers are committed step by step (the runtime stage's while the build
  // stage still runs) rather than all at the end; a label other than the
  // last run's would miss the cache, hence a fixed one when images are kept.
  const label = `${RUN_LABEL}=${keepImages() ? 'kept' : runId}`;
  const build = await run(
    'podman',
    ['build', '--layers', '--label', label, '--network', 'host', '--jobs', '4', '--build-arg', `NODE_IMAGE=${baseImage}`, '-f', join(CONTAINER_DIR, 'Containerfile'), '-t', tag, '.'],
    { echo: process.env['CONTAINER_E2E_VERBOSE'] === '1' },
  );
  if (build.code !== 0) throw new Error(`podman build exited ${build.code}:\n${`${build.stdout}\n${build.stderr}`.slice(-4_000)}`);
  process.stderr.write(`container e2e: base ${baseImage} in ${base.ms} ms, image ${tag} in ${build.ms} ms\n`);
  return { baseImage, baseBuilt: !base.stderr.includes(`reusing ${baseImage}`), baseMs: base.ms, buildMs: build.ms };
}

/** One process of a container, read from the host's /proc. */
export interface ContainerProcess {
  hostPid: number;
  /** The pid the process has inside the container's pid namespace. */
  pid: number;
  /** R, S, D, Z (zombie: exited, not reaped by its parent), ... */
  state: string;
  uid: number;
  /** The scheduling nice value of its main thread (/proc/<pid>/stat field 19). */
  nice: number;
  command: string;
}

/**
 * Every process in the pid namespace of host process `initHostPid` (a
 * container's first process, `podman inspect --format {{.State.Pid}}`),
 * straight from the host's /proc: no tool in the image is needed.
 */
export function processesInNamespaceOf(initHostPid: number): ContainerProcess[] {
  const namespace = readlinkSync(`/proc/${initHostPid}/ns/pid`);
  const found: ContainerProcess[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // EACCES: a process of another user namespace (the sandbox's own init), never one of the container's.
      if (readlinkSync(`/proc/${entry}/ns/pid`) !== namespace) continue;
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      const field = (name: string) => new RegExp(`^${name}:\\s*(.+)$`, 'm').exec(status)?.[1] ?? '';
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim();
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      found.push({
        hostPid: Number(entry),
        pid: Number(field('NSpid').split(/\s+/).pop()),
        state: field('State').charAt(0),
        uid: Number(field('Uid').split(/\s+/)[0]),
        nice: Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]),
        command: cmdline || `[${field('Name')}]`,
      });
    } catch (error) {
      // ENOENT/ESRCH: the process ended between listing and reading, it is not there any more.
      if (!['ENOENT', 'ESRCH', 'EACCES'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error;
    }
  }
  return found.sort((a, b) => a.pid - b.pid);
}

/** One line per process, for failure messages. */
export function describeProcesses(processes: ContainerProcess[]): string {
  return processes.map((p) => `${p.pid} ${p.state} uid=${p.uid} ${p.command.slice(0, 100)}`).join('\n');
}

/** Chrome's browser process: a chromium without `--type=` (its children all have one). */
export function isChromeBrowser(p: ContainerProcess): boolean {
  return /\/chromium(\s|$)/.test(p.command) && !p.command.includes('--type=');
}

/** A renderer process of Chrome. */
export function isChromeRenderer(p: ContainerProcess): boolean {
  return /\/chromium\s/.test(p.command) && p.command.includes('--type=renderer');
}

/** `podman inspect` of a container, the fields the tests use. */
export async function inspectContainer(name: string): Promise<{ pid: number; status: string; exitCode: number; user: string; readOnly: boolean }> {
  const out = await podman(['inspect', '--format', '{{.State.Pid}} {{.State.Status}} {{.State.ExitCode}} {{.Config.User}} {{.HostConfig.ReadonlyRootfs}}', name]);
  const [pid, status, exitCode, user, readOnly] = out.trim().split(/\s+/);
  return { pid: Number(pid), status, exitCode: Number(exitCode), user, readOnly: readOnly === 'true' };
}

/** Removes `images` and every image labelled as made by run `runId`. */
export async function removeRunImages(runId: string, images: string[]): Promise<void> {
  const labelled = (await podman(['images', '--all', '--quiet', '--filter', `label=${RUN_LABEL}=${runId}`])).split('\n').filter(Boolean);
  const ids = [...new Set([...images, ...labelled])];
  if (ids.length === 0) return;
  const removed = await run('podman', ['rmi', '--force', ...ids]);
  if (removed.code !== 0 && !/image not known/i.test(removed.stderr)) throw new Error(`podman rmi exited ${removed.code}: ${removed.stderr.trim()}`);
}

/** Image ids of `reference` (e.g. podman's own pause image) present now. */
export async function imageIds(reference: string): Promise<string[]> {
  return (await podman(['images', '--quiet', '--filter', `reference=${reference}`])).split('\n').filter(Boolean);
}

/** Removes containers, pods and volumes by name (killing what still runs), ignoring those already gone. */
export async function removeByName(kind: 'container' | 'pod' | 'volume', names: string[]): Promise<void> {
  if (names.length === 0) return;
  const result = await run('podman', [kind, 'rm', '--force', ...(kind === 'volume' ? [] : ['--ignore', '--time', '0']), ...names]);
  if (result.code !== 0 && !/no such/i.test(result.stderr)) {
    throw new Error(`podman ${kind} rm ${names.join(' ')} exited ${result.code}: ${result.stderr.trim()}`);
  }
}
