/**
 * Two kinds of change (issue 30, item 1; docs/security.md): what a release changes is only what the
 * release role may deploy. Each change below is synthesized before and after on a stack with every kind of
 * release resource (services, a queue-fed worker, a scheduled job, alarms), and the resources whose
 * Terraform differs are held to the types the stack declares a release's; a change that also touches what
 * grants or protects is refused by the release path (`npm run deploy:release`), naming it.
 */
import { foundationChanges, releaseTypesOf, type PlanChanges } from "../../lib/ci/release-changes";
import { releaseRefusal } from "../../scripts/deploy-release";
import { examples } from "../support/variants";
import type { EnvironmentSettings, RunOptions } from "../../lib/settings/environment/settings";
import { deployPermissions, synth, type TfJson } from "../support/helpers";

const workers = examples.find((e) => e.name === "dev-workers")!;
const base: EnvironmentSettings = { ...workers, ci: { githubRepository: "acme/rest-api", workflows: ["release-dev.yml"] } };
const [jobKey, job] = Object.entries(base.jobs!)[0];
const releaseTypes = deployPermissions(base).releaseChanges;

/** The plan a change would make, as `terraform show -json` lists it: every resource whose Terraform differs, by type. */
function planOf(before: TfJson, after: TfJson): PlanChanges {
  const changes: { address: string; type: string; mode: string; change: { actions: string[] } }[] = [];
  const types = new Set([...Object.keys(before.resource ?? {}), ...Object.keys(after.resource ?? {})]);
  for (const type of types) {
    const a = before.resource?.[type] ?? {};
    const b = after.resource?.[type] ?? {};
    for (const name of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const actions = !(name in a) ? ["create"] : !(name in b) ? ["delete"] : JSON.stringify(a[name]) === JSON.stringify(b[name]) ? [] : ["update"];
      if (actions.length) changes.push({ address: `${type}.${name}`, type, mode: "managed", change: { actions } });
    }
  }
  return { resource_changes: changes };
}

const change = (settings: EnvironmentSettings, options: RunOptions = {}) =>
  planOf(synth(base, { offline: true }), synth(settings, { offline: true, ...options }));
const changedTypes = (plan: PlanChanges) => [...new Set((plan.resource_changes ?? []).map((rc) => rc.type))].sort();

const RELEASES: [string, () => PlanChanges][] = [
  ["a new image (IMAGE_TAG)", () => change(base, { imageTag: "v2" })],
  ["a new environment variable for the API", () => change({ ...base, task: { ...base.task, environment: { ...base.task?.environment, FEATURE_X: "on" } } })],
  [
    "twice the API's CPU and memory",
    () => change({ ...base, task: { ...base.task, cpu: 2 * (base.task?.cpu ?? 256), memory: 2 * (base.task?.memory ?? 512) } }),
  ],
  ["one more task at most", () => change({ ...base, autoscaling: { ...base.autoscaling, maxCapacity: (base.autoscaling?.maxCapacity ?? 2) + 1 } })],
  ["the job an hour later", () => change({ ...base, jobs: { [jobKey]: { ...job, schedule: "cron(30 4 * * ? *)" } } })],
];

const FOUNDATION: [string, () => PlanChanges, RegExp][] = [
  ["the app's log retention", () => change({ ...base, task: { ...base.task, logRetentionDays: 1 } }), /^aws_cloudwatch_log_group\./],
  ["the database's backups", () => change({ ...base, database: { ...base.database, backupRetentionDays: 3 } }), /^aws_db_instance\./],
  [
    "the job's access to the database",
    () => change({ ...base, jobs: { [jobKey]: { ...job, database: !job.database } } }),
    /^aws_(iam_role_policy|vpc_security_group_(ingress|egress)_rule)\./,
  ],
];

test("the stack names its release types where the release path reads them, and they are the constructs' declarations", () => {
  expect(releaseTypesOf({ "//": { releaseTypes: releaseTypes } })).toEqual(releaseTypes);
  expect(releaseTypesOf({ "//": { metadata: {} } })).toBeUndefined();
  expect(releaseTypes).toMatchObject({
    aws_ecs_task_definition: "revisions",
    aws_ecs_service: "updates",
    aws_appautoscaling_target: "updates",
    aws_scheduler_schedule: "updates",
    aws_cloudwatch_metric_alarm: "updates",
  });
});

test.each(RELEASES)("%s changes only what a release may, and the release path applies it", (_name, plan) => {
  const planned = plan();
  expect(changedTypes(planned).length).toBeGreaterThan(0);
  expect(changedTypes(planned).filter((t) => !(t in releaseTypes))).toEqual([]);
  expect(releaseRefusal(base.name, planned, releaseTypes)).toBeUndefined();
});

test.each(FOUNDATION)("%s is the administrator's: the release path refuses it, naming the change", (_name, plan, named) => {
  const refused = foundationChanges(plan(), releaseTypes);
  expect(refused.some((c) => named.test(c))).toBe(true);
  const message = releaseRefusal(base.name, plan(), releaseTypes)!;
  expect(message).toContain(`${base.name}: the plan changes what only the administrator deploys`);
  expect(message).toContain(`npm run deploy -- ${base.name}`);
  for (const c of refused) expect(message).toContain(`  ${c}`);
});

test("a plan's data sources, and resources it leaves as they are, are never refused", () => {
  const plan: PlanChanges = {
    resource_changes: [
      { address: "data.aws_caller_identity.Account", mode: "data", type: "aws_caller_identity", change: { actions: ["read"] } },
      { address: "aws_iam_role.Task", mode: "managed", type: "aws_iam_role", change: { actions: ["no-op"] } },
      { address: "aws_ecs_service.Service", mode: "managed", type: "aws_ecs_service", change: { actions: ["update"] } },
      { address: "aws_kms_key.Key", mode: "managed", type: "aws_kms_key", change: { actions: ["delete", "create"] } },
    ],
  };
  expect(foundationChanges(plan, { aws_ecs_service: "updates" })).toEqual(["aws_kms_key.Key: delete, create"]);
});

test("a release changes its services and schedules in place only: one it would create or delete is the administrator's; task definitions are new revisions", () => {
  const change = (type: string, actions: string[]) => ({ address: `${type}.X`, mode: "managed", type, change: { actions } });
  const plan: PlanChanges = {
    resource_changes: [
      change("aws_ecs_service", ["create"]),
      change("aws_scheduler_schedule", ["delete"]),
      change("aws_ecs_service", ["delete", "create"]),
      change("aws_ecs_task_definition", ["delete", "create"]),
      change("aws_cloudwatch_metric_alarm", ["update"]),
    ],
  };
  expect(
    foundationChanges(plan, {
      aws_ecs_service: "updates",
      aws_scheduler_schedule: "updates",
      aws_ecs_task_definition: "revisions",
      aws_cloudwatch_metric_alarm: "updates",
    }),
  ).toEqual(["aws_ecs_service.X: create", "aws_scheduler_schedule.X: delete", "aws_ecs_service.X: delete, create"]);
});
