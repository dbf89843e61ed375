import { Construct } from "constructs";
import { DeployPermissions } from "../core/deploy-permissions";
import { ALARMS } from "../core/watchable";
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import * as z from "zod/mini";
import type { AlarmTopic } from "./alarm-topic";
import { fail, flag, int, withDefault } from "../settings/rules";
import { EnvironmentContext } from "../core/environment";
import type { AlarmBody, AlarmWatcher, IWatchable } from "../core/watchable";

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

/**
 * The environment's CloudWatch alarms, each reporting to the alarm topic when it fires and when it
 * recovers. Constructs are watched by handing them over (`alarms.watch(service)`); each says which of
 * its metrics deserve an alarm (`IWatchable.alarmSpecs`, lib/core/watchable.ts), so an alarm follows that
 * construct's own resource, and is named `<prefix>-[<key>-]<what>` after the construct's key, not its
 * construct id.
 */
export class Alarms extends Construct implements AlarmWatcher {
  /** Every alarm, in the order made (the dashboard shows them so). */
  readonly alarms: CloudwatchMetricAlarm[] = [];
  private readonly props: AlarmsProps;
  readonly prefix: string;
  private readonly watched = new Set<Construct>();

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    this.props = props;
    this.prefix = EnvironmentContext.of(this).prefix;
    const deploy = DeployPermissions.of(this)?.release(["aws_cloudwatch_metric_alarm"]);
    deploy?.service("Alarms", {
      kind: ALARMS,
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

  /**
   * Watches a construct: the alarms it asks for on its own metrics (`alarmSpecs`), with this environment's
   * thresholds, each named `<prefix>-<what>` and reporting to the topic. Every watchable construct is watched
   * the same way: the load balancer, each service, the database, each queue, each job, and your own.
   */
  watch(watched: IWatchable): void {
    this.once(watched);
    for (const { id, what, body } of watched.alarmSpecs(this.props, this)) this.add(id, what, body);
  }

  /** The construct a watched construct's own resources for its alarms are made under (AlarmWatcher). */
  get scope(): Construct {
    return this;
  }

  get topicArn(): string {
    return this.props.topic.topicArn;
  }

  /** True the first time `key` is asked for: an alarm shared by every construct of a kind. */
  first(key: string): boolean {
    if (this.shared.has(key)) return false;
    this.shared.add(key);
    return true;
  }

  private readonly shared = new Set<string>();

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
