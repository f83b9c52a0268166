import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { profileTmpDir, removeProfile } from './profile-dir';

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

describe('profileTmpDir', () => {
  it("puts Chrome's temporary directory inside the profile while its singleton socket's path fits in 107 bytes, and nowhere when it would not", () => {
    const socketPath = (tmp: string) => `${tmp}/org.chromium.Chromium.AbC123/SingletonSocket`;
    expect(profileTmpDir('/tmp/edu-agents-qc-4194304-AbC123')).toBe('/tmp/edu-agents-qc-4194304-AbC123/t');
    // The longest profile whose socket still fits, and one byte more.
    const longest = `/${'p'.repeat(107 - socketPath('/x/t').length + 1)}`;
    expect(socketPath(profileTmpDir(longest) as string)).toHaveLength(107);
    expect(profileTmpDir(`${longest}p`)).toBeUndefined();
    // Bytes, not characters: sun_path is bytes.
    expect(profileTmpDir(`${longest.slice(0, -1)}é`)).toBeUndefined();
  });
});
