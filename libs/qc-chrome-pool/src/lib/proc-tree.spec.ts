import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listProcs, listProcsAsync } from './proc-tree';

/** A /proc/<pid>/stat line: utime, stime, cutime, cstime (fields 14-17) 3, 4, 1, 2 ticks; rss (field 24) 256 pages. */
function statLine(pid: number, comm: string, state: string, ppid: number, pgid: number): string {
  const fields = Array<number>(52).fill(0); // fields 1..52, at index n - 1
  [fields[13], fields[14], fields[15], fields[16], fields[23]] = [3, 4, 1, 2, 256];
  return [pid, `(${comm})`, state, ppid, pgid, ...fields.slice(5)].join(' ');
}

describe('listProcsAsync', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'proc-tree-'));
    const proc = (pid: number, stat: string, cmdline?: string) => {
      mkdirSync(join(root, String(pid)));
      writeFileSync(join(root, String(pid), 'stat'), stat);
      if (cmdline !== undefined) writeFileSync(join(root, String(pid), 'cmdline'), cmdline);
    };
    proc(10, statLine(10, 'node', 'S', 1, 10), 'node\0api.js\0');
    proc(11, statLine(11, 'chrome (renderer)', 'S', 10, 11), '/usr/lib/chromium/chromium --type=renderer --user-data-dir=/tmp/p');
    proc(12, statLine(12, 'chromium', 'Z', 10, 11), '');
    proc(13, statLine(13, 'gone', 'S', 1, 13)); // exited between its stat and its cmdline
    mkdirSync(join(root, 'self'));
    writeFileSync(join(root, 'uptime'), '1.0 1.0');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('reads what listProcs reads, without holding the event loop for the walk', async () => {
    const byPid = <T extends { pid: number }>(procs: T[]) => [...procs].sort((a, b) => a.pid - b.pid);
    // Turns of the event loop while it walks: none if the walk were synchronous.
    let turns = 0;
    let walking = true;
    const tick = () => {
      if (!walking) return;
      turns += 1;
      setImmediate(tick);
    };
    setImmediate(tick);
    const found = byPid(await listProcsAsync(root));
    walking = false;
    expect(found).toEqual(byPid(listProcs(root)));
    expect(found.map((p) => p.pid)).toEqual([10, 11, 12]);
    expect(found[1]).toEqual({
      pid: 11, ppid: 10, pgid: 11, state: 'S', cpuTicks: 10, reapedChildTicks: 3, rssBytes: 256 * 4096,
      cmdline: ['/usr/lib/chromium/chromium', '--type=renderer', '--user-data-dir=/tmp/p'],
    });
    expect(found[2].state).toBe('Z');
    expect(turns).toBeGreaterThan(0);
  });

  it('finds this process in the real /proc', async () => {
    const me = (await listProcsAsync()).find((p) => p.pid === process.pid);
    expect(me?.ppid).toBe(process.ppid);
    expect(me?.cmdline[0]).toContain('node');
  });
});
