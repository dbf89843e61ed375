/**
 * The offline proof: every environment (and every example variant) is synthesized in offline mode,
 * then `terraform init` and `plan` (which validates first) run with no credentials and no network.
 * The same stacks as `cdktf synth --hcl` writes them (HCL, cdk.tf) must validate and plan the same.
 * Set SKIP_TERRAFORM_TESTS=1 to skip this file where terraform is not installed.
 */
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { App, Testing } from "cdktf";
import { allPlanned, offlineTerraformEnv, planStacks, PlanResult, stackDirs, terraformVersion } from "../../scripts/offline-plan";
import { ApiStack } from "../../stacks/api-stack";
import { isReservedDomain } from "../../lib/edge/load-balancer";
import { EXAMPLE_ACCOUNT_IDS } from "../../lib/core/account-guard";
import { environments, prod } from "../../environments/environments";
import { examples, planOnlyExamples } from "../support/variants";
import { parseSettings } from "../../lib/settings/environment/schema";
import { countDifferences, expectedCreates, unmetExpectations } from "./expected-creates";

/**
 * A web ACL's rules are typed `rule` blocks in cdk.tf.json and `rule_json` in cdk.tf (cdktf's HCL
 * writer cannot write a rule's statement as a block): both become the WAF API's JSON, the same rules.
 */
function webAclRulesAsJson(planned: Record<string, unknown>): Record<string, unknown> {
  // A repeated Terraform block is named in the singular where the API's list is plural.
  const plural: Record<string, string> = { rule_action_override: "RuleActionOverrides" };
  const camel = (key: string) =>
    plural[key] ?? key.replace(/(^|_)([a-z])/g, (_, _u, c: string) => c.toUpperCase()).replace(/^Cloudwatch|Cloudwatch/g, "CloudWatch");
  /** The Terraform shape as the API's: PascalCase keys, empty blocks and lists left out, one-element block lists unwrapped. */
  const api = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.length === 1 && typeof value[0] === "object" ? api(value[0]) : value.map(api);
    if (!value || typeof value !== "object") return value;
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== null && v !== "" && !(Array.isArray(v) && v.length === 0))
        .map(([k, v]) => [camel(k), plural[k] && Array.isArray(v) ? v.map(api) : api(v)]),
    );
  };
  return Object.fromEntries(
    Object.entries(planned).map(([address, values]) => {
      if (!address.startsWith("aws_wafv2_web_acl.")) return [address, values];
      const { rule, rule_json: ruleJson, ...rest } = values as { rule?: unknown[]; rule_json?: string };
      const rules = ruleJson ? JSON.parse(ruleJson) : (rule ?? []).map(api);
      return [address, { ...rest, rules: [...rules].sort((a: any, b: any) => a.Priority - b.Priority) }];
    }),
  );
}

const skip = ["1", "true"].includes(process.env.SKIP_TERRAFORM_TESTS ?? "");

/**
 * prod as shipped, with its marked example domain; a fork that set its own domain or certificate
 * (docs/forking.md's recipe) gets the example put back, so the guard is proven whichever prod it has.
 */
const shippedDomain = prod.loadBalancer?.https?.domainName;
const exampled =
  shippedDomain !== undefined && isReservedDomain(shippedDomain)
    ? prod
    : { ...prod, loadBalancer: { ...prod.loadBalancer, https: { domainName: "api.example.com", hostedZoneId: "Z0EXAMPLE0REPLACEME0" } } };
// Each example on its own, since Terraform stops at the first failed precondition: the domain with a real
// account, and the account with a certificate of its own.
const REAL_ACCOUNT = "210987654321";
const exampledDomain = { ...exampled, accountId: REAL_ACCOUNT };
const exampledAccount = {
  ...prod,
  accountId: EXAMPLE_ACCOUNT_IDS[1],
  loadBalancer: {
    ...prod.loadBalancer,
    https: { certificateArn: `arn:aws:acm:${parseSettings(prod).region}:${REAL_ACCOUNT}:certificate/01234567-89ab-cdef-0123-456789abcdef` },
  },
};
const all = [...environments, ...examples, ...planOnlyExamples];

/**
 * The fewest stacks whose resource and data source types, together, are every type of every stack:
 * cdktf's HCL writer renders a block by its type, so each type is planned in HCL once rather than once
 * per stack that has it. Chosen from the stacks as synthesized, so a fork's new types are covered.
 */
function coveringStacks(typesByStack: ReadonlyMap<string, ReadonlySet<string>>): string[] {
  const uncovered = new Set([...typesByStack.values()].flatMap((types) => [...types]));
  const chosen: string[] = [];
  while (uncovered.size) {
    const gain = (name: string) => [...typesByStack.get(name)!].filter((type) => uncovered.has(type)).length;
    const best = [...typesByStack.keys()].filter((name) => !chosen.includes(name)).sort((a, b) => gain(b) - gain(a))[0];
    chosen.push(best);
    for (const type of typesByStack.get(best)!) uncovered.delete(type);
  }
  return chosen;
}

const typesOf = (settings: (typeof all)[number]) => {
  const tf = new ApiStack(Testing.app(), settings.name, settings, { offline: true }).toTerraform() as { resource?: object; data?: object };
  return new Set([...Object.keys(tf.resource ?? {}), ...Object.keys(tf.data ?? {}).map((type) => `data.${type}`)]);
};
// Each stack's types, synthesized once: the cover below and its test both read them.
const typesByStack = new Map(skip ? [] : all.map((settings) => [settings.name, typesOf(settings)] as const));
const hclStacks = coveringStacks(typesByStack);

