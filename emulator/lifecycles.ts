/**
 * The lifecycle every stack goes through on the emulator, as a user would run it:
 *   0. dev only, the upgrade proof: deploy the previous main's stack, then plan this code over it;
 *   1. deploy with the placeholder image;
 *   2. release: deploy again with IMAGE_TAG=v1.0.0, through the release path (a plan within what a release may change);
 *   3. plan again: nothing but the emulator's known gaps;
 *   4. prod only: destroy is refused while deletion protection is on; turn it off as docs/deploy-and-release.md says
 *      (settings to false, deploy);
 *   5. destroy: nothing the stack created remains.
 * After 1 and 2, what exists is read through the SDK for the tests to assert on.
 *
 *   npm run lifecycle [stack ...]   # every stack's lifecycle (or the named ones), in parallel, timed
 */
import { DescribeRepositoriesCommand, ECRClient } from "@aws-sdk/client-ecr";
import { DescribeServicesCommand, DescribeTaskDefinitionCommand, ECSClient, ListTaskDefinitionsCommand, type Service } from "@aws-sdk/client-ecs";
import {
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeRulesCommand,
  DescribeTargetGroupsCommand,
  ElasticLoadBalancingV2Client,
  type Rule,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { CloudWatchClient, DescribeAlarmsCommand } from "@aws-sdk/client-cloudwatch";
import { CloudWatchLogsClient, DescribeLogGroupsCommand } from "@aws-sdk/client-cloudwatch-logs";
import { GetRolePolicyCommand, IAMClient, ListRolePoliciesCommand } from "@aws-sdk/client-iam";
import { GetTopicAttributesCommand, ListTopicsCommand, SNSClient } from "@aws-sdk/client-sns";
import {
  BudgetsClient,
  DescribeBudgetCommand,
  DescribeNotificationsForBudgetCommand,
  DescribeSubscribersForNotificationCommand,
} from "@aws-sdk/client-budgets";
import { DescribeDBInstancesCommand, RDSClient } from "@aws-sdk/client-rds";
import { CreateHostedZoneCommand, Route53Client } from "@aws-sdk/client-route-53";
import { GetWebACLForResourceCommand, WAFV2Client } from "@aws-sdk/client-wafv2";
import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from "@aws-sdk/client-sqs";
import { GetScheduleCommand, SchedulerClient } from "@aws-sdk/client-scheduler";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { App } from "cdktf";
import { DeployPermissions } from "../lib/core/deploy-permissions";
import type { ReleaseTypes } from "../lib/ci/release-changes";
import { defineCommand, Reporter } from "../cli/cli.cjs";
import { ApiStack } from "../stacks/api-stack";
import { resourcePrefix, type EnvironmentSettings } from "../lib/settings/environment/settings";
import { describeResult, runLifecycles, TerraformWorkspace, type LifecycleSpec, type Step, type StepContext } from "./lifecycle";
import { clientConfig, EMULATOR_ACCOUNT_ID } from "./inventory";
import { emulatorTarget } from "./mode";

export const RELEASE_TAG = "v1.0.0";

/** An environment as an earlier main synthesized it, and what upgrading from it may change. */
export interface UpgradeBaseline {
  readonly commit: string;
  /** Its synthesized stack, deployed first. */
  readonly file: string;
  /**
   * The settings a team that ran it keeps: that commit's environment, plus what docs/upgrading.md
   * tells them to set to keep their data. This code is planned over the deployed state with them.
   */
  readonly settings: EnvironmentSettings;
  /** The resource types the upgrade changes in place, as docs/upgrading.md explains. */
  readonly updates: readonly string[];
}

/**
 * dev as 420ff8c shipped it (a NAT gateway, Container Insights, a 0.5 vCPU task), and its repository
 * kept on AES256: AWS cannot move a repository to KMS without replacing it.
 */
const dev420ff8c: EnvironmentSettings = {
  name: "dev",
  project: "rest-api",
  region: "us-east-1",
  availabilityZones: ["us-east-1a", "us-east-1b"],
  network: { cidr: "10.10.0.0/16", natMode: "single", flowLogRetentionDays: 7 },
  registry: { keepImages: 10, forceDelete: true, encryption: "AES256" },
  cluster: { onDemandBase: 0, onDemandWeight: 0, spotWeight: 1, logRetentionDays: 7 },
  task: { cpu: 512, memory: 1024, containerPort: 8080, environment: { APP_ENV: "dev" }, logRetentionDays: 7 },
  service: { desiredCount: 1 },
  autoscaling: { minCapacity: 1, maxCapacity: 2 },
  loadBalancer: { deletionProtection: false },
  database: {
    instanceClass: "db.t4g.micro",
    multiAz: false,
    deletionProtection: false,
    skipFinalSnapshot: true,
    backupRetentionDays: 1,
    applyImmediately: true,
    logRetentionDays: 7,
    keyDeletionWindowDays: 7,
  },
};

/**
 * The upgrade proof: an environment as the previous main synthesized it (before services and the
 * constructs' rework of issue 12), deployed first; this code then plans over its state with the settings
 * its team kept. Made with `git worktree add <dir> <commit>` and, there,
 * `new ApiStack(app, "dev", dev, { target: emulatorTarget(PLACEHOLDER_URL) })`.
 */
export const UPGRADE_BASELINES: Readonly<Record<string, UpgradeBaseline>> = {
  dev: {
    commit: "420ff8c",
    file: "emulator/baselines/dev-420ff8c.tf.json",
    settings: dev420ff8c,
    updates: [
      "aws_cloudwatch_log_group",
      "aws_ecs_service",
      "aws_iam_role",
      "aws_iam_role_policy",
      "aws_kms_key",
      "aws_lb_target_group",
      "aws_vpc_security_group_egress_rule",
    ],
  },
};
/** The emulator URL the baselines were synthesized with, replaced by the running emulator's. */
const PLACEHOLDER_URL = "http://127.0.0.1:4566";

/** What the SDK sees of one ECS service. */
export interface ServiceObservation {
  readonly status?: string;
  readonly desiredCount?: number;
  readonly runningCount?: number;
  readonly taskDefinition?: string;
  readonly loadBalancers: { targetGroupArn?: string; containerName?: string; containerPort?: number }[];
}

/** What the SDK sees of a deployed ApiStack. Plain data: the tests assert on it. */
export interface ApiObservation {
  readonly service: ServiceObservation;
  /** The services of `services`, by key, with their target group (routed) and the rule in front of it. */
  readonly services: Readonly<
    Record<
      string,
      ServiceObservation & {
        readonly targetGroup?: { readonly arn?: string; readonly healthCheckPath?: string; readonly port?: number };
        readonly rule?: { readonly priority?: string; readonly pathPatterns: string[]; readonly hostHeaders: string[] };
      }
    >
  >;
  /** The newest ACTIVE revision of the stack's task definition family. */
  readonly latestTaskDefinition?: string;
  /** The app container's image in the task definition the service runs. */
  readonly image?: string;
  readonly targetGroup: { readonly arn?: string; readonly healthCheckPath?: string; readonly port?: number };
  readonly repository: {
    readonly uri?: string;
    readonly scanOnPush?: boolean;
    readonly tagMutability?: string;
    readonly encryption?: { type?: string; kmsKey?: string };
  };
  /** The web ACL guarding the load balancer, when there is one, and its rules by priority. */
  readonly webAcl?: { readonly name?: string; readonly rules: string[] };
  readonly database?: {
    readonly encrypted?: boolean;
    readonly publiclyAccessible?: boolean;
    readonly deletionProtection?: boolean;
    readonly multiAz?: boolean;
    /** The CA that signs its server certificate. */
    readonly caCertificate?: string;
  };
  /** The execution role's inline policies' statements. */
  readonly executionStatements: { Action: string | string[]; Resource: string | string[] }[];
  /** The task role's inline statements: what the app itself may do. */
  readonly taskStatements: { Action: string | string[]; Resource: string | string[] }[];
  /** The environment's alarms, each with where it reports; none when alarms are off. */
  readonly alarms: { readonly name?: string; readonly alarmActions: string[]; readonly okActions: string[] }[];
  /** The alarm topic, when there is one, and the key it is encrypted with. */
  readonly alarmTopic?: { readonly arn: string; readonly kmsMasterKeyId?: string };
  /** Every log group of the environment, with the key it is encrypted with. */
  readonly logGroups: { readonly name?: string; readonly kmsKeyId?: string }[];
  /** The environment's AWS Budgets budget, when there is one: its monthly limit and each alert with where it goes. */
  readonly budget?: {
    readonly limit?: string;
    readonly timeUnit?: string;
    readonly alerts: { readonly type?: string; readonly threshold?: number; readonly subscribers: string[] }[];
  };
  /** Queues and jobs (issue 23), when the stack has any. */
  readonly workers?: WorkersObservation;
}

/** What the SDK sees of the queues and schedules of a stack, and of the roles that use them. */
export interface WorkersObservation {
  /** By service key: the queue's and its dead-letter queue's attributes. */
  readonly queues: Readonly<Record<string, { readonly queue: Record<string, string>; readonly deadLetter: Record<string, string> }>>;
  /** By job key: the schedule as EventBridge Scheduler holds it. */
  readonly schedules: Readonly<
    Record<
      string,
      {
        readonly state?: string;
        readonly expression?: string;
        readonly timezone?: string;
        readonly targetArn?: string;
        readonly roleArn?: string;
        readonly taskDefinition?: string;
        readonly retry?: { readonly attempts?: number; readonly maxAgeSeconds?: number };
      }
    >
  >;
  /** The inline statements of the roles queues and jobs add or widen, by role name. */
  readonly roleStatements: Readonly<Record<string, { Sid?: string; Action: string | string[]; Resource: string | string[] }[]>>;
  /** The newest ACTIVE revision of each job's task definition family. */
  readonly jobTaskDefinitions: Readonly<Record<string, string | undefined>>;
}

/** Reads the queues of `queueKeys` and the schedules of `jobKeys`, and the roles that use them. */
export async function observeWorkers(ctx: StepContext, prefix: string, queueKeys: readonly string[], jobKeys: readonly string[]): Promise<WorkersObservation> {
  const config = clientConfig(ctx.url, ctx.region);
  const sqs = new SQSClient(config);
  const attributes = async (name: string) => {
    const url = (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl;
    return (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["All"] }))).Attributes ?? {};
  };
  const queues: Record<string, WorkersObservation["queues"][string]> = {};
  for (const key of queueKeys) queues[key] = { queue: await attributes(`${prefix}-${key}`), deadLetter: await attributes(`${prefix}-${key}-dlq`) };
  const scheduler = new SchedulerClient(config);
  const ecs = new ECSClient(config);
  const schedules: Record<string, WorkersObservation["schedules"][string]> = {};
  const jobTaskDefinitions: Record<string, string | undefined> = {};
  for (const key of jobKeys) {
    const found = await scheduler.send(new GetScheduleCommand({ GroupName: prefix, Name: `${prefix}-${key}` }));
    schedules[key] = {
      state: found.State,
      expression: found.ScheduleExpression,
      timezone: found.ScheduleExpressionTimezone,
      targetArn: found.Target?.Arn,
      roleArn: found.Target?.RoleArn,
      taskDefinition: found.Target?.EcsParameters?.TaskDefinitionArn,
      retry: { attempts: found.Target?.RetryPolicy?.MaximumRetryAttempts, maxAgeSeconds: found.Target?.RetryPolicy?.MaximumEventAgeInSeconds },
    };
    jobTaskDefinitions[key] = (await ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: `${prefix}-${key}`, status: "ACTIVE", sort: "DESC" })))
      .taskDefinitionArns?.[0];
  }
  const iam = new IAMClient(config);
  const roleStatements: Record<string, WorkersObservation["roleStatements"][string]> = {};
  const roles = [
    `${prefix}-task`,
    ...queueKeys.map((k) => `${prefix}-${k}-task`),
    ...jobKeys.flatMap((k) => [`${prefix}-${k}-task`, `${prefix}-${k}-scheduler`]),
  ];
  for (const role of roles) {
    roleStatements[role] = [];
    for (const name of (await iam.send(new ListRolePoliciesCommand({ RoleName: role }))).PolicyNames ?? []) {
      const document = (await iam.send(new GetRolePolicyCommand({ RoleName: role, PolicyName: name }))).PolicyDocument!;
      roleStatements[role].push(...JSON.parse(decodeURIComponent(document)).Statement);
    }
  }
  return { queues, schedules, roleStatements, jobTaskDefinitions };
}

