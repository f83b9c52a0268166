import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { formatSummary, freePort, http, isAlive, killLeftoverApis, startLoad, summarize, waitFor } from '@edu-agents/e2e-support';
import { builtVersion, ConsumerHome, PACKAGES, thirdPartyDependencies, TSC, WORKSPACE, type ConsumerProject, type ProjectName } from './support/consumer';
import { drainContract } from './support/drain-contract';
import { leakedTypes } from './support/public-types';
import { quickStart } from './support/readme';
import { mustRun } from './support/run';
import { startVerdaccio, type LocalRegistry } from './support/verdaccio';

const projects = Object.keys(PACKAGES) as ProjectName[];
const entriesOf = (project: ProjectName) => (project === 'process-handoff' ? ['src/index.d.ts', 'src/testing.d.ts'] : ['src/index.d.ts']);
type EntryReport = { used: unknown[]; entries: Record<string, { file: string; exports: string[] }> };

let tmp: string;
let registry: LocalRegistry | undefined;
let home: ConsumerHome;
let consumer: ConsumerProject;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'edu-agents-packages-e2e-'));
  if (!relative(WORKSPACE, tmp).startsWith('..')) throw new Error(`${tmp} is inside the workspace; set TMPDIR elsewhere`);
  registry = await startVerdaccio(join(tmp, 'registry'));
  mkdirSync(join(tmp, 'home'));
  home = new ConsumerHome(join(tmp, 'home'), registry);
  // What a maintainer runs (README, "Releasing the packages"), against the local registry.
  await mustRun('npx', ['nx', 'release', 'publish', '--registry', registry.url], {
    cwd: WORKSPACE,
    env: { ...process.env, npm_config_userconfig: home.npmrc, NX_DAEMON: 'false' },
    timeoutMs: 180_000,
  });
  const ours = Object.fromEntries(projects.map((p) => [PACKAGES[p], builtVersion(p)]));
  consumer = await home.project('consumer', { ...ours, ...thirdPartyDependencies() });
  const readme = (p: ProjectName) => join(consumer.dir, 'node_modules', PACKAGES[p], 'README.md');
  consumer.write('handoff-server.ts', quickStart(readme('process-handoff')));
  consumer.write('express-app.ts', quickStart(readme('shutdown-state')));
  consumer.write('wait-ready.ts', quickStart(readme('health-client')));
  consumer.write('render-page.ts', quickStart(readme('qc-chrome-pool')));
  for (const file of ['fastify-app.ts', 'nest-app.ts', 'entries-require.cts', 'entries-import.mts']) consumer.copyConsumer(file);
}, 600_000);

afterEach(() => killLeftoverApis());

