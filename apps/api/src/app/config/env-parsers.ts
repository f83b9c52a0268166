/** One invalid environment variable: its name, what is allowed, what was given. */
export interface ConfigProblem {
  variable: string;
  allowed: string;
  got: string;
}

/** Thrown at start-up when the environment is invalid; lists every problem at once. */
export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(
      `invalid configuration:\n${problems
        .map((p) => `  ${p.variable}=${JSON.stringify(p.got)}: must be ${p.allowed}`)
        .join('\n')}\nFix the environment (or the EnvironmentFile of the unit) and start again.`,
    );
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/** Reads variables of one environment, collecting problems instead of throwing on the first. */
export class EnvReader {
  readonly problems: ConfigProblem[] = [];

  constructor(private readonly env: Env) {}

  int(variable: string, fallback: number, min: number, max: number): number {
    const raw = this.raw(variable);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!/^-?\d+$/.test(raw) || !Number.isSafeInteger(value) || value < min || value > max) {
      this.problems.push({ variable, allowed: `an integer from ${min} to ${max}`, got: raw });
      return fallback;
    }
    return value;
  }

  oneOf<T extends string>(variable: string, fallback: T, allowed: readonly T[]): T {
    const raw = this.raw(variable);
    if (raw === undefined) return fallback;
    const value = raw.toLowerCase() as T;
    if (!allowed.includes(value)) {
      this.problems.push({ variable, allowed: `one of ${allowed.join(', ')}`, got: raw });
      return fallback;
    }
    return value;
  }

  bool(variable: string, fallback: boolean): boolean {
    const raw = this.raw(variable);
    if (raw === undefined) return fallback;
    if (/^(1|true|yes|on)$/i.test(raw)) return true;
    if (/^(0|false|no|off)$/i.test(raw)) return false;
    this.problems.push({ variable, allowed: 'true or false', got: raw });
    return fallback;
  }

  string(variable: string, fallback: string | undefined, pattern?: RegExp, allowed?: string): string | undefined {
    const raw = this.raw(variable);
    if (raw === undefined) return fallback;
    if (pattern && !pattern.test(raw)) {
      this.problems.push({ variable, allowed: allowed ?? `a value matching ${pattern}`, got: raw });
      return fallback;
    }
    return raw;
  }

  /** Records a problem found by a rule across several variables. */
  problem(variable: string, allowed: string, got: string): void {
    this.problems.push({ variable, allowed, got });
  }

  /** An unset or empty variable counts as unset. */
  private raw(variable: string): string | undefined {
    const value = this.env[variable];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }
}