function serviceObservation(service?: Service): ServiceObservation {
  return {
    status: service?.status,
    desiredCount: service?.desiredCount,
    runningCount: service?.runningCount,
    taskDefinition: service?.taskDefinition,
    loadBalancers: (service?.loadBalancers ?? []).map((lb) => ({
      targetGroupArn: lb.targetGroupArn,
      containerName: lb.containerName,
      containerPort: lb.containerPort,
    })),
  };
}

export async function observeApi(ctx: StepContext, prefix: string, withDatabase: boolean, serviceKeys: readonly string[] = []): Promise<ApiObservation> {
  const config = clientConfig(ctx.url, ctx.region);
  const ecs = new ECSClient(config);
  const elb = new ElasticLoadBalancingV2Client(config);
  const service = (await ecs.send(new DescribeServicesCommand({ cluster: prefix, services: [prefix] }))).services?.[0];
  const lb = (await elb.send(new DescribeLoadBalancersCommand({ Names: [prefix] }))).LoadBalancers?.[0];
  const services: Record<string, ApiObservation["services"][string]> = {};
  if (serviceKeys.length) {
    const described = (await ecs.send(new DescribeServicesCommand({ cluster: prefix, services: serviceKeys.map((key) => `${prefix}-${key}`) }))).services ?? [];
    const listeners = (await elb.send(new DescribeListenersCommand({ LoadBalancerArn: lb?.LoadBalancerArn }))).Listeners ?? [];
    const rules: Rule[] = [];
    for (const listener of listeners) rules.push(...((await elb.send(new DescribeRulesCommand({ ListenerArn: listener.ListenerArn }))).Rules ?? []));
    for (const key of serviceKeys) {
      const found = described.find((s) => s.serviceName === `${prefix}-${key}`);
      const groupArn = found?.loadBalancers?.[0]?.targetGroupArn;
      const group = groupArn ? (await elb.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [groupArn] }))).TargetGroups?.[0] : undefined;
      const rule = rules.find((r) => r.Actions?.some((a) => a.TargetGroupArn === groupArn));
      // Terraform sends the typed configs; the legacy `Values` is what older callers (and AWS, as a copy) see.
      const values = (field: string) =>
        rule?.Conditions?.filter((c) => c.Field === field).flatMap(
          (c) => (field === "path-pattern" ? c.PathPatternConfig?.Values : c.HostHeaderConfig?.Values) ?? c.Values ?? [],
        ) ?? [];
      services[key] = {
        ...serviceObservation(found),
        ...(group ? { targetGroup: { arn: group.TargetGroupArn, healthCheckPath: group.HealthCheckPath, port: group.Port } } : {}),
        ...(rule ? { rule: { priority: rule.Priority, pathPatterns: values("path-pattern"), hostHeaders: values("host-header") } } : {}),
      };
    }
  }
  const revisions = await ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: prefix, status: "ACTIVE", sort: "DESC" }));
  const running = service?.taskDefinition
    ? (await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: service.taskDefinition }))).taskDefinition
    : undefined;
  const targetGroup = (await elb.send(new DescribeTargetGroupsCommand({ Names: [`${prefix}-tg`] }))).TargetGroups?.[0];
  const repository = (await new ECRClient(config).send(new DescribeRepositoriesCommand({ repositoryNames: [prefix] }))).repositories?.[0];
  const iam = new IAMClient(config);
  const statementsOf = async (role: string) => {
    const statements = [];
    for (const name of (await iam.send(new ListRolePoliciesCommand({ RoleName: role }))).PolicyNames ?? []) {
      const document = (await iam.send(new GetRolePolicyCommand({ RoleName: role, PolicyName: name }))).PolicyDocument!;
      statements.push(...JSON.parse(decodeURIComponent(document)).Statement);
    }
    return statements;
  };
  const executionStatements = await statementsOf(`${prefix}-execution`);
  const taskStatements = await statementsOf(`${prefix}-task`);
  const db = withDatabase ? (await new RDSClient(config).send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: prefix }))).DBInstances?.[0] : undefined;
  const alarms = ((await new CloudWatchClient(config).send(new DescribeAlarmsCommand({ AlarmNamePrefix: `${prefix}-` }))).MetricAlarms ?? []).map((a) => ({
    name: a.AlarmName,
    alarmActions: a.AlarmActions ?? [],
    okActions: a.OKActions ?? [],
  }));
  const sns = new SNSClient(config);
  const topicArn = ((await sns.send(new ListTopicsCommand({}))).Topics ?? []).map((t) => t.TopicArn!).find((arn) => arn.endsWith(`:${prefix}-alarms`));
  const topicAttributes = topicArn ? (await sns.send(new GetTopicAttributesCommand({ TopicArn: topicArn }))).Attributes : undefined;
  const webAcl = (await new WAFV2Client(config).send(new GetWebACLForResourceCommand({ ResourceArn: lb?.LoadBalancerArn }))).WebACL;
  const budgets = new BudgetsClient(config);
  const account = { AccountId: EMULATOR_ACCOUNT_ID, BudgetName: prefix };
  const budget = await budgets.send(new DescribeBudgetCommand(account)).then(
    (r) => r.Budget,
    () => undefined,
  );
  const alerts = [];
  for (const notification of budget ? ((await budgets.send(new DescribeNotificationsForBudgetCommand(account))).Notifications ?? []) : []) {
    const subscribers = (await budgets.send(new DescribeSubscribersForNotificationCommand({ ...account, Notification: notification }))).Subscribers ?? [];
    alerts.push({ type: notification.NotificationType, threshold: notification.Threshold, subscribers: subscribers.map((s) => s.Address!) });
  }
  const logGroups = ((await new CloudWatchLogsClient(config).send(new DescribeLogGroupsCommand({}))).logGroups ?? [])
    .filter((g) => g.logGroupName?.includes(prefix))
    .map((g) => ({ name: g.logGroupName, kmsKeyId: g.kmsKeyId }));
  return {
    service: serviceObservation(service),
    services,
    latestTaskDefinition: revisions.taskDefinitionArns?.[0],
    image: running?.containerDefinitions?.find((c) => c.name === "app")?.image,
    targetGroup: { arn: targetGroup?.TargetGroupArn, healthCheckPath: targetGroup?.HealthCheckPath, port: targetGroup?.Port },
    repository: {
      uri: repository?.repositoryUri,
      scanOnPush: repository?.imageScanningConfiguration?.scanOnPush,
      tagMutability: repository?.imageTagMutability,
      encryption: { type: repository?.encryptionConfiguration?.encryptionType, kmsKey: repository?.encryptionConfiguration?.kmsKey },
    },
    // By priority: Terraform keeps the rules as a set, so the API returns them in no set order.
    webAcl: webAcl && { name: webAcl.Name, rules: [...(webAcl.Rules ?? [])].sort((a, b) => a.Priority! - b.Priority!).map((r) => r.Name!) },
    database: db && {
      encrypted: db.StorageEncrypted,
      publiclyAccessible: db.PubliclyAccessible,
      deletionProtection: db.DeletionProtection,
      multiAz: db.MultiAZ,
      caCertificate: db.CACertificateIdentifier,
    },
    executionStatements,
    taskStatements,
    alarms,
    alarmTopic: topicArn ? { arn: topicArn, kmsMasterKeyId: topicAttributes?.KmsMasterKeyId } : undefined,
    logGroups,
    budget: budget && { limit: budget.BudgetLimit?.Amount, timeUnit: budget.TimeUnit, alerts },
  };
}

