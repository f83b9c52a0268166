#!/usr/bin/env node
// Runs every check of the workspace (lint, unit tests, build, end-to-end suites)
// and ends with one plain line: `N passed, N failed`. Test counts come from the
// Jest summary reporter (tools/jest/summary-reporter.js); a lint or build target
// that fails counts as one failure of its own. Exit code 0 only when nothing failed.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const resultsDir = join(root, 'tmp/test-results');
rmSync(resultsDir, { recursive: true, force: true });

const env = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', FORCE_COLOR: '0' };
const nx = (args) => {
  console.log(`\n$ nx ${args.join(' ')}`);
  return spawnSync('npx', ['nx', ...args], { cwd: root, env, stdio: 'inherit' }).status === 0;
};

const steps = [
  { name: 'lint', ok: () => nx(['run-many', '-t', 'lint', '--outputStyle=stream']) },
  { name: 'build', ok: () => nx(['run-many', '-t', 'build', '--outputStyle=stream']) },
  { name: 'unit tests', ok: () => nx(['run-many', '-t', 'test', '--skip-nx-cache', '--parallel=2', '--outputStyle=stream']), tests: true },
  { name: 'e2e tests', ok: () => nx(['run-many', '-t', 'e2e', '--skip-nx-cache', '--parallel=1', '--outputStyle=stream']), tests: true },
];

const stepFailures = [];
for (const step of steps) {
  if (!step.ok() && !step.tests) stepFailures.push(step.name);
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
for (const name of stepFailures) failures.push(`${name} failed (see its output above)`);
failed += stepFailures.length;
if (files.length === 0) {
  failures.push('no test results were recorded');
  failed += 1;
}
if (failures.length) console.log(`\nFailures:\n${failures.map((f) => `  - ${f}`).join('\n')}`);
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 ? 0 : 1;
