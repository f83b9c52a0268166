import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHROME_CANDIDATES, resolveChromePath } from './qc-config';

describe('resolveChromePath', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'qc-config-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** A file in the temp dir, executable or not. */
  const file = (name: string, executable: boolean) => {
    const path = join(dir, name);
    writeFileSync(path, '#!/bin/sh\n');
    chmodSync(path, executable ? 0o755 : 0o644);
    return path;
  };

  it("tries Debian's binary before its launcher script", () => {
    expect(CHROME_CANDIDATES.indexOf('/usr/lib/chromium/chromium')).toBeLessThan(CHROME_CANDIDATES.indexOf('/usr/bin/chromium'));
  });

  it('takes the first executable candidate, in order', () => {
    const candidates = [join(dir, 'absent'), file('not-executable', false), file('second', true), file('third', true)];
    expect(resolveChromePath(undefined, candidates)).toBe(candidates[2]);
  });

  it('uses a given path as it is, never a candidate in its place', () => {
    const given = file('launcher', true);
    expect(resolveChromePath(given, [file('binary', true)])).toBe(given);
  });

  it('names the given path when it cannot run, and every candidate when none can', () => {
    const broken = file('broken', false);
    expect(() => resolveChromePath(broken)).toThrow(`Chrome not executable at ${broken}; fix CHROME_PATH`);
    const missing = [join(dir, 'a'), join(dir, 'b')];
    expect(() => resolveChromePath(undefined, missing)).toThrow(`no Chromium found in ${missing.join(', ')}`);
  });
});