/** What docs/deploy-and-release.md tells a user to change before destroying prod. */
export function unprotected(settings: EnvironmentSettings): EnvironmentSettings {
  return {
    ...settings,
    loadBalancer: { ...settings.loadBalancer, deletionProtection: false },
    database: { ...settings.database, deletionProtection: false },
  };
}

/** The lifecycle of one environment (or variant) of the ApiStack. */
export function apiLifecycle(settings: EnvironmentSettings): LifecycleSpec {
  const region = settings.region ?? "us-east-1";
  const prefix = resourcePrefix(settings);
  const withDatabase = settings.database?.enabled ?? true;
  const protectedDb = withDatabase && (settings.database?.deletionProtection ?? false);
  const https = settings.loadBalancer?.https;
  // The emulator cannot hold a zone with the id in the settings: the harness makes one and uses its id.
  let zoneId: string | undefined;
  const forEmulator = (s: EnvironmentSettings): EnvironmentSettings =>
    zoneId && s.loadBalancer?.https ? { ...s, loadBalancer: { ...s.loadBalancer, https: { ...s.loadBalancer.https, hostedZoneId: zoneId } } } : s;
  const queueKeys = Object.entries(settings.services ?? {})
    .filter(([, entry]) => entry.queue)
    .map(([key]) => key);
  const jobKeys = Object.keys(settings.jobs ?? {});
  const inspect = async (ctx: StepContext): Promise<ApiObservation> => {
    const seen = await observeApi(ctx, prefix, withDatabase, Object.keys(settings.services ?? {}));
    return queueKeys.length || jobKeys.length ? { ...seen, workers: await observeWorkers(ctx, prefix, queueKeys, jobKeys) } : seen;
  };
  const finalSnapshot = withDatabase && settings.database?.skipFinalSnapshot === false ? [`rds db-snapshot ${prefix}-final`] : [];
  const baseline = UPGRADE_BASELINES[settings.name];
  const upgrade: Step[] = baseline
    ? [
        {
          name: `deploy the previous main (${baseline.commit})`,
          action: "apply",
          terraformJson: ({ url }) => JSON.parse(readFileSync(resolve(__dirname, "..", baseline.file), "utf8").replaceAll(PLACEHOLDER_URL, url)),
        },
        {
          name: "upgrade: plan this code over the previous main's state: nothing deleted or replaced but for the emulator's known gaps",
          action: "upgrade-plan",
          stack: (app, { url }) => new ApiStack(app, settings.name, forEmulator(baseline.settings), { target: emulatorTarget(url) }),
        },
      ]
    : [];
  const steps: Step[] = [
    ...upgrade,
    {
      name: "deploy with the placeholder image",
      action: "apply",
      stack: (app, { url }) => new ApiStack(app, settings.name, forEmulator(settings), { target: emulatorTarget(url) }),
      inspect,
    },
    {
      // The release path CI takes (npm run deploy:release): its plan may change only what a release may.
      name: `release ${RELEASE_TAG} (IMAGE_TAG) through the release path`,
      action: "release",
      stack: (app, { url }) => new ApiStack(app, settings.name, forEmulator(settings), { target: emulatorTarget(url), imageTag: RELEASE_TAG }),
      releaseTypes: releaseTypesFor(settings),
      inspect,
    },
    { name: "plan again: no change but the emulator's known gaps", action: "replan" },
  ];
  if (protectedDb) {
    steps.push(
      { name: "destroy while deletion protection is on: refused", action: "refused-destroy" },
      {
        name: "turn deletion protection off and deploy",
        action: "apply",
        stack: (app, { url }) => new ApiStack(app, settings.name, forEmulator(unprotected(settings)), { target: emulatorTarget(url), imageTag: RELEASE_TAG }),
        inspect,
      },
    );
  }
  steps.push({
    name: "destroy: nothing left",
    action: "destroy",
    // The final snapshot is prod's data, kept on purpose; the zone is the harness's, not the stack's.
    survivors: [...finalSnapshot, ...(https?.hostedZoneId ? [`route53 hosted-zone ${zoneOf(https.domainName)}.`] : [])],
  });
  return {
    name: settings.name,
    region,
    prepare: https?.hostedZoneId
      ? async (url) => {
          const zone = await new Route53Client(clientConfig(url, region)).send(
            new CreateHostedZoneCommand({ Name: zoneOf(https.domainName!), CallerReference: `lifecycle-${settings.name}` }),
          );
          zoneId = zone.HostedZone!.Id!.replace("/hostedzone/", "");
        }
      : undefined,
    steps,
  };
}

