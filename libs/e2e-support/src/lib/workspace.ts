import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The workspace root: API, CLI and nginx run from here, as an operator would. */
export const WORKSPACE = resolve(__dirname, '../../../..');
/** The built API, relative to {@link WORKSPACE} (the form a `--start` command uses). */
export const API_MAIN = 'dist/apps/api/main.js';
/** The built restart CLI, relative to {@link WORKSPACE}. */
export const CLI_MAIN = 'dist/apps/restart-cli/main.js';
/** Root of the shipped deployment files. */
export const DEPLOYMENT_DIR = join(WORKSPACE, 'deployment');
/** The nginx server config the product ships. */
export const SHIPPED_NGINX_CONF = join(DEPLOYMENT_DIR, 'nginx', 'edu_agents.conf');

/** Fails with what to run when a built entry point is missing. */
export function requireBuilt(...mains: string[]): void {
  for (const main of mains) {
    if (!existsSync(join(WORKSPACE, main))) throw new Error(`${main} is missing: run \`npx nx run-many -t build -p api restart-cli\` (the e2e targets do)`);
  }
}
