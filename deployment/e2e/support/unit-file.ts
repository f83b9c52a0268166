import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { DEPLOYMENT_DIR } from '@edu-agents/e2e-support';

export const SYSTEMD_DIR = join(DEPLOYMENT_DIR, 'systemd');
export const UNIT_FILES = ['edu_agents.service', 'edu_agents.socket', 'edu_agents@.service', 'edu_agents@.socket'];

/** `section -> key -> values` of a unit file (keys may repeat, e.g. Environment=). */
export type UnitSettings = Record<string, Record<string, string[]>>;

/** Parses the settings of a systemd unit or an EnvironmentFile (no section). */
export function parseUnitFile(text: string): UnitSettings {
  const settings: UnitSettings = {};
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = header[1];
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0) throw new Error(`not a KEY=VALUE line in section [${section}]: ${line}`);
    const key = line.slice(0, eq).trim();
    const entries = (settings[section] ??= {});
    (entries[key] ??= []).push(line.slice(eq + 1).trim());
  }
  return settings;
}

export function readUnit(name: string): UnitSettings {
  return parseUnitFile(readFileSync(join(SYSTEMD_DIR, name), 'utf8'));
}

export interface VerifyResult {
  status: number | null;
  output: string;
}

/**
 * `systemd-analyze verify` without a running systemd. Templates cannot be
 * verified as such, so `edu_agents@.x` is copied to instances `@0` and `@1`
 * (all units in one directory so that Requires=/Sockets= resolve). When
 * /usr/bin/node does not exist on this machine, ExecStart is pointed at the
 * running node instead (the verifier checks that the binary exists).
 */
export function verifyUnits(sourceDir: string = SYSTEMD_DIR, names: string[] = UNIT_FILES): VerifyResult {
  const dir = mkdtempSync(join(tmpdir(), 'edu-units-'));
  try {
    const targets: string[] = [];
    for (const name of names) {
      const copies = name.includes('@.') ? ['0', '1'].map((i) => name.replace('@.', `@${i}.`)) : [name];
      for (const copy of copies) {
        const target = join(dir, basename(copy));
        copyFileSync(join(sourceDir, name), target);
        if (!existsSync('/usr/bin/node')) {
          writeFileSync(target, readFileSync(target, 'utf8').replace(/\/usr\/bin\/node\b/g, process.execPath));
        }
        targets.push(target);
      }
    }
    const result = spawnSync('systemd-analyze', ['verify', '--man=false', '--generators=false', ...targets], {
      encoding: 'utf8',
    });
    return { status: result.status, output: `${result.stdout}${result.stderr}`.trim() };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Milliseconds of a systemd time span such as `30`, `30s`, `1min 30s`, `500ms`. */
export function systemdSpanMs(span: string): number {
  const units: Record<string, number> = { ms: 1, s: 1_000, sec: 1_000, m: 60_000, min: 60_000, h: 3_600_000 };
  let total = 0;
  const parts = span.trim().split(/\s+/);
  for (const part of parts) {
    const match = /^(\d+(?:\.\d+)?)([a-z]*)$/.exec(part);
    if (!match || (match[2] !== '' && units[match[2]] === undefined)) throw new Error(`unsupported time span: ${span}`);
    total += Number(match[1]) * (match[2] === '' ? 1_000 : units[match[2]]);
  }
  return total;
}
