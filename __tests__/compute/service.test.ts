import { Testing, TerraformStack } from "cdktf";
import { resolved, testApp, testKey } from "../support/bare-stack";
import { AutoscalingSettingsSchema } from "../../lib/compute/autoscaling";
import { Cluster, ClusterSettingsSchema } from "../../lib/compute/cluster";
import { Database, DatabaseSettingsSchema } from "../../lib/database/database";
import { LoadBalancer, LoadBalancerSettingsSchema } from "../../lib/edge/load-balancer";
import { Network, NetworkSettingsSchema } from "../../lib/network/network";
import { Registry, RegistrySettingsSchema } from "../../lib/registry/registry";
import { Service, ServiceSettingsSchema } from "../../lib/compute/service";
import { TargetHealthCheckSettingsSchema } from "../../lib/edge/target-group";
import { TaskDefinition, TaskSettingsSchema } from "../../lib/compute/task-definition";
import type { TfJson } from "../support/helpers";

/**
 * The Service construct on a bare stack, without ApiStack: given the constructs it is handed, it
 * wires itself (security groups, target group, scaling, database access). One behaviour each.
 */
function bare(options: { natMode?: "none" | "single"; ec2?: boolean } = {}) {
  const stack = new TerraformStack(testApp(), "bare");
  // The environment (names, region, account) and its key, which every construct below reads.
  testKey(stack);
  const network = new Network(stack, "Network", {
    ...NetworkSettingsSchema.parse({ natMode: options.natMode ?? "single" }),
    availabilityZones: ["eu-west-1a", "eu-west-1b"],
  });
  const registry = new Registry(stack, "Registry", RegistrySettingsSchema.parse({}));
  const cluster = new Cluster(stack, "Cluster", {
    ...ClusterSettingsSchema.parse({}),
    ec2: options.ec2
      ? {
          instanceType: "t3.medium",
          minInstances: 1,
          maxInstances: 4,
          neededInstances: 2,
          cpuArchitecture: "X86_64",
          targetCapacityPercent: 100,
          rootVolumeGb: 30,
          amiId: "ami-0123456789abcdef0",
          vpcId: network.vpc.id,
          subnetIds: network.privateSubnetIds,
        }
      : undefined,
  });
  const loadBalancer = new LoadBalancer(stack, "LoadBalancer", {
    ...LoadBalancerSettingsSchema.parse({}),
    vpcId: network.vpc.id,
    publicSubnetIds: network.publicSubnetIds,
    privateSubnetIds: network.privateSubnetIds,
  });
  const taskDefinition = new TaskDefinition(stack, "TaskDefinition", {
    ...TaskSettingsSchema.parse({ containerPort: 3000 }),
    environment: {},
    name: "test-bare",
    repository: registry,
    http: { healthCheckPath: "/health" },
    compatibility: cluster.capacity.compatibility,
  });
  const service = new Service(stack, "Service", {
    ...ServiceSettingsSchema.parse({}),
    name: "test-bare",
    cluster,
    taskDefinition,
    network,
    loadBalancer,
    route: { healthCheck: TargetHealthCheckSettingsSchema.parse({}) },
  });
  const tf = () => JSON.parse(Testing.synth(stack)) as TfJson;
  return { stack, network, cluster, loadBalancer, service, tf };
}

const one = (tf: TfJson, type: string) => Object.values(tf.resource[type])[0] as Record<string, any>;
const all = (tf: TfJson, type: string) => Object.values(tf.resource[type] ?? {}) as Record<string, any>[];

