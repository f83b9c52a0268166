#!/usr/bin/env node
// Runs every check of the workspace (lint, unit tests, build, end-to-end suites)
// and ends with one plain line: `N passed, N failed`. Test counts come from the
// Jest summary reporter (tools/jest/summary-reporter.js); a lint or build target
// that fails counts as one failure of its own. Exit code 0 only when nothing failed.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runWithDeadline } from './run-with-deadline.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const resultsDir = join(root, 'tmp/test-results');
rmSync(resultsDir, { recursive: true, force: true });

const env = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', FORCE_COLOR: '0' };

// Each step has a deadline, so a hang (a Jest that waits for a process a
// failed cleanup left running) fails that step and CI still ends with its
// summary, well inside CI's 90 minutes. The whole run takes about 15 minutes.
const MINUTE = 60_000;
const steps = [
  { name: 'lint', args: ['run-many', '-t', 'lint', '--outputStyle=stream'], deadlineMs: 10 * MINUTE },
  { name: 'build', args: ['run-many', '-t', 'build', '--outputStyle=stream'], deadlineMs: 10 * MINUTE },
  { name: 'unit tests', args: ['run-many', '-t', 'test', '--skip-nx-cache', '--parallel=2', '--outputStyle=stream'], deadlineMs: 15 * MINUTE, tests: true },
  { name: 'e2e tests', args: ['run-many', '-t', 'e2e', '--skip-nx-cache', '--parallel=1', '--outputStyle=stream'], deadlineMs: 45 * MINUTE, tests: true },
];

/** Runs `nx ...args` with the step's deadline: 'ok', 'failed' or 'deadline'. */
function nx(args, deadlineMs) {
  console.log(`\n$ nx ${args.join(' ')}`);
  const onDeadline = () => console.log(`\nrun-tests: nx ${args.join(' ')} did not finish within ${deadlineMs / MINUTE} min; stopping it`);
  return runWithDeadline('npx', ['nx', ...args], { cwd: root, env, deadlineMs, onDeadline });
}

const stepFailures = [];
for (const step of steps) {
  const outcome = await nx(step.args, step.deadlineMs);
  if (outcome === 'deadline') stepFailures.push(`${step.name}: stopped, not finished after ${step.deadlineMs / MINUTE} min (see the output above)`);
  else if (outcome === 'failed' && !step.tests) stepFailures.push(`${step.name} failed (see its output above)`);
}

let passed = 0;
let failed = 0;
const failures = [];
const files = existsSync(resultsDir) ? readdirSync(resultsDir).filter((f) => f.endsWith('.json')) : [];
console.log('\nTest results by project:');
for (const file of files.sort()) {
  const r = JSON.parse(readFileSync(join(resultsDir, file), 'utf8'));
  console.log(`  ${r.name.padEnd(24)} ${String(r.passed).padStart(4)} passed ${String(r.failed).padStart(4)} failed`);
  passed += r.passed;
  failed += r.failed;
  failures.push(...r.failures);
}
failures.push(...stepFailures);
failed += stepFailures.length;
if (files.length === 0) {
  failures.push('no test results were recorded');
  failed += 1;
}
if (failures.length) console.log(`\nFailures:\n${failures.map((f) => `  - ${f}`).join('\n')}`);
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 ? 0 : 1;
