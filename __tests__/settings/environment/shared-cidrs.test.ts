/**
 * Overlapping VPC ranges across the environments main.ts synthesizes (lib/settings/environment/shared-cidrs.ts):
 * warned, naming both environments and ranges and why it matters, unless each names the other in
 * `network.sharedCidrWith`. Every case is built from the shipped settings, so a fork's ranges keep it true.
 */
import { overlaps, parseCidr, subnet } from "../../../lib/calculators/cidr";
import { parseSettings } from "../../../lib/settings/environment/schema";
import { environments } from "../../../environments/environments";
import { sharedCidrWarnings } from "../../../lib/settings/environment/shared-cidrs";
import type { EnvironmentSettings } from "../../../lib/settings/environment/settings";

const block = (text: string) => parseCidr(text)!;
/** An environment with its network changed, the rest as shipped. */
const withNetwork = (settings: EnvironmentSettings, network: NonNullable<EnvironmentSettings["network"]>): EnvironmentSettings => ({
  ...settings,
  network: { ...settings.network, ...network },
});
const [first, second] = environments;
const cidrOf = (settings: EnvironmentSettings) => parseSettings(settings).network.cidr;

describe("overlaps (lib/calculators/cidr.ts)", () => {
  test.each([
    ["10.10.0.0/16", "10.10.0.0/16", true],
    ["10.10.0.0/16", "10.10.128.0/17", true],
    ["10.10.255.0/24", "10.10.0.0/16", true],
    ["10.0.0.0/8", "10.200.0.0/16", true],
    ["10.10.0.0/16", "10.11.0.0/16", false],
    ["10.10.0.0/17", "10.10.128.0/17", false],
    ["192.168.0.0/24", "192.168.1.0/24", false],
  ])("%s and %s: %s, either way round", (a, b, expected) => {
    expect(overlaps(block(a), block(b))).toBe(expected);
    expect(overlaps(block(b), block(a))).toBe(expected);
  });
});

