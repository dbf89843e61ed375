import { dev, prod } from "./environments";
import { SettingError } from "../lib/settings/validate";
import type { EnvironmentSettings } from "./settings";

/** What a variant is made of: its base environment and what it changes, for messages that name it. */
interface VariantOrigin {
  readonly base: string;
  /** The sections it changes, e.g. `database`, `task`. */
  readonly changes: readonly string[];
}
const origins = new WeakMap<object, VariantOrigin>();

type Changes = {
  readonly [K in keyof EnvironmentSettings]?: K extends "services" | "ci" | "state" ? EnvironmentSettings[K] : Partial<NonNullable<EnvironmentSettings[K]>>;
};

/**
 * A variant of an environment: its name and the sections it changes, each merged over the base's (one
 * level: `network: { natMode: "single" }` keeps the base's other network settings); everything else is
 * inherited. Nothing is checked here, so a variant a fork's settings rule out fails only the tests that
 * use it (see `variantError`), never every suite that imports this file.
 */
export function variant(base: EnvironmentSettings, name: string, changes: Changes): EnvironmentSettings {
  const merged: Record<string, unknown> = { ...base, name };
  for (const [key, value] of Object.entries(changes)) {
    const inherited = (base as Record<string, unknown>)[key];
    const plain = (v: unknown) => typeof v === "object" && v !== null && !Array.isArray(v);
    merged[key] = plain(value) && plain(inherited) && key !== "state" ? { ...(inherited as object), ...(value as object) } : value;
  }
  const settings = merged as unknown as EnvironmentSettings;
  origins.set(settings, { base: base.name, changes: Object.keys(changes) });
  return settings;
}

/** The services of an environment with no database grant: what a variant without a database can inherit of them. */
export function withoutDatabaseGrants(services: EnvironmentSettings["services"]): NonNullable<EnvironmentSettings["services"]> {
  return Object.fromEntries(Object.entries(services ?? {}).map(([key, service]) => [key, { ...service, database: false }]));
}

/**
 * A setting error of a variant, said as one: an inherited setting its change rules out (dev's worker
 * granted the database, in a variant without one) names the variant, what it changes and where the
 * setting comes from. Undefined for settings that are no variant, and errors of what it changes itself.
 */
export function variantError(settings: EnvironmentSettings, error: unknown): Error | undefined {
  const origin = origins.get(settings);
  if (!origin || !(error instanceof SettingError)) return undefined;
  const section = error.setting.split(".")[0];
  if (origin.changes.includes(section)) return undefined;
  return new Error(
    `Variant ${settings.name} (${origin.base} with ${origin.changes.join(", ")} changed) cannot apply ${error.setting}, inherited from ${origin.base}: ` +
      `${error.message} Declare what ${settings.name} does with ${section} in environments/variants.ts (e.g. \`withoutDatabaseGrants\`), or change ${origin.base}.`,
  );
}

/**
 * Variants of the environments that the offline plan proves too, so every mode a forker can switch
 * on is known to be valid Terraform. Each is built from dev or prod, so a fork's settings flow into them.
 */
export const examples: readonly EnvironmentSettings[] = [
  // The cheapest sandbox: dev without a database (so no service of dev's may be granted one), and an image tag from settings.
  variant(dev, "dev-lite", {
    database: { enabled: false },
    services: withoutDatabaseGrants(dev.services),
    task: { image: { tag: "v1.2.3" } },
  }),
  // EC2 execution mode: dev with a NAT gateway (tasks on EC2 get no public IP) and VPC endpoints, and a
  // pinned AMI as an offline plan needs.
  variant(dev, "dev-ec2", {
    network: { natMode: "single", endpoints: true },
    compute: { mode: "ec2", ec2: { amiId: "ami-0123456789abcdef0" } },
  }),
  // Three services: the default API, a second API on /admin behind its own listener rule and target
  // group, and a worker (no port, no target group) that alone of the two is given the database.
  variant(dev, "dev-services", {
    // The worker is granted the database, so the variant has one whatever dev says.
    database: { enabled: true },
    services: {
      admin: { route: { pathPatterns: ["/admin", "/admin/*"], healthCheck: { path: "/admin/health" } }, autoscaling: { maxCapacity: 2 } },
      worker: { task: { cpu: 256, memory: 512, command: ["dist/worker.mjs"] }, database: true, autoscaling: { maxCapacity: 2 } },
    },
  }),
  // Every shape beside the API (issue 23): a queue-fed worker that scales to zero on its backlog, the
  // API publishing to its queue, and a nightly job on a cron schedule in a time zone, both on the
  // database, all on the API's image (app/: dist/worker.mjs, dist/housekeeping.mjs).
  variant(dev, "dev-workers", {
    // Both are granted the database, so the variant has one whatever dev says.
    database: { enabled: true },
    services: {
      worker: {
        task: { cpu: 256, memory: 512, command: ["dist/worker.mjs"] },
        database: true,
        service: { desiredCount: 0 },
        autoscaling: { minCapacity: 0, maxCapacity: 2 },
        queue: { publishers: ["api"] },
      },
    },
    jobs: {
      nightly: {
        schedule: "cron(30 3 * * ? *)",
        timezone: "Europe/Berlin",
        task: { cpu: 256, memory: 512, command: ["dist/housekeeping.mjs"] },
        database: true,
      },
    },
  }),
];

