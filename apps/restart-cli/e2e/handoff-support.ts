import { runCli, track, WORKSPACE, type ProgramRun } from '@edu-agents/e2e-support';
import { copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A step of the CLI's JSON result. */
export interface StepJson {
  step: string;
  status: string;
  durationMs: number;
  detail: string;
}

/** One instance in the CLI's JSON result (graceful: the result itself). */
export interface InstanceJson {
  instance: string;
  mode?: string;
  ok: boolean;
  exitCode: number;
  oldPid?: number;
  newPid?: number;
  servingPid?: number;
  durationMs: number;
  steps: StepJson[];
  successor?: { pid?: number; reason?: string; message?: string; output: string[] };
  failure?: { step: string; message: string };
}

/** The CLI's run plus its JSON result; the new pids it reports are tracked for cleanup. */
export async function runCliJson<T extends { instances?: InstanceJson[]; newPid?: number }>(args: string[]): Promise<{ run: ProgramRun; result: T }> {
  const run = await runCli([...args, '--json']).done;
  let result: T;
  try {
    result = JSON.parse(run.stdout) as T;
  } catch (error) {
    throw new Error(`the CLI printed no JSON result (exit ${run.code}):\n${run.stdout}\n${run.stderr}`, { cause: error });
  }
  for (const pid of [result.newPid, ...(result.instances ?? []).map((i) => i.newPid)]) track(pid);
  return { run, result };
}

/** Expects the exit code; a mismatch shows the CLI's stderr (its steps and the error). */
export function expectExit(run: ProgramRun, code: number): void {
  expect(`exit ${run.code}\n${run.code === code ? '' : run.stderr}`).toBe(`exit ${code}\n`);
}

/** `step:status` of each step, for comparing the order. */
export const stepList = (steps: StepJson[]) => steps.map((s) => `${s.step}:${s.status}`);

/**
 * A copy of the built API inside the workspace (so its bundle finds node_modules),
 * to deploy a new build at the same entry path as an operator does. `main` is the
 * entry to run, relative to the workspace. (The api e2e suite has the same helper;
 * both belong in @edu-agents/e2e-support.)
 */
export class ApiRelease {
  readonly dir: string;
  readonly main: string;

  constructor(name: string) {
    const relative = join('tmp', `e2e-cli-release-${name}-${process.pid}`);
    this.dir = join(WORKSPACE, relative);
    this.main = join(relative, 'main.js');
    rmSync(this.dir, { recursive: true, force: true });
    mkdirSync(this.dir, { recursive: true });
    this.deployGood();
  }

  /** Copies the real build over the release. */
  deployGood(): void {
    const built = join(WORKSPACE, 'dist/apps/api');
    for (const file of readdirSync(built)) copyFileSync(join(built, file), join(this.dir, file));
  }

  /** Replaces the bundle that main.js loads: a broken build at the entry path. */
  deployBroken(code: string): void {
    writeFileSync(join(this.dir, 'api.js'), code);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
