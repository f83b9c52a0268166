import { runCli, track, type ProgramRun } from '@edu-agents/e2e-support';

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

