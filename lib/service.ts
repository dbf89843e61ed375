import { Construct } from "constructs";
import { EcsService } from "@cdktf/provider-aws/lib/ecs-service";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { Autoscaling, type AutoscalingConfig } from "./autoscaling";
import type { Cluster } from "./cluster";
import type { Database } from "./database";
import type { LoadBalancer } from "./load-balancer";
import type { Network } from "./network";
import { securityGroup } from "./security-group";
import { CONTAINER_NAME, type TaskDefinition } from "./task-definition";
import * as z from "zod/mini";
import { flag, int, withDefault } from "./rules";

export const ServiceSettingsSchema = z.strictObject({
  /** Tasks to run; with autoscaling, only at creation. @default 1 */
  desiredCount: withDefault(int(0, 1000), 1),
  /** Time a new task may fail health checks while starting. @default 60 */
  healthCheckGracePeriodSeconds: withDefault(int(0, 2147483647), 60),
  /** ECS Exec, logged to the cluster; needs `task.readonlyRootFilesystem: false`. @default false */
  enableExecuteCommand: withDefault(flag, false),
  /** `deploy` waits for healthy tasks and fails if they never are. @default true */
  waitForSteadyState: withDefault(flag, true),
});
/** The service's settings as written in an environment. */
export type ServiceSettings = z.input<typeof ServiceSettingsSchema>;
/** The same, checked and with every default applied. */
export type ServiceConfig = z.output<typeof ServiceSettingsSchema>;

export interface ServiceProps extends ServiceConfig {
  /** `<project>-<environment>`: the service's name, and its security group's prefix. */
  readonly name: string;
  /** Where the tasks run: its capacity decides the strategy, placement and whether tasks may take a public IP. */
  readonly cluster: Cluster;
  /** The recipe the tasks run; its port is the one the load balancer reaches. */
  readonly taskDefinition: TaskDefinition;
  /** The app subnets: private behind NAT, or public when there is no NAT. */
  readonly network: Network;
  /** The load balancer whose target group the service registers its tasks in. */
  readonly loadBalancer: LoadBalancer;
}

/**
 * The service: keeps N copies of the recipe running behind the load balancer and replaces failed ones.
 * It owns its wiring: its security group admits the load balancer on the container port, the load
 * balancer may reach it there, and `autoScaleTaskCount` and `allowDatabase` add scaling and access.
 */
export class Service extends Construct {
  readonly service: EcsService;
  /** The tasks' security group: the load balancer on the container port is the only way in. */
  readonly securityGroup: SecurityGroup;
  private readonly props: ServiceProps;
  private scaling?: Autoscaling;

  constructor(scope: Construct, id: string, props: ServiceProps) {
    super(scope, id);
    this.props = props;
    const { cluster, taskDefinition, network, loadBalancer } = props;
    const port = taskDefinition.containerPort;
    const capacity = cluster.capacity;
    // Tasks pull images, write logs, read secrets and call out; the app decides where.
    this.securityGroup = securityGroup(this, "SecurityGroup", {
      name: `${props.name}-tasks`,
      description: `Tasks of ${props.name}: the load balancer in, anything out`,
      vpcId: network.vpc.id,
      egressAnywhere: "Anywhere",
    });
    new VpcSecurityGroupIngressRule(this, "IngressFromLoadBalancer", {
      securityGroupId: this.securityGroup.id,
      description: "The load balancer, on the container port",
      ipProtocol: "tcp",
      fromPort: port,
      toPort: port,
      referencedSecurityGroupId: loadBalancer.securityGroup.id,
    });
    loadBalancer.allowTo(this.securityGroup.id, port);

    this.service = new EcsService(this, "Service", {
      name: props.name,
      cluster: cluster.clusterArn,
      taskDefinition: taskDefinition.taskDefinitionArn,
      desiredCount: props.desiredCount,
      capacityProviderStrategy: [...capacity.strategy],
      networkConfiguration: {
        subnets: network.appSubnetIds,
        securityGroups: [this.securityGroup.id],
        assignPublicIp: capacity.publicIpCapable && network.appNeedsPublicIp,
      },
      loadBalancer: [{ targetGroupArn: loadBalancer.targetGroup.arn, containerName: CONTAINER_NAME, containerPort: port }],
      healthCheckGracePeriodSeconds: props.healthCheckGracePeriodSeconds,
      deploymentCircuitBreaker: { enable: true, rollback: true },
      deploymentMinimumHealthyPercent: 100,
      deploymentMaximumPercent: 200,
      enableExecuteCommand: props.enableExecuteCommand,
      enableEcsManagedTags: true,
      propagateTags: "SERVICE",
      waitForSteadyState: props.waitForSteadyState,
      orderedPlacementStrategy: capacity.placement.length ? [...capacity.placement] : undefined,
      // The listener first, so the target group belongs to a load balancer; the capacity providers
      // first, so the strategy names registered ones.
      dependsOn: [loadBalancer.listener, cluster.capacityProviders],
    });
  }

  /** The service's name, for CloudWatch dimensions and the CLI. */
  get serviceName(): string {
    return this.service.name;
  }

  /**
   * Lets the task count follow load (target tracking on CPU, memory and, when set, requests per task).
   * Autoscaling then owns the count, so Terraform stops resetting it to `desiredCount`. Once only.
   */
  autoScaleTaskCount(settings: AutoscalingConfig): Autoscaling {
    if (this.scaling) throw new Error(`Service ${this.node.path}: autoScaleTaskCount was already called; the service has one scaling target`);
    this.service.lifecycle = { ignoreChanges: ["desired_count"] };
    const { cluster, loadBalancer } = this.props;
    // Beside the service, where it has always been, so existing stacks keep its Terraform address.
    this.scaling = new Autoscaling(this.node.scope!, "Autoscaling", {
      ...settings,
      name: this.props.name,
      clusterName: cluster.clusterName,
      serviceName: this.serviceName,
      requestCountLabel: `${loadBalancer.loadBalancer.arnSuffix}/${loadBalancer.targetGroup.arnSuffix}`,
    });
    return this.scaling;
  }

  /** Lets the tasks connect to the database (its security group admits theirs on PostgreSQL's port). */
  allowDatabase(database: Database): void {
    database.allowFrom(this.securityGroup.id);
  }
}
