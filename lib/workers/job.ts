import { Construct } from "constructs";
import { SchedulerSchedule } from "@cdktf/provider-aws/lib/scheduler-schedule";
import { SchedulerScheduleGroup } from "@cdktf/provider-aws/lib/scheduler-schedule-group";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import * as z from "zod/mini";
import type { Cluster } from "../compute/cluster";
import { DeployPermissions } from "../core/deploy-permissions";
import { EVENT_RULE_GRANT } from "../core/event-rule";
import { holdings, ResourceKind } from "../core/resource-kind";
import { scheduledJobCost } from "../calculators/cost";

/** EventBridge Scheduler: the environment's schedule group and each scheduled job's schedule. */
export const SCHEDULES = new ResourceKind({
  name: "EventBridge Scheduler schedules",
  file: __filename,
  types: ["aws_scheduler_schedule", "aws_scheduler_schedule_group"],
  deploy: { services: ["scheduler"], tag: ["scheduler:TagResource"], untag: ["scheduler:UntagResource"] },
  endpoints: ["scheduler"],
  price: scheduledJobCost,
  inventory: async (aws) => [
    ...holdings(
      "scheduler",
      "schedule",
      ((await aws("scheduler", "ListSchedules")).Schedules ?? []).map((s: { GroupName?: string; Name?: string }) => `${s.GroupName}/${s.Name}`),
    ),
    // Every account has the default group, which no stack makes.
    ...holdings(
      "scheduler",
      "schedule-group",
      ((await aws("scheduler", "ListScheduleGroups")).ScheduleGroups ?? [])
        .map((g: { Name?: string }) => g.Name)
        .filter((name: string | undefined) => name !== "default"),
    ),
  ],
  alarms: { namespace: "AWS/Scheduler" },
});
import { jsonString } from "../core/hcl";
import { ServiceRole } from "../core/iam";
import { EnvironmentContext, pascal } from "../core/environment";
import { alarmMetric, metricOf, type Metric, type MetricOptions } from "../core/metric";
import type { Network } from "../network/network";
import { PermissionsBoundary } from "../core/permissions-boundary";
import { flag, int, rule, withDefault } from "../settings/rules";
import { USES } from "../settings/sections";
import { scheduleProblem } from "../calculators/schedule-expression";
import { securityGroup } from "../core/security-group";
import { TaskSettingsSchema, type TaskDefinition } from "../compute/task-definition";
import { closest, show } from "../settings/validate";
import { Connections } from "../core/connections";
import type { AlarmSpec, AlarmThresholds, AlarmWatcher, IWatchable } from "../core/watchable";
import { CloudwatchEventRule } from "@cdktf/provider-aws/lib/cloudwatch-event-rule";
import { CloudwatchEventTarget } from "@cdktf/provider-aws/lib/cloudwatch-event-target";

/** IANA time zones this Node knows, and UTC. */
const TIME_ZONES: readonly string[] = ["UTC", ...Intl.supportedValuesOf("timeZone")];

/**
 * A scheduled job (`jobs.<key>`): a task definition EventBridge Scheduler runs on a schedule, in the
 * services' network, with a role that may run only that task definition. Its names are
 * `<project>-<environment>-<key>`, as a service's.
 */
