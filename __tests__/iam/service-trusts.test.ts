/**
 * Service trusts, proven (issue 30, item 2): every trust of a role an AWS service assumes, evaluated
 * with the request that service sends (__tests__/iam/trust-cases.ts), and the proof that the table
 * catches a trust that admits too much, or that its service can never satisfy.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Environment, type Policy } from "./iam-world";
import { serviceRoles, trustCases, trustPages, trustWorlds, type TrustCase, type TrustWorlds } from "./trust-cases";

const worlds = trustWorlds();
const cases = trustCases(worlds);

test("every role an AWS service assumes, in dev, prod and the variants with a worker, a job and EC2 capacity, has its cases, each named once", () => {
  const roles = Object.entries(worlds).flatMap(([world, env]) => serviceRoles(world, env));
  // The kinds of role the stack makes, so a world that lost one (a variant changed) is noticed.
  const ends = new Set(roles.map((r) => `${r.service} ${r.name.replace(/^.*-(task|execution|scheduler|vpc-flow-logs|rds-monitoring|ecs-instance)$/, "$1")}`));
  expect([...ends].sort()).toEqual([
    "ec2.amazonaws.com ecs-instance",
    "ecs-tasks.amazonaws.com execution",
    "ecs-tasks.amazonaws.com task",
    "monitoring.rds.amazonaws.com rds-monitoring",
    "scheduler.amazonaws.com scheduler",
    "vpc-flow-logs.amazonaws.com vpc-flow-logs",
  ]);
  for (const role of roles) {
    const kinds = cases.filter((c) => c.world === role.world && c.roleId === role.id).map((c) => c.kind);
    expect([role.name, kinds]).toEqual([role.name, expect.arrayContaining(["real", "otherAccount", "otherService"])]);
  }
  const names = cases.map((c) => c.name);
  expect(names.filter((n, i) => names.indexOf(n) !== i)).toEqual([]);
});

describe.each(Object.keys(worlds))("%s", (world) => {
  test.each(cases.filter((c) => c.world === world).map((c) => [c.name, c.expect, c] as const))("%s: %s", (_name, expected, c: TrustCase) => {
    expect(c.run(worlds)).toBe(expected);
  });
});

/** The cases whose outcome differs from what they expect, in these worlds. */
const failing = (w: TrustWorlds) => cases.filter((c) => c.run(w) !== c.expect).map((c) => c.name);

/** A copy of a world with the trusts of the roles that match rewritten. */
function changed(env: Environment, match: (role: Record<string, any>) => boolean, edit: (trust: Policy) => void): Environment {
  const tf = structuredClone(env.tf);
  const roles = Object.values(tf.resource.aws_iam_role ?? {}).filter(match);
  if (!roles.length) throw new Error("no role to change");
  for (const role of roles) {
    const trust: Policy = JSON.parse(role.assume_role_policy);
    edit(trust);
    role.assume_role_policy = JSON.stringify(trust);
  }
  return new Environment(env.env, tf);
}

describe("the table can fail", () => {
  test("every service trust without its conditions is caught: each request from another resource or another account is then allowed", () => {
    const widened = Object.fromEntries(
      Object.entries(worlds).map(([name, env]) => [
        name,
        changed(
          env,
          (r) => String(r.assume_role_policy).includes('"Service"'),
          (trust) => trust.Statement.forEach((s) => delete s.Condition),
        ),
      ]),
    );
    const expected = cases.filter((c) => c.expect === "deny" && (c.kind === "otherResource" || c.kind === "otherAccount")).map((c) => c.name);
    expect(expected.length).toBeGreaterThan(0);
    expect(failing(widened).sort()).toEqual(expected.sort());
  });

  test("a scheduler trust naming its schedule instead of its group (issue 30) is caught: EventBridge Scheduler could never assume it", () => {
    const env = worlds["dev-workers"];
    // The schedule's own ARN, which the trust named before: Scheduler never presents it.
    const scheduleArn = env.attribute("aws_scheduler_schedule", env.one("aws_scheduler_schedule")[0], "arn");
    const narrowed = changed(
      env,
      (r) => JSON.parse(r.assume_role_policy).Statement[0].Principal.Service === "scheduler.amazonaws.com",
      (trust) => (trust.Statement[0].Condition.ArnLike["aws:SourceArn"] = scheduleArn),
    );
    const real = cases.filter((c) => c.world === "dev-workers" && c.kind === "real" && c.name.includes("EventBridge Scheduler")).map((c) => c.name);
    expect(real).toHaveLength(1);
    expect(failing({ ...worlds, "dev-workers": narrowed })).toEqual(real);
  });
});

test("docs/security.md names the page every service trust follows, and how many cases a role gets", () => {
  const doc = readFileSync(join(__dirname, "../..", "docs", "security.md"), "utf8");
  for (const [page, { services }] of trustPages(worlds)) {
    const url = page.split(", ").pop()!;
    expect([url, doc.includes(url)]).toEqual([url, true]);
    for (const service of services) expect([service, doc.includes(`\`${service}\``)]).toEqual([service, true]);
  }
  // Per role, not a total: a fork's services add roles, and the page stays true without an edit.
  const perRole = new Map<string, number>();
  for (const c of cases) perRole.set(`${c.world}/${c.roleId}`, (perRole.get(`${c.world}/${c.roleId}`) ?? 0) + 1);
  expect([...new Set(perRole.values())].sort()).toEqual([3, 4]);
  expect(doc).toContain("three or four cases a role");
});
