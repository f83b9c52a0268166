/**
 * Package sizes (issue 17): for each of our four packages and the packages people use for the
 * same work, the packed (tarball) size, the unpacked size, and how many packages an install
 * brings, each measured by installing it into an empty directory of its own.
 *
 * Ours are packed from dist/libs/<lib> (`npx nx run-many -t build -p process-handoff
 * shutdown-state health-client qc-chrome-pool` first; the nx target does it) and installed
 * from that tarball; the others come from the npm registry. Dependencies are counted without
 * peer dependencies (`--legacy-peer-deps`: the user chose puppeteer already), peers are listed.
 * Install scripts are off (puppeteer's would download a browser).
 *
 *   SWC_NODE_PROJECT=tsconfig.base.json node -r @swc-node/register tools/bench/package-sizes.bench.ts
 *   npx nx run packages-e2e:package-sizes          (builds the packages first)
 *
 * JSON on stdout, progress and a readable table on stderr. Env: PACKAGE_SIZES_ONLY=name,name
 * (measure only these), PACKAGE_SIZES_REGISTRY (default: npm's configured registry).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const WORKSPACE = resolve(__dirname, '../..');

interface Subject {
  /** What it is compared with: one of our packages. */
  group: 'process-handoff' | 'shutdown-state' | 'health-client' | 'qc-chrome-pool';
  name: string;
  /** `npm pack`/`npm install` argument: a registry spec, or our dist directory. */
  spec: string;
  ours: boolean;
}

/** The peers of each package, as named in issue 17 (wait-on for health-client: the usual "wait until ready"). */
const PEERS: Record<Subject['group'], string[]> = {
  'process-handoff': ['pm2'],
  'shutdown-state': ['http-terminator', 'stoppable', 'close-with-grace', '@godaddy/terminus', 'lightship', 'http-graceful-shutdown'],
  'health-client': ['wait-on'],
  'qc-chrome-pool': ['puppeteer-cluster', 'generic-pool'],
};

export interface SizeRow {
  group: string;
  name: string;
  version: string;
  ours: boolean;
  packedBytes: number;
  unpackedBytes: number;
  files: number;
  /** Packages in node_modules after installing it alone, itself not counted. */
  installedDependencies: number;
  /** Bytes of node_modules on disk after that install (itself included). */
  installedBytes: number;
  peerDependencies: string[];
}

function npm(args: string[], cwd: string): string {
  const registry = process.env['PACKAGE_SIZES_REGISTRY'];
  const ran = spawnSync('npm', [...args, '--no-audit', '--no-fund', ...(registry ? ['--registry', registry] : [])], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, PUPPETEER_SKIP_DOWNLOAD: '1' },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (ran.status !== 0) throw new Error(`npm ${args.join(' ')} failed in ${cwd}:\n${ran.stderr}`);
  return ran.stdout;
}

function duBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += duBytes(path);
    else if (entry.isFile()) total += statSync(path).size;
  }
  return total;
}

function measure(subject: Subject, work: string): SizeRow {
  const dir = mkdtempSync(join(work, 'pkg-'));
  const [packed] = JSON.parse(npm(['pack', subject.spec, '--json', '--pack-destination', dir], dir)) as {
    name: string; version: string; filename: string; size: number; unpackedSize: number; entryCount: number;
  }[];
  if (!packed) throw new Error(`npm pack ${subject.spec} reported nothing`);
  const tarball = join(dir, packed.filename);
  const install = join(dir, 'install');
  mkdirSync(install);
  npm(['init', '-y'], install);
  npm(['install', tarball, '--ignore-scripts', '--legacy-peer-deps', '--no-save'], install);
  const lock = JSON.parse(readFileSync(join(install, 'node_modules/.package-lock.json'), 'utf8')) as { packages: Record<string, unknown> };
  const installed = Object.keys(lock.packages).filter((path) => path.startsWith('node_modules/') && path !== `node_modules/${packed.name}`);
  const manifest = JSON.parse(readFileSync(join(install, 'node_modules', packed.name, 'package.json'), 'utf8')) as { peerDependencies?: Record<string, string> };
  const row: SizeRow = {
    group: subject.group,
    name: packed.name,
    version: packed.version,
    ours: subject.ours,
    packedBytes: packed.size,
    unpackedBytes: packed.unpackedSize,
    files: packed.entryCount,
    installedDependencies: installed.length,
    installedBytes: duBytes(join(install, 'node_modules')),
    peerDependencies: Object.keys(manifest.peerDependencies ?? {}),
  };
  rmSync(dir, { recursive: true, force: true });
  return row;
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} kB`;
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

function table(rows: SizeRow[]): string {
  const head = '| package | version | packed | unpacked | files | installed deps (peers not counted) | node_modules on disk | peer dependencies |';
  const lines = rows.map((r) =>
    `| ${r.ours ? `**${r.name}**` : r.name} | ${r.version} | ${kb(r.packedBytes)} | ${kb(r.unpackedBytes)} | ${r.files} | ${r.installedDependencies} | ${mb(r.installedBytes)} | ${r.peerDependencies.join(', ') || '-'} |`,
  );
  return [head, '|---|---|---|---|---|---|---|---|', ...lines].join('\n');
}

function main(): void {
  const only = process.env['PACKAGE_SIZES_ONLY']?.split(',').filter(Boolean);
  const subjects: Subject[] = [];
  for (const [group, peers] of Object.entries(PEERS) as [Subject['group'], string[]][]) {
    const dist = join(WORKSPACE, 'dist/libs', group);
    if (!existsSync(join(dist, 'package.json'))) {
      throw new Error(`${dist} is not built: run \`npx nx run-many -t build -p process-handoff shutdown-state health-client qc-chrome-pool\` first`);
    }
    subjects.push({ group, name: `@edu-agents/${group}`, spec: dist, ours: true });
    for (const peer of peers) subjects.push({ group, name: peer, spec: peer, ours: false });
  }
  const unknown = only?.filter((name) => !subjects.some((s) => s.name === name)) ?? [];
  if (unknown.length > 0) {
    throw new Error(`PACKAGE_SIZES_ONLY names ${unknown.join(', ')}, which this benchmark does not measure; it measures ${subjects.map((s) => s.name).join(', ')}`);
  }
  const work = mkdtempSync(join(tmpdir(), 'package-sizes-'));
  const rows: SizeRow[] = [];
  try {
    for (const subject of subjects.filter((s) => !only || only.includes(s.name))) {
      process.stderr.write(`measuring ${subject.name} ...\n`);
      rows.push(measure(subject, work));
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const result = { at: new Date().toISOString(), node: process.version, npm: npm(['--version'], WORKSPACE).trim(), rows };
  process.stderr.write(`\n${table(rows)}\n`);
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

main();
