import { readlinkSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** The directory Chrome's process singleton makes in the temporary directory, linked from the profile. */
const SINGLETON_DIR = /^org\.chromium\.Chromium\.\w+$/;

/**
 * The singleton directory Chrome links from a profile (`SingletonSocket` ->
 * `$TMPDIR/org.chromium.Chromium.XXXXXX/SingletonSocket`), if there is one. Chrome
 * leaves it behind even when it is closed politely (measured: one per launch, 223
 * of them in this machine's /tmp), and always when it is killed.
 */
export function singletonDirOf(profileDir: string): string | undefined {
  let socket: string;
  try {
    socket = readlinkSync(join(profileDir, 'SingletonSocket'));
  } catch {
    return undefined; // Chrome never got that far, or the profile is gone already
  }
  const dir = dirname(socket);
  return SINGLETON_DIR.test(basename(dir)) ? dir : undefined;
}

/** Removes a Chrome profile directory and the singleton directory Chrome links from it. */
export function removeProfile(profileDir: string): void {
  const singleton = singletonDirOf(profileDir);
  if (singleton !== undefined) rmSync(singleton, { recursive: true, force: true });
  rmSync(profileDir, { recursive: true, force: true, maxRetries: 3 });
}

/** {@link removeProfile} off the event loop: a used profile is thousands of files. */
export async function removeProfileAsync(profileDir: string): Promise<void> {
  const singleton = singletonDirOf(profileDir);
  if (singleton !== undefined) await rm(singleton, { recursive: true, force: true });
  await rm(profileDir, { recursive: true, force: true, maxRetries: 3 });
}
