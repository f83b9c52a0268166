import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '../..');
const run = (cmd: string, args: string[]) => spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' } });

/** Every project.json of the workspace (node_modules, dist and tmp left out). */
function projectFiles(dir = ROOT): string[] {
  const found: string[] = [];
  for (const name of readdirSync(dir)) {
    if (['node_modules', 'dist', 'tmp', '.git', '.nx', 'coverage'].includes(name)) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...projectFiles(path));
    else if (name === 'project.json') found.push(path);
  }
  return found;
}

describe('the toolchain a newcomer installs', () => {
  it('has a lockfile that npm ci accepts as it is (npm ci validates before it installs)', () => {
    const result = run('npm', ['ci', '--dry-run', '--no-audit', '--no-fund']);
    expect(result.stderr).not.toMatch(/npm error/);
    expect(result.status).toBe(0);
  });

  it('locks the optional platform packages of every platform, so npm ci works on any machine', () => {
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, unknown> };
    const names = Object.keys(lock.packages);
    expect(names).toContain('node_modules/@swc/core-darwin-arm64');
    expect(names).toContain('node_modules/@esbuild/darwin-arm64');
    expect(names).toContain('node_modules/@esbuild/win32-x64');
  });

  it('installs neither webpack nor sass, and npm ls finds the tree complete', () => {
    const tree = run('npm', ['ls', '--all', '--parseable']);
    expect(tree.status).toBe(0);
    const packages = tree.stdout.split('\n').map((line) => relative(ROOT, line));
    expect(packages.filter((p) => /(^|\/)(webpack|sass)[^/]*$/.test(p))).toEqual([]);
  });

  it('turns Nx analytics off, so no command stops at a prompt', () => {
    const nx = JSON.parse(readFileSync(join(ROOT, 'nx.json'), 'utf8')) as { analytics?: boolean };
    expect(nx.analytics).toBe(false);
  });

  it('runs jest through the @nx/jest plugin only, never the deprecated @nx/jest:jest executor', () => {
    const executors = projectFiles().flatMap((file) => {
      const targets = (JSON.parse(readFileSync(file, 'utf8')) as { targets?: Record<string, { executor?: string }> }).targets ?? {};
      return Object.entries(targets).map(([name, t]) => `${relative(ROOT, file)}:${name}:${t.executor ?? ''}`);
    });
    expect(executors.filter((e) => e.endsWith('@nx/jest:jest'))).toEqual([]);
    const graph = JSON.parse(execFileSync('npx', ['nx', 'show', 'project', 'api-e2e', '--json'], { cwd: ROOT, encoding: 'utf8' })) as { targets: Record<string, unknown> };
    expect(Object.keys(graph.targets)).toContain('e2e');
  });

  it('type-checks the benchmark scripts, which only run by hand (tools/bench/tsconfig.*.json)', () => {
    const configs = readdirSync(join(ROOT, 'tools/bench')).filter((name) => /^tsconfig\..+\.json$/.test(name));
    expect(configs.length).toBeGreaterThan(0);
    for (const config of configs) {
      const result = run('npx', ['tsc', '-p', join('tools/bench', config)]);
      expect({ config, status: result.status, output: result.stdout + result.stderr }).toEqual({ config, status: 0, output: '' });
    }
  }, 120_000);
});
