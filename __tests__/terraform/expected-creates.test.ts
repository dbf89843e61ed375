/**
 * The counts the settings imply (expected-creates.ts), which the offline plan is held to: here against
 * what each stack synthesizes, in seconds and without terraform, for every environment and variant and
 * for a fork's shapes none of them has (more zones, services and jobs, CI with an existing provider).
 */
import { parseSettings } from "../../lib/settings/environment/schema";
import type { EnvironmentSettings } from "../../lib/settings/environment/settings";
import { environments } from "../../environments/environments";
import { examples, planOnlyExamples } from "../support/variants";
import { synth } from "../support/helpers";
import { countDifferences, expectedCreates, unmetExpectations } from "./expected-creates";

const created = (settings: EnvironmentSettings) =>
  Object.fromEntries(Object.entries(synth(settings, { offline: true }).resource).map(([type, bodies]) => [type, Object.keys(bodies).length]));

/**
 * A fork grown past every shipped variant: three zones with a NAT gateway each, EC2, endpoints, a routed
 * API and two workers, two jobs, CI with an existing OIDC provider. Its own settings, not a variant of
 * dev, so a recipe applied to dev (another region, no database) leaves it as it is.
 */
const grown: EnvironmentSettings = {
  name: "grown",
  region: "us-east-1",
  availabilityZones: ["us-east-1a", "us-east-1b", "us-east-1c"],
  network: { cidr: "10.90.0.0/16", natMode: "per-az", endpoints: true },
  compute: { mode: "ec2", ec2: { amiId: "ami-0123456789abcdef0" } },
  database: { enabled: true },
  services: {
    admin: { route: { pathPatterns: ["/admin", "/admin/*"], healthCheck: { path: "/admin/health" } } },
    worker: { task: { command: ["dist/worker.mjs"] }, database: true, queue: { publishers: ["api"] } },
    mailer: { task: { command: ["dist/worker.mjs"] }, autoscaling: { enabled: false } },
  },
  jobs: {
    nightly: { schedule: "cron(30 3 * * ? *)", task: { command: ["dist/housekeeping.mjs"] } },
    weekly: { schedule: "rate(7 days)", task: { command: ["dist/housekeeping.mjs"] } },
  },
  ci: {
    githubRepository: "acme/rest-api",
    workflows: ["release-grown.yml"],
    oidcProviderArn: "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com",
  },
  loadBalancer: { accessLogs: true },
  waf: { enabled: true },
  alarms: { dashboard: true },
  budget: { monthlyUsd: 5000 },
};

describe("the counts the settings imply", () => {
  test.each([...environments, ...examples, ...planOnlyExamples, grown].map((settings) => [settings.name, settings] as const))(
    "hold for what %s synthesizes",
    (_name, settings) => {
      expect(unmetExpectations(created(settings), expectedCreates(parseSettings(settings)), "synthesized")).toEqual([]);
    },
  );

  test("follow a fork's services, jobs and zones, with no table to edit", () => {
    const counts = Object.fromEntries(Object.entries(expectedCreates(parseSettings(grown))).map(([type, { count }]) => [type, count]));
    expect(counts).toMatchObject({
      aws_ecs_service: 4,
      aws_ecs_task_definition: 6,
      aws_lb_target_group: 2,
      aws_lb_listener_rule: 1,
      aws_appautoscaling_target: 3,
      aws_sqs_queue: 2,
      aws_scheduler_schedule: 2,
      aws_scheduler_schedule_group: 1,
      aws_nat_gateway: 3,
      aws_subnet: 6,
      aws_route: 4,
      aws_vpc_endpoint: 5,
      aws_autoscaling_group: 1,
      aws_iam_openid_connect_provider: 0,
      aws_wafv2_web_acl: 1,
      aws_s3_bucket: 1,
    });
  });

  test("say why when a count is not met", () => {
    const expected = expectedCreates(parseSettings(grown));
    expect(unmetExpectations({ ...created(grown), aws_ecs_service: 3 }, expected)).toEqual([
      "aws_ecs_service: planned 3, the settings say 4 (one per service: the default API, services.admin, services.mailer, services.worker)",
    ]);
  });
});

test("two counts' differences name each type that differs, a missing type as 0, in type order", () => {
  expect(
    countDifferences({ aws_vpc: 1, aws_ecs_service: 3, aws_sqs_queue: 2 }, { aws_vpc: 1, aws_ecs_service: 2, aws_lb: 1 }, ["planned", "synthesized"]),
  ).toEqual(["aws_ecs_service: planned 3, synthesized 2", "aws_lb: planned 0, synthesized 1", "aws_sqs_queue: planned 2, synthesized 0"]);
  expect(countDifferences({ aws_vpc: 1 }, { aws_vpc: 1 }, ["planned", "synthesized"])).toEqual([]);
});