export const JobSettingsSchema = z.strictObject({
  /** When it runs: `cron(minutes hours day-of-month month day-of-week year)` or `rate(<n> minutes)` (or hours, days), checked at synth. */
  schedule: z.string().check(
    rule<string>(
      (v) => scheduleProblem(v) === undefined,
      (v) => `not a schedule: ${scheduleProblem(v)}`,
      'rate(<n> minute[s]|hour[s]|day[s]), or cron(<minutes> <hours> <day-of-month> <month> <day-of-week> <year>) with ? in one day field, e.g. "cron(0 3 * * ? *)"',
    ),
  ),
  /** The IANA time zone a cron expression is read in, daylight saving included, e.g. "Europe/Berlin". @default "UTC" */
  timezone: withDefault(
    z.string().check(
      rule<string>(
        (v) => TIME_ZONES.includes(v),
        "not an IANA time zone",
        (v) => `a zone such as ${closest(v, TIME_ZONES).map(show).join(", ")}`,
      ),
    ),
    "UTC",
  ),
  /** Its task definition: the same fields and defaults as `task`; `command` picks the program, e.g. `["dist/housekeeping.mjs"]`. @default as `task` */
  task: z.prefault(TaskSettingsSchema, {}),
  /** Give it the database's connection (variables, secret, network access). @default false */
  database: withDefault(flag, false),
  /** What else of the environment its tasks use, by name, as a service's `service.uses`. @default [] */
  uses: withDefault(USES, []),
  /** Run it on schedule; false keeps the job and pauses its schedule. @default true */
  enabled: withDefault(flag, true),
  /** Times EventBridge Scheduler retries starting a run ECS refused (RunTask failed, e.g. no capacity), 0–185. @default 2 */
  retryAttempts: withDefault(int(0, 185), 2),
  /** Seconds a run may wait to start, retries included, before it is dropped (and alarms), 60–86400. @default 3600 */
  maxStartDelaySeconds: withDefault(int(60, 86400), 3600),
  /** Minutes a run usually takes, for `npm run cost` only. @default 5 */
  expectedMinutes: withDefault(int(1, 1440), 5),
});
export type JobSettings = z.input<typeof JobSettingsSchema>;
export type JobConfig = z.output<typeof JobSettingsSchema>;

/** The environment's schedule group (`<project>-<environment>`), which every job's schedule belongs to; made once, when there is a job. */
export function scheduleGroup(scope: Construct, id: string): SchedulerScheduleGroup {
  const name = EnvironmentContext.of(scope).prefix;
  const deploy = DeployPermissions.of(scope);
  if (deploy) {
    deploy.service("Scheduler", {
      kind: SCHEDULES,
      create: ["scheduler:CreateScheduleGroup", "scheduler:TagResource"],
      manage: [
        "scheduler:DeleteScheduleGroup",
        "scheduler:GetScheduleGroup",
        "scheduler:ListTagsForResource",
        "scheduler:TagResource",
        "scheduler:UntagResource",
      ],
      resources: [deploy.arn("scheduler", `schedule-group/${name}`)],
    });
    // A schedule has no tags to check: its name, in the environment's group, scopes it. The group, and making or
    // deleting a schedule in it, are the administrator's (a schedule a release made would keep running, unknown to
    // the stack's reviewers); a release changes what an existing schedule runs, and when.
    const schedules = deploy.arn("scheduler", `schedule/${name}/${name}-*`);
    deploy.allow([
      { Sid: "ScheduleLifecycle", Action: ["scheduler:CreateSchedule", "scheduler:DeleteSchedule", "scheduler:GetSchedule"], Resource: schedules },
    ]);
    const release = deploy.release(["aws_scheduler_schedule"]);
    release.allow([{ Sid: "Schedules", Action: ["scheduler:GetSchedule", "scheduler:UpdateSchedule"], Resource: schedules }]);
    release.passRole("Scheduler", ["*-scheduler"], "scheduler.amazonaws.com");
  }
  return new SchedulerScheduleGroup(scope, id, { name });
}

/** Its region and account (which its scheduler role trusts) are the environment's (`EnvironmentContext`). */
export interface JobProps extends JobConfig {
  /** `<project>-<environment>-<key>`: the schedule's, role's and security group's names. */
  readonly name: string;
  readonly key: string;
  readonly cluster: Cluster;
  readonly network: Network;
  readonly taskDefinition: TaskDefinition;
  readonly group: SchedulerScheduleGroup;
}

/**
 * A scheduled job: its tasks' security group (HTTPS out, the database where granted), the role
 * EventBridge Scheduler assumes (run this task definition in this cluster, pass its two roles to ECS
 * tasks, nothing else), and the schedule, with its retry policy. A run that exits non-zero, or cannot
 * start, is reported by the alarms (its `alarmSpecs`, watched by `alarms.watch(job)`).
 */
export class Job extends Construct implements IWatchable {
  readonly schedule: SchedulerSchedule;
  readonly role: ServiceRole;
  readonly securityGroup: SecurityGroup;
  /** Network access from its tasks: `job.connections.allowTo(database)`. */
  readonly connections: Connections;
  readonly props: JobProps;

