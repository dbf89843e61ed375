/**
 * The emulator proof: every environment and variant deployed to its own local AWS emulator (moto),
 * released, re-planned, and destroyed, all stacks in parallel. See emulator/lifecycles.ts for
 * the steps and emulator/mode.ts for what the emulator cannot prove.
 *
 * Needs terraform and moto; set SKIP_EMULATOR_TESTS=1 to skip this file deliberately.
 */
import { resolve } from "node:path";
import { describeResult, LifecycleResult, runLifecycles, StepResult, TerraformWorkspace } from "../../emulator/lifecycle";
import { checkEmulatorInstalled } from "../../emulator/server";
import { ApiObservation, apiLifecycle, RELEASE_TAG, UPGRADE_BASELINES } from "../../emulator/lifecycles";
import { MANAGED_RULE_GROUPS } from "../../lib/edge/web-acl";
import { terraformVersion } from "../../scripts/offline-plan";
import { environments } from "../../environments/environments";
import { resourcePrefix, type EnvironmentSettings } from "../../lib/settings/environment/settings";
import { examples } from "../support/variants";
import { parseSettings } from "../../lib/settings/environment/schema";

const skip = ["1", "true"].includes(process.env.SKIP_EMULATOR_TESTS ?? "");
// LIFECYCLE_STACKS=dev-workers,prod runs only those (a quicker look at one variant); unset, every stack.
const wanted = process.env.LIFECYCLE_STACKS?.split(",").filter(Boolean);
const all: EnvironmentSettings[] = [...environments, ...examples].filter((s) => !wanted?.length || wanted.includes(s.name));
const results = new Map<string, LifecycleResult>();

function step(stack: string, name: string): StepResult {
  const found = results.get(stack)?.steps.find((s) => s.name.startsWith(name));
  if (!found) throw new Error(`${stack}: step "${name}" did not run:\n${describeResult(results.get(stack)!)}`);
  return found;
}

function observed(stack: string, name: string): ApiObservation {
  const found = step(stack, name);
  if (found.error) throw new Error(`${stack}: ${found.name} failed: ${found.error}`);
  return found.observed as ApiObservation;
}

