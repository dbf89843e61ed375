/**
 * What an environment costs a month while it runs, from its synthesized Terraform: the charges that
 * accrue by the hour or the month whatever the traffic (load balancer, NAT, public IPv4, tasks,
 * instances, database, keys, secrets, alarms, dashboard, WAF, endpoints, the budget), at us-east-1 list
 * prices. Usage charges (requests, LCUs, data processed and transferred, log ingestion, image storage)
 * are left out: an idle sandbox runs up cents of them, a busy prod what its traffic says.
 *
 * Used by `npm run cost` (scripts/cost.ts) and by synth, which warns when an environment's estimate
 * passes its `budget.monthlyUsd` (lib/observability/budget.ts).
 */

import { runsPerMonth } from "./schedule-expression";

/** Hours AWS bills in a month. */
export const HOURS_PER_MONTH = 730;

/**
 * us-east-1 list prices in USD, on-demand, without free tiers, as published on 2026-11-01. Fargate Spot
 * is counted at half the on-demand price, the least of the discounts AWS quotes (50 to 70 %).
 */
export const PRICES = {
  loadBalancerHour: 0.0225,
  natGatewayHour: 0.045,
  publicIpv4Hour: 0.005,
  fargate: {
    X86_64: { vcpuHour: 0.04048, gbHour: 0.004445 },
    ARM64: { vcpuHour: 0.03238, gbHour: 0.00356 },
  },
  fargateSpotShare: 0.5,
  /** On-demand Linux instances; others are shown unpriced. */
  ec2Hour: {
    "t3.medium": 0.0416,
    "t3.large": 0.0832,
    "t4g.medium": 0.0336,
    "t4g.large": 0.0672,
    "m6i.large": 0.096,
    "m7g.large": 0.0816,
    "c6i.large": 0.085,
  } as Record<string, number>,
  /** Single-AZ PostgreSQL; Multi-AZ doubles instance and storage. Others are shown unpriced. */
  rdsHour: {
    "db.t4g.micro": 0.016,
    "db.t4g.small": 0.032,
    "db.t4g.medium": 0.065,
    "db.t4g.large": 0.129,
    "db.t3.micro": 0.018,
    "db.t3.small": 0.036,
    "db.t3.medium": 0.072,
    "db.m7g.large": 0.168,
    "db.r7g.large": 0.239,
  } as Record<string, number>,
  rdsStorageGbMonth: { gp2: 0.115, gp3: 0.115 } as Record<string, number>,
  kmsKeyMonth: 1,
  secretMonth: 0.4,
  /** Per metric an alarm evaluates (a metric-math alarm pays for each metric in its expression). */
  alarmMetricMonth: 0.1,
  dashboardMonth: 3,
  /** Container Insights metrics are custom metrics. */
  customMetricMonth: 0.3,
  wafWebAclMonth: 5,
  wafRuleMonth: 1,
  /** An interface endpoint, per AZ it serves. */
  interfaceEndpointHour: 0.01,
  /** An AWS Budgets budget beyond the account's first two, which are free. */
  budgetDay: 0.02,
  /** SQS standard queue requests (a send, a receive and a delete each per message; an empty long poll is one). */
  sqsRequestPerMillion: 0.4,
  /** EventBridge Scheduler invocations. */
  schedulerInvocationPerMillion: 1,
  /** AWS X-Ray (https://aws.amazon.com/xray/pricing/): traces recorded, and retrieved or scanned, beyond the first 100,000 and 1,000,000 a month free. */
  xrayTracesRecordedPerMillion: 5,
  xrayTracesRetrievedPerMillion: 0.5,
} as const;

/** A long-polling consumer's receives a month while idle: one per 20 s wait. */
export const IDLE_RECEIVES_PER_TASK_MONTH = 3 * 60 * HOURS_PER_MONTH;
/** Minutes a job's run is counted for when its schedule's description does not say (lib/workers/job.ts writes `about N min a run`). */
export const DEFAULT_JOB_MINUTES = 5;

/**
 * Container Insights (not enhanced) metrics, approximately: the cluster's own, and each service's with its
 * task family's. The exact count varies with what runs; the line says "about".
 */
const INSIGHTS_METRICS = { cluster: 12, service: 22 };

export interface CostLine {
  readonly item: string;
  /** USD a month; undefined when the price is not in `PRICES`. */
  readonly monthly: number | undefined;
  /** How it was counted. */
  readonly detail: string;
}

export interface CostEstimate {
  readonly lines: readonly CostLine[];
  /** The sum of the priced lines. */
  readonly total: number;
  /** Items without a price here, so the total leaves them out. */
  readonly unpriced: readonly string[];
}

