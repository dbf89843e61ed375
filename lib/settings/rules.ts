// zod/mini: the same checks as zod with a tree-shakable API; bundled into the synth app it loads in
// about 10 ms instead of 60 (npm run bench prints it).
import * as z from "zod/mini";
import { parseBlock } from "../calculators/cidr";
import { LOG_RETENTION_DAYS } from "./data/log-retention";
import { closest, nearestNumbers, show } from "./validate";

/**
 * Building blocks of the settings schema (lib/settings/environment/schema.ts) whose failures read like every other
 * setting error: each carries the problem and what is allowed, and lib/settings/environment/schema.ts adds the path and
 * the user's value. A rule here replaces a hand-written check in a construct.
 */

/** What a failed rule says, beside the setting's path and value. */
export interface RuleParams {
  readonly problem: string;
  readonly allowed: string;
  /** The value to show when it is not the one at the path (a default the user never wrote). */
  readonly value?: unknown;
}

type Issues = { issues: z.core.$ZodRawIssue[] };

/** Records a failed rule at `path` (relative to the schema the check is on). */
export function fail(ctx: Issues, path: readonly PropertyKey[], value: unknown, problem: string, allowed: string): void {
  const params: RuleParams = { problem, allowed, value };
  ctx.issues.push({ code: "custom", path: [...path], input: value, message: problem, params });
}

/** A rule on one value: `problem` and `allowed` may depend on it. */
export function rule<T>(ok: (value: T) => boolean, problem: string | ((value: T) => string), allowed: string | ((value: T) => string)) {
  return z.superRefine<T>((value, ctx) => {
    if (!ok(value)) fail(ctx, [], value, typeof problem === "function" ? problem(value) : problem, typeof allowed === "function" ? allowed(value) : allowed);
  });
}

export const text = z.string();
export const flag = z.boolean();
export const names = z.readonly(z.array(text));
export const variables = z.readonly(z.record(text, text));

/** A whole number from `min` to `max`. */
export function int(min: number, max: number) {
  return z
    .number()
    .check(rule<number>((v) => Number.isInteger(v) && v >= min && v <= max, "out of range or not a whole number", `a whole number from ${min} to ${max}`));
}

/** A string matching `pattern`. */
export function matching(pattern: RegExp, problem: string, allowed: string) {
  return z.string().check(rule<string>((v) => pattern.test(v), problem, allowed));
}

/** An IPv4 CIDR block whose address starts its range; `allowed` gives examples fit for the setting. */
export function ipv4Block(allowed: string) {
  return z.string().check(rule<string>((text) => parseBlock(text) !== undefined, "not an IPv4 CIDR block", allowed));
}

/** One of a fixed set of numbers (strings use z.enum). */
export function oneOfNumbers(options: readonly number[]) {
  return z.number().check(rule<number>((v) => options.includes(v), "not a supported value", options.map(show).join(", ")));
}

/** A value from one of AWS's fixed lists (lib/settings/data/), refused with the closest valid names. */
export function listed(list: readonly string[], what: string, source: string) {
  return z.string().check(
    rule<string>(
      (v) => list.includes(v),
      `not a known ${what}`,
      (v) => `the closest are ${closest(v, list).map(show).join(", ")}; all are in ${source}`,
    ),
  );
}

/** Days of a CloudWatch Logs retention period, which takes only AWS's fixed values. */
export function retention() {
  return z.number().check(
    rule<number>(
      (v) => (LOG_RETENTION_DAYS as readonly number[]).includes(v),
      "not a retention period CloudWatch Logs offers",
      (v) => `one of ${LOG_RETENTION_DAYS.join(", ")} (days); nearest: ${nearestNumbers(v, LOG_RETENTION_DAYS).join(", ")}`,
    ),
  );
}

/** An optional setting with a default: the default applies when it is left out. */
export const withDefault = z._default;
/** An optional section: left out, it is parsed as `{}`, so its fields' defaults apply. */
export function section<T extends z.core.$ZodType>(schema: T) {
  return z.prefault(schema, {} as z.core.input<T>);
}