(skip ? describe.skip : describe)("emulator lifecycle: deploy, release, re-plan, destroy", () => {
  beforeAll(
    async () => {
      terraformVersion(); // each throws a message naming what is missing and how to install it
      checkEmulatorInstalled();
      const workspace = new TerraformWorkspace(resolve(".emulator", "jest"));
      const started = Date.now();
      const done = await runLifecycles(all.map(apiLifecycle), workspace);
      for (const result of done) results.set(result.name, result);
      // The lifecycle's wall time, per stack and in total, as the issue asks; never asserted.
      console.log(`${done.map(describeResult).join("\n")}\nall ${done.length} stacks: ${((Date.now() - started) / 1000).toFixed(0)} s`);
    },
    20 * 60 * 1000,
  );

  describe.each(all.map((s) => [s.name, s] as const))("%s", (name, settings) => {
    const prefix = resourcePrefix(settings);
    const withDatabase = settings.database?.enabled ?? true;
    const services = Object.entries(settings.services ?? {});
    const pascal = (key: string) => key[0].toUpperCase() + key.slice(1);

    test("every step did what it must", () => {
      const result = results.get(name)!;
      expect(result.steps.filter((s) => s.error && s.action !== "refused-destroy").map((s) => `${s.name}: ${s.error}`)).toEqual([]);
      expect(result.ok).toBe(true);
    });

    test("the first deploy creates everything and every output resolves", () => {
      const deployed = step(name, "deploy with the placeholder image");
      expect(deployed.error).toBeUndefined();
      const outputs = deployed.outputs!;
      const expected = ["ClusterName", "LogGroupName", "RepositoryUrl", "ServiceName", "ServiceUrl"];
      if (withDatabase) expected.push("DatabaseEndpoint", "DatabaseSecretArn");
      if (settings.alarms?.enabled ?? true) expected.push("AlarmTopicArn");
      if (settings.budget?.enabled ?? true) expected.push("BudgetName");
      for (const [key, entry] of services)
        expected.push(`${pascal(key)}ServiceName`, `${pascal(key)}LogGroupName`, ...(entry.queue ? [`${pascal(key)}QueueUrl`] : []));
      for (const key of Object.keys(settings.jobs ?? {})) expected.push(`${pascal(key)}JobSchedule`, `${pascal(key)}JobLogGroupName`);
      expect(Object.keys(outputs).sort()).toEqual(expected.sort());
      for (const key of expected) expect(outputs[key]).toEqual(expect.stringMatching(/\S/));
      expect(outputs.ServiceName).toBe(prefix);
    });

    test("the service runs the newest task definition, behind the target group, with every task running", () => {
      const seen = observed(name, "deploy with the placeholder image");
      expect(seen.service.status).toBe("ACTIVE");
      expect(seen.service.taskDefinition).toBe(seen.latestTaskDefinition);
      expect(seen.service.runningCount).toBe(seen.service.desiredCount);
      expect(seen.service.loadBalancers).toEqual([
        { targetGroupArn: seen.targetGroup.arn, containerName: "app", containerPort: settings.task?.containerPort ?? 8080 },
      ]);
    });

    test("the load balancer checks the health path on the container port", () => {
      const seen = observed(name, "deploy with the placeholder image");
      expect(seen.targetGroup.healthCheckPath).toBe(settings.loadBalancer?.healthCheck?.path ?? "/health");
      expect(seen.targetGroup.port).toBe(settings.task?.containerPort ?? 8080);
    });

    if (services.length) {
      test("every other service runs with every task running; a routed one behind its own target group and rule, a worker behind none", () => {
        for (const step of ["deploy with the placeholder image", "release"]) {
          const seen = observed(name, step);
          for (const [key, entry] of services) {
            const service = seen.services[key];
            expect([key, service.status, service.runningCount]).toEqual([key, "ACTIVE", service.desiredCount]);
            if (!entry.route) {
              expect([key, service.loadBalancers, service.targetGroup]).toEqual([key, [], undefined]);
              continue;
            }
            expect(service.loadBalancers).toEqual([
              { targetGroupArn: service.targetGroup?.arn, containerName: "app", containerPort: entry.task?.containerPort ?? 8080 },
            ]);
            expect(service.targetGroup?.arn).not.toBe(seen.targetGroup.arn);
            expect(service.targetGroup?.healthCheckPath).toBe(entry.route.healthCheck?.path ?? "/health");
            // Terraform keeps a condition's values as a set: their order is not the settings'.
            const sorted = (values?: readonly string[]) => [...(values ?? [])].sort();
            expect([sorted(service.rule?.pathPatterns), sorted(service.rule?.hostHeaders)]).toEqual([
              sorted(entry.route.pathPatterns),
              sorted(entry.route.hostHeaders),
            ]);
          }
        }
      });
    }

    const queues = services.filter(([, entry]) => entry.queue);
    if (queues.length) {
      test("each worker's queue and its dead-letter queue exist, encrypted with the environment's key, redriven after maxReceiveCount; the worker may only consume it, its publishers only send", () => {
        const seen = observed(name, "deploy with the placeholder image");
        const workers = seen.workers!;
        for (const [key, entry] of queues) {
          const { queue, deadLetter } = workers.queues[key];
          expect(queue).toMatchObject({
            KmsMasterKeyId: seen.alarmTopic?.kmsMasterKeyId,
            VisibilityTimeout: String(entry.queue!.visibilityTimeoutSeconds ?? 60),
          });
          expect(JSON.parse(queue.RedrivePolicy)).toEqual({ deadLetterTargetArn: deadLetter.QueueArn, maxReceiveCount: entry.queue!.maxReceiveCount ?? 5 });
          expect(deadLetter.KmsMasterKeyId).toBe(seen.alarmTopic?.kmsMasterKeyId);
          const sqsOf = (role: string) =>
            workers.roleStatements[role]
              .filter((st) => [st.Action].flat().some((a) => a.startsWith("sqs:")))
              .map((st) => [[st.Action].flat().sort(), st.Resource]);
          expect(sqsOf(`${prefix}-${key}-task`)).toEqual([
            [["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"], queue.QueueArn],
          ]);
          for (const publisher of entry.queue!.publishers ?? [])
            expect(sqsOf(publisher === "api" ? `${prefix}-task` : `${prefix}-${publisher}-task`)).toEqual([[["sqs:SendMessage"], queue.QueueArn]]);
        }
      });
    }

    const jobs = Object.entries(settings.jobs ?? {});
    if (jobs.length) {
      test("each job's schedule runs its newest task definition in the cluster with its own role, on its expression and time zone, retrying as set", () => {
        for (const step of ["deploy with the placeholder image", "release"]) {
          const workers = observed(name, step).workers!;
          for (const [key, job] of jobs) {
            expect(workers.schedules[key]).toEqual({
              state: job.enabled === false ? "DISABLED" : "ENABLED",
              expression: job.schedule,
              timezone: job.timezone ?? "UTC",
              targetArn: expect.stringMatching(new RegExp(`:cluster/${prefix}$`)),
              roleArn: expect.stringMatching(new RegExp(`:role/${prefix}-${key}-scheduler$`)),
              taskDefinition: workers.jobTaskDefinitions[key],
              retry: { attempts: job.retryAttempts ?? 2, maxAgeSeconds: job.maxStartDelaySeconds ?? 3600 },
            });
            const run = workers.roleStatements[`${prefix}-${key}-scheduler`].find((st) => st.Sid === "RunThisTaskDefinition");
            expect(run?.Resource).toMatch(new RegExp(`:task-definition/${prefix}-${key}:\\*$`));
          }
        }
      });
    }

    test("every alarm reports to the encrypted alarm topic, and every log group is encrypted with a KMS key", () => {
      const seen = observed(name, "deploy with the placeholder image");
      const topic = step(name, "deploy with the placeholder image").outputs!.AlarmTopicArn;
      expect(seen.alarmTopic).toEqual({ arn: topic, kmsMasterKeyId: expect.stringMatching(/^arn:aws:kms:/) });
      expect(seen.alarms.length).toBeGreaterThan(0);
      for (const alarm of seen.alarms) expect(alarm).toEqual({ name: alarm.name, alarmActions: [topic], okActions: [topic] });
      expect(seen.logGroups.length).toBeGreaterThan(0);
      for (const group of seen.logGroups) expect(group).toEqual({ name: group.name, kmsKeyId: seen.alarmTopic?.kmsMasterKeyId });
    });

    test("the environment's budget is its budget.monthlyUsd a month, alerting the alarm topic when forecast to pass it and when passed", () => {
      const seen = observed(name, "deploy with the placeholder image");
      const topic = step(name, "deploy with the placeholder image").outputs!.AlarmTopicArn;
      const monthly = parseSettings(settings).budget.monthlyUsd;
      expect(seen.budget).toEqual({
        limit: expect.stringMatching(new RegExp(`^${monthly}(\\.0+)?$`)),
        timeUnit: "MONTHLY",
        alerts: expect.arrayContaining([
          { type: "FORECASTED", threshold: 100, subscribers: [topic] },
          { type: "ACTUAL", threshold: 100, subscribers: [topic] },
        ]),
      });
      expect(seen.budget!.alerts).toHaveLength(2);
    });

    test("the repository scans on push, its tags are immutable, and its images are encrypted with the environment's key", () => {
      const seen = observed(name, "deploy with the placeholder image");
      expect(seen.repository).toMatchObject({ scanOnPush: true, tagMutability: "IMMUTABLE" });
      expect(seen.repository.encryption).toEqual({ type: "KMS", kmsKey: seen.alarmTopic?.kmsMasterKeyId });
    });

    test(settings.waf?.enabled ? "the web ACL guards the load balancer: AWS managed rules, then the rate limit" : "no web ACL guards the load balancer", () => {
      const seen = observed(name, "deploy with the placeholder image");
      if (!settings.waf?.enabled) expect(seen.webAcl).toBeUndefined();
      else expect(seen.webAcl).toEqual({ name: resourcePrefix(settings), rules: [...MANAGED_RULE_GROUPS, "rate-limit-per-ip"] });
    });

    test("the first deploy runs the pinned tag if settings name one, else the placeholder, not an image that is not there yet", () => {
      const seen = observed(name, "deploy with the placeholder image");
      const pinned = settings.task?.image?.tag;
      if (pinned) expect(seen.image).toBe(`${seen.repository.uri}:${pinned}`);
      else expect(seen.image).not.toContain(seen.repository.uri!);
    });

    test("a release runs the repository's image in a new task definition revision", () => {
      const before = observed(name, "deploy with the placeholder image");
      const after = observed(name, "release");
      expect(after.image).toBe(`${after.repository.uri}:${RELEASE_TAG}`);
      expect(after.service.taskDefinition).toBe(after.latestTaskDefinition);
      const revision = (arn?: string) => Number(arn?.split(":").pop());
      expect(revision(after.service.taskDefinition)).toBeGreaterThan(revision(before.service.taskDefinition));
    });

    if (UPGRADE_BASELINES[name]) {
      test(`this code over the previous main's deployed ${name} (${UPGRADE_BASELINES[name].commit}) deletes and replaces nothing but for the emulator's known gaps`, () => {
        expect(step(name, `deploy the previous main`).error).toBeUndefined();
        expect(step(name, "upgrade: plan this code").unexpected).toEqual([]);
      });

      test(`the upgrade from ${UPGRADE_BASELINES[name].commit} changes in place only what docs/upgrading.md lists`, () => {
        const updated = step(name, "upgrade: plan this code")
          .changes!.filter((c) => c.endsWith(": update"))
          .map((c) => c.split(".")[0]);
        expect([...new Set(updated)].sort()).toEqual(UPGRADE_BASELINES[name].updates);
      });
    }

    test("a plan right after the release shows no change but the emulator's known gaps", () => {
      expect(step(name, "plan again").unexpected).toEqual([]);
    });

    test("destroy leaves nothing behind", () => {
      expect(step(name, "destroy: nothing left").leftovers).toEqual([]);
    });

    if (withDatabase) {
      test("the database is encrypted and private, its server certificate signed by the pinned CA, and its deletion protection is as set", () => {
        const seen = observed(name, "deploy with the placeholder image");
        expect(seen.database).toMatchObject({
          encrypted: true,
          publiclyAccessible: false,
          // The region's default too (moto gives it as AWS does), so the create needs no ModifyDBInstance after it.
          caCertificate: "rds-ca-rsa2048-g1",
          deletionProtection: settings.database?.deletionProtection ?? false,
        });
      });

      test("the API's task role reads no secret and connects as the app's database role; its execution role reads only the database's secret, for the migrate container", () => {
        const seen = observed(name, "deploy with the placeholder image");
        const resourcesOf = (statements: typeof seen.taskStatements, service: string) =>
          statements.filter((s) => [s.Action].flat().some((a) => a.startsWith(`${service}:`))).flatMap((s) => [s.Resource].flat());
        expect(resourcesOf(seen.taskStatements, "secretsmanager")).toEqual([]);
        expect(resourcesOf(seen.taskStatements, "rds-db")).toEqual([expect.stringMatching(/^arn:aws:rds-db:[a-z0-9-]+:\d{12}:dbuser:[^/]+\/\w+$/)]);
        expect(resourcesOf(seen.executionStatements, "secretsmanager")).toEqual([step(name, "deploy with the placeholder image").outputs!.DatabaseSecretArn]);
      });
    }

    if (withDatabase && settings.database?.deletionProtection) {
      test("destroy is refused while deletion protection is on, and works once docs/deploy-and-release.md's steps turn it off", () => {
        const refused = step(name, "destroy while deletion protection is on");
        expect(refused.error).toMatch(/prevent_destroy/);
        expect(refused.leftovers).toEqual([]); // nothing was removed before the refusal
        expect(observed(name, "turn deletion protection off").database?.deletionProtection).toBe(false);
        expect(step(name, "destroy: nothing left").error).toBeUndefined();
      });
    }
  });
});
