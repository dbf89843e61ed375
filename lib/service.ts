import { Construct } from "constructs";
import { ITerraformDependable } from "cdktf";
import { EcsService } from "@cdktf/provider-aws/lib/ecs-service";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import type { CapacityProviderStrategy } from "./cluster";
import { securityGroup } from "./security-group";
import { CONTAINER_NAME } from "./task-definition";
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
  readonly name: string;
  readonly clusterArn: string;
  readonly taskDefinitionArn: string;
  readonly strategy: readonly CapacityProviderStrategy[];
  readonly vpcId: string;
  readonly subnetIds: string[];
  readonly assignPublicIp: boolean;
  readonly containerPort: number;
  readonly targetGroupArn: string;
  readonly loadBalancerSecurityGroupId: string;
  /** Autoscaling owns the task count after the first deploy. @default false */
  readonly autoscaled?: boolean;
  /** Spread tasks over AZs; only EC2 capacity supports placement strategies. @default false */
  readonly spreadAcrossZones?: boolean;
  /** What must exist first: the listener (so the target group has a load balancer) and the capacity providers. */
  readonly dependsOn: ITerraformDependable[];
}

/** The service: keeps N copies of the recipe running behind the load balancer and replaces failed ones. */
export class Service extends Construct {
  readonly service: EcsService;
  /** The tasks' security group: the load balancer on the container port is the only way in. */
  readonly securityGroup: SecurityGroup;

  constructor(scope: Construct, id: string, props: ServiceProps) {
    super(scope, id);
    // Tasks pull images, write logs, read secrets and call out; the app decides where.
    this.securityGroup = securityGroup(this, "SecurityGroup", {
      name: `${props.name}-tasks`,
      description: `Tasks of ${props.name}: the load balancer in, anything out`,
      vpcId: props.vpcId,
      egressAnywhere: "Anywhere",
    });
    new VpcSecurityGroupIngressRule(this, "IngressFromLoadBalancer", {
      securityGroupId: this.securityGroup.id,
      description: "The load balancer, on the container port",
      ipProtocol: "tcp",
      fromPort: props.containerPort,
      toPort: props.containerPort,
      referencedSecurityGroupId: props.loadBalancerSecurityGroupId,
    });

    this.service = new EcsService(this, "Service", {
      name: props.name,
      cluster: props.clusterArn,
      taskDefinition: props.taskDefinitionArn,
      desiredCount: props.desiredCount,
      capacityProviderStrategy: [...props.strategy],
      networkConfiguration: {
        subnets: props.subnetIds,
        securityGroups: [this.securityGroup.id],
        assignPublicIp: props.assignPublicIp,
      },
      loadBalancer: [{ targetGroupArn: props.targetGroupArn, containerName: CONTAINER_NAME, containerPort: props.containerPort }],
      healthCheckGracePeriodSeconds: props.healthCheckGracePeriodSeconds,
      deploymentCircuitBreaker: { enable: true, rollback: true },
      deploymentMinimumHealthyPercent: 100,
      deploymentMaximumPercent: 200,
      enableExecuteCommand: props.enableExecuteCommand,
      enableEcsManagedTags: true,
      propagateTags: "SERVICE",
      waitForSteadyState: props.waitForSteadyState,
      orderedPlacementStrategy: props.spreadAcrossZones ? [{ type: "spread", field: "attribute:ecs.availability-zone" }] : undefined,
      lifecycle: props.autoscaled ? { ignoreChanges: ["desired_count"] } : undefined,
      dependsOn: props.dependsOn,
    });
  }
}
