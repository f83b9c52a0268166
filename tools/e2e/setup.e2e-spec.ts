import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '../..');
const gitStatus = () => spawnSync('git', ['status', '--porcelain'], { cwd: ROOT, encoding: 'utf8' }).stdout;

describe('tools/scripts/setup.sh (run by npm start and npm test)', () => {
  it('installs nothing and changes no file when run again', () => {
    // npm test ran it once already; make sure of that, then run it again.
    const first = spawnSync('bash', ['tools/scripts/setup.sh'], { cwd: ROOT, encoding: 'utf8' });
    expect(first.status).toBe(0);
    const before = gitStatus();
    const again = spawnSync('bash', ['tools/scripts/setup.sh'], { cwd: ROOT, encoding: 'utf8' });
    expect(again.status).toBe(0);
    expect(`${again.stdout}${again.stderr}`).toBe('');
    expect(gitStatus()).toBe(before);
  });
});