(skip ? describe.skip : describe)("offline terraform validate + plan", () => {
  const results = new Map<string, PlanResult>();
  const hclResults = new Map<string, PlanResult>();

  let domainGuard: PlanResult | Error;
  let accountGuard: PlanResult | Error;

  beforeAll(
    async () => {
      terraformVersion(); // throws a clear error when terraform is missing
      const work = resolve(".offline", "jest");
      const synthesize = (outdir: string, stacks: (app: App) => void) => {
        rmSync(outdir, { recursive: true, force: true });
        mkdirSync(outdir, { recursive: true });
        const app = new App({ outdir });
        stacks(app);
        app.synth();
        return stackDirs(outdir);
      };
      const jsonDirs = synthesize(join(work, "cdktf.out"), (app) => all.forEach((settings) => new ApiStack(app, settings.name, settings, { offline: true })));
      // The same stacks as `cdktf synth --hcl` writes them: cdktf's switch is this variable.
      process.env.SYNTH_HCL_OUTPUT = "true";
      let hclDirs: string[];
      try {
        hclDirs = synthesize(join(work, "cdktf.out.hcl"), (app) =>
          all.filter((settings) => hclStacks.includes(settings.name)).forEach((settings) => new ApiStack(app, settings.name, settings, { offline: true })),
        );
      } finally {
        delete process.env.SYNTH_HCL_OUTPUT;
      }
      // prod with the example domain, and with the example account, as a deploy to AWS synthesizes it (offline here, with the guard a deploy has).
      const guardDirs = [exampledDomain, exampledAccount].flatMap((settings, i) =>
        synthesize(join(work, `cdktf.out.guard${i}`), (app) => new ApiStack(app, settings.name, settings, { offline: true, guardExampleDomains: true })),
      );
      // One pool for all three, so the cores stay busy to the end.
      const planned = await planStacks([...jsonDirs, ...hclDirs, ...guardDirs], offlineTerraformEnv(work));
      allPlanned(planned.slice(0, jsonDirs.length + hclDirs.length)).forEach((result, i) =>
        (i < jsonDirs.length ? results : hclResults).set(result.stack, result),
      );
      [domainGuard, accountGuard] = planned.slice(-2);
    },
    20 * 60 * 1000,
  );

  test.each(all.map((settings) => [settings.name, settings] as const))("%s is valid and plans only creations, of the expected resources", (name, settings) => {
    const result = results.get(name)!;
    expect(result.otherActions).toEqual([]);
    // Exactly what was synthesized, type by type: a difference names the types (`aws_ecs_service: planned 3, synthesized 2`).
    const synthesized = JSON.parse(readFileSync(join(".offline", "jest", "cdktf.out", "stacks", name, "cdk.tf.json"), "utf8"));
    const counts = Object.fromEntries(
      Object.entries(synthesized.resource as Record<string, object>).map(([type, bodies]) => [type, Object.keys(bodies).length]),
    );
    expect(countDifferences(result.creates, counts, ["planned", "synthesized"])).toEqual([]);
    // And what the settings say it must be (a service per entry, a NAT gateway per zone, ...): no table
    // written by hand, so a fork's environment or service expects the right counts unedited.
    expect(unmetExpectations(result.creates, expectedCreates(parseSettings(settings)))).toEqual([]);
  });

  test("the stacks planned in HCL hold every resource and data source type of every stack", () => {
    const types = (name: string) => typesByStack.get(name)!;
    const covered = new Set(hclStacks.flatMap((name) => [...types(name)]));
    expect(all.flatMap((settings) => [...types(settings.name)].filter((type) => !covered.has(type)))).toEqual([]);
    expect(hclStacks.length).toBeLessThan(all.length);
  });

  test.each(hclStacks)("%s as `cdktf synth --hcl` writes it (cdk.tf) is valid and plans the same resources and values as cdk.tf.json", (name) => {
    const json = results.get(name)!;
    const hcl = hclResults.get(name)!;
    expect(readFileSync(join(".offline", "jest", "cdktf.out.hcl", "stacks", name, "cdk.tf"), "utf8")).toMatch(/^resource "aws_ecs_task_definition"/m);
    expect(hcl.otherActions).toEqual([]);
    expect(Object.keys(hcl.planned).sort()).toEqual(Object.keys(json.planned).sort());
    expect(webAclRulesAsJson(hcl.planned)).toEqual(webAclRulesAsJson(json.planned));
  });

  test("given the shipped prod's example domain, a plan against AWS fails before creating anything, saying what to set", () => {
    const domain = exampledDomain.loadBalancer!.https!.domainName!.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    expect(domainGuard).toBeInstanceOf(Error);
    // Terraform wraps its messages
    expect((domainGuard as Error).message.replace(/\s+/g, " ")).toMatch(
      new RegExp(
        `^terraform plan failed .*Resource precondition failed .*${exampledDomain.name}: loadBalancer\\.https\\.domainName = "${domain}" is a reserved example domain, .* Allowed: your own domain`,
      ),
    );
  });

  test("given an example account (AWS's documentation accounts), a plan against AWS fails before creating anything, naming accountId", () => {
    expect(accountGuard).toBeInstanceOf(Error);
    expect((accountGuard as Error).message.replace(/\s+/g, " ")).toMatch(
      new RegExp(
        `^terraform plan failed .*Resource precondition failed .*${exampledAccount.name}: accountId = "${exampledAccount.accountId}" is one of AWS's documentation accounts, .* Allowed: the account ID this environment deploys to`,
      ),
    );
  });
});
