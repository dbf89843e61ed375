/**
 * What an environment costs a month, estimated from its synthesized Terraform (scripts/cost.ts), and
 * the README's table of it.
 */
import { readFileSync } from "node:fs";
import { costTable, estimateMonthlyCost, fargateSplit, HOURS_PER_MONTH, PRICES } from "../scripts/cost";
import { dev, environments } from "../stacks/environments";
import { env, synth } from "./helpers";

const estimate = (settings: Parameters<typeof synth>[0]) => estimateMonthlyCost(synth(settings, { offline: true }));
const line = (settings: Parameters<typeof synth>[0], item: string) => estimate(settings).lines.find((l) => l.item.startsWith(item));

test("dev costs at most $50 a month at us-east-1 list prices, database running", () => {
  const { total, unpriced, lines } = estimate(dev);
  expect(unpriced).toEqual([]);
  expect(lines.map((l) => l.item)).toContain("RDS: rest-api-dev");
  expect(total).toBeLessThanOrEqual(50);
});

test("dev gets there with no NAT gateway, no Container Insights and no dashboard", () => {
  const items = estimate(dev).lines.map((l) => l.item);
  expect(items.filter((i) => /NAT|Container Insights|dashboards/.test(i))).toEqual([]);
});

test("every environment is fully priced, and the total is the sum of its lines", () => {
  for (const settings of environments) {
    const { total, unpriced, lines } = estimate(settings);
    expect([settings.name, unpriced]).toEqual([settings.name, []]);
    expect(total).toBeCloseTo(
      lines.reduce((sum, l) => sum + l.monthly!, 0),
      2,
    );
  }
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

test("the README's cost table is the one the estimate gives (npm run cost -- --table)", () => {
  const readme = readFileSync("README.md", "utf8");
  const table = costTable(environments.map((settings) => ({ name: settings.name, estimate: estimate(settings) })));
  expect(readme).toContain(table);
});
