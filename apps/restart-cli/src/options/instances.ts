import { InvalidArgumentError } from 'commander';

const INSTANCE = /^[A-Za-z0-9_.:-]+$/;

/** Parses `--instances 0,1,2`: names of letters, digits, `_ . : -`, no duplicates. */
export function instancesArg(text: string): string[] {
  const names = text.split(',').map((s) => s.trim());
  const bad = names.find((n) => !INSTANCE.test(n));
  if (bad !== undefined) throw new InvalidArgumentError(`'${bad}' is not an instance name (letters, digits, _ . : - ; comma-separated, e.g. 0,1).`);
  if (new Set(names).size !== names.length) throw new InvalidArgumentError(`'${text}' names an instance twice.`);
  return names;
}

/** Replaces every `%i` with the instance name, as systemd does in templates. */
export function expandInstance(template: string, instance: string | undefined): string {
  return instance === undefined ? template : template.split('%i').join(instance);
}

/** True when the text still contains a `%i` placeholder. */
export function hasPlaceholder(template: string | undefined): boolean {
  return template !== undefined && template.includes('%i');
}