/**
 * Variants planned offline only. CI access adds IAM alone, which the emulator does not enforce, so the
 * emulator lifecycle would prove nothing more about it (its creation is proven by the release emulator test);
 * an imported certificate differs from prod only in the listener's ARN, which the emulator cannot hold.
 */
export const planOnlyExamples: readonly EnvironmentSettings[] = [
  // GitHub Actions deploys dev: the OIDC provider and a deploy role, with its state in S3.
  variant(dev, "dev-ci", {
    state: { backend: "s3", bucket: "acme-terraform-state" },
    ci: { githubRepository: "acme/rest-api", workflows: ["release-dev.yml"] },
  }),
  // Prod with an existing certificate instead of a new one, and no domain of its own. (Prod itself proves a
  // new DNS-validated certificate with its alias record.)
  variant(prod, "prod-certificate", {
    loadBalancer: { https: { certificateArn: `arn:aws:acm:${prod.region ?? "us-east-1"}:123456789012:certificate/01234567-89ab-cdef-0123-456789abcdef` } },
  }),
];

/** Resources every stack creates in the same number, whatever its settings. */
const COMMON: Record<string, number> = {
  aws_appautoscaling_target: 1,
  // The environment's monthly budget (budget.enabled).
  aws_budgets_budget: 1,
  aws_cloudwatch_event_rule: 1,
  aws_cloudwatch_event_target: 1,
  aws_sns_topic: 1,
  aws_sns_topic_policy: 1,
  aws_db_instance: 1,
  aws_db_parameter_group: 1,
  aws_db_subnet_group: 1,
  aws_default_security_group: 1,
  aws_ecr_lifecycle_policy: 1,
  aws_ecr_repository: 1,
  aws_ecs_cluster: 1,
  aws_ecs_cluster_capacity_providers: 1,
  aws_ecs_service: 1,
  aws_ecs_task_definition: 1,
  aws_flow_log: 1,
  // The environment's permissions boundary, which every role carries.
  aws_iam_policy: 1,
  aws_iam_role_policy: 2,
  aws_internet_gateway: 1,
  aws_kms_alias: 2,
  aws_kms_key: 2,
  aws_lb: 1,
  aws_lb_target_group: 1,
  aws_vpc: 1,
};

/** What each stack's offline plan must create, by resource type: COMMON plus what differs. */
const devCreates: Record<string, number> = {
  ...COMMON,
  aws_appautoscaling_policy: 2,
  // Load balancer 5xx; the API's CPU, memory, unhealthy targets, p99; four on the database. No
  // running-tasks alarm: dev has no Container Insights, and no dashboard.
  aws_cloudwatch_metric_alarm: 9,
  // The app's, the flow logs', the database's two.
  aws_cloudwatch_log_group: 4,
  aws_iam_role: 4,
  // The execution role's, the flow log role's, and the task role's read of the database login.
  aws_iam_role_policy: 3,
  aws_iam_role_policy_attachment: 1,
  aws_lb_listener: 1,
  // No NAT gateway: only the public default route.
  aws_route: 1,
  aws_route_table: 3,
  aws_route_table_association: 4,
  aws_security_group: 3,
  aws_subnet: 4,
  // The load balancer to the tasks; the tasks to HTTPS and to the database.
  aws_vpc_security_group_egress_rule: 3,
  aws_vpc_security_group_ingress_rule: 3,
};

/** One NAT gateway: its address, and a default route from each private route table (two AZs). */
const singleNat = { aws_eip: 1, aws_nat_gateway: 1, aws_route: 3 };

const prodCreates: Record<string, number> = {
  ...devCreates,
  // Three AZs, a NAT gateway in each, and a third scaling policy (requests per target).
  aws_appautoscaling_policy: 3,
  aws_eip: 3,
  aws_nat_gateway: 3,
  aws_route: 4,
  aws_route_table: 4,
  aws_route_table_association: 6,
  aws_subnet: 6,
  // Container Insights adds the running-tasks alarm and its log group; the WAF log group; the dashboard.
  aws_cloudwatch_metric_alarm: 10,
  aws_cloudwatch_log_group: 6,
  aws_cloudwatch_dashboard: 1,
  // HTTPS only: a certificate validated in DNS, an alias record, the HTTPS listener beside the HTTP
  // redirect, and port 443 open.
  aws_acm_certificate: 1,
  aws_acm_certificate_validation: 1,
  aws_lb_listener: 2,
  aws_route53_record: 2,
  aws_vpc_security_group_ingress_rule: 4,
  // WAF: the web ACL, its association with the load balancer, its logging and the log delivery policy.
  aws_wafv2_web_acl: 1,
  aws_wafv2_web_acl_association: 1,
  aws_wafv2_web_acl_logging_configuration: 1,
  aws_cloudwatch_log_resource_policy: 1,
  // The access log bucket.
  aws_s3_bucket: 1,
  aws_s3_bucket_lifecycle_configuration: 1,
  aws_s3_bucket_ownership_controls: 1,
  aws_s3_bucket_policy: 1,
  aws_s3_bucket_public_access_block: 1,
  aws_s3_bucket_server_side_encryption_configuration: 1,
};

