/**
 * Everything that exists in an emulator, read through the AWS SDK as a real client would, as
 * `<service> <kind> <id>` lines. What a fresh emulator already holds (the default VPC and its parts,
 * default groups, AWS-managed policies and keys) is left out, so after a destroy the list must be empty.
 */
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from "@aws-sdk/client-auto-scaling";
import { ACMClient, ListCertificatesCommand } from "@aws-sdk/client-acm";
import { BudgetsClient, DescribeBudgetsCommand } from "@aws-sdk/client-budgets";
import { CloudWatchClient, DescribeAlarmsCommand, ListDashboardsCommand } from "@aws-sdk/client-cloudwatch";
import { CloudWatchLogsClient, DescribeLogGroupsCommand, DescribeResourcePoliciesCommand } from "@aws-sdk/client-cloudwatch-logs";
import { EventBridgeClient, ListRulesCommand } from "@aws-sdk/client-eventbridge";
import { ListTopicsCommand, SNSClient } from "@aws-sdk/client-sns";
import {
  DescribeAddressesCommand,
  DescribeFlowLogsCommand,
  DescribeInternetGatewaysCommand,
  DescribeLaunchTemplatesCommand,
  DescribeNatGatewaysCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcEndpointsCommand,
  DescribeVpcsCommand,
  EC2Client,
} from "@aws-sdk/client-ec2";
import { DescribeRepositoriesCommand, ECRClient } from "@aws-sdk/client-ecr";
import { DescribeCapacityProvidersCommand, DescribeClustersCommand, ECSClient, ListClustersCommand, ListTaskDefinitionsCommand } from "@aws-sdk/client-ecs";
import { DescribeLoadBalancersCommand, DescribeTargetGroupsCommand, ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { IAMClient, ListInstanceProfilesCommand, ListPoliciesCommand, ListRolesCommand } from "@aws-sdk/client-iam";
import { DescribeKeyCommand, KMSClient, ListAliasesCommand, ListKeysCommand } from "@aws-sdk/client-kms";
import {
  DescribeDBInstancesCommand,
  DescribeDBParameterGroupsCommand,
  DescribeDBSnapshotsCommand,
  DescribeDBSubnetGroupsCommand,
  RDSClient,
} from "@aws-sdk/client-rds";
import { ListHostedZonesCommand, Route53Client } from "@aws-sdk/client-route-53";
import { ListBucketsCommand, S3Client } from "@aws-sdk/client-s3";
import { ListSecretsCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { ListWebACLsCommand, WAFV2Client } from "@aws-sdk/client-wafv2";
import { ListQueuesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { ListScheduleGroupsCommand, ListSchedulesCommand, SchedulerClient } from "@aws-sdk/client-scheduler";

/** The account moto serves (its default), which the stacks' caller identity returns there; budgets are listed by account. */
export const EMULATOR_ACCOUNT_ID = "123456789012";

/** SDK client settings for an emulator: its endpoint, dummy keys, path-style S3. */
export function clientConfig(url: string, region: string) {
  return {
    region,
    endpoint: url,
    credentials: { accessKeyId: "emulator", secretAccessKey: "emulator" },
    forcePathStyle: true,
    maxAttempts: 2,
  };
}

/** Makes a failed call name itself: an emulator without the action answers with an HTML page. */
function named<C extends object>(client: C): C {
  const target = client as unknown as { send(command: object, ...rest: unknown[]): Promise<unknown> };
  const send = target.send.bind(client);
  target.send = async (command, ...rest) => {
    try {
      return await send(command, ...rest);
    } catch (error) {
      throw new Error(`${command.constructor.name} failed against the emulator: ${(error as Error).message}`);
    }
  };
  return client;
}

export async function leftovers(url: string, region: string): Promise<string[]> {
  const config = clientConfig(url, region);
  const ec2 = named(new EC2Client(config));
  const found: string[] = [];
  const add = (service: string, kind: string, ids: (string | undefined)[]) =>
    found.push(...ids.filter((id): id is string => Boolean(id)).map((id) => `${service} ${kind} ${id}`));

  const vpcs = (await ec2.send(new DescribeVpcsCommand({}))).Vpcs ?? [];
  const defaultVpcs = new Set(vpcs.filter((v) => v.IsDefault).map((v) => v.VpcId));
  const inDefaultVpc = (vpcId?: string) => defaultVpcs.has(vpcId);
  add(
    "ec2",
    "vpc",
    vpcs.filter((v) => !v.IsDefault).map((v) => v.VpcId),
  );
  add(
    "ec2",
    "subnet",
    ((await ec2.send(new DescribeSubnetsCommand({}))).Subnets ?? []).filter((s) => !inDefaultVpc(s.VpcId)).map((s) => s.SubnetId),
  );
  add(
    "ec2",
    "nat-gateway",
    ((await ec2.send(new DescribeNatGatewaysCommand({}))).NatGateways ?? []).filter((n) => n.State !== "deleted").map((n) => n.NatGatewayId),
  );
  add(
    "ec2",
    "address",
    ((await ec2.send(new DescribeAddressesCommand({}))).Addresses ?? []).map((a) => a.AllocationId),
  );
  add(
    "ec2",
    "internet-gateway",
    ((await ec2.send(new DescribeInternetGatewaysCommand({}))).InternetGateways ?? [])
      .filter((g) => !(g.Attachments ?? []).some((a) => inDefaultVpc(a.VpcId)))
      .map((g) => g.InternetGatewayId),
  );
  add(
    "ec2",
    "route-table",
    ((await ec2.send(new DescribeRouteTablesCommand({}))).RouteTables ?? []).filter((t) => !inDefaultVpc(t.VpcId)).map((t) => t.RouteTableId),
  );
  add(
    "ec2",
    "security-group",
    ((await ec2.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups ?? []).filter((g) => !inDefaultVpc(g.VpcId)).map((g) => g.GroupId),
  );
  add(
    "ec2",
    "launch-template",
    ((await ec2.send(new DescribeLaunchTemplatesCommand({}))).LaunchTemplates ?? []).map((t) => t.LaunchTemplateName),
  );
  add(
    "ec2",
    "vpc-endpoint",
    ((await ec2.send(new DescribeVpcEndpointsCommand({}))).VpcEndpoints ?? [])
      .filter((e) => String(e.State).toLowerCase() !== "deleted")
      .map((e) => e.VpcEndpointId),
  );
  add(
    "ec2",
    "flow-log",
    ((await ec2.send(new DescribeFlowLogsCommand({}))).FlowLogs ?? []).map((f) => f.FlowLogId),
  );

  const ecs = named(new ECSClient(config));
  // A deleted cluster stays listed as INACTIVE for a while, in AWS as in moto.
  const clusterArns = (await ecs.send(new ListClustersCommand({}))).clusterArns ?? [];
  const clusters = clusterArns.length ? ((await ecs.send(new DescribeClustersCommand({ clusters: clusterArns }))).clusters ?? []) : [];
  add(
    "ecs",
    "cluster",
    clusters.filter((c) => c.status !== "INACTIVE").map((c) => c.clusterName),
  );
  add(
    "ecs",
    "capacity-provider",
    ((await ecs.send(new DescribeCapacityProvidersCommand({}))).capacityProviders ?? [])
      .filter((p) => !["FARGATE", "FARGATE_SPOT"].includes(p.name ?? ""))
      .map((p) => p.name),
  );
  add("ecs", "task-definition", (await ecs.send(new ListTaskDefinitionsCommand({ status: "ACTIVE" }))).taskDefinitionArns ?? []);

  add(
    "ecr",
    "repository",
    ((await named(new ECRClient(config)).send(new DescribeRepositoriesCommand({}))).repositories ?? []).map((r) => r.repositoryName),
  );

  const rds = named(new RDSClient(config));
  add(
    "rds",
    "db-instance",
    ((await rds.send(new DescribeDBInstancesCommand({}))).DBInstances ?? []).map((d) => d.DBInstanceIdentifier),
  );
  add(
    "rds",
    "db-subnet-group",
    ((await rds.send(new DescribeDBSubnetGroupsCommand({}))).DBSubnetGroups ?? [])
      .filter((g) => g.DBSubnetGroupName !== "default")
      .map((g) => g.DBSubnetGroupName),
  );
  add(
    "rds",
    "db-parameter-group",
    ((await rds.send(new DescribeDBParameterGroupsCommand({}))).DBParameterGroups ?? [])
      .filter((g) => !g.DBParameterGroupName?.startsWith("default."))
      .map((g) => g.DBParameterGroupName),
  );
  add(
    "rds",
    "db-snapshot",
    ((await rds.send(new DescribeDBSnapshotsCommand({ SnapshotType: "manual" }))).DBSnapshots ?? []).map((s) => s.DBSnapshotIdentifier),
  );

  const elb = named(new ElasticLoadBalancingV2Client(config));
  add(
    "elbv2",
    "load-balancer",
    ((await elb.send(new DescribeLoadBalancersCommand({}))).LoadBalancers ?? []).map((l) => l.LoadBalancerName),
  );
  add(
    "elbv2",
    "target-group",
    ((await elb.send(new DescribeTargetGroupsCommand({}))).TargetGroups ?? []).map((t) => t.TargetGroupName),
  );

  const logs = named(new CloudWatchLogsClient(config));
  add(
    "logs",
    "log-group",
    ((await logs.send(new DescribeLogGroupsCommand({}))).logGroups ?? []).map((g) => g.logGroupName),
  );
  add(
    "logs",
    "resource-policy",
    ((await logs.send(new DescribeResourcePoliciesCommand({}))).resourcePolicies ?? []).map((p) => p.policyName),
  );
  add(
    "wafv2",
    "web-acl",
    ((await named(new WAFV2Client(config)).send(new ListWebACLsCommand({ Scope: "REGIONAL" }))).WebACLs ?? []).map((w) => w.Name),
  );

  const cloudwatch = named(new CloudWatchClient(config));
  add(
    "cloudwatch",
    "alarm",
    ((await cloudwatch.send(new DescribeAlarmsCommand({}))).MetricAlarms ?? []).map((a) => a.AlarmName),
  );
  add(
    "cloudwatch",
    "dashboard",
    ((await cloudwatch.send(new ListDashboardsCommand({}))).DashboardEntries ?? []).map((d) => d.DashboardName),
  );
  add(
    "events",
    "rule",
    ((await named(new EventBridgeClient(config)).send(new ListRulesCommand({}))).Rules ?? []).map((r) => r.Name),
  );
  add(
    "sns",
    "topic",
    ((await named(new SNSClient(config)).send(new ListTopicsCommand({}))).Topics ?? []).map((t) => t.TopicArn),
  );
  add(
    "budgets",
    "budget",
    ((await named(new BudgetsClient(config)).send(new DescribeBudgetsCommand({ AccountId: EMULATOR_ACCOUNT_ID }))).Budgets ?? []).map((b) => b.BudgetName),
  );

  const iam = named(new IAMClient(config));
  add(
    "iam",
    "role",
    ((await iam.send(new ListRolesCommand({}))).Roles ?? []).filter((r) => !r.Path?.startsWith("/aws-service-role/")).map((r) => r.RoleName),
  );
  add(
    "iam",
    "instance-profile",
    ((await iam.send(new ListInstanceProfilesCommand({}))).InstanceProfiles ?? []).map((p) => p.InstanceProfileName),
  );
  add(
    "iam",
    "policy",
    ((await iam.send(new ListPoliciesCommand({ Scope: "Local" }))).Policies ?? []).map((p) => p.PolicyName),
  );

  add(
    "autoscaling",
    "group",
    ((await named(new AutoScalingClient(config)).send(new DescribeAutoScalingGroupsCommand({}))).AutoScalingGroups ?? []).map((g) => g.AutoScalingGroupName),
  );
  add(
    "s3",
    "bucket",
    ((await named(new S3Client(config)).send(new ListBucketsCommand({}))).Buckets ?? []).map((b) => b.Name),
  );
  add(
    "secretsmanager",
    "secret",
    ((await named(new SecretsManagerClient(config)).send(new ListSecretsCommand({}))).SecretList ?? []).map((s) => s.Name),
  );
  add(
    "sqs",
    "queue",
    ((await named(new SQSClient(config)).send(new ListQueuesCommand({}))).QueueUrls ?? []).map((url) => url.split("/").pop()),
  );
  const scheduler = named(new SchedulerClient(config));
  add(
    "scheduler",
    "schedule",
    ((await scheduler.send(new ListSchedulesCommand({}))).Schedules ?? []).map((s) => `${s.GroupName}/${s.Name}`),
  );
  // Every account has the default group, which no stack makes.
  add(
    "scheduler",
    "schedule-group",
    ((await scheduler.send(new ListScheduleGroupsCommand({}))).ScheduleGroups ?? []).filter((g) => g.Name !== "default").map((g) => g.Name),
  );
  add(
    "acm",
    "certificate",
    ((await named(new ACMClient(config)).send(new ListCertificatesCommand({}))).CertificateSummaryList ?? []).map((c) => c.DomainName),
  );
  add(
    "route53",
    "hosted-zone",
    ((await named(new Route53Client(config)).send(new ListHostedZonesCommand({}))).HostedZones ?? []).map((z) => z.Name),
  );

  // A customer key cannot be deleted at once, only scheduled: pending deletion counts as gone. Keys
  // behind an alias/aws/ alias are AWS-managed defaults (e.g. aws/ebs, made on first use), not the stack's.
  const kms = named(new KMSClient(config));
  const awsManaged = new Set(
    ((await kms.send(new ListAliasesCommand({}))).Aliases ?? []).filter((a) => a.AliasName?.startsWith("alias/aws/")).map((a) => a.TargetKeyId),
  );
  for (const key of (await kms.send(new ListKeysCommand({}))).Keys ?? []) {
    const meta = (await kms.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).KeyMetadata;
    if (meta?.KeyManager === "CUSTOMER" && meta.KeyState !== "PendingDeletion" && !awsManaged.has(meta.KeyId)) add("kms", "key", [meta.KeyId]);
  }
  return found.sort();
}
