import { Annotations } from "cdktf";
import { Construct } from "constructs";
import { EcsCluster } from "@cdktf/provider-aws/lib/ecs-cluster";
import { EcsClusterCapacityProviders } from "@cdktf/provider-aws/lib/ecs-cluster-capacity-providers";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { Ec2Capacity, Ec2CapacityProps } from "./ec2-capacity";
import { logGroup } from "./log-group";
import { check, checkInt, checkRetention } from "./validate";

export interface ClusterSettings {
  /** Container Insights metrics. @default true */
  readonly containerInsights?: boolean;
  /** Tasks always on on-demand Fargate (Fargate only: EC2 mode warns and ignores it). @default 0 */
  readonly onDemandBase?: number;
  /** Share of further tasks on on-demand Fargate (Fargate only). @default 1 */
  readonly onDemandWeight?: number;
  /** Share of further tasks on Fargate Spot: up to 70 % cheaper, may be interrupted; X86_64 tasks only (Fargate only). @default 0 */
  readonly spotWeight?: number;
  /** Days Container Insights and ECS Exec logs are kept. @default 30 */
  readonly logRetentionDays?: number;
}

export interface ClusterProps extends ClusterSettings {
  readonly name: string;
  /** Record ECS Exec sessions to a log group. @default false */
  readonly execLogging?: boolean;
  /**
   * EC2 instances that replace Fargate in the default strategy (execution mode `ec2`).
   * @default none: Fargate and Fargate Spot
   */
  readonly ec2?: Omit<Ec2CapacityProps, "name" | "clusterName">;
}

export interface CapacityProviderStrategy {
  readonly capacityProvider: string;
  readonly base: number;
  readonly weight: number;
}

/** The ECS cluster: where services run, and which capacity (Fargate, Spot or EC2) they use. */
export class Cluster extends Construct {
  readonly cluster: EcsCluster;
  readonly capacityProviders: EcsClusterCapacityProviders;
  /** Default strategy; the service repeats it so a later change here reaches the service. */
  readonly strategy: CapacityProviderStrategy[];
  readonly execLogGroup?: CloudwatchLogGroup;
  readonly ec2Capacity?: Ec2Capacity;

  constructor(scope: Construct, id: string, props: ClusterProps) {
    super(scope, id);
    const retention = checkRetention("cluster.logRetentionDays", props.logRetentionDays ?? 30);
    const insights = props.containerInsights ?? true;

    // Container Insights creates this group itself, with no owner; creating it first means
    // retention is set and `destroy` removes it.
    const insightsGroup = insights
      ? logGroup(this, "InsightsLogGroup", {
          name: `/aws/ecs/containerinsights/${props.name}/performance`,
          retentionDays: retention,
          retentionSetting: "cluster.logRetentionDays",
        })
      : undefined;
    this.execLogGroup = props.execLogging
      ? logGroup(this, "ExecLogGroup", {
          name: `/ecs/${props.name}/exec`,
          retentionDays: retention,
          retentionSetting: "cluster.logRetentionDays",
        })
      : undefined;

    this.cluster = new EcsCluster(this, "Cluster", {
      name: props.name,
      setting: [{ name: "containerInsights", value: insights ? "enabled" : "disabled" }],
      configuration: this.execLogGroup
        ? {
            executeCommandConfiguration: {
              logging: "OVERRIDE",
              logConfiguration: { cloudWatchLogGroupName: this.execLogGroup.name, cloudWatchEncryptionEnabled: false },
            },
          }
        : undefined,
      dependsOn: insightsGroup ? [insightsGroup] : undefined,
    });

    const fargate = fargateStrategy(props);
    // Checked in both modes; on EC2 every task runs on the Auto Scaling group, so the Fargate split
    // does not apply. A warning, not an error: switching compute.mode alone must keep working.
    const fargateOnly = (["onDemandBase", "onDemandWeight", "spotWeight"] as const).filter((key) => props[key] !== undefined);
    if (props.ec2 && fargateOnly.length) {
      Annotations.of(this).addWarning(
        `${fargateOnly.map((key) => `cluster.${key}`).join(", ")} split tasks between Fargate and Fargate Spot; compute.mode "ec2" runs every task on the Auto Scaling group, so they do not apply`,
      );
    }
    this.ec2Capacity = props.ec2 ? new Ec2Capacity(this, "Ec2Capacity", { ...props.ec2, name: props.name, clusterName: this.cluster.name }) : undefined;
    this.strategy = this.ec2Capacity ? [{ capacityProvider: this.ec2Capacity.capacityProvider.name, base: 0, weight: 1 }] : fargate;

    this.capacityProviders = new EcsClusterCapacityProviders(this, "CapacityProviders", {
      clusterName: this.cluster.name,
      capacityProviders: ["FARGATE", "FARGATE_SPOT", ...(this.ec2Capacity ? [this.ec2Capacity.capacityProvider.name] : [])],
      defaultCapacityProviderStrategy: this.strategy,
    });
  }
}

function fargateStrategy(props: ClusterSettings): CapacityProviderStrategy[] {
  const base = checkInt("cluster.onDemandBase", props.onDemandBase ?? 0, 0, 100000);
  const onDemand = checkInt("cluster.onDemandWeight", props.onDemandWeight ?? 1, 0, 1000);
  const spot = checkInt("cluster.spotWeight", props.spotWeight ?? 0, 0, 1000);
  check(
    onDemand + spot > 0,
    "cluster.onDemandWeight",
    onDemand,
    "cluster.onDemandWeight and cluster.spotWeight are both 0, so no task could be placed",
    "a weight above 0 for at least one of them",
  );
  return [{ capacityProvider: "FARGATE", base, weight: onDemand }, ...(spot > 0 ? [{ capacityProvider: "FARGATE_SPOT", base: 0, weight: spot }] : [])];
}
