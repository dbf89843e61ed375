/**
 * A CloudWatch metric as plain data, as aws-cdk's `service.metricCpuUtilization()`: the construct that
 * owns a resource knows its namespace and dimensions, so alarms, dashboards and scaling policies ask it
 * instead of rebuilding them from names or construct ids.
 */
export interface Metric {
  readonly namespace: string;
  readonly metricName: string;
  /** In the order written, which is the order Terraform and CloudWatch are given them. */
  readonly dimensions: Readonly<Record<string, string>>;
  /** `Average`, `Sum`, `Minimum`, `Maximum`, `SampleCount`, or a percentile such as `p99`. */
  readonly statistic: string;
  /** Seconds. */
  readonly period: number;
}

/** What a caller may change of a construct's metric. */
export interface MetricOptions {
  /** @default the metric's own (see each method) */
  readonly statistic?: string;
  /** Seconds. @default 300 */
  readonly period?: number;
}

/** A metric of a construct's resource: its defaults, then what the caller asked for. */
export function metricOf(
  namespace: string,
  metricName: string,
  dimensions: Readonly<Record<string, string>>,
  statistic: string,
  options: MetricOptions = {},
): Metric {
  return { namespace, metricName, dimensions, statistic: options.statistic ?? statistic, period: options.period ?? 300 };
}

const PERCENTILE = /^p\d+(\.\d+)?$/;

/** The metric as a metric alarm's own fields: a percentile is an extended statistic there. */
export function alarmMetric(metric: Metric) {
  const { namespace, metricName, dimensions, period, statistic } = metric;
  return {
    namespace,
    metricName,
    dimensions: { ...dimensions },
    period,
    ...(PERCENTILE.test(statistic) ? { extendedStatistic: statistic } : { statistic }),
  };
}

/** The metric as one input of a metric alarm's math (`metric_query`), named `id` in its expression. */
export function metricQuery(id: string, metric: Metric) {
  const { namespace, metricName, dimensions, period, statistic } = metric;
  return { id, metric: { namespace, metricName, dimensions: { ...dimensions }, period, stat: statistic } };
}

/** The metric as a target tracking policy's customized metric, which takes no period (the policy's own). */
export function scalingMetricStat(metric: Metric) {
  const { namespace, metricName, dimensions, statistic } = metric;
  return { metric: { namespace, metricName, dimensions: Object.entries(dimensions).map(([name, value]) => ({ name, value })) }, stat: statistic };
}
