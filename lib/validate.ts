/**
 * Synth-time checks. Every failure names the setting as a forker writes it in
 * `stacks/environments.ts`, the bad value, and what is allowed, so bad input
 * stops at `cdktf synth` and never reaches `terraform apply`.
 */
export class SettingError extends Error {
  constructor(
    readonly setting: string,
    readonly value: unknown,
    problem: string,
    allowed: string,
  ) {
    super(`Invalid setting ${setting} = ${show(value)}: ${problem}. Allowed: ${allowed}.`);
    this.name = "SettingError";
  }
}

function show(value: unknown): string {
  return value === undefined ? "undefined" : JSON.stringify(value);
}

export function check(ok: boolean, setting: string, value: unknown, problem: string, allowed: string): void {
  if (!ok) throw new SettingError(setting, value, problem, allowed);
}

export function checkInt(setting: string, value: number, min: number, max: number): number {
  check(
    Number.isInteger(value) && value >= min && value <= max,
    setting,
    value,
    "out of range or not a whole number",
    `a whole number from ${min} to ${max}`,
  );
  return value;
}

export function checkOneOf<T>(setting: string, value: T, options: readonly T[]): T {
  check(options.includes(value), setting, value, "not a supported value", options.map(show).join(", "));
  return value;
}

/** The retention periods CloudWatch Logs accepts. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

export function checkRetention(setting: string, days: number): number {
  return checkOneOf(setting, days, LOG_RETENTION_DAYS as readonly number[]);
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