type Block = Record<string, unknown>;
/** A synthesized stack (`cdk.tf.json`) as the prices read it. */
export type SynthesizedTerraform = { resource?: Record<string, Record<string, Block>> };

const month = (hourly: number) => hourly * HOURS_PER_MONTH;
const round = (usd: number) => Math.round(usd * 100) / 100;

/** A stack's resources of a type, and the resource a `${type.id.attribute}` reference names. */
function resourcesOf(terraform: SynthesizedTerraform) {
  const resources = terraform.resource ?? {};
  return {
    all: (type: string): Block[] => Object.values(resources[type] ?? {}),
    entries: (type: string): [string, Block][] => Object.entries(resources[type] ?? {}),
    referenced: (type: string, reference: unknown): Block | undefined => {
      const id = typeof reference === "string" ? new RegExp(`^\\$\\{${type}\\.([^.]+)\\.`).exec(reference)?.[1] : undefined;
      return id === undefined ? undefined : resources[type]?.[id];
    },
  };
}

const line = (item: string, monthly: number | undefined, detail: string): CostLine => ({
  item,
  monthly: monthly === undefined ? undefined : round(monthly),
  detail,
});

/**
 * The monthly charges of a synthesized stack (`cdk.tf.json`), line by line: each kind's price
 * (`ResourceKind.price`, lib/core/resource-kind.ts; `pricesOf()` gives the loaded kinds'), in the order given.
 */
export function estimateMonthlyCost(terraform: SynthesizedTerraform, prices: readonly ((terraform: SynthesizedTerraform) => CostLine[])[]): CostEstimate {
  const lines = prices.flatMap((price) => price(terraform));
  const priced = lines.filter((l) => l.monthly !== undefined);
  return {
    lines,
    total: round(priced.reduce((sum, l) => sum + l.monthly!, 0)),
    unpriced: lines.filter((l) => l.monthly === undefined).map((l) => l.item),
  };
}

/** Application Load Balancers by the hour. */
export function loadBalancerCost(terraform: SynthesizedTerraform): CostLine[] {
  const loadBalancers = resourcesOf(terraform).all("aws_lb");
  return loadBalancers.length
    ? [
        line(
          "Application Load Balancer",
          loadBalancers.length * month(PRICES.loadBalancerHour),
          `${loadBalancers.length} × $${PRICES.loadBalancerHour}/h, plus LCUs by traffic`,
        ),
      ]
    : [];
}

/** NAT gateways by the hour, and every public IPv4 address the network's parts hold. */
export function networkCost(terraform: SynthesizedTerraform): CostLine[] {
  const { all } = resourcesOf(terraform);
  const lines: CostLine[] = [];
  const nats = all("aws_nat_gateway").length;
  if (nats) lines.push(line("NAT gateways", nats * month(PRICES.natGatewayHour), `${nats} × $${PRICES.natGatewayHour}/h, plus $0.045/GB processed`));
  // AWS bills every public IPv4 address: one per AZ of an internet-facing load balancer, each NAT's
  // Elastic IP, and each task given a public IP (tasks without a NAT).
  const lbAddresses = all("aws_lb")
    .filter((lb) => lb.internal !== true)
    .reduce((n, lb) => n + ((lb.subnets as unknown[]) ?? []).length, 0);
  const eips = all("aws_eip").length;
  const taskAddresses = all("aws_ecs_service").reduce(
    (n, s) => n + ((s.network_configuration as Block | undefined)?.assign_public_ip === true ? Number(s.desired_count ?? 0) : 0),
    0,
  );
  const addresses = lbAddresses + eips + taskAddresses;
  if (addresses)
    lines.push(
      line(
        "Public IPv4 addresses",
        addresses * month(PRICES.publicIpv4Hour),
        `${lbAddresses} load balancer, ${eips} NAT, ${taskAddresses} task; $${PRICES.publicIpv4Hour}/h each`,
      ),
    );
  return lines;
}

/**
 * A task definition's containers. `cdktf synth --hcl` keeps them as a `${jsonencode(...)}` expression, which
 * is no JSON: none is read from it, so only the informational collector line is left out (its share is
 * inside the Fargate lines either way).
 */
function containerDefinitions(value: unknown): { name?: string; cpu?: number; memory?: number }[] {
  const text = String(value ?? "[]");
  if (!text.startsWith("[")) return [];
  return JSON.parse(text) as { name?: string; cpu?: number; memory?: number }[];
}

