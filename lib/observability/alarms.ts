import { Construct } from "constructs";
import { DeployPermissions, EVENT_RULE_GRANT } from "../core/deploy-permissions";
import { CloudwatchMetricAlarm, type CloudwatchMetricAlarmConfig } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import * as z from "zod/mini";
import type { AlarmTopic } from "./alarm-topic";
import type { Database } from "../database/database";
import type { LoadBalancer } from "../edge/load-balancer";
import { fail, flag, int, withDefault } from "../settings/rules";
import type { Service } from "../compute/service";
import { CloudwatchEventRule } from "@cdktf/provider-aws/lib/cloudwatch-event-rule";
import { CloudwatchEventTarget } from "@cdktf/provider-aws/lib/cloudwatch-event-target";
import { jsonString } from "../core/hcl";
import { EnvironmentContext } from "../core/environment";
import { alarmMetric, metricOf, metricQuery, type Metric } from "../core/metric";
import type { Job } from "../workers/job";
import type { Queue } from "../workers/queue";

const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

export const AlarmSettingsSchema = z
  .strictObject({
    /** CloudWatch alarms, the alarm topic, the service-event rule and the dashboard. @default true */
    enabled: withDefault(flag, true),
    /** A CloudWatch dashboard of every alarm's metric ($3 a month beyond the account's first three). @default true */
    dashboard: withDefault(flag, true),
    /** Addresses subscribed to the alarm topic by e-mail (each confirms AWS's message first). @default [] */
    emails: withDefault(z.readonly(z.array(z.string())), []),
    /** Load balancer 5xx responses (its own and the targets') as a share of requests, over 5 minutes. @default 5 */
    http5xxPercent: withDefault(int(1, 100), 5),
    /** p99 target response time, in milliseconds, over 5 minutes. @default 2000 */
    targetP99Milliseconds: withDefault(int(10, 60000), 2000),
    /** A service's average CPU, over 15 minutes. @default 85 */
    cpuPercent: withDefault(int(10, 100), 85),
    /** A service's average memory, over 15 minutes. @default 85 */
    memoryPercent: withDefault(int(10, 100), 85),
    /** The database's average CPU, over 15 minutes. @default 85 */
    databaseCpuPercent: withDefault(int(10, 100), 85),
    /** The database's free storage, in GiB, below which it alarms. @default 2 */
    databaseFreeStorageGb: withDefault(int(1, 1000), 2),
    /** The database's freeable memory, in MiB, below which it alarms. @default 64 */
    databaseFreeMemoryMb: withDefault(int(16, 100000), 64),
    /** Open database connections above which it alarms (db.t4g.micro allows about 80). @default 60 */
    databaseConnections: withDefault(int(1, 100000), 60),
  })
  .check(
    z.superRefine((s, ctx) => {
      s.emails.forEach((email, i) => {
        if (!EMAIL.test(email)) fail(ctx, ["emails", i], email, "not an e-mail address", 'an address such as "ops@example.com"');
      });
    }),
  );
/** Alarms and their thresholds, as written in an environment. */
export type AlarmSettings = z.input<typeof AlarmSettingsSchema>;
export type AlarmConfig = z.output<typeof AlarmSettingsSchema>;

/** Alarm names start with the environment's prefix (`EnvironmentContext`). */
export interface AlarmsProps extends AlarmConfig {
  /** Where alarms report, on alarm and on recovery. */
  readonly topic: AlarmTopic;
}

type AlarmBody = Omit<CloudwatchMetricAlarmConfig, "alarmName" | "alarmActions" | "okActions">;

/** `admin` → `Admin`: the start of a keyed construct's alarm ids. */
const pascal = (key: string) => key[0].toUpperCase() + key.slice(1);

/**
 * The environment's CloudWatch alarms, each reporting to the alarm topic when it fires and when it
 * recovers. Constructs are watched by handing them over (`watchLoadBalancer`, `watchService`,
 * `watchDatabase`, `watchQueue`, `watchJob`); each alarm watches a metric the construct describes
 * itself (`service.metricCpuUtilization()`), so it follows that construct's own resource, and is named
 * `<prefix>-[<key>-]<what>` after the construct's key, not its construct id.
 */