describe("sharedCidrWarnings", () => {
  test("the shipped environments have ranges of their own: no warning", () => {
    expect(environments.length).toBeGreaterThanOrEqual(2);
    expect(sharedCidrWarnings(environments)).toEqual([]);
  });

  test("two environments on the same range: one warning naming both, both ranges, why, and the setting that allows it", () => {
    const same = withNetwork(second, { cidr: cidrOf(first) });
    const warnings = sharedCidrWarnings([first, same]);
    expect(warnings).toEqual([{ environment: second.name, message: expect.any(String) }]);
    const [{ message }] = warnings;
    expect(message).toContain(
      `network.cidr = "${cidrOf(first)}" of environment ${first.name} is the same range as network.cidr = "${cidrOf(first)}" of environment ${second.name}`,
    );
    expect(message).toMatch(/VPC peering, VPN and Transit Gateway routes cannot join overlapping ranges/);
    expect(message).toContain(`network.sharedCidrWith: ["${second.name}"] on ${first.name} and ["${first.name}"] on ${second.name}`);
  });

  test("ranges that overlap without being equal warn too, saying which holds which", () => {
    const outer = parseCidr(cidrOf(first))!;
    const inside = subnet(outer, outer.prefix + 1, 1);
    const [warning] = sharedCidrWarnings([first, withNetwork(second, { cidr: inside })]);
    expect(warning.message).toContain(`"${cidrOf(first)}" of environment ${first.name} contains network.cidr = "${inside}" of environment ${second.name}`);
    const [reverse] = sharedCidrWarnings([withNetwork(second, { cidr: inside }), first]);
    expect(reverse.message).toContain(`"${inside}" of environment ${second.name} lies inside network.cidr = "${cidrOf(first)}" of environment ${first.name}`);
  });

  test("an environment that sets no network.cidr has the default range, and overlaps another on it", () => {
    const defaulted = { ...second, network: { ...second.network, cidr: undefined } };
    const onDefault = withNetwork(first, { cidr: cidrOf(defaulted) });
    expect(sharedCidrWarnings([onDefault, defaulted]).map((w) => w.environment)).toEqual([second.name]);
  });

  test("adjacent ranges do not overlap", () => {
    const outer = parseCidr(cidrOf(first))!;
    const [a, b] = [0, 1].map((i) => subnet(outer, outer.prefix + 1, i));
    expect(sharedCidrWarnings([withNetwork(first, { cidr: a }), withNetwork(second, { cidr: b })])).toEqual([]);
  });

  test("deliberate: each names the other in network.sharedCidrWith, and nothing is said", () => {
    const a = withNetwork(first, { sharedCidrWith: [second.name] });
    const b = withNetwork(second, { cidr: cidrOf(first), sharedCidrWith: [first.name] });
    expect(sharedCidrWarnings([a, b])).toEqual([]);
  });

  test("one side naming the other is not enough: the warning goes to the side that does not name it back", () => {
    const a = withNetwork(first, { sharedCidrWith: [second.name] });
    const b = withNetwork(second, { cidr: cidrOf(first) });
    const warnings = sharedCidrWarnings([a, b]);
    expect(warnings.map((w) => w.environment)).toEqual([second.name]);
    expect(warnings[0].message).toContain(`${first.name} names ${second.name} in network.sharedCidrWith, and ${second.name} does not name it back`);
    expect(warnings[0].message).toContain(`network.sharedCidrWith: ["${first.name}"] on ${second.name} as well`);
  });

  test("a fork's third environment on a shipped range is warned, naming both; allowed when it and that environment name each other", () => {
    // A name none of the environments has, so a fork that added its own (the staging recipe) stays green.
    const name = ["staging", "qa", "sandbox", "copy-of-first"].find((n) => !environments.some((e) => e.name === n))!;
    const added: EnvironmentSettings = { ...first, name, network: { ...first.network } };
    const warnings = sharedCidrWarnings([...environments, added]);
    expect(warnings.map((w) => w.environment)).toEqual([name]);
    expect(warnings[0].message).toContain(`of environment ${first.name} is the same range as network.cidr = "${cidrOf(first)}" of environment ${name}`);

    const deliberate = environments.map((e) => (e === first ? withNetwork(e, { sharedCidrWith: [name] }) : e));
    expect(sharedCidrWarnings([...deliberate, withNetwork(added, { sharedCidrWith: [first.name] })])).toEqual([]);
  });

  test("an entry that allows nothing is named: this environment itself, an unknown one, or one whose range does not overlap", () => {
    const a = withNetwork(first, { sharedCidrWith: [first.name, "nowhere", second.name] });
    const warnings = sharedCidrWarnings([a, second]);
    expect(warnings.map((w) => w.environment)).toEqual([first.name, first.name, first.name]);
    expect(warnings.map((w) => w.message)).toEqual([
      expect.stringContaining("names this environment itself"),
      expect.stringContaining(`names "nowhere", which is not an environment here (${first.name}, ${second.name})`),
      expect.stringContaining(`names ${second.name}, whose network.cidr "${cidrOf(second)}" does not overlap this one's "${cidrOf(first)}"`),
    ]);
    for (const { message } of warnings) expect(message).toMatch(/^network\.sharedCidrWith = \[.*\] of environment \S+ .*Allowed: /);
  });
});

describe("network.sharedCidrWith, the setting", () => {
  test("defaults to none, and takes environment names", () => {
    expect(parseSettings(first).network.sharedCidrWith).toEqual(first.network?.sharedCidrWith ?? []);
    expect(parseSettings(withNetwork(first, { sharedCidrWith: ["staging"] })).network.sharedCidrWith).toEqual(["staging"]);
  });

  test.each([
    [["Staging"], 'Invalid setting network.sharedCidrWith = ["Staging"]: "Staging" is not an environment name.'],
    [["staging", "staging"], 'Invalid setting network.sharedCidrWith = ["staging","staging"]: an environment is named twice.'],
  ])("%j is refused, naming the setting", (value, message) => {
    expect(() => parseSettings(withNetwork(first, { sharedCidrWith: value }))).toThrow(message);
  });
});