/** The Fargate tasks each service keeps running, and what tracing them adds (X-Ray by traffic). */
export function serviceCost(terraform: SynthesizedTerraform): CostLine[] {
  const { all, referenced } = resourcesOf(terraform);
  const lines: CostLine[] = [];
  const services = all("aws_ecs_service");
  for (const service of services) {
    const task = referenced("aws_ecs_task_definition", service.task_definition);
    const desired = Number(service.desired_count ?? 0);
    if (!task || desired === 0) continue;
    const strategy = (service.capacity_provider_strategy as { capacity_provider: string; base?: number; weight?: number }[] | undefined) ?? [];
    if (!strategy.some((s) => s.capacity_provider.startsWith("FARGATE"))) continue; // EC2 capacity: the instances are the cost
    const arch = ((task.runtime_platform as Block | undefined)?.cpu_architecture as "X86_64" | "ARM64" | undefined) ?? "X86_64";
    const vcpu = Number(task.cpu) / 1024;
    const gb = Number(task.memory) / 1024;
    const price = PRICES.fargate[arch];
    const perTask = month(vcpu * price.vcpuHour + gb * price.gbHour);
    const { onDemand, spot } = fargateSplit(desired, strategy);
    lines.push(
      line(
        `Fargate: ${service.name}`,
        onDemand * perTask + spot * perTask * PRICES.fargateSpotShare,
        `${desired} × ${vcpu} vCPU / ${gb} GB ${arch} (${onDemand} on-demand, ${spot} Spot at ${PRICES.fargateSpotShare * 100} %)`,
      ),
    );
  }

  // Tracing (issue 34): the collector sidecar runs inside each task's size, so its share is already in the Fargate lines; X-Ray bills per trace.
  const traced = services.flatMap((service) => {
    const task = referenced("aws_ecs_task_definition", service.task_definition);
    const containers = containerDefinitions(task?.container_definitions);
    const collector = containers.find((c) => c.name === "otel-collector");
    if (!task || !collector || Number(service.desired_count ?? 0) === 0) return [];
    const arch = ((task.runtime_platform as Block | undefined)?.cpu_architecture as "X86_64" | "ARM64" | undefined) ?? "X86_64";
    const price = PRICES.fargate[arch];
    return [
      {
        tasks: Number(service.desired_count),
        share: month((Number(collector.cpu ?? 0) / 1024) * price.vcpuHour + (Number(collector.memory ?? 0) / 1024) * price.gbHour),
      },
    ];
  });
  if (traced.length) {
    const tasks = traced.reduce((n, t) => n + t.tasks, 0);
    const share = traced.reduce((n, t) => n + t.tasks * t.share, 0);
    lines.push(
      line(
        "X-Ray traces",
        0,
        `by traffic: $${PRICES.xrayTracesRecordedPerMillion} per million traces recorded (100,000 a month free), $${PRICES.xrayTracesRetrievedPerMillion} per million retrieved or scanned; the ${tasks} tasks' collector sidecars take $${share.toFixed(2)} of the Fargate lines above (on-demand), nothing more`,
      ),
    );
  }
  return lines;
}

/** The EC2 instances an Auto Scaling group keeps at least. */
export function instanceCost(terraform: SynthesizedTerraform): CostLine[] {
  const { all, referenced } = resourcesOf(terraform);
  return all("aws_autoscaling_group").map((group) => {
    const template = referenced("aws_launch_template", (group.launch_template as Block | undefined)?.id);
    const type = String(template?.instance_type);
    const count = Number(group.min_size ?? 0);
    const hourly = PRICES.ec2Hour[type];
    return line(
      `EC2 instances: ${group.name}`,
      hourly === undefined ? undefined : count * month(hourly),
      `at least ${count} × ${type}${hourly === undefined ? ", not priced here" : ` at $${hourly}/h`}; more as tasks scale`,
    );
  });
}

/** Each database instance and its storage (twice for Multi-AZ), and the master secrets RDS manages. */
export function databaseCost(terraform: SynthesizedTerraform): CostLine[] {
  const { all } = resourcesOf(terraform);
  const lines: CostLine[] = [];
  const instances = all("aws_db_instance");
  for (const db of instances) {
    const copies = db.multi_az === true ? 2 : 1;
    const klass = String(db.instance_class);
    const hourly = PRICES.rdsHour[klass];
    lines.push(
      line(
        `RDS: ${db.identifier}`,
        hourly === undefined ? undefined : copies * month(hourly),
        `${klass}${copies === 2 ? ", Multi-AZ (×2)" : ""}${hourly === undefined ? ", not priced here" : ` at $${hourly}/h`}`,
      ),
    );
    const storage = String(db.storage_type ?? "gp3");
    const gb = Number(db.allocated_storage);
    const perGb = PRICES.rdsStorageGbMonth[storage];
    lines.push(
      line(
        `RDS storage: ${db.identifier}`,
        perGb === undefined ? undefined : copies * gb * perGb,
        `${gb} GB ${storage}${copies === 2 ? " ×2" : ""}; grows to max_allocated_storage when needed`,
      ),
    );
  }
  const secrets = instances.filter((db) => db.manage_master_user_password === true).length;
  if (secrets) lines.push(line("Secrets Manager secrets", secrets * PRICES.secretMonth, `${secrets} × $${PRICES.secretMonth}`));
  return lines;
}

