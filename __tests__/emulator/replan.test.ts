/** The emulator lifecycle's re-plan and upgrade checks (emulator/known-gaps.ts): what a plan after apply may show. */
import { plannedChanges, unexpectedChanges, upgradeProblems, KNOWN_GAPS, PlanJson } from "../../emulator/known-gaps";

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
