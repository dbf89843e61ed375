/**
 * What an environment's plan must create, said by its settings: no table written by hand, so a fork
 * that adds a service, a job, a zone or an environment expects the right counts without editing this.
 * Only counts that follow from the settings alone are here, each with why it holds (read from
 * stacks/api-stack.ts and the constructs it builds); the plan test compares every other type with the
 * synthesized Terraform itself (`countDifferences`), so nothing goes unchecked.
 */
import type { EnvironmentConfig } from "../../lib/settings/environment/schema";
import { INTERFACE_ENDPOINT_SERVICES } from "../../lib/network/vpc-endpoints";

/** A count the settings imply, and why. */
export interface ExpectedCount {
  readonly count: number;
  readonly why: string;
}

const list = (names: readonly string[]) => (names.length ? names.join(", ") : "none");

/** The counts of resource types that follow from an environment's settings (as `parseSettings` completes them). */
export function expectedCreates(config: EnvironmentConfig): Record<string, ExpectedCount> {
  const services = config.allServices;
  const named = (entries: readonly { readonly key?: string }[]) => entries.map((s) => (s.key === undefined ? "the default API" : `services.${s.key}`));
  const routed = services.filter((s) => s.route !== undefined);
  const ruled = services.filter((s) => s.route?.rule !== undefined);
  const scaled = services.filter((s) => s.autoscaling.enabled);
  const queued = services.filter((s) => s.queue !== undefined);
  const jobs = config.allJobs.map((j) => `jobs.${j.key}`);
  const zones = config.availabilityZones.length;
  const nat = { none: 0, single: 1, "per-az": zones }[config.network.natMode];
  const database = config.database.enabled ? 1 : 0;
  const https = config.loadBalancer.https;
  const ec2 = config.compute.mode === "ec2" ? 1 : 0;
  const alarms = config.alarms.enabled;
  return {
    // Network (lib/network/network.ts): one VPC, a public and a private subnet in each zone, one public
    // route table and one private per zone, each subnet associated with its table.
    aws_vpc: { count: 1, why: "one VPC per environment" },
    aws_subnet: { count: 2 * zones, why: `a public and a private subnet in each of ${zones} zones` },
    aws_route_table: { count: 1 + zones, why: `the public route table and a private one per zone (${zones})` },
    aws_route_table_association: { count: 2 * zones, why: `each of the ${2 * zones} subnets with its route table` },
    // natMode: none 0, single 1, per-az one per zone; each gateway has its own address (no other
    // construct allocates one), and each private table then routes out through one.
    aws_nat_gateway: { count: nat, why: `network.natMode "${config.network.natMode}" over ${zones} zones` },
    aws_eip: { count: nat, why: "one address per NAT gateway" },
    aws_route: {
      count: 1 + (nat ? zones : 0),
      why: `the public default route${nat ? `, and a default route per private table (${zones})` : " (no NAT gateway: no private route)"}`,
    },
    // network.endpoints: an interface endpoint per service of INTERFACE_ENDPOINT_SERVICES and the S3 gateway.
    aws_vpc_endpoint: {
      count: config.network.endpoints ? INTERFACE_ENDPOINT_SERVICES.length + 1 : 0,
      why: config.network.endpoints ? `network.endpoints: ${INTERFACE_ENDPOINT_SERVICES.join(", ")} and the S3 gateway` : "network.endpoints is off",
    },
    // Services (buildService in stacks/api-stack.ts): the default API and each of `services` get an ECS
    // service and a task definition; each job (buildJob) a task definition of its own, run by its schedule.
    aws_ecs_service: { count: services.length, why: `one per service: ${list(named(services))}` },
    aws_ecs_task_definition: { count: services.length + jobs.length, why: `one per service and per job: ${list([...named(services), ...jobs])}` },
    // Each routed service is a target group (the default API's takes the listener's default action); each
    // routed service beside it, a listener rule.
    aws_lb_target_group: { count: routed.length, why: `one per routed service: ${list(named(routed))}` },
    aws_lb_listener_rule: { count: ruled.length, why: `one per routed service beside the default API: ${list(named(ruled))}` },
    aws_appautoscaling_target: { count: scaled.length, why: `one per service with autoscaling enabled: ${list(named(scaled))}` },
    // A queue-fed worker owns its queue and that queue's dead-letter queue (lib/workers/queue.ts).
    aws_sqs_queue: { count: 2 * queued.length, why: `a queue and its dead-letter queue per queue-fed worker: ${list(named(queued))}` },
    aws_scheduler_schedule: { count: jobs.length, why: `one per job: ${list(jobs)}` },
    aws_scheduler_schedule_group: { count: jobs.length ? 1 : 0, why: jobs.length ? "the environment's group, for its jobs" : "no jobs" },
    aws_ecs_cluster: { count: 1, why: "every service and job shares the environment's cluster" },
    // compute.mode "ec2": one Auto Scaling group of instances from one launch template, one capacity provider.
    aws_autoscaling_group: { count: ec2, why: `compute.mode "${config.compute.mode}"` },
    aws_launch_template: { count: ec2, why: `compute.mode "${config.compute.mode}"` },
    aws_ecs_capacity_provider: { count: ec2, why: `compute.mode "${config.compute.mode}"` },
    // The database (lib/database/database.ts) with its own key beside the environment's.
    aws_db_instance: { count: database, why: `database.enabled is ${config.database.enabled}` },
    aws_db_subnet_group: { count: database, why: `database.enabled is ${config.database.enabled}` },
    aws_db_parameter_group: { count: database, why: `database.enabled is ${config.database.enabled}` },
    aws_kms_key: { count: 1 + database, why: `the environment's key${database ? ", and the database's" : " (no database, so no key of its own)"}` },
    // Edge (lib/edge/load-balancer.ts): HTTP alone, or HTTPS with the HTTP redirect beside it; a new
    // DNS-validated certificate unless https gives an existing one's ARN.
    aws_lb: { count: 1, why: "one load balancer per environment" },
    aws_lb_listener: { count: https ? 2 : 1, why: https ? "loadBalancer.https: HTTPS and the HTTP redirect" : "no loadBalancer.https: HTTP only" },
    aws_acm_certificate: {
      count: https && https.certificateArn === undefined ? 1 : 0,
      why: https
        ? https.certificateArn === undefined
          ? "loadBalancer.https.domainName: a new certificate"
          : "loadBalancer.https.certificateArn: an existing certificate"
        : "no loadBalancer.https",
    },
    aws_s3_bucket: {
      count: config.loadBalancer.accessLogs ? 1 : 0,
      why: `loadBalancer.accessLogs is ${config.loadBalancer.accessLogs} (the only bucket the stack makes)`,
    },
    aws_wafv2_web_acl: { count: config.waf.enabled ? 1 : 0, why: `waf.enabled is ${config.waf.enabled}` },
    aws_ecr_repository: { count: 1, why: "one repository per environment: every service runs its release" },
    // Observability: the alarm topic (the only SNS topic) and dashboard with alarms; the budget.
    aws_sns_topic: { count: alarms ? 1 : 0, why: `alarms.enabled is ${alarms}` },
    aws_cloudwatch_dashboard: {
      count: alarms && config.alarms.dashboard ? 1 : 0,
      why: `alarms.enabled is ${alarms}, alarms.dashboard ${config.alarms.dashboard}`,
    },
    aws_budgets_budget: { count: config.budget.enabled ? 1 : 0, why: `budget.enabled is ${config.budget.enabled}` },
    // CI access (lib/ci/ci-access.ts): GitHub's OIDC provider, unless ci names an existing one.
    aws_iam_openid_connect_provider: {
      count: config.ci && config.ci.oidcProviderArn === undefined ? 1 : 0,
      why: config.ci ? (config.ci.oidcProviderArn === undefined ? "ci is set, with no oidcProviderArn" : "ci.oidcProviderArn: an existing provider") : "no ci",
    },
  };
}

/**
 * Each resource type whose count differs between two counts, sorted, said as
 * `aws_ecs_service: planned 3, synthesized 2`: a failing `toEqual([])` names the types.
 */
export function countDifferences(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>, names: readonly [string, string]): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])]
    .sort()
    .filter((type) => (a[type] ?? 0) !== (b[type] ?? 0))
    .map((type) => `${type}: ${names[0]} ${a[type] ?? 0}, ${names[1]} ${b[type] ?? 0}`);
}

/** Each expected count that `counts` (a plan's creates, or what was synthesized: `what`) misses, said with why the settings imply it. */
export function unmetExpectations(counts: Readonly<Record<string, number>>, expected: Readonly<Record<string, ExpectedCount>>, what = "planned"): string[] {
  return Object.entries(expected)
    .filter(([type, { count }]) => (counts[type] ?? 0) !== count)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([type, { count, why }]) => `${type}: ${what} ${counts[type] ?? 0}, the settings say ${count} (${why})`);
}
