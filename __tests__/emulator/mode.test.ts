/** Emulator mode (AWS_EMULATOR_URL): only the provider and the state differ from what ships. */
import { dev, prod } from "../../environments/environments";
import { EMULATED_SERVICES, emulatorTarget, emulatorTargetFromEnv } from "../../emulator/mode";
import { runOptionsFromEnv } from "../../environments/settings";
import { plannedChanges, unexpectedChanges, upgradeProblems, KNOWN_GAPS, PlanJson } from "../../emulator/known-gaps";
import { examples } from "../../environments/variants";
import { env, synth } from "../support/helpers";
import { ResourceKind } from "../../lib/core/resource-kind";

const URL = "http://127.0.0.1:4599";

/** The provider endpoint each resource type calls. A new type fails here until it is mapped. */
const ENDPOINT_OF: Record<string, string> = {
  acm: "acm",
  appautoscaling: "appautoscaling",
  autoscaling: "autoscaling",
  budgets: "budgets",
  cloudwatch: "cloudwatch",
  db: "rds",
  default: "ec2",
  ecr: "ecr",
  ecs: "ecs",
  eip: "ec2",
  flow: "ec2",
  iam: "iam",
  internet: "ec2",
  kms: "kms",
  launch: "ec2",
  lb: "elbv2",
  nat: "ec2",
  route: "ec2",
  route53: "route53",
  s3: "s3",
  scheduler: "scheduler",
  sqs: "sqs",
  security: "ec2",
  sns: "sns",
  subnet: "ec2",
  vpc: "ec2",
  wafv2: "wafv2",
};

describe("emulator mode", () => {
  test("given AWS_EMULATOR_URL, the stacks' deployment target is the emulator; without it, none is given (AWS)", () => {
    expect(emulatorTargetFromEnv({ AWS_EMULATOR_URL: URL })).toMatchObject({ real: false, setting: { name: "AWS_EMULATOR_URL", value: URL } });
    expect(emulatorTargetFromEnv({})).toBeUndefined();
    expect(runOptionsFromEnv({ AWS_EMULATOR_URL: URL })).toEqual({ offline: false });
  });

  test("every AWS API that a resource of any environment calls points at the emulator", () => {
    for (const settings of [
      dev,
      prod,
      { ...dev, name: "ec2", network: { ...dev.network, natMode: "single" as const, endpoints: true }, compute: { mode: "ec2" as const } },
      // A worker's queues and a job's schedule (issue 23).
      examples.find((e) => e.name === "dev-workers")!,
    ]) {
      const tf = synth(settings, { target: emulatorTarget(URL) });
      const endpoints = tf.provider.aws[0].endpoints[0];
      for (const type of Object.keys(tf.resource)) {
        const key = type.replace(/^aws_/, "").split("_")[0];
        // Types named after CloudWatch belong to three APIs: logs, events (EventBridge) and cloudwatch.
        const byPrefix = Object.entries({ aws_route53_: "route53", aws_cloudwatch_log_: "logs", aws_cloudwatch_event_: "events" }).find(([p]) =>
          type.startsWith(p),
        );
        // A type this table does not know (a fork's own kind) by the endpoints its kind names.
        const service = byPrefix ? byPrefix[1] : (ENDPOINT_OF[key] ?? ResourceKind.of(type)?.endpoints[0]);
        expect({ type, service }).toEqual({ type, service: expect.any(String) });
        expect({ type, endpoint: endpoints[service] }).toEqual({ type, endpoint: URL });
      }
      expect(Object.keys(endpoints).sort()).toEqual([...EMULATED_SERVICES].sort());
    }
  });

  test("credentials are dummies and S3 is path-style", () => {
    const provider = synth(dev, { target: emulatorTarget(URL) }).provider.aws[0];
    expect(provider).toMatchObject({ access_key: "emulator", secret_key: "emulator", s3_use_path_style: true });
  });

  test("state goes to its own file, never the real local state", () => {
    const real = synth(dev).terraform.backend!.local.path;
    const emulated = synth(dev, { target: emulatorTarget(URL) }).terraform.backend!.local.path;
    expect(emulated).toBe("../../../.emulator/terraform.dev.tfstate");
    expect(emulated).not.toBe(real);
  });

  test("the resources are exactly what ships, but for the example-domain guard, which only a plan against AWS has", () => {
    for (const settings of [dev, prod]) {
      expect(synth(settings, { target: emulatorTarget(URL) }).resource).toEqual(synth(settings, { guardExampleDomains: false }).resource);
    }
  });

  test.each(["https://127.0.0.1:4566", "http://10.0.0.5:4566", "http://emulator.example.com:4566", "127.0.0.1:4566"])(
    "given a URL that is not plain HTTP on loopback (%s), synth refuses it",
    (url) => {
      expect(() => synth(env(), { target: emulatorTarget(url) })).toThrow(/AWS_EMULATOR_URL = .*not a loopback URL/);
    },
  );

  test("given both OFFLINE and AWS_EMULATOR_URL, synth refuses the ambiguity", () => {
    expect(() => synth(env(), { offline: true, target: emulatorTarget(URL) })).toThrow(/AWS_EMULATOR_URL .*OFFLINE is set too/);
  });
});

