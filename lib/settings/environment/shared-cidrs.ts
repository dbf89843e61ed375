import { contains, overlaps, parseCidr, type Cidr } from "../../calculators/cidr";
import { NetworkSettingsSchema } from "../../network/network";
import type { EnvironmentSettings } from "./settings";

/** A warning about one environment's VPC range: the environment whose stack it belongs to, and the message. */
export interface SharedCidrWarning {
  /** The environment (its `name`, so its stack's id) whose settings the warning asks to change. */
  readonly environment: string;
  readonly message: string;
}

/** The range an environment gets when it sets no `network.cidr`. */
const DEFAULT_CIDR = NetworkSettingsSchema.parse({}).cidr;

const WHY =
  "VPC peering, VPN and Transit Gateway routes cannot join overlapping ranges, so these two VPCs could never be connected to each other or both to one network";

interface Range {
  readonly name: string;
  readonly text: string;
  readonly cidr?: Cidr;
  readonly sharedWith: readonly string[];
}

const quoted = (names: readonly string[]) => `[${names.map((name) => JSON.stringify(name)).join(", ")}]`;

/**
 * Environments whose VPC ranges overlap (the same range, or one inside the other), across the list
 * main.ts synthesizes: one warning for each such pair, unless each of the two names the other in
 * `network.sharedCidrWith` (a deliberate overlap); and one for each `network.sharedCidrWith` entry that
 * allows nothing (itself, no environment of the list, or one whose range does not overlap). Warnings,
 * not refusals: separate VPCs with the same range work until someone connects them. A pair's warning
 * goes to the environment that does not name the other yet (the later of the two when neither does),
 * which is the one to change. Ranges the schema refuses are left to it. Pure: nothing is synthesized.
 */
export function sharedCidrWarnings(environments: readonly EnvironmentSettings[]): SharedCidrWarning[] {
  const ranges: Range[] = environments.map((settings) => {
    const text = settings.network?.cidr ?? DEFAULT_CIDR;
    return { name: settings.name, text, cidr: parseCidr(text), sharedWith: settings.network?.sharedCidrWith ?? [] };
  });
  const overlapping = (a: Range, b: Range) => a.cidr !== undefined && b.cidr !== undefined && overlaps(a.cidr, b.cidr);
  const warnings: SharedCidrWarning[] = [];

  ranges.forEach((a, i) => {
    for (const b of ranges.slice(i + 1)) {
      if (!overlapping(a, b)) continue;
      const missing = [a, b].filter((x) => !x.sharedWith.includes(x === a ? b.name : a.name));
      if (missing.length === 0) continue;
      const relation = a.cidr!.prefix === b.cidr!.prefix ? "is the same range as" : contains(a.cidr!, b.cidr!) ? "contains" : "lies inside";
      const allowed =
        missing.length === 2
          ? `a range of its own for each environment (one that overlaps no other's), or, if the overlap is deliberate, network.sharedCidrWith: ${quoted([...a.sharedWith, b.name])} on ${a.name} and ${quoted([...b.sharedWith, a.name])} on ${b.name}`
          : `a range of its own for ${missing[0].name}, or, if the overlap is deliberate, network.sharedCidrWith: ${quoted([...missing[0].sharedWith, (missing[0] === a ? b : a).name])} on ${missing[0].name} as well`;
      const named =
        missing.length === 1
          ? ` ${(missing[0] === a ? b : a).name} names ${missing[0].name} in network.sharedCidrWith, and ${missing[0].name} does not name it back.`
          : "";
      warnings.push({
        environment: missing.length === 1 ? missing[0].name : b.name,
        message: `network.cidr = "${a.text}" of environment ${a.name} ${relation} network.cidr = "${b.text}" of environment ${b.name}: ${WHY}.${named} Allowed: ${allowed}.`,
      });
    }
  });

  for (const range of ranges) {
    for (const name of range.sharedWith) {
      const other = ranges.find((r) => r.name === name && r !== range);
      const problem =
        name === range.name
          ? "names this environment itself"
          : other === undefined
            ? `names "${name}", which is not an environment here (${ranges.map((r) => r.name).join(", ")})`
            : overlapping(range, other)
              ? undefined
              : `names ${name}, whose network.cidr "${other.text}" does not overlap this one's "${range.text}", so there is nothing to allow`;
      if (problem)
        warnings.push({
          environment: range.name,
          message: `network.sharedCidrWith = ${quoted(range.sharedWith)} of environment ${range.name} ${problem}. Allowed: only environments whose range overlaps ${range.name}'s; remove "${name}".`,
        });
    }
  }
  return warnings;
}
