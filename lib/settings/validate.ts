/**
 * Synth-time checks. The settings' own rules live in the schema (lib/settings/environment/schema.ts, lib/settings/rules.ts);
 * these remain for run options (IMAGE_TAG, AWS_EMULATOR_URL) and construct props that are not settings. Every failure names the setting as a forker writes it in
 * `environments/environments.ts`, the bad value, and what is allowed, so bad input
 * stops at `cdktf synth` and never reaches `terraform apply`.
 */
export class SettingError extends Error {
  constructor(
    readonly setting: string,
    readonly value: unknown,
    readonly problem: string,
    readonly allowed: string,
    /** The environment whose settings these are, when known (main.ts adds it): `environment dev: Invalid setting …`. */
    readonly environment?: string,
  ) {
    super(`${environment === undefined ? "" : `environment ${environment}: `}Invalid setting ${setting} = ${show(value)}: ${problem}. Allowed: ${allowed}.`);
    this.name = "SettingError";
  }

  /** The same error, naming the environment it is about (once). */
  inEnvironment(environment: string): SettingError {
    return this.environment === undefined ? new SettingError(this.setting, this.value, this.problem, this.allowed, environment) : this;
  }
}

export function show(value: unknown): string {
  return value === undefined ? "undefined" : JSON.stringify(value);
}

export function check(ok: boolean, setting: string, value: unknown, problem: string, allowed: string): void {
  if (!ok) throw new SettingError(setting, value, problem, allowed);
}

/** The `count` entries of `options` closest to `value` by edit distance (case-insensitive). */
export function closest(value: string, options: readonly string[], count = 3): string[] {
  const target = value.toLowerCase();
  return [...options]
    .map((option) => ({ option, distance: editDistance(target, option.toLowerCase()) }))
    .sort((a, b) => a.distance - b.distance || a.option.localeCompare(b.option))
    .slice(0, count)
    .map((o) => o.option);
}

/** The allowed values just below and just above `value`. */
export function nearestNumbers(value: number, options: readonly number[]): number[] {
  const below = options.filter((o) => o < value).at(-1);
  const above = options.find((o) => o > value);
  return [below, above].filter((o): o is number => o !== undefined);
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

/** AWS names built from project and environment: checked here so AWS never has to reject them. */
export function checkName(setting: string, name: string, maxLength: number, what: string): string {
  check(
    name.length <= maxLength,
    setting,
    name,
    `the ${what} name "${name}" is ${name.length} characters long`,
    `at most ${maxLength} characters; shorten project or environment name`,
  );
  return name;
}