/** Customer managed keys by the month. */
export function keyCost(terraform: SynthesizedTerraform): CostLine[] {
  const keys = resourcesOf(terraform).all("aws_kms_key").length;
  return keys ? [line("KMS keys", keys * PRICES.kmsKeyMonth, `${keys} × $${PRICES.kmsKeyMonth}`)] : [];
}

/** Alarms by the metrics they evaluate. */
export function alarmCost(terraform: SynthesizedTerraform): CostLine[] {
  const alarms = resourcesOf(terraform).all("aws_cloudwatch_metric_alarm");
  const alarmMetrics = alarms.reduce((n, a) => n + (Array.isArray(a.metric_query) ? (a.metric_query as Block[]).filter((q) => q.metric).length : 1), 0);
  return alarms.length
    ? [line("CloudWatch alarms", alarmMetrics * PRICES.alarmMetricMonth, `${alarms.length} alarms on ${alarmMetrics} metrics × $${PRICES.alarmMetricMonth}`)]
    : [];
}

/** Dashboards by the month. */
export function dashboardCost(terraform: SynthesizedTerraform): CostLine[] {
  const dashboards = resourcesOf(terraform).all("aws_cloudwatch_dashboard").length;
  return dashboards
    ? [line("CloudWatch dashboards", dashboards * PRICES.dashboardMonth, `${dashboards} × $${PRICES.dashboardMonth} (an account's first three are free)`)]
    : [];
}

/** Container Insights' custom metrics: the cluster's and each service's. */
export function clusterCost(terraform: SynthesizedTerraform): CostLine[] {
  const { all } = resourcesOf(terraform);
  const insightsClusters = all("aws_ecs_cluster").filter((c) =>
    ((c.setting as Block[] | undefined) ?? []).some((s) => s.name === "containerInsights" && s.value === "enabled"),
  );
  if (!insightsClusters.length) return [];
  const metrics = insightsClusters.length * INSIGHTS_METRICS.cluster + all("aws_ecs_service").length * INSIGHTS_METRICS.service;
  return [line("Container Insights", metrics * PRICES.customMetricMonth, `about ${metrics} custom metrics × $${PRICES.customMetricMonth}`)];
}

/** Each web ACL and its rules by the month. */
export function webAclCost(terraform: SynthesizedTerraform): CostLine[] {
  return resourcesOf(terraform)
    .all("aws_wafv2_web_acl")
    .map((acl) => {
      const rules = ((acl.rule as unknown[]) ?? []).length;
      return line(
        `WAF: ${acl.name}`,
        PRICES.wafWebAclMonth + rules * PRICES.wafRuleMonth,
        `web ACL $${PRICES.wafWebAclMonth} + ${rules} rules × $${PRICES.wafRuleMonth}, plus $0.60 per million requests`,
      );
    });
}

/** Budgets by the day. */
export function budgetCost(terraform: SynthesizedTerraform): CostLine[] {
  const budgets = resourcesOf(terraform).all("aws_budgets_budget").length;
  return budgets
    ? [line("AWS Budgets", budgets * month(PRICES.budgetDay / 24), `${budgets} × $${PRICES.budgetDay} a day (an account's first two budgets are free)`)]
    : [];
}

/** Interface endpoints by the hour, per AZ each serves. */
export function endpointCost(terraform: SynthesizedTerraform): CostLine[] {
  const interfaceEndpoints = resourcesOf(terraform)
    .all("aws_vpc_endpoint")
    .filter((e) => e.vpc_endpoint_type === "Interface");
  const endpointAzs = interfaceEndpoints.reduce((n, e) => n + ((e.subnet_ids as unknown[]) ?? []).length, 0);
  return endpointAzs
    ? [
        line(
          "VPC interface endpoints",
          endpointAzs * month(PRICES.interfaceEndpointHour),
          `${interfaceEndpoints.length} endpoints in ${endpointAzs / interfaceEndpoints.length} AZs × $${PRICES.interfaceEndpointHour}/h, plus $0.01/GB`,
        ),
      ]
    : [];
}

