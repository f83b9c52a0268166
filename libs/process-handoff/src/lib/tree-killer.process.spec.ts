import { spawn, type ChildProcess } from 'node:child_process';
import { isAlive, waitFor } from '../../test-support/fixture-process';
import { nodeProcessEnvironment } from './node-process-environment';
import { TreeKiller } from './tree-killer';

// Real processes: a node process that starts a child and prints its pid. The children files of /proc must name it,
// and a TreeKiller that remembered the tree through them must kill the grandchild once its
// parent died and it hangs off init.
const PARENT = `
  const { spawn } = require('node:child_process');
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  process.stdout.write(child.pid + '\\n');
  setInterval(() => {}, 1000);
`;

describe('the subtree by /proc children files, with real processes', () => {
  let parent: ChildProcess | undefined;
  let grandchild: number | undefined;

  afterEach(() => {
    for (const pid of [parent?.pid, grandchild]) {
      try {
        if (pid) process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
  });

  it('lists a process\'s children, says undefined for a process that is gone, and a remembered grandchild is killed after its parent died', async () => {
    const env = nodeProcessEnvironment();
    parent = spawn(process.execPath, ['-e', PARENT], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    parent.stdout?.on('data', (chunk) => (out += String(chunk)));
    const parentPid = parent.pid as number;
    grandchild = await waitFor('the parent to report its child', () => (/^(\d+)\n/.exec(out) ? Number(/^(\d+)\n/.exec(out)?.[1]) : undefined));
    expect(env.listChildren?.(parentPid)).toEqual([grandchild]);
    expect(env.listChildren?.(grandchild)).toEqual([]);

    const killer = new TreeKiller(env);
    killer.remember(parentPid);
    const exited = new Promise((resolve) => parent?.once('exit', resolve));
    process.kill(parentPid, 'SIGKILL');
    await exited;
    expect(env.listChildren?.(parentPid)).toBeUndefined();
    expect(isAlive(grandchild)).toBe(true);
    expect(killer.kill()).toEqual([grandchild]);
    await waitFor('the remembered grandchild to be gone', () => !isAlive(grandchild as number), 10_000);
  });
});
