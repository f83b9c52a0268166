import { http, killLeftoverApis, postJson, startApi } from '@edu-agents/e2e-support';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The API's build bundles its dependencies into dist/apps/api/api.js
// (apps/api/project.json, "thirdParty": true): a successor that resolves, reads
// and runs some 1,190 files of node_modules spends about 0.6 s of its start on
// them, bundled about 0.43 s (tools/bench/README.md, "The API's dependencies in
// one file, and what a render loses to any other work"). What stays outside the
// bundle is listed as "external" there: unix-dgram (a native addon, loaded only
// under NOTIFY_SOCKET), and packages Nest and terminus load only when an app
// uses them. This test runs the built API through start, a QC render and a
// drain, and asks node which files it loaded from node_modules.

const dirs: string[] = [];
afterEach(async () => {
  await killLeftoverApis();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A preload that writes, as the process exits, every module node loaded from a node_modules directory. */
function moduleRecorder(): { preload: string; loaded: () => string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'edu-agents-bundle-'));
  dirs.push(dir);
  const preload = join(dir, 'record-modules.js');
  const out = join(dir, 'modules.json');
  writeFileSync(preload, `process.on('exit', () => {
  const loaded = Object.keys(require.cache).filter((file) => file.split(require('path').sep).includes('node_modules'));
  require('fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify(loaded));
});
`);
  return { preload, loaded: () => JSON.parse(readFileSync(out, 'utf8')) as string[] };
}

describe('the built API', () => {
  it('starts, renders with Chromium and drains without loading a module from node_modules', async () => {
    const recorder = moduleRecorder();
    const api = await startApi({ QC_ENABLED: 'true', QC_BROWSERS: '1', QC_PAGES_PER_BROWSER: '1', NODE_OPTIONS: `--require ${recorder.preload}` });
    const rendered = await postJson(`${api.url}/qc/check`, { html: '<main><h1>Fractions</h1><p>Halves and quarters.</p></main>' });
    expect(rendered.status).toBe(200);
    expect((await http(`${api.url}/health`)).status).toBe(200);
    api.signal('SIGTERM');
    expect((await api.exited).code).toBe(0);
    expect(recorder.loaded()).toEqual([]);
  });
});
