import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { mustRun, outsideEnv, Started, type Ran } from './run';
import type { LocalRegistry } from './verdaccio';

/** The workspace root (this file is tools/packages-e2e/support/consumer.ts). */
export const WORKSPACE = resolve(__dirname, '../../..');
/** The workspace's TypeScript compiler (the consumers' `npx tsc`, without another install). */
export const TSC = join(WORKSPACE, 'node_modules/typescript/bin/tsc');
/** The four published packages: Nx project name -> package name. */
export const PACKAGES = {
  'process-handoff': '@edu-agents/process-handoff',
  'shutdown-state': '@edu-agents/shutdown-state',
  'health-client': '@edu-agents/health-client',
  'qc-chrome-pool': '@edu-agents/qc-chrome-pool',
} as const;
export type ProjectName = keyof typeof PACKAGES;
/** The consumers' own sources (Fastify, Nest, the entry checks), copied into the consumer project. */
export const CONSUMER_SOURCES = resolve(__dirname, '../consumers');

const rootPackage = JSON.parse(readFileSync(join(WORKSPACE, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
const workspaceVersion = (name: string) => {
  const version = rootPackage.dependencies[name] ?? rootPackage.devDependencies[name];
  if (!version) throw new Error(`${name} is not a dependency of the workspace`);
  return version;
};

/** What a service outside the workspace installs next to our packages: the versions the workspace runs, Fastify 5. */
export function thirdPartyDependencies(): Record<string, string> {
  const same = ['express', '@nestjs/common', '@nestjs/core', '@nestjs/platform-express', '@nestjs/terminus', 'reflect-metadata', 'rxjs', 'puppeteer', '@types/node', '@types/express'];
  return { ...Object.fromEntries(same.map((name) => [name, workspaceVersion(name)])), fastify: '5.12.8' };
}

/** The version each built package has on disk (what a publish sends). */
export function builtVersion(project: ProjectName): string {
  return (JSON.parse(readFileSync(join(WORKSPACE, 'dist/libs', project, 'package.json'), 'utf8')) as { version: string }).version;
}

/**
 * A directory outside the workspace with its own npm configuration (the local registry, its
 * token) and npm cache: every install here resolves through Verdaccio, and a second install
 * finds in the cache what the first one downloaded.
 */
export class ConsumerHome {
  readonly npmrc: string;
  readonly cache: string;

  constructor(readonly dir: string, readonly registry: LocalRegistry) {
    this.npmrc = join(dir, 'npmrc');
    this.cache = join(dir, 'npm-cache');
    const host = registry.url.replace(/^http:/, '');
    writeFileSync(this.npmrc, `registry=${registry.url}\n${host}:_authToken=${registry.token}\naudit=false\nfund=false\nupdate-notifier=false\n`);
  }

  /** Environment of npm and of the consumers' programs: this home's npm config, no workspace paths, no browser download. */
  env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    return outsideEnv({ npm_config_userconfig: this.npmrc, npm_config_cache: this.cache, PUPPETEER_SKIP_DOWNLOAD: '1', ...extra });
  }

  npm(args: readonly string[], cwd: string, timeoutMs = 240_000): Promise<Ran> {
    return mustRun('npm', args, { cwd, env: this.env(), timeoutMs });
  }

  /**
   * Creates `name/` with a package.json that depends on `dependencies` and installs it
   * (install scripts off: puppeteer's would download a browser; the system Chromium is used).
   */
  async project(name: string, dependencies: Record<string, string>): Promise<ConsumerProject> {
    const dir = join(this.dir, name);
    mkdirSync(join(dir, 'src'), { recursive: true });
    writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: `consumer-${name}`, private: true, type: 'commonjs', dependencies }, null, 2)}\n`);
    await this.npm(['install', '--ignore-scripts', '--no-audit', '--no-fund'], dir);
    return new ConsumerProject(dir, this);
  }
}

/** An installed consumer project: sources in src/, compiled to build/ with the node16 config. */
export class ConsumerProject {
  constructor(readonly dir: string, readonly home: ConsumerHome) {}

  /** Writes a source file into src/. */
  write(file: string, text: string): void {
    writeFileSync(join(this.dir, 'src', file), text);
  }

  /** Copies a file of tools/packages-e2e/consumers into src/. */
  copyConsumer(file: string): void {
    cpSync(join(CONSUMER_SOURCES, file), join(this.dir, 'src', file));
  }

  /**
   * Type-checks src/ against the installed declarations with the workspace's TypeScript under
   * `"moduleResolution": "node16"` (emitting build/) and `"bundler"` (checking only).
   */
  async typeCheck(): Promise<void> {
    const common = { target: 'es2022', strict: true, types: ['node'], experimentalDecorators: true, emitDecoratorMetadata: true, skipLibCheck: false, forceConsistentCasingInFileNames: true };
    const configs = {
      'tsconfig.node16.json': { compilerOptions: { ...common, module: 'node16', moduleResolution: 'node16', outDir: 'build', rootDir: 'src' }, include: ['src'] },
      'tsconfig.bundler.json': { compilerOptions: { ...common, module: 'preserve', moduleResolution: 'bundler', noEmit: true }, include: ['src'] },
    };
    for (const [file, config] of Object.entries(configs)) {
      writeFileSync(join(this.dir, file), `${JSON.stringify(config, null, 2)}\n`);
      await mustRun(process.execPath, [TSC, '-p', file], { cwd: this.dir, env: this.home.env(), timeoutMs: 180_000 });
    }
  }

  /** `node build/<file>` to its end. */
  node(file: string, args: readonly string[] = [], env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000): Promise<Ran> {
    return mustRun(process.execPath, [join('build', file), ...args], { cwd: this.dir, env: this.home.env(env), timeoutMs });
  }

  /** Starts `node build/<file> ...args` and leaves it running. */
  start(file: string, env: NodeJS.ProcessEnv = {}, args: readonly string[] = []): Started {
    return new Started(process.execPath, [join('build', file), ...args], this.dir, this.home.env(env));
  }
}
