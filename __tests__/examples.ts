import { dev, prod } from "../stacks/environments";
import type { EnvironmentSettings } from "../stacks/settings";

/**
 * Variants of the environments that the offline plan proves too, so every mode a forker can switch
 * on is known to be valid Terraform.
 */
export const examples: readonly EnvironmentSettings[] = [
  // The cheapest sandbox: dev without a database, and an image tag from settings.
  {
    ...dev,
    name: "dev-lite",
    database: { enabled: false },
    task: { ...dev.task, image: { tag: "v1.2.3" } },
  },
  // EC2 execution mode: dev with a NAT gateway (tasks on EC2 get no public IP) and VPC endpoints, and a
  // pinned AMI as an offline plan needs.
  {
    ...dev,
    name: "dev-ec2",
    network: { ...dev.network, natMode: "single", endpoints: true },
    compute: { mode: "ec2", ec2: { amiId: "ami-0123456789abcdef0" } },
  },
  // Three services: the default API, a second API on /admin behind its own listener rule and target
  // group, and a worker (no port, no target group) that alone of the two is given the database.
  {
    ...dev,
    name: "dev-services",
    services: {
      admin: { route: { pathPatterns: ["/admin", "/admin/*"], healthCheck: { path: "/admin/health" } }, autoscaling: { maxCapacity: 2 } },
      worker: { task: { cpu: 256, memory: 512, command: ["/nodejs/bin/node", "/app/dist/worker.mjs"] }, database: true, autoscaling: { maxCapacity: 2 } },
    },
  },
];

/**
 * Variants planned offline only. CI access adds IAM alone, which the emulator does not enforce, so the
 * emulator lifecycle would prove nothing more about it (its creation is proven by the release emulator test);
 * an imported certificate differs from prod only in the listener's ARN, which the emulator cannot hold.
 */
export const planOnlyExamples: readonly EnvironmentSettings[] = [
  // GitHub Actions deploys dev: the OIDC provider and a deploy role, with its state in S3.
  {
    ...dev,
    name: "dev-ci",
    state: { backend: "s3", bucket: "acme-terraform-state" },
    ci: { githubRepository: "acme/rest-api" },
  },
  // Prod with an existing certificate instead of a new one, and no domain of its own. (Prod itself proves a
  // new DNS-validated certificate with its alias record.)
  {
    ...prod,
    name: "prod-certificate",
    loadBalancer: { ...prod.loadBalancer, https: { certificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/01234567-89ab-cdef-0123-456789abcdef" } },
  },
];

/** Resources every stack creates in the same number, whatever its settings. */
const COMMON: Record<string, number> = {
  aws_appautoscaling_target: 1,
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
    aws_iam_role_policy: 4,
    aws_lb_listener_rule: 1,
    aws_lb_target_group: 2,
    aws_security_group: 5,
    aws_vpc_security_group_egress_rule: 7,
    aws_vpc_security_group_ingress_rule: 5,
  },
  // The GitHub OIDC provider and the deploy role with its two inline policies (push, deploy).
  "dev-ci": { ...devCreates, aws_iam_openid_connect_provider: 1, aws_iam_role: 5, aws_iam_role_policy: 4 },
  // The certificate exists: none made or validated, no alias record.
  "prod-certificate": without(prodCreates, "aws_acm_certificate", "aws_acm_certificate_validation", "aws_route53_record"),
};
