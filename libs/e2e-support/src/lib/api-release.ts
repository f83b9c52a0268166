import { copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { API_MAIN, WORKSPACE } from './workspace';

/**
 * A copy of the built API inside the workspace (so its bundle still finds
 * node_modules), to deploy a new build at one entry path as an operator does:
 * a hot handoff starts whatever build is at `main` (relative to the workspace).
 */
export class ApiRelease {
  readonly dir: string;
  readonly main: string;

  constructor(name: string) {
    const relative = join('tmp', `e2e-release-${name}-${process.pid}`);
    this.dir = join(WORKSPACE, relative);
    this.main = join(relative, 'main.js');
    rmSync(this.dir, { recursive: true, force: true });
    mkdirSync(this.dir, { recursive: true });
    this.deployGood();
  }

  /** Copies the real build (dist/apps/api) over the release. */
  deployGood(): void {
    const built = join(WORKSPACE, API_MAIN, '..');
    for (const file of readdirSync(built)) copyFileSync(join(built, file), join(this.dir, file));
  }

  /** Replaces the application bundle that main.js loads with `code`: a broken build at the entry path. */
  deployBroken(code: string): void {
    writeFileSync(join(this.dir, 'api.js'), code);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