/** Drops the given resource types from a count. */
function without(counts: Record<string, number>, ...types: string[]): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).filter(([type]) => !types.includes(type)));
}

export const EXPECTED_CREATES: Record<string, Record<string, number>> = {
  dev: devCreates,
  prod: prodCreates,
  // None of the database's resources: instance, subnet and parameter groups, its key, monitoring role,
  // log groups, security group, alarms.
  "dev-lite": {
    ...without(devCreates, "aws_db_instance", "aws_db_parameter_group", "aws_db_subnet_group", "aws_iam_role_policy_attachment"),
    aws_kms_key: 1,
    aws_kms_alias: 1,
    aws_cloudwatch_metric_alarm: 5,
    aws_vpc_security_group_egress_rule: 2,
    aws_iam_role: 3,
    aws_iam_role_policy: 2,
    aws_cloudwatch_log_group: 2,
    aws_security_group: 2,
    aws_vpc_security_group_ingress_rule: 2,
  },
  // A NAT gateway; the instances: launch template, group, capacity provider, role, profile and security
  // group with its HTTPS way out; five VPC endpoints (ECR API, ECR registry, logs, Secrets Manager, S3)
  // and the interface endpoints' security group, open to the VPC on 443.
  "dev-ec2": {
    ...devCreates,
    ...singleNat,
    aws_autoscaling_group: 1,
    aws_ecs_capacity_provider: 1,
    aws_iam_instance_profile: 1,
    aws_iam_role: 5,
    aws_iam_role_policy_attachment: 3,
    aws_launch_template: 1,
    aws_security_group: 5,
    aws_vpc_endpoint: 5,
    aws_vpc_security_group_egress_rule: 4,
    aws_vpc_security_group_ingress_rule: 4,
  },
  // Two more services, each with a task definition, execution and task roles (each with its inline
  // policy), a log group, a security group with its way out, a scaling target and CPU and memory
  // policies; the admin API adds a target group, a listener rule, the load balancer's way in and out,
  // and the worker the database's way in and its own way to it.
  "dev-services": {
    ...devCreates,
    aws_appautoscaling_policy: 6,
    aws_appautoscaling_target: 3,
    // CPU and memory for each; unhealthy targets and p99 for the admin API.
    aws_cloudwatch_metric_alarm: 15,
    aws_cloudwatch_log_group: 6,
    aws_ecs_service: 3,
    aws_ecs_task_definition: 3,
    aws_iam_role: 8,
    aws_iam_role_policy: 6,
    aws_lb_listener_rule: 1,
    aws_lb_target_group: 2,
    aws_security_group: 5,
    aws_vpc_security_group_egress_rule: 7,
    aws_vpc_security_group_ingress_rule: 5,
  },
  // The worker: a task definition, execution and task roles with their policies, a log group, a security
  // group with its way out and its way to the database, a scaling target with CPU, memory, backlog and
  // from-zero policies, a queue with its dead-letter queue. The job: a task definition with its roles,
  // log group and security group, a scheduler role and its policy, the schedule, the environment's
  // schedule group, and its failed-runs rule to the alarm topic. Alarms: the worker's CPU and memory,
  // its oldest message, its dead letters and its scale-from-zero signal; the job's failed runs; runs
  // not started.
  "dev-workers": {
    ...devCreates,
    aws_appautoscaling_policy: 6,
    aws_appautoscaling_target: 2,
    aws_cloudwatch_event_rule: 2,
    aws_cloudwatch_event_target: 2,
    aws_cloudwatch_log_group: 6,
    aws_cloudwatch_metric_alarm: 16,
    aws_ecs_service: 2,
    aws_ecs_task_definition: 3,
    aws_iam_role: 9,
    aws_iam_role_policy: 8,
    aws_scheduler_schedule: 1,
    aws_scheduler_schedule_group: 1,
    aws_security_group: 5,
    aws_sqs_queue: 2,
    aws_vpc_security_group_egress_rule: 7,
    aws_vpc_security_group_ingress_rule: 5,
  },
  // The GitHub OIDC provider and the deploy role with its two inline policies (push, deploy) and the
  // three managed policies its constructs wrote, attached.
  "dev-ci": {
    ...devCreates,
    aws_iam_openid_connect_provider: 1,
    aws_iam_policy: 4,
    aws_iam_role: 5,
    aws_iam_role_policy: 5,
    aws_iam_role_policy_attachment: 4,
  },
  // The certificate exists: none made or validated, no alias record.
  "prod-certificate": without(prodCreates, "aws_acm_certificate", "aws_acm_certificate_validation", "aws_route53_record"),
};