describe("Service, on a bare stack", () => {
  test("given a load balancer, when the service is built, then the load balancer may reach its tasks on the task's port, and nothing else may", () => {
    const { tf } = bare();
    const out = tf();
    const [egress] = all(out, "aws_vpc_security_group_egress_rule").filter((r) => r.description === "To the service tasks");
    expect([egress.from_port, egress.to_port]).toEqual([3000, 3000]);
    const ingress = all(out, "aws_vpc_security_group_ingress_rule").filter((r) => r.description === "The load balancer, on the container port");
    expect(ingress).toHaveLength(1);
    expect(ingress[0].cidr_ipv4).toBeUndefined();
    expect(one(out, "aws_ecs_service").load_balancer[0].container_port).toBe(3000);
  });

  test("given Fargate and no NAT, when the service is built, then its tasks take public IPs in the public subnets", () => {
    const config = one(bare({ natMode: "none" }).tf(), "aws_ecs_service").network_configuration;
    expect(config.assign_public_ip).toBe(true);
    expect(config.subnets.every((id: string) => id.includes("Network_Public"))).toBe(true);
  });

  test("given EC2 capacity, when the service is built, then it uses the instances' provider, spreads over zones and takes no public IP", () => {
    const svc = one(bare({ ec2: true }).tf(), "aws_ecs_service");
    expect(svc.capacity_provider_strategy).toEqual([{ capacity_provider: expect.stringContaining("aws_ecs_capacity_provider"), base: 0, weight: 1 }]);
    expect(svc.ordered_placement_strategy).toEqual([{ type: "spread", field: "attribute:ecs.availability-zone" }]);
    expect(svc.network_configuration.assign_public_ip).toBe(false);
  });

  test("given a service, when its task count is auto scaled, then Terraform leaves the count to the scaling target", () => {
    const { service, tf } = bare();
    service.autoScaleTaskCount(AutoscalingSettingsSchema.parse({ minCapacity: 1, maxCapacity: 3 }));
    const out = tf();
    expect(one(out, "aws_ecs_service").lifecycle).toEqual({ ignore_changes: ["desired_count"] });
    expect(one(out, "aws_appautoscaling_target")).toMatchObject({ min_capacity: 1, max_capacity: 3, scalable_dimension: "ecs:service:DesiredCount" });
  });

  test("given an auto scaled service, when it is scaled a second time, then that is refused: a service has one scaling target", () => {
    const { service } = bare();
    service.autoScaleTaskCount(AutoscalingSettingsSchema.parse({}));
    expect(() => service.autoScaleTaskCount(AutoscalingSettingsSchema.parse({}))).toThrow(/autoScaleTaskCount was already called/);
  });

  test("given a service without scaling, when it is built, then Terraform keeps its desired count", () => {
    expect(one(bare().tf(), "aws_ecs_service").lifecycle).toBeUndefined();
  });

  test("given a database, when the service is allowed to it, then the database admits the tasks' security group on 5432", () => {
    const { stack, network, service, tf } = bare();
    const database = new Database(stack, "Database", { ...DatabaseSettingsSchema.parse({}), vpcId: network.vpc.id, subnetIds: network.privateSubnetIds });
    service.connections.allowTo(database);
    const rule = all(tf(), "aws_vpc_security_group_ingress_rule").find((r) => r.from_port === 5432)!;
    expect(rule.referenced_security_group_id).toMatch(/^\$\{aws_security_group\.Service_SecurityGroup_/);
  });
});

describe("Service metrics", () => {
  test("given a service, when its CPU metric is asked for, then it names its own service in its own cluster, averaged over 5 minutes unless asked otherwise", () => {
    const { stack, service, tf } = bare();
    const out = tf();
    const cluster = `\${aws_ecs_cluster.${Object.keys(out.resource.aws_ecs_cluster)[0]}.name}`;
    const ecsService = `\${aws_ecs_service.${Object.keys(out.resource.aws_ecs_service)[0]}.name}`;
    expect(resolved(stack, service.metricCpuUtilization())).toEqual({
      namespace: "AWS/ECS",
      metricName: "CPUUtilization",
      dimensions: { ClusterName: cluster, ServiceName: ecsService },
      statistic: "Average",
      period: 300,
    });
    expect(service.metricCpuUtilization({ statistic: "SampleCount", period: 60 })).toMatchObject({ statistic: "SampleCount", period: 60 });
    expect(resolved(stack, service.metricRunningTaskCount())).toMatchObject({ namespace: "ECS/ContainerInsights", metricName: "RunningTaskCount" });
  });
});
