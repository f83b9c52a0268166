import { readFileSync, readlinkSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** A Unix socket's path holds 108 bytes with its NUL (`sun_path`); Chromium stops at start (FATAL) when its singleton's is longer. */
const SOCKET_PATH_MAX = 107;
/** What Chromium adds to `$TMPDIR` for its process singleton's socket. */
const SINGLETON_SOCKET_TAIL = '/org.chromium.Chromium.XXXXXX/SingletonSocket';

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

/**
 * The temporary directory a Chrome gets inside its own profile (`$TMPDIR` in its environment),
 * or undefined when its singleton socket's path would not fit there. Chrome makes its singleton
 * directory in `$TMPDIR` before it links it from the profile; killed in between, a directory in
 * /tmp is left that no profile names. Inside the profile it goes with the profile, whenever Chrome
 * was stopped.
 */
export function profileTmpDir(profileDir: string): string | undefined {
  const dir = join(profileDir, 't');
  return Buffer.byteLength(dir + SINGLETON_SOCKET_TAIL) <= SOCKET_PATH_MAX ? dir : undefined;
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

/** A file in a profile naming the process that holds its Chromium now, once one took it over from the process that launched it. */
const OWNER_FILE = 'edu-agents-owner';

/** Records (atomically) that `pid` holds the profile's Chromium now: its launcher's pid in the name no longer says who. */
export function writeProfileOwner(profileDir: string, pid: number): void {
  const file = join(profileDir, OWNER_FILE);
  writeFileSync(`${file}.${pid}.tmp`, `${pid}\n`);
  renameSync(`${file}.${pid}.tmp`, file);
}

/** The pid that holds the profile's Chromium: the one {@link writeProfileOwner} recorded, else `launcher` (the pid in its name). */
export function profileOwner(profileDir: string, launcher: number): number {
  try {
    const pid = Number(readFileSync(join(profileDir, OWNER_FILE), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : launcher;
  } catch {
    return launcher;
  }
}