export class Alarms extends Construct {
  /** Every alarm, in the order made (the dashboard shows them so). */
  readonly alarms: CloudwatchMetricAlarm[] = [];
  private readonly props: AlarmsProps;
  private readonly prefix: string;
  private readonly watched = new Set<Construct>();

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    this.props = props;
    this.prefix = EnvironmentContext.of(this).prefix;
    const deploy = DeployPermissions.of(this)?.release(["aws_cloudwatch_metric_alarm"]);
    deploy?.service("Alarms", {
      tagging: ["cloudwatch:TagResource"],
      untagging: ["cloudwatch:UntagResource"],
      create: ["cloudwatch:PutMetricAlarm", "cloudwatch:TagResource"],
      manage: [
        "cloudwatch:DeleteAlarms",
        "cloudwatch:DescribeAlarms",
        "cloudwatch:ListTagsForResource",
        "cloudwatch:PutMetricAlarm",
        "cloudwatch:TagResource",
        "cloudwatch:UntagResource",
      ],
      resources: deploy && [deploy.arn("cloudwatch", `alarm:${this.prefix}-*`)],
    });
  }

  /** 5xx responses as a share of all requests, counting the load balancer's own and the targets'. */
  watchLoadBalancer(loadBalancer: LoadBalancer): void {
    this.once(loadBalancer);
    this.add("LoadBalancer5xx", "http-5xx", {
      alarmDescription: `More than ${this.props.http5xxPercent} % of requests answered 5xx over 5 minutes`,
      comparisonOperator: "GreaterThanThreshold",
      threshold: this.props.http5xxPercent,
      evaluationPeriods: 1,
      treatMissingData: "notBreaching",
      metricQuery: [
        { id: "rate", expression: "100 * (elb + targets) / MAX([requests, 1])", label: "5xx %", returnData: true },
        metricQuery("elb", loadBalancer.metricHttpCodeElb5xx()),
        metricQuery("targets", loadBalancer.metricHttpCodeTarget5xx()),
        metricQuery("requests", loadBalancer.metricRequestCount()),
      ],
    });
  }

  /**
   * A service's CPU and memory, its tasks running below the desired count (when Container Insights
   * publishes task counts), and for a routed service its target group's unhealthy targets and p99
   * response time.
   */
  watchService(service: Service): void {
    this.once(service);
    const label = service.key === undefined ? "" : pascal(service.key);
    const what = service.key === undefined ? "" : `${service.key}-`;
    const usage: [id: string, metric: Metric, name: string, threshold: number][] = [
      ["Cpu", service.metricCpuUtilization({ period: 900 }), "CPU", this.props.cpuPercent],
      ["Memory", service.metricMemoryUtilization({ period: 900 }), "memory", this.props.memoryPercent],
    ];
    for (const [id, metric, name, threshold] of usage) {
      this.add(`${label}Service${id}`, `${what}${id.toLowerCase()}`, {
        ...alarmMetric(metric),
        evaluationPeriods: 1,
        alarmDescription: `The service's average ${name} above ${threshold} % over 15 minutes`,
        comparisonOperator: "GreaterThanThreshold",
        threshold,
        treatMissingData: "missing",
      });
    }
    if (service.cluster.containerInsights) {
      this.add(`${label}ServiceRunningTasks`, `${what}running-tasks`, {
        alarmDescription: "Fewer tasks running than desired for 15 minutes (crash loop, placement or image pull failures)",
        comparisonOperator: "GreaterThanThreshold",
        threshold: 0,
        evaluationPeriods: 3,
        treatMissingData: "notBreaching",
        metricQuery: [
          { id: "missing", expression: "desired - running", label: "tasks missing", returnData: true },
          metricQuery("desired", service.metricDesiredTaskCount()),
          metricQuery("running", service.metricRunningTaskCount()),
        ],
      });
    }
    const target = service.targetGroup;
    if (target) {
      this.add(`${label}ServiceUnhealthyTargets`, `${what}unhealthy-targets`, {
        ...alarmMetric(target.metricUnhealthyHostCount({ statistic: "Maximum" })),
        alarmDescription: "A target failed the load balancer's health check for 10 minutes",
        comparisonOperator: "GreaterThanThreshold",
        threshold: 0,
        evaluationPeriods: 2,
        treatMissingData: "notBreaching",
      });
      this.add(`${label}ServiceResponseTime`, `${what}p99-response-time`, {
        ...alarmMetric(target.metricTargetResponseTime({ statistic: "p99" })),
        alarmDescription: `p99 response time above ${this.props.targetP99Milliseconds} ms over 5 minutes`,
        comparisonOperator: "GreaterThanThreshold",
        threshold: this.props.targetP99Milliseconds / 1000,
        evaluationPeriods: 1,
        treatMissingData: "notBreaching",
      });
    }
  }

  /** The database's CPU, free storage, freeable memory and connections. */
  watchDatabase(database: Database): void {
    this.once(database);
    const p = this.props;
    const watches: [id: string, what: string, metric: Metric, above: boolean, threshold: number, periods: number, description: string][] = [
      [
        "DatabaseCpu",
        "db-cpu",
        database.metricCpuUtilization(),
        true,
        p.databaseCpuPercent,
        3,
        `The database's CPU above ${p.databaseCpuPercent} % over 15 minutes`,
      ],
      [
        "DatabaseFreeStorage",
        "db-free-storage",
        database.metricFreeStorageSpace(),
        false,
        p.databaseFreeStorageGb * 1024 ** 3,
        1,
        `The database's free storage below ${p.databaseFreeStorageGb} GiB`,
      ],
      [
        "DatabaseFreeMemory",
        "db-free-memory",
        database.metricFreeableMemory(),
        false,
        p.databaseFreeMemoryMb * 1024 ** 2,
        3,
        `The database's freeable memory below ${p.databaseFreeMemoryMb} MiB for 15 minutes`,
      ],
      [
        "DatabaseConnections",
        "db-connections",
        database.metricDatabaseConnections(),
        true,
        p.databaseConnections,
        1,
        `More than ${p.databaseConnections} open database connections over 5 minutes`,
      ],
    ];
    for (const [id, what, metric, above, threshold, evaluationPeriods, alarmDescription] of watches) {
      this.add(id, what, {
        ...alarmMetric(metric),
        alarmDescription,
        comparisonOperator: above ? "GreaterThanThreshold" : "LessThanThreshold",
        threshold,
        evaluationPeriods,
        treatMissingData: "missing",
      });
    }
  }

  /**
   * A worker's queue: its oldest message older than `oldestMessageAlarmSeconds` (the workers fall
   * behind, or none runs), and any message at all in its dead-letter queue (one that failed
   * `maxReceiveCount` times).
   */
  watchQueue(queue: Queue): void {
    this.once(queue);
    const { key, oldestMessageAlarmSeconds } = queue.props;
    const label = pascal(key);
    this.add(`${label}QueueOldestMessage`, `${key}-oldest-message`, {
      ...alarmMetric(queue.metricApproximateAgeOfOldestMessage()),
      evaluationPeriods: 1,
      alarmDescription: `A message has waited more than ${oldestMessageAlarmSeconds} s in the ${key} queue: the workers fall behind, or none runs`,
      comparisonOperator: "GreaterThanThreshold",
      threshold: oldestMessageAlarmSeconds,
      treatMissingData: "notBreaching",
    });
    this.add(`${label}QueueDeadLetters`, `${key}-dead-letters`, {
      ...alarmMetric(queue.metricDeadLetterMessagesVisible()),
      evaluationPeriods: 1,
      alarmDescription: `Messages in the ${key} dead-letter queue: each failed ${queue.props.maxReceiveCount} times; look at them, fix, redrive`,
      comparisonOperator: "GreaterThanThreshold",
      threshold: 0,
      treatMissingData: "notBreaching",
    });
  }

  /**
   * A scheduled job's failed runs: an EventBridge rule matches its tasks that stopped with a non-zero
   * exit code or could not start, and sends each event (task, exit code, reason) to the alarm topic; the
   * alarm on the rule's matches fires and recovers like every other. Runs the scheduler could not start
   * after its retries are the environment's `jobs-not-started` alarm (one per schedule group).
   */
  watchJob(job: Job): void {
    this.once(job);
    const { key } = job.props;
    const label = pascal(key);
    const ruleName = `${this.prefix}-${key}-failed-runs`;
    const rule = new CloudwatchEventRule(this, `${label}JobFailedRunsRule`, {
      name: ruleName,
      description: `Runs of job ${key} that exited non-zero or could not start`,
      eventPattern: jsonString({
        source: ["aws.ecs"],
        "detail-type": ["ECS Task State Change"],
        detail: {
          clusterArn: [job.props.cluster.clusterArn],
          group: [`family:${job.props.name}`],
          lastStatus: ["STOPPED"],
          $or: [{ containers: { exitCode: [{ "anything-but": 0 }] } }, { stopCode: ["TaskFailedToStart"] }],
        },
      }),
    });
    new CloudwatchEventTarget(this, `${label}JobFailedRunsTopic`, { rule: rule.name, arn: this.props.topic.topicArn });
    this.add(`${label}JobFailedRuns`, `${key}-failed-runs`, {
      // The rule is this construct's own, so its metric is described here.
      ...alarmMetric(metricOf("AWS/Events", "MatchedEvents", { RuleName: rule.name }, "Sum")),
      evaluationPeriods: 1,
      alarmDescription: `A run of job ${key} exited non-zero or could not start (the topic has the event; the logs are in /ecs/${job.props.name})`,
      comparisonOperator: "GreaterThanThreshold",
      threshold: 0,
      treatMissingData: "notBreaching",
    });
    if (!this.jobsWatched) {
      this.jobsWatched = true;
      this.add("JobsNotStarted", "jobs-not-started", {
        ...alarmMetric(job.metricInvocationDroppedCount()),
        evaluationPeriods: 1,
        alarmDescription: "EventBridge Scheduler gave up starting a job's run after its retries (retryAttempts, maxStartDelaySeconds)",
        comparisonOperator: "GreaterThanThreshold",
        threshold: 0,
        treatMissingData: "notBreaching",
      });
    }
    const deploy = DeployPermissions.of(this);
    deploy?.service("JobRules", {
      ...EVENT_RULE_GRANT,
      resources: deploy && [deploy.arn("events", `rule/${ruleName}`)],
    });
  }

  private jobsWatched = false;

  private once(watched: Construct): void {
    if (this.watched.has(watched)) throw new Error(`Alarms ${this.node.path}: ${watched.node.path} is already watched; its alarms would be made twice`);
    this.watched.add(watched);
  }

  private add(id: string, what: string, body: AlarmBody): void {
    const topic = this.props.topic.topicArn;
    this.alarms.push(
      new CloudwatchMetricAlarm(this, id, {
        ...body,
        alarmName: `${this.prefix}-${what}`,
        alarmActions: [topic],
        okActions: [topic],
      }),
    );
  }
}