  constructor(scope: Construct, id: string, props: JobProps) {
    super(scope, id);
    this.props = props;
    const { cluster, network, taskDefinition, group } = props;
    const environment = EnvironmentContext.of(this);
    const { partition, accountId } = environment;
    const arn = (service: string, resource: string) => environment.arn(service, resource);
    this.securityGroup = securityGroup(this, "SecurityGroup", {
      name: `${props.name}-tasks`,
      description: `Tasks of job ${props.name}: nothing in, HTTPS out`,
      vpcId: network.vpc.id,
      egressHttps: "HTTPS: ECR, CloudWatch Logs, Secrets Manager and the APIs the job calls",
    });
    // Reached as the services' tasks are, so the rules a database opens to it are named and described as theirs
    // (`IngressFromService<n>`, "from the service tasks") and no deployed rule is renamed.
    this.connections = new Connections(this, {
      securityGroupId: this.securityGroup.id,
      kind: "Service",
      ingressDescription: (from) => `From ${from.kind}`,
      egressDescription: "To the job tasks",
    });

    // The group's name as written (not a reference), so the trust names the group before either exists.
    const groupArn = arn("scheduler", `schedule-group/${group.nameInput}`);
    this.role = new ServiceRole(this, "SchedulerRole", {
      name: `${props.name}-scheduler`,
      service: "scheduler.amazonaws.com",
      // Confused deputy: "Confused deputy prevention in EventBridge Scheduler",
      // https://docs.aws.amazon.com/scheduler/latest/UserGuide/cross-service-confused-deputy-prevention.html
      // Scheduler presents the schedule GROUP's ARN as aws:SourceArn: "Do not scope the aws:SourceArn
      // statement to a specific schedule or a schedule name prefix" (a schedule's ARN never matches, and
      // the role could never be assumed). So any schedule of the environment's group may use the role;
      // only the deploy role writes schedules there, and it may pass this role to Scheduler alone.
      trust: { sourceAccount: accountId, sourceArn: groupArn },
      statements: [
        {
          Sid: "RunThisTaskDefinition",
          Action: "ecs:RunTask",
          Resource: arn("ecs", `task-definition/${props.name}:*`),
          Condition: { ArnEquals: { "ecs:cluster": cluster.clusterArn } },
        },
        {
          Sid: "PassItsRoles",
          Action: "iam:PassRole",
          Resource: [taskDefinition.executionRole.arn, taskDefinition.taskRole.arn],
          Condition: { StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } },
        },
        {
          Sid: "TagItsTasks",
          Action: "ecs:TagResource",
          Resource: arn("ecs", `task/${cluster.clusterName}/*`),
          Condition: { StringEquals: { "ecs:CreateAction": "RunTask" } },
        },
      ],
    });
    const boundary = PermissionsBoundary.of(this);
    boundary?.allow([
      { Sid: "SchedulerRunsTasks", Action: "ecs:RunTask", Resource: boundary.arnOf("ecs", `task-definition/${boundary.prefix}-*:*`) },
      {
        Sid: "SchedulerPassesTaskRoles",
        Action: "iam:PassRole",
        // The environment's task and execution roles, as the deploy role may pass them: never another kind.
        Resource: ["execution", "task", "*-execution", "*-task"].map((suffix) => `arn:${partition}:iam::${accountId}:role/${boundary.prefix}-${suffix}`),
        Condition: { StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } },
      },
      {
        Sid: "SchedulerTagsTasks",
        Action: "ecs:TagResource",
        Resource: boundary.arnOf("ecs", `task/${boundary.prefix}/*`),
        Condition: { StringEquals: { "ecs:CreateAction": "RunTask" } },
      },
    ]);

    const capacity = cluster.capacity;
    this.schedule = new SchedulerSchedule(this, "Schedule", {
      name: props.name,
      groupName: group.name,
      // The expected run time, which `npm run cost` reads (lib/calculators/cost.ts).
      description: `Job ${props.key}: runs ${props.name} on its schedule, about ${props.expectedMinutes} min a run`,
      scheduleExpression: props.schedule,
      scheduleExpressionTimezone: props.timezone,
      state: props.enabled ? "ENABLED" : "DISABLED",
      flexibleTimeWindow: { mode: "OFF" },
      target: {
        arn: cluster.clusterArn,
        roleArn: this.role.arn,
        retryPolicy: { maximumRetryAttempts: props.retryAttempts, maximumEventAgeInSeconds: props.maxStartDelaySeconds },
        ecsParameters: {
          taskDefinitionArn: taskDefinition.taskDefinitionArn,
          taskCount: 1,
          capacityProviderStrategy: capacity.strategy.map((s) => ({ capacityProvider: s.capacityProvider, base: s.base, weight: s.weight })),
          networkConfiguration: {
            subnets: network.appSubnetIds,
            securityGroups: [this.securityGroup.id],
            assignPublicIp: capacity.publicIpCapable && network.appNeedsPublicIp,
          },
          enableEcsManagedTags: true,
          propagateTags: "TASK_DEFINITION",
        },
      },
      dependsOn: [cluster.capacityProviders],
    });
  }

  /** The family its runs belong to (`family:<name>` in ECS events). */
  get family(): string {
    return this.props.taskDefinition.taskDefinition.family;
  }

  /** Runs of its schedule group EventBridge Scheduler gave up starting after their retries; Sum over 5 minutes. The group's, so every job's. */
  metricInvocationDroppedCount(options?: MetricOptions): Metric {
    // The group's name as written: the dimension is known before the group exists.
    return metricOf("AWS/Scheduler", "InvocationDroppedCount", { ScheduleGroup: this.props.group.nameInput ?? this.props.group.name }, "Sum", options);
  }

  /**
   * Its alarms: failed runs, through an EventBridge rule (made under the watcher) that matches its tasks that
   * stopped with a non-zero exit code or could not start and sends each event (task, exit code, reason) to the
   * alarm topic; the alarm on the rule's matches fires and recovers like every other. Runs the scheduler could
   * not start after its retries are the environment's `jobs-not-started` alarm, one per schedule group.
   */
  alarmSpecs(_thresholds: AlarmThresholds, watcher: AlarmWatcher): AlarmSpec[] {
    const { key } = this.props;
    const label = pascal(key);
    const ruleName = `${watcher.prefix}-${key}-failed-runs`;
    const rule = new CloudwatchEventRule(watcher.scope, `${label}JobFailedRunsRule`, {
      name: ruleName,
      description: `Runs of job ${key} that exited non-zero or could not start`,
      eventPattern: jsonString({
        source: ["aws.ecs"],
        "detail-type": ["ECS Task State Change"],
        detail: {
          clusterArn: [this.props.cluster.clusterArn],
          group: [`family:${this.props.name}`],
          lastStatus: ["STOPPED"],
          $or: [{ containers: { exitCode: [{ "anything-but": 0 }] } }, { stopCode: ["TaskFailedToStart"] }],
        },
      }),
    });
    new CloudwatchEventTarget(watcher.scope, `${label}JobFailedRunsTopic`, { rule: rule.name, arn: watcher.topicArn });
    const deploy = DeployPermissions.of(watcher.scope);
    deploy?.service("JobRules", { ...EVENT_RULE_GRANT, resources: deploy && [deploy.arn("events", `rule/${ruleName}`)] });
    const specs: AlarmSpec[] = [
      {
        id: `${label}JobFailedRuns`,
        what: `${key}-failed-runs`,
        body: {
          // The rule is the job's alarm's own, so its metric is described here.
          ...alarmMetric(metricOf("AWS/Events", "MatchedEvents", { RuleName: rule.name }, "Sum")),
          evaluationPeriods: 1,
          alarmDescription: `A run of job ${key} exited non-zero or could not start (the topic has the event; the logs are in /ecs/${this.props.name})`,
          comparisonOperator: "GreaterThanThreshold",
          threshold: 0,
          treatMissingData: "notBreaching",
        },
      },
    ];
    if (watcher.first("jobs-not-started"))
      specs.push({
        id: "JobsNotStarted",
        what: "jobs-not-started",
        body: {
          ...alarmMetric(this.metricInvocationDroppedCount()),
          evaluationPeriods: 1,
          alarmDescription: "EventBridge Scheduler gave up starting a job's run after its retries (retryAttempts, maxStartDelaySeconds)",
          comparisonOperator: "GreaterThanThreshold",
          threshold: 0,
          treatMissingData: "notBreaching",
        },
      });
    return specs;
  }
}