/**
 * Queues (issue 23): SQS bills requests only. Counted here: the idle long polling of the tasks a worker
 * keeps running (none when it scales to zero); each message adds its send, receive and delete.
 */
export function queueCost(terraform: SynthesizedTerraform): CostLine[] {
  const { all, entries, referenced } = resourcesOf(terraform);
  const services = all("aws_ecs_service");
  return entries("aws_sqs_queue")
    .filter(([, q]) => q.redrive_policy)
    .map(([id, queue]) => {
      const consumes = (s: Block) =>
        String(referenced("aws_ecs_task_definition", s.task_definition)?.container_definitions ?? "").includes(
          `"name":"QUEUE_URL","value":"\${aws_sqs_queue.${id}.url}"`,
        );
      const pollers = services.filter(consumes).reduce((n, s) => n + Number(s.desired_count ?? 0), 0);
      const receives = pollers * IDLE_RECEIVES_PER_TASK_MONTH;
      return line(
        `SQS: ${queue.name}`,
        (receives * PRICES.sqsRequestPerMillion) / 1e6,
        `${pollers} polling task${pollers === 1 ? "" : "s"} × ${IDLE_RECEIVES_PER_TASK_MONTH.toLocaleString("en-US")} idle receives; $${PRICES.sqsRequestPerMillion} per million requests, 3 a message`,
      );
    });
}

/** Scheduled jobs: each run's Fargate minutes and its invocation, at the runs its expression makes. */
export function scheduledJobCost(terraform: SynthesizedTerraform): CostLine[] {
  const { all, referenced } = resourcesOf(terraform);
  const lines: CostLine[] = [];
  for (const schedule of all("aws_scheduler_schedule")) {
    const ecs = (schedule.target as Block | undefined)?.ecs_parameters as Block | undefined;
    const task = referenced("aws_ecs_task_definition", ecs?.task_definition_arn);
    if (!ecs || !task) continue;
    const runs = schedule.state === "DISABLED" ? 0 : runsPerMonth(String(schedule.schedule_expression));
    const minutes = Number(/about (\d+) min a run/.exec(String(schedule.description ?? ""))?.[1] ?? DEFAULT_JOB_MINUTES);
    const strategy = (ecs.capacity_provider_strategy as { capacity_provider: string; base?: number; weight?: number }[] | undefined) ?? [];
    const arch = ((task.runtime_platform as Block | undefined)?.cpu_architecture as "X86_64" | "ARM64" | undefined) ?? "X86_64";
    const vcpu = Number(task.cpu) / 1024;
    const gb = Number(task.memory) / 1024;
    const price = PRICES.fargate[arch];
    const spot = strategy.length > 0 && fargateSplit(1, strategy).spot === 1;
    const perRun = (minutes / 60) * (vcpu * price.vcpuHour + gb * price.gbHour) * (spot ? PRICES.fargateSpotShare : 1);
    lines.push(
      line(
        `Scheduled job: ${schedule.name}`,
        runs * perRun + (runs * PRICES.schedulerInvocationPerMillion) / 1e6,
        `about ${Math.round(runs)} runs × ${minutes} min of ${vcpu} vCPU / ${gb} GB ${arch}${spot ? " on Spot" : ""} (${schedule.schedule_expression}), plus $${PRICES.schedulerInvocationPerMillion} per million invocations`,
      ),
    );
  }
  return lines;
}

/** How ECS places `desired` tasks by a capacity provider strategy: each base first, the rest by weight. */
export function fargateSplit(
  desired: number,
  strategy: readonly { capacity_provider: string; base?: number; weight?: number }[],
): { onDemand: number; spot: number } {
  const of = (name: string) => strategy.find((s) => s.capacity_provider === name);
  const onDemandBase = Math.min(desired, of("FARGATE")?.base ?? 0);
  const rest = desired - onDemandBase;
  const [w1, w2] = [of("FARGATE")?.weight ?? 0, of("FARGATE_SPOT")?.weight ?? 0];
  const onDemandShare = w1 + w2 === 0 ? 1 : w1 / (w1 + w2);
  const onDemand = onDemandBase + Math.round(rest * onDemandShare);
  return { onDemand, spot: desired - onDemand };
}

/** The priced lines, most expensive first. */
export function largestLines(estimate: CostEstimate, count: number): CostLine[] {
  return [...estimate.lines]
    .filter((l) => l.monthly)
    .sort((a, b) => b.monthly! - a.monthly!)
    .slice(0, count);
}
