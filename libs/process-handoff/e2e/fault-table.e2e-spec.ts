import { WORKSPACE } from '@edu-agents/e2e-support';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// The README's fault table says which test shows each outcome: every test it names must exist.
const README = join(WORKSPACE, 'libs/process-handoff/README.md');
const SPEC_DIRS = ['libs/process-handoff/e2e', 'apps/api/e2e/handoff'];

function tableRows(): { row: string; file: string; words: string }[] {
  const text = readFileSync(README, 'utf8');
  const section = text.slice(text.indexOf('## Faults during a handoff'), text.indexOf('\n## ', text.indexOf('## Faults during a handoff') + 1));
  return section.split('\n').filter((line) => line.startsWith('| ') && !line.startsWith('| fault ')).map((row) => {
    const test = /`([\w.-]+\.e2e-spec\.ts)` "([^"]+)" \|$/.exec(row);
    if (!test) throw new Error(`a row of the fault table names no test (\`file\` "words of its name"): ${row}`);
    return { row, file: test[1], words: test[2] };
  });
}

describe("the README's fault table", () => {
  it('has a row for every fault of the issue, each backed by a test that exists', () => {
    const rows = tableRows();
    expect(rows.length).toBeGreaterThanOrEqual(50);
    const missing = rows.filter(({ file, words }) => {
      const path = SPEC_DIRS.map((dir) => join(WORKSPACE, dir, file)).find(existsSync);
      return path === undefined || !readFileSync(path, 'utf8').replace(/\\'/g, "'").includes(words);
    });
    expect(missing.map((m) => m.row)).toEqual([]);
    const faults = new Set(rows.map((r) => r.row.split(' | ')[0]));
    for (const fault of ['SIGKILL of the predecessor', 'SIGKILL of the successor', 'SIGTERM to the predecessor', 'SIGTERM to the successor', 'uncaught exception in the predecessor', 'uncaught exception in the successor', 'stdout and stderr closed (EPIPE)']) {
      expect(faults).toContain(`| ${fault}`);
    }
  });
});
