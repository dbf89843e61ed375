import { Construct } from "constructs";
import { EcsCluster } from "@cdktf/provider-aws/lib/ecs-cluster";
import { EcsClusterCapacityProviders } from "@cdktf/provider-aws/lib/ecs-cluster-capacity-providers";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import type { Capacity } from "./capacity";
import { Ec2Capacity, Ec2CapacityProps } from "./ec2/ec2-capacity";
import { FargateCapacity } from "./fargate/fargate-capacity";
import { logGroup } from "../core/log-group";
import { EnvironmentContext } from "../core/environment";
import * as z from "zod/mini";
import { DeployPermissions } from "../core/deploy-permissions";
import { holdings, ResourceKind } from "../core/resource-kind";
import { clusterCost } from "../calculators/cost";

/** The ECS cluster and its capacity providers' strategy. */
export const CLUSTER = new ResourceKind({
  name: "ECS cluster",
  file: __filename,
  types: ["aws_ecs_cluster", "aws_ecs_cluster_capacity_providers"],
  deploy: { services: ["ecs"], tag: ["ecs:TagResource"], untag: ["ecs:UntagResource"] },
  endpoints: ["ecs"],
  price: clusterCost,
  // A deleted cluster stays listed as INACTIVE for a while, in AWS as in moto.
  inventory: async (aws) => {
    const arns: string[] = (await aws("ecs", "ListClusters")).clusterArns ?? [];
    const clusters: { clusterName?: string; status?: string }[] = arns.length
      ? ((await aws("ecs", "DescribeClusters", { clusters: arns })).clusters ?? [])
      : [];
    return holdings(
      "ecs",
      "cluster",
      clusters.filter((c) => c.status !== "INACTIVE").map((c) => c.clusterName),
    );
  },
  alarms: { why: "the cluster's tasks are watched by their services' alarms" },
});
import { fail, flag, int, retention, withDefault } from "../settings/rules";

export const ClusterSettingsSchema = z
  .strictObject({
    /** Container Insights metrics. @default true */
    containerInsights: withDefault(flag, true),
    /** Tasks always on on-demand Fargate (Fargate only: EC2 mode warns and ignores it). @default 0 */
    onDemandBase: withDefault(int(0, 100000), 0),
    /** Share of further tasks on on-demand Fargate (Fargate only). @default 1 */
    onDemandWeight: withDefault(int(0, 1000), 1),
    /** Share of further tasks on Fargate Spot: up to 70 % cheaper, may be interrupted; X86_64 tasks only (Fargate only). @default 0 */
    spotWeight: withDefault(int(0, 1000), 0),
    /** Days Container Insights and ECS Exec logs are kept. @default 30 */
    logRetentionDays: withDefault(retention(), 30),
  })
  .check(
    z.superRefine((s, ctx) => {
      if (s.onDemandWeight + s.spotWeight === 0)
        fail(
          ctx,
          ["onDemandWeight"],
          s.onDemandWeight,
          "cluster.onDemandWeight and cluster.spotWeight are both 0, so no task could be placed",
          "a weight above 0 for at least one of them",
        );
    }),
  );
/** The cluster's settings as written in an environment. */
export type ClusterSettings = z.input<typeof ClusterSettingsSchema>;
/** The same, checked and with every default applied. */
export type ClusterConfig = z.output<typeof ClusterSettingsSchema>;
/** The settings that split tasks between Fargate and Fargate Spot, which EC2 mode does not use. */
export const FARGATE_ONLY_SETTINGS = ["onDemandBase", "onDemandWeight", "spotWeight"] as const;

/** The cluster is named after the environment, and its log groups use the environment's key (`EnvironmentContext`). */
export interface ClusterProps extends ClusterConfig {
  /** Record ECS Exec sessions to a log group. @default false */
  readonly execLogging?: boolean;
  /**
   * EC2 instances that replace Fargate in the default strategy (execution mode `ec2`).
   * @default none: Fargate and Fargate Spot
   */
  readonly ec2?: Omit<Ec2CapacityProps, "clusterName">;
}

/** The ECS cluster: where services run, and which capacity (Fargate, Spot or EC2) they use. */
export class Cluster extends Construct {
  readonly cluster: EcsCluster;
  readonly capacityProviders: EcsClusterCapacityProviders;
  /** Where the cluster's tasks run: Fargate, or the EC2 instances of `ec2Capacity`. */
  readonly capacity: Capacity;
  readonly execLogGroup?: CloudwatchLogGroup;
  readonly ec2Capacity?: Ec2Capacity;
  private readonly props: ClusterProps;

  get clusterArn(): string {
    return this.cluster.arn;
  }

  get clusterName(): string {
    return this.cluster.name;
  }

  /** Whether Container Insights publishes task counts (ECS/ContainerInsights), which the running-tasks alarm needs. */
  get containerInsights(): boolean {
    return this.props.containerInsights;
  }

  constructor(scope: Construct, id: string, props: ClusterProps) {
    super(scope, id);
    this.props = props;
    const name = EnvironmentContext.of(this).prefix;
    const deploy = DeployPermissions.of(this);
    deploy?.service("Ecs", {
      kind: CLUSTER,
      create: ["ecs:CreateCluster", "ecs:TagResource"],
      manage: [
        "ecs:DeleteCluster",
        "ecs:DescribeClusters",
        "ecs:ListTagsForResource",
        "ecs:PutClusterCapacityProviders",
        "ecs:TagResource",
        "ecs:UntagResource",
        "ecs:UpdateCluster",
        "ecs:UpdateClusterSettings",
      ],
    });
    deploy?.serviceLinkedRole("ecs.amazonaws.com");
    const retentionDays = props.logRetentionDays;
    const insights = props.containerInsights;

    // Container Insights creates this group itself, with no owner; creating it first means
    // retention is set and `destroy` removes it.
    const insightsGroup = insights
      ? logGroup(this, "InsightsLogGroup", {
          name: `/aws/ecs/containerinsights/${name}/performance`,
          retentionDays,
        })
      : undefined;
    this.execLogGroup = props.execLogging
      ? logGroup(this, "ExecLogGroup", {
          name: `/ecs/${name}/exec`,
          retentionDays,
        })
      : undefined;

    this.cluster = new EcsCluster(this, "Cluster", {
      name,
      setting: [{ name: "containerInsights", value: insights ? "enabled" : "disabled" }],
      configuration: this.execLogGroup
        ? {
            executeCommandConfiguration: {
              logging: "OVERRIDE",
              logConfiguration: { cloudWatchLogGroupName: this.execLogGroup.name, cloudWatchEncryptionEnabled: true },
            },
          }
        : undefined,
      dependsOn: insightsGroup ? [insightsGroup] : undefined,
    });

    this.ec2Capacity = props.ec2 ? new Ec2Capacity(this, "Ec2Capacity", { ...props.ec2, clusterName: this.cluster.name }) : undefined;
    this.capacity = this.ec2Capacity ?? new FargateCapacity(props);

    this.capacityProviders = new EcsClusterCapacityProviders(this, "CapacityProviders", {
      clusterName: this.cluster.name,
      capacityProviders: ["FARGATE", "FARGATE_SPOT", ...this.capacity.extraProviderNames],
      defaultCapacityProviderStrategy: [...this.capacity.strategy],
    });
  }
}
