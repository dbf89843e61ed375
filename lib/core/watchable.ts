import type { Construct } from "constructs";
import type { CloudwatchMetricAlarmConfig } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { holdings, ResourceKind } from "./resource-kind";
import { alarmCost } from "../calculators/cost";

/** CloudWatch alarms: the ones the alarms construct makes from each watched construct's specs, and a worker's step scaling alarms. */
export const ALARMS = new ResourceKind({
  name: "CloudWatch alarms",
  file: __filename,
  types: ["aws_cloudwatch_metric_alarm"],
  deploy: { services: ["cloudwatch"], tag: ["cloudwatch:TagResource"], untag: ["cloudwatch:UntagResource"] },
  endpoints: ["cloudwatch"],
  price: alarmCost,
  inventory: async (aws) =>
    holdings(
      "cloudwatch",
      "alarm",
      ((await aws("cloudwatch", "DescribeAlarms")).MetricAlarms ?? []).map((a: { AlarmName?: string }) => a.AlarmName),
    ),
  alarms: { why: "they are the alarms; one stuck in INSUFFICIENT_DATA shows on the dashboard's alarm status" },
});

/** The thresholds an environment sets (`alarms` settings), as the watched constructs read them. */
export interface AlarmThresholds {
  readonly http5xxPercent: number;
  readonly targetP99Milliseconds: number;
  readonly cpuPercent: number;
  readonly memoryPercent: number;
  readonly databaseCpuPercent: number;
  readonly databaseFreeStorageGb: number;
  readonly databaseFreeMemoryMb: number;
  readonly databaseConnections: number;
}

/** An alarm as a construct describes it: everything but its name and where it reports, which the alarms add. */
export type AlarmBody = Omit<CloudwatchMetricAlarmConfig, "alarmName" | "alarmActions" | "okActions">;

/** One alarm a construct asks for on its own metrics. */
export interface AlarmSpec {
  /** Its construct id under the alarms (`ServiceCpu`, `AdminServiceCpu`): kept, so no deployed alarm is replaced. */
  readonly id: string;
  /** Its name after the environment's prefix: `<prefix>-<what>` (`cpu`, `admin-cpu`). */
  readonly what: string;
  readonly body: AlarmBody;
}

/** What a watched construct is given besides the thresholds: where anything else it needs for its alarms goes. */
export interface AlarmWatcher {
  /** The construct its alarms' own resources are made under (an EventBridge rule that feeds an alarm). */
  readonly scope: Construct;
  /** `<project>-<environment>`: the start of every alarm and rule name. */
  readonly prefix: string;
  /** The topic alarms report to, for a rule that reports there too. */
  readonly topicArn: string;
  /** True the first time it is asked for `key`: an alarm shared by every construct of a kind (one per schedule group). */
  first(key: string): boolean;
}

/**
 * A construct that can be watched: it says which of its metrics deserve an alarm, with the environment's
 * thresholds, as aws-cdk's constructs describe their metrics (`metricCpuUtilization()`); the alarms
 * construct (lib/observability/alarms.ts) names them, reports them to the topic and shows them on the
 * dashboard. A new kind of resource brings its alarms where it is written: `alarms.watch(it)`.
 */
export interface IWatchable extends Construct {
  alarmSpecs(thresholds: AlarmThresholds, watcher: AlarmWatcher): AlarmSpec[];
}