afterAll(async () => {
  // The registry stops even if the API cleanup throws: a running registry keeps Jest from exiting.
  try {
    await killLeftoverApis();
  } finally {
    await registry?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
});

describe('the packages as built', () => {
  it.each(projects)('%s: no type in the public declarations that no entry point exports', (project) => {
    expect(leakedTypes(join(WORKSPACE, 'dist/libs', project), entriesOf(project))).toEqual([]);
  });

  it('every consumer (built into build/ here) type-checks against the installed declarations under node16 and bundler resolution, and resolves the packages to its own node_modules', async () => {
    await consumer.typeCheck();
    const required = JSON.parse((await consumer.node('entries-require.cjs')).stdout) as EntryReport;
    const imported = JSON.parse((await consumer.node('entries-import.mjs')).stdout) as EntryReport;
    for (const [name, entry] of Object.entries(required.entries)) {
      expect(entry.file.startsWith(join(consumer.dir, 'node_modules', name.split('/').slice(0, 2).join('/')) + '/')).toBe(true);
      expect(imported.entries[name]?.file).toBe(`file://${entry.file}`);
    }
  });

  it("each README's quick start compiles with the README's own command: npx tsc --module node16 --target es2022 --strict <file>.ts", async () => {
    const dir = join(consumer.dir, 'readme-commands'); // inside the consumer project: its node_modules
    mkdirSync(dir);
    const files: [ProjectName, string][] = [['process-handoff', 'server'], ['shutdown-state', 'app'], ['health-client', 'wait-ready'], ['qc-chrome-pool', 'render']];
    for (const [project, file] of files) {
      const readme = readFileSync(join(consumer.dir, 'node_modules', PACKAGES[project], 'README.md'), 'utf8');
      expect(readme).toContain(`npx tsc --module node16 --target es2022 --strict ${file}.ts`);
      writeFileSync(join(dir, `${file}.ts`), quickStart(join(consumer.dir, 'node_modules', PACKAGES[project], 'README.md')));
      await mustRun(process.execPath, [TSC, '--module', 'node16', '--target', 'es2022', '--strict', `${file}.ts`], { cwd: dir, env: home.env(), timeoutMs: 120_000 });
      expect(existsSync(join(dir, `${file}.js`))).toBe(true);
    }
  });

  it('the registry holds exactly what `npm pack dist/libs/<lib>` packs, for each package', async () => {
    for (const project of projects) {
      const [packed] = JSON.parse((await home.npm(['pack', join(WORKSPACE, 'dist/libs', project), '--json', '--dry-run'], tmp)).stdout) as { shasum: string; files: { path: string }[] }[];
      const published = (await home.npm(['view', `${PACKAGES[project]}@${builtVersion(project)}`, 'dist.shasum'], tmp)).stdout.trim();
      expect({ project, shasum: published }).toEqual({ project, shasum: packed?.shasum });
      expect(packed?.files.map((f) => f.path)).toEqual(expect.arrayContaining(['package.json', 'README.md', 'LICENSE', 'src/index.js', 'src/index.d.ts', 'src/index.js.map']));
    }
  });

  it('each packed tarball installs into an empty directory, where require and import of every entry work and resolve there', async () => {
    const packed = join(tmp, 'packed');
    const empty = join(tmp, 'empty');
    mkdirSync(packed);
    mkdirSync(empty);
    const tarballs = [];
    for (const project of projects) {
      const [result] = JSON.parse((await home.npm(['pack', join(WORKSPACE, 'dist/libs', project), '--json', '--pack-destination', packed], tmp)).stdout) as { filename: string }[];
      tarballs.push(join(packed, result?.filename as string));
    }
    // Dependencies (lru-cache, the puppeteer peer) come from the cache the consumer install filled.
    await home.npm(['install', '--ignore-scripts', '--prefer-offline', '--no-save', ...tarballs], empty);
    for (const file of ['entries-require.cjs', 'entries-import.mjs']) copyFileSync(join(consumer.dir, 'build', file), join(empty, file));
    const required = JSON.parse((await mustRun(process.execPath, ['entries-require.cjs'], { cwd: empty, env: home.env(), timeoutMs: 30_000 })).stdout) as EntryReport;
    const imported = JSON.parse((await mustRun(process.execPath, ['entries-import.mjs'], { cwd: empty, env: home.env(), timeoutMs: 30_000 })).stdout) as EntryReport;
    expect(Object.keys(required.entries)).toHaveLength(5);
    for (const [name, entry] of Object.entries(required.entries)) {
      expect(entry.file.startsWith(join(empty, 'node_modules/'))).toBe(true);
      expect(imported.entries[name]?.file).toBe(`file://${entry.file}`);
      // Every export of the CommonJS module is importable by name from ESM.
      expect({ name, exports: imported.entries[name]?.exports }).toEqual({ name, exports: entry.exports });
      expect(entry.exports.length).toBeGreaterThan(0);
    }
  });

});

describe('consumers outside the workspace, installed from the local registry', () => {
  it('node:http with process-handoff and shutdown-state (the process-handoff README quick start): kill -HUP under open-loop load fails 0 requests, a broken build costs nothing, the successor drains on SIGTERM', async () => {
    const entry = join(consumer.dir, 'build/handoff-server.js');
    const good = readFileSync(entry);
    const first = consumer.start('handoff-server.js', { PORT: '0' });
    const [, portText, pidText] = await first.line(/^listening on http:\/\/127\.0\.0\.1:(\d+) \(pid (\d+)\)$/);
    const port = Number(portText);
    expect(Number(pidText)).toBe(first.pid);

    const load = startLoad({ port, ratePerSec: 100, maxDurationMs: 90_000, request: () => ({ label: 'GET /', method: 'GET', path: '/' }) });
    await waitFor('a second of load', () => load.elapsed() > 1_000, 10_000);

    // A broken build at the entry path: the successor dies, this process serves on.
    writeFileSync(entry, "throw new Error('broken build: this successor cannot start');\n");
    first.signal('SIGHUP');
    const [, reason] = await first.line(/^handoff failed \((\w+)\)/, 60_000);
    expect(reason).toBe('exited');
    expect((await http(`http://127.0.0.1:${port}/`)).text).toBe(`hello from pid ${first.pid}\n`);

    // The good build again: the successor takes over the socket, the old process exits 0.
    writeFileSync(entry, good);
    first.signal('SIGHUP');
    const successor = Number((await first.line(/^handed over to pid (\d+)$/, 60_000))[1]);
    expect(await first.exited).toEqual({ code: 0, signal: null });
    await waitFor('answers from the successor', async () => (await http(`http://127.0.0.1:${port}/`)).text === `hello from pid ${successor}\n`, 10_000);
    const switchedAt = load.elapsed();
    await waitFor('a second of load on the successor alone', () => load.elapsed() > switchedAt + 1_000, 10_000);
    load.stop();
    const run = await load.done;
    process.stdout.write(`${formatSummary('packages e2e: two SIGHUPs (a broken build, then a good one) under 100 req/s', summarize(run))}\n`);
    expect(run.records.length).toBeGreaterThan(100);
    expect(run.records.filter((r) => r.error !== undefined || r.status !== 200)).toEqual([]);

    // SIGTERM drains the successor (not this test's child: its end is read from its log and /proc).
    const drained = await drainContract(port, () => process.kill(successor, 'SIGTERM'));
    expect(drained).toMatchObject({
      readyBefore: { httpStatus: 200, phase: 'ready', pid: successor },
      duringDrain: { httpStatus: 503, phase: 'draining' },
      refused: { status: 503, retryAfter: '2' },
      inFlight: { status: 200, body: `hello from pid ${successor}\n` },
    });
    await first.line(/"kind":"phase","phase":"stopped"/, 20_000);
    await waitFor('the successor to exit', () => !isAlive(successor), 20_000);
  });

  it.each([
    ['Express 5 (the shutdown-state README quick start)', 'express-app.js'],
    ['Fastify 5', 'fastify-app.js'],
    ['NestJS 11 with a terminus indicator wrapping shutdownHealth()', 'nest-app.js'],
  ])('%s: while draining new requests get 503 with Retry-After, the request in flight completes, the process exits 0', async (_name, file) => {
    const app = consumer.start(file, { PORT: '0' });
    const port = Number((await app.line(/^listening on http:\/\/127\.0\.0\.1:(\d+)/))[1]);
    const drained = await drainContract(port, () => app.signal('SIGTERM'));
    expect(drained).toMatchObject({
      readyBefore: { httpStatus: 200, phase: 'ready', pid: app.pid },
      duringDrain: { httpStatus: 503, phase: 'draining' },
      refused: { status: 503, retryAfter: '2', connection: 'close' },
      inFlight: { status: 200 },
    });
    expect(JSON.parse(drained.inFlight.body)).toEqual({ received: { lesson: 'fractions' } });
    expect(await app.exited).toEqual({ code: 0, signal: null });
  });

  it('health-client (its README quick start) waits until a server that is not up yet is ready', async () => {
    const port = await freePort();
    const waiting = consumer.start('wait-ready.js', {}, [`http://127.0.0.1:${port}/health`]);
    await waitFor('the waiter to find nothing there yet', () => waiting.stderr.some((l) => l.startsWith('unreachable')), 10_000);
    const app = consumer.start('express-app.js', { PORT: String(port) });
    const [, pid] = await waiting.line(/^ready: pid (\d+) after \d+ checks/, 30_000);
    expect(Number(pid)).toBe(app.pid);
    expect(await waiting.exited).toEqual({ code: 0, signal: null });
  });

  it('qc-chrome-pool (its README quick start) renders a page on the system Chromium and reports what is broken', async () => {
    const ran = await consumer.node('render-page.js', [], {}, 120_000);
    const report = JSON.parse(ran.stdout) as { ok: boolean; failedRequests: { url: string }[]; brokenImages: { src: string }[]; imagesMissingAlt: { src: string }[] };
    expect(report.ok).toBe(false);
    expect(report.brokenImages.map((i) => i.src)).toEqual(['half.png']);
    expect(report.imagesMissingAlt.map((i) => i.src)).toEqual(['half.png']);
    expect(report.failedRequests.map((r) => r.url)).toEqual(['https://content.qc.invalid/half.png']);
    const png = readFileSync(join(consumer.dir, 'lesson.png'));
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(existsSync(join(consumer.dir, 'node_modules/puppeteer'))).toBe(true);
  });
});
