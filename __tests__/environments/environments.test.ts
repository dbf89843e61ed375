import { environments } from "../../environments/environments";
import { examples } from "../support/variants";
import { synth } from "../support/helpers";

describe.each([...environments, ...examples].map((e) => [e.name, e] as const))("environment %s", (_name, settings) => {
  test("synthesizes to the committed snapshot", () => {
    expect(synth(settings)).toMatchSnapshot();
  });
});

test("dev is disposable and prod is protected", () => {
  const [dev, prod] = ["dev", "prod"].map((n) => synth(environments.find((e) => e.name === n)!));
  const repo = (tf: ReturnType<typeof synth>) => Object.values(tf.resource.aws_ecr_repository)[0];
  expect(repo(dev).force_delete).toBe(true);
  expect(repo(prod).force_delete).toBe(false);
});

test("prod spreads over at least three zones with a NAT gateway in each", () => {
  const prod = synth(environments.find((e) => e.name === "prod")!);
  const zones = new Set(Object.values(prod.resource.aws_subnet).map((s) => s.availability_zone));
  expect(zones.size).toBeGreaterThanOrEqual(3);
  expect(Object.keys(prod.resource.aws_nat_gateway)).toHaveLength(zones.size);
});

test("prod keeps every log group at least a year, as audits ask of production", () => {
  const prod = synth(environments.find((e) => e.name === "prod")!);
  const groups = Object.values(prod.resource.aws_cloudwatch_log_group);
  expect(groups.length).toBeGreaterThan(0);
  expect(groups.filter((g) => g.retention_in_days < 365).map((g) => g.name)).toEqual([]);
});
