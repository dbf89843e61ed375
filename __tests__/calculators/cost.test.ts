/**
 * What an environment costs a month, estimated from its synthesized Terraform (lib/calculators/cost.ts), held to
 * each environment's own budget (`budget.monthlyUsd`), and docs/cost.md's table of it. Every expectation
 * reads the environment's settings, so a fork that renames, moves or grows an environment keeps these.
 */
import { readFileSync } from "node:fs";
import { Testing } from "cdktf";
import { overBudget } from "../../lib/observability/budget";
import { costTable, estimateMonthlyCost, fargateSplit, HOURS_PER_MONTH, PRICES, COST_DOC, withCostTable } from "../../scripts/cost";
import { pricesOf } from "../../lib/core/resource-kind";
import { ApiStack } from "../../stacks/api-stack";
import { manifestWarnings } from "../../stacks/app";
import { environments } from "../../environments/environments";
import { parseSettings } from "../../lib/settings/environment/schema";
import { resourcePrefix } from "../../lib/settings/environment/settings";
import { env, synth } from "../support/helpers";
import { testApp } from "../support/bare-stack";
import { lineDiff } from "../support/line-diff";

const estimate = (settings: Parameters<typeof synth>[0]) => estimateMonthlyCost(synth(settings, { offline: true }), pricesOf());
const line = (settings: Parameters<typeof synth>[0], item: string) => estimate(settings).lines.find((l) => l.item.startsWith(item));

describe.each(environments.map((s) => [s.name, s] as const))("%s", (_name, settings) => {
  const config = parseSettings(settings);

  test("costs at most its budget.monthlyUsd a month at us-east-1 list prices, every line priced, the total the sum of its lines", () => {
    const { total, unpriced, lines } = estimate(settings);
    expect(unpriced).toEqual([]);
    expect(total).toBeCloseTo(
      lines.reduce((sum, l) => sum + l.monthly!, 0),
      2,
    );
    // Over budget, `npm run cost` exits 1 and synth warns with this message.
    expect(overBudget(settings.name, config.budget.monthlyUsd, estimate(settings))).toBeUndefined();
  });

  test("its database, when it has one, is a line of its own", () => {
    const items = estimate(settings).lines.map((l) => l.item);
    expect(items.includes(`RDS: ${resourcePrefix(settings)}`)).toBe(config.database.enabled);
  });

  test("what its settings leave out costs nothing: a NAT gateway, Container Insights, a dashboard only where asked for", () => {
    const items = estimate(settings).lines.map((l) => l.item);
    expect(items.includes("NAT gateways")).toBe(config.network.natMode !== "none");
    expect(items.includes("Container Insights")).toBe(config.cluster.containerInsights);
    expect(items.includes("CloudWatch dashboards")).toBe(config.alarms.enabled && config.alarms.dashboard);
  });
});

test("over its budget, synth warns (in the manifest the CLI prints, and npm run synth prints), naming the environment and its largest lines", () => {
  const settings = env({ budget: { monthlyUsd: 10 } });
  const stack = new ApiStack(testApp(), settings.name, settings, { offline: true });
  const outdir = Testing.fullSynth(stack);
  expect(manifestWarnings(outdir)).toEqual([
    expect.stringMatching(
      /^warning: test: estimated \$\d+\.\d\d a month before usage, over budget\.monthlyUsd = 10 \(largest: NAT gateways \$32\.85, .*\)\. Allowed: /,
    ),
  ]);
  const within = new ApiStack(testApp(), "within", env({ name: "within", budget: { monthlyUsd: 1000 } }), { offline: true });
  expect(manifestWarnings(Testing.fullSynth(within))).toEqual([]);
});

test("each NAT gateway costs its hours, and its address one public IPv4", () => {
  const none = estimate(env({ network: { natMode: "none" } })).total;
  const single = estimate(env({ network: { natMode: "single" } })).total;
  expect(single - none).toBeCloseTo(HOURS_PER_MONTH * (PRICES.natGatewayHour + PRICES.publicIpv4Hour) - HOURS_PER_MONTH * PRICES.publicIpv4Hour, 1);
});

test("without a NAT, each task pays for its public IPv4 address", () => {
  expect(line(env({ network: { natMode: "none" }, service: { desiredCount: 2 } }), "Public IPv4")!.detail).toMatch(/, 2 task;/);
  expect(line(env({ network: { natMode: "single" }, service: { desiredCount: 2 } }), "Public IPv4")!.detail).toMatch(/, 0 task;/);
});

test("Multi-AZ doubles the database's instance and storage", () => {
  const single = line(env({ database: { multiAz: false } }), "RDS: ")!.monthly!;
  expect(line(env({ database: { multiAz: true } }), "RDS: ")!.monthly!).toBeCloseTo(2 * single, 2);
});

test("the budget is a line of its own, and gone with budget.enabled false", () => {
  expect(line(env(), "AWS Budgets")!.monthly).toBeCloseTo((PRICES.budgetDay * HOURS_PER_MONTH) / 24, 2);
  expect(line(env({ budget: { enabled: false } }), "AWS Budgets")).toBeUndefined();
});

test("ECS places the on-demand base first, then the rest by weight", () => {
  const strategy = (base: number, onDemand: number, spot: number) => [
    { capacity_provider: "FARGATE", base, weight: onDemand },
    { capacity_provider: "FARGATE_SPOT", base: 0, weight: spot },
  ];
  expect(fargateSplit(3, strategy(3, 1, 1))).toEqual({ onDemand: 3, spot: 0 });
  expect(fargateSplit(5, strategy(1, 1, 1))).toEqual({ onDemand: 3, spot: 2 });
  expect(fargateSplit(1, strategy(0, 0, 1))).toEqual({ onDemand: 0, spot: 1 });
});

test("a type with no price here is listed as unpriced, not silently counted as free", () => {
  const { unpriced } = estimate(env({ database: { instanceClass: "db.r6g.xlarge" } }));
  expect(unpriced).toEqual(["RDS: rest-api-test"]);
});

test("docs/cost.md's cost table is the one the estimate gives (npm run docs rewrites it)", () => {
  const doc = readFileSync(COST_DOC, "utf8");
  const table = costTable(
    environments.map((settings) => ({ name: settings.name, estimate: estimate(settings), budget: parseSettings(settings).budget.monthlyUsd })),
  );
  // Only the lines that differ: + what the table lacks, - what it should not have.
  expect(lineDiff(withCostTable(doc, table), doc)).toEqual([]);
});