describe("re-plan check (known emulator gaps)", () => {
  const change = (type: string, actions: string[], before: object, after: object, extra: object = {}): PlanJson => ({
    resource_changes: [{ address: `${type}.X`, type, change: { actions, before: before as never, after: after as never, after_unknown: {}, ...extra } }],
  });
  // A gap of the check's own, so these cases hold whatever moto_server.py patches away from KNOWN_GAPS.
  const gaps = { aws_ecs_service: { health_check_grace_period_seconds: "moto does not store the health check grace period" } };

  test("given only a known gap, nothing is reported", () => {
    expect(
      unexpectedChanges(change("aws_ecs_service", ["update"], { health_check_grace_period_seconds: 0 }, { health_check_grace_period_seconds: 60 }), gaps),
    ).toEqual([]);
  });

  test("given a change to an attribute that is not a known gap, it is reported by address, action and attribute", () => {
    expect(
      unexpectedChanges(
        change(
          "aws_ecs_service",
          ["update"],
          { desired_count: 1, health_check_grace_period_seconds: 0 },
          { desired_count: 2, health_check_grace_period_seconds: 60 },
        ),
        gaps,
      ),
    ).toEqual(["aws_ecs_service.X: update desired_count"]);
  });

  test("given a replacement forced by an attribute that is not a gap, it is reported", () => {
    expect(
      unexpectedChanges(
        change("aws_ecs_service", ["delete", "create"], { name: "a" }, { name: "b" }, { replace_paths: [["name"]], after_unknown: { id: true } }),
      ),
    ).toEqual(["aws_ecs_service.X: delete,create name"]);
  });

  test("given a create or a delete after apply, it is reported", () => {
    expect(unexpectedChanges(change("aws_s3_bucket", ["create"], {}, { bucket: "b" }))).toEqual(["aws_s3_bucket.X: create"]);
    expect(unexpectedChanges(change("aws_s3_bucket", ["delete"], { bucket: "b" }, {}))).toEqual(["aws_s3_bucket.X: delete"]);
  });

  test("null, {} and [] are the same empty value", () => {
    expect(unexpectedChanges(change("aws_ecs_service", ["update"], { tags: {}, x: [] }, { tags: null, x: null }))).toEqual([]);
  });

  test("an upgrade may create, change in place and replace a stateless resource; all of it is listed but what only the emulator causes", () => {
    const plan: PlanJson = {
      resource_changes: [
        ...change("aws_sns_topic", ["create"], {}, { name: "t" }).resource_changes!,
        ...change("aws_cloudwatch_log_group", ["update"], { kms_key_id: null }, { kms_key_id: "k" }).resource_changes!,
        ...change("aws_vpc_security_group_egress_rule", ["delete", "create"], { from_port: 0 }, { from_port: 443 }, { replace_paths: [["from_port"]] })
          .resource_changes!,
        // moto's: it does not store a rule's description.
        ...change("aws_vpc_security_group_ingress_rule", ["update"], { description: null }, { description: "x" }).resource_changes!,
      ],
    };
    const ruleGaps = { aws_vpc_security_group_ingress_rule: { description: "moto does not store the description of a security group rule" } };
    expect(upgradeProblems(plan, ruleGaps)).toEqual([]);
    expect(plannedChanges(plan, ruleGaps)).toEqual([
      "aws_sns_topic.X: create",
      "aws_cloudwatch_log_group.X: update",
      "aws_vpc_security_group_egress_rule.X: delete,create",
    ]);
  });

  test("an upgrade that replaces or deletes a stateful resource is refused, unless a known gap forces the replacement", () => {
    expect(
      upgradeProblems(change("aws_db_instance", ["delete", "create"], { kms_key_id: "a" }, { kms_key_id: "b" }, { replace_paths: [["kms_key_id"]] })),
    ).toEqual(["aws_db_instance.X: delete,create kms_key_id"]);
    expect(upgradeProblems(change("aws_ecr_repository", ["delete"], { name: "r" }, {}))).toEqual(["aws_ecr_repository.X: delete"]);
  });

  test("every known gap says why", () => {
    for (const [type, attributes] of Object.entries(KNOWN_GAPS)) {
      for (const [attribute, reason] of Object.entries(attributes))
        expect({ type, attribute, reason }).toEqual({ type, attribute, reason: expect.stringMatching(/moto/) });
    }
  });
});
