/**
 * Unit names we accept: systemd's own character set minus the escape character,
 * at most one `@`, not starting with `-` (it would read as an option).
 */
const UNIT = /^[A-Za-z0-9_][A-Za-z0-9_.:-]*(@[A-Za-z0-9_.:-]*)?(\.(service|socket))?$/;

/** True when `name` is a unit name safe to hand to systemctl. */
export function isValidUnitName(name: string): boolean {
  return name.length <= 255 && UNIT.test(name) && !name.includes('..');
}

/** Throws a clear error for a name that is not a plain systemd unit name. */
export function assertUnitName(name: string): string {
  if (!isValidUnitName(name)) {
    throw new Error(`'${name}' is not a valid unit name: use letters, digits, _ . : - and at most one @ (e.g. edu_agents or edu_agents@0).`);
  }
  return name;
}