/**
 * The resource types a release of the environment may change: what its constructs declare with CI access
 * (`DeployPermissions.release`), which adds only the CI role itself, so a stack without it releases the same.
 */
export function releaseTypesFor(settings: EnvironmentSettings): ReleaseTypes {
  const withCi: EnvironmentSettings = settings.ci ? settings : { ...settings, ci: { githubRepository: "acme/rest-api" } };
  const stack = new ApiStack(new App({ stackTraces: false, outdir: join(tmpdir(), "release-types") }), settings.name, withCi, { offline: true });
  return DeployPermissions.of(stack)!.releaseChanges;
}

/** `api.example.com` → `example.com`: the zone a record name belongs to, for the harness's zone. */
function zoneOf(domainName: string | undefined): string {
  return (domainName ?? "").split(".").slice(1).join(".");
}

if (require.main === module) {
  // `npm run lifecycle [stack ...]`: the emulator lifecycle of every stack (or those named), in parallel, timed.
  const { positionals: wanted } = defineCommand({
    name: "lifecycle",
    summary: "Every stack's emulator lifecycle (deploy, release, plan again, destroy), or the named stacks', in parallel, timed.",
    args: "[stack…]",
    argsHelp: ["stack: an environment of environments/environments.ts or a variant of __tests__/support/variants.ts (default: every one)"],
    needs: [
      "terraform 1.10 or newer on PATH",
      'the emulator: moto with its server extras (`pipx install "moto[server]"`); EMULATOR_PYTHON names its Python',
      "CDK_ENGINE=cdktn builds the stacks with cdktn",
    ],
    examples: ["npm run lifecycle", "npm run lifecycle -- dev"],
  }).start();
  void (async () => {
    const { environments } = await import("../environments/environments");
    const { examples } = await import("../__tests__/support/variants");
    const all = [...environments, ...examples].filter((s) => wanted.length === 0 || wanted.includes(s.name));
    const unknown = wanted.filter((name) => !all.some((s) => s.name === name));
    if (unknown.length) {
      console.error(`error: no stack ${unknown.join(", ")}; there are ${[...environments, ...examples].map((s) => s.name).join(", ")}`);
      process.exit(2);
    }
    const workspace = new TerraformWorkspace(resolve(".emulator", "lifecycle"));
    // The stacks are built by the engine CDK_ENGINE names: the npm script preloads scripts/engine-hook.cjs.
    const { describeEngine, engineFromEnv } = await import("../scripts/engine.cjs");
    console.log(describeEngine(engineFromEnv()));
    const started = Date.now();
    const reporter = new Reporter();
    const results = await runLifecycles(all.map(apiLifecycle), workspace, reporter);
    reporter.close();
    for (const result of results) console.log(describeResult(result));
    console.log(`all ${results.length} stacks: ${((Date.now() - started) / 1000).toFixed(0)} s wall time`);
    process.exit(results.every((r) => r.ok) ? 0 : 1);
  })();
}
