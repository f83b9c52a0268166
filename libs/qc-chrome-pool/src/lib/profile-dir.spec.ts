import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeProfile } from './profile-dir';

describe('removeProfile', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'profile-dir-spec-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("removes the profile and the singleton directory Chrome links from it, and nothing that is not Chrome's singleton", () => {
    const singleton = join(dir, 'org.chromium.Chromium.AbC123');
    mkdirSync(singleton);
    writeFileSync(join(singleton, 'SingletonSocket'), '');
    const profile = join(dir, 'edu-agents-qc-1-x');
    mkdirSync(profile);
    symlinkSync(join(singleton, 'SingletonSocket'), join(profile, 'SingletonSocket'));
    removeProfile(profile);
    expect([existsSync(profile), existsSync(singleton)]).toEqual([false, false]);

    const other = join(dir, 'not-chrome');
    mkdirSync(other);
    const second = join(dir, 'edu-agents-qc-2-y');
    mkdirSync(second);
    symlinkSync(join(other, 'SingletonSocket'), join(second, 'SingletonSocket'));
    removeProfile(second);
    expect([existsSync(second), existsSync(other)]).toEqual([false, true]);
    removeProfile(join(dir, 'never-existed'));
  });
});
