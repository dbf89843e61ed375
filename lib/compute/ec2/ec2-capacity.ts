import { Construct } from "constructs";
import { Fn } from "cdktf";
import { AutoscalingGroup } from "@cdktf/provider-aws/lib/autoscaling-group";
import { EcsCapacityProvider } from "@cdktf/provider-aws/lib/ecs-capacity-provider";
import { IamInstanceProfile } from "@cdktf/provider-aws/lib/iam-instance-profile";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { LaunchTemplate } from "@cdktf/provider-aws/lib/launch-template";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import type { Capacity, CapacityProviderStrategy } from "../capacity";
import { partitionOf, ServiceRole } from "../../core/iam";
import { DeployPermissions } from "../../core/deploy-permissions";
import { PermissionsBoundary } from "../../core/permissions-boundary";
import { grantEc2Deploy } from "../../core/security-group";
import { securityGroup } from "../../core/security-group";
import * as z from "zod/mini";
import { INSTANCE_TYPES, InstanceType, taskMemoryOf } from "../../calculators/instance-types";
import { int, matching, withDefault } from "../../settings/rules";
import { check } from "../../settings/validate";

export const Ec2SettingsSchema = z.strictObject({
  /** Must fit the task; known types are in `lib/calculators/instance-types.ts`. @default `"t3.medium"` / `"t4g.medium"` (ARM64) */
  instanceType: z.optional(z.string()),
  /** Pin an AMI (offline plans do). @default latest ECS-optimized AL2023, resolved by EC2 at launch from the public SSM parameter */
  amiId: z.optional(matching(/^ami-[0-9a-f]{8,17}$/, "not an AMI id", '"ami-" followed by 8 or 17 hex digits')),
  /** Fewest instances. @default 1 */
  minInstances: withDefault(int(0, 1000), 1),
  /** Most instances. @default twice what `autoscaling.maxCapacity` needs, as deployments run old and new tasks side by side */
  maxInstances: z.optional(int(1, 1000)),
  /** How full managed scaling keeps instances, in %; below 100 leaves room for fast scale-out. @default 100 */
  targetCapacityPercent: withDefault(int(1, 100), 100),
  /** Root volume size. @default 30 */
  rootVolumeGb: withDefault(int(30, 16384), 30),
});
/** EC2 capacity as written in an environment. */
export type Ec2Settings = z.input<typeof Ec2SettingsSchema>;
/** The same, checked, with every default applied (the instance type and count follow from the task: see `resolveEc2`). */
export type Ec2Config = Omit<z.output<typeof Ec2SettingsSchema>, "instanceType" | "maxInstances"> & {
  readonly instanceType: string;
  readonly maxInstances: number;
};

/** The task an instance hosts copies of. */
export interface HostedTask {
  readonly cpu: number;
  readonly memory: number;
  readonly cpuArchitecture: "X86_64" | "ARM64";
}

/** A service's task and the most copies of it the service may run. */
export interface HostedWorkload {
  readonly task: HostedTask;
  readonly maxTasks: number;
  /** Where its task is set, for messages: `task`, or `services.<key>.task`. @default "task" */
  readonly setting?: string;
}

/** Copies of the task one instance holds: the least of CPU, memory and network interfaces allow. */
export function tasksPerInstance(type: InstanceType, task: HostedTask): number {
  return Math.min(Math.floor((type.vcpus * 1024) / task.cpu), Math.floor(taskMemoryOf(type) / task.memory), type.enis - 1);
}

/** Instances that hold every workload at its maximum: each task takes its share of an instance. */
export function instancesNeeded(type: InstanceType, workloads: readonly HostedWorkload[]): number {
  return Math.ceil(workloads.reduce((sum, w) => sum + w.maxTasks / tasksPerInstance(type, w.task), 0) - 1e-9);
}

/**
 * The instance type and count for the services' tasks at their maximum counts, or the first setting
 * that cannot work, named with what would (the settings schema reports it). The first workload (the
 * default API) decides the architecture; the schema holds the others to it.
 */
export function resolveEc2(
  settings: z.output<typeof Ec2SettingsSchema>,
  workloads: readonly HostedWorkload[],
): { config: Ec2Config } | { setting: string; value: unknown; problem: string; allowed: string } {
  const arch = workloads[0].task.cpuArchitecture;
  const name = settings.instanceType ?? (arch === "ARM64" ? "t4g.medium" : "t3.medium");
  const at = (problem: string, allowed: string) => ({ setting: "instanceType", value: name, problem, allowed });
  const type = INSTANCE_TYPES[name];
  if (!type)
    return at("not a type this starter knows the size of", 'one listed in lib/calculators/instance-types.ts (e.g. "t3.medium", "m7g.large"), or add it there');
  if (type.arch !== arch)
    return at(
      `a ${type.arch} type, but task.cpuArchitecture is ${arch}`,
      arch === "ARM64" ? 'a Graviton type such as "t4g.medium" or "m7g.large"' : 'an x86 type such as "t3.medium" or "m7i.large"',
    );
  for (const { task, setting = "task" } of workloads) {
    if (taskMemoryOf(type) < task.memory)
      return at(
        `${name} leaves about ${taskMemoryOf(type)} MiB for tasks, less than ${setting}.memory (${task.memory} MiB)`,
        `a type with more memory, or a smaller ${setting}.memory`,
      );
    if (type.vcpus * 1024 < task.cpu)
      return at(`${name} has ${type.vcpus * 1024} CPU units, fewer than ${setting}.cpu (${task.cpu})`, `a type with more vCPUs, or a smaller ${setting}.cpu`);
  }
  const needed = instancesNeeded(type, workloads);
  const maxInstances = settings.maxInstances ?? Math.max(settings.minInstances, 1, needed * 2);
  if (settings.minInstances > maxInstances)
    return {
      setting: "minInstances",
      value: settings.minInstances,
      problem: `greater than compute.ec2.maxInstances (${maxInstances})`,
      allowed: `at most ${maxInstances}`,
    };
  if (maxInstances < needed) {
    const perInstance = tasksPerInstance(type, workloads[0].task);
    const holds =
      workloads.length === 1
        ? `hold ${maxInstances * perInstance} tasks (${perInstance} each), fewer than the service's maximum of ${workloads[0].maxTasks}`
        : `cannot hold the services' ${workloads.map((w) => w.maxTasks).join(" + ")} tasks at their maximum counts`;
    return {
      setting: "maxInstances",
      value: maxInstances,
      problem: `${maxInstances} x ${name} ${holds}`,
      allowed: `${needed} or more, or a larger instance type`,
    };
  }
  return { config: { ...settings, instanceType: name, maxInstances } };
}

export interface Ec2CapacityProps extends Ec2Config {
  readonly name: string;
  readonly region: string;
  readonly clusterName: string;
  readonly vpcId: string;
  readonly subnetIds: string[];
  /** The services' tasks the instances host, at their maximum counts (the first decides the architecture). */
  readonly workloads: readonly HostedWorkload[];
  /** Tags for the instances and volumes, which provider default tags do not reach. */
  readonly instanceTags: Readonly<Record<string, string>>;
}

const SSM_AMI_PARAMETER = {
  X86_64: "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id",
  ARM64: "/aws/service/ecs/optimized-ami/amazon-linux-2023/arm64/recommended/image_id",
};

/**
 * EC2 execution mode: an Auto Scaling group of ECS-optimized instances, joined to the cluster through
 * a capacity provider whose managed scaling adds instances as the service adds tasks.
 */
export class Ec2Capacity extends Construct implements Capacity {
  readonly compatibility = "EC2";
  readonly strategy: readonly CapacityProviderStrategy[];
  readonly extraProviderNames: readonly string[];
  readonly publicIpCapable = false;
  // Spread over zones first, so an AZ outage takes only its share of the tasks.
  readonly placement = [{ type: "spread", field: "attribute:ecs.availability-zone" }];
  readonly capacityProvider: EcsCapacityProvider;
  readonly autoScalingGroup: AutoscalingGroup;
  readonly launchTemplate: LaunchTemplate;
  readonly securityGroup: SecurityGroup;
  readonly instanceType: string;

  constructor(scope: Construct, id: string, props: Ec2CapacityProps) {
    super(scope, id);
    const arch = props.workloads[0].task.cpuArchitecture;
    this.instanceType = props.instanceType;
    const type = INSTANCE_TYPES[this.instanceType];
    check(
      type?.arch === arch,
      "compute.ec2.instanceType",
      this.instanceType,
      "not a known type for the task's architecture",
      "a type from lib/calculators/instance-types.ts (resolveEc2 picks one)",
    );
    const needed = instancesNeeded(type, props.workloads);
    const amiId = props.amiId ?? `resolve:ssm:${SSM_AMI_PARAMETER[arch]}`;
    const capacityProviderName = `${props.name}-ec2`;

    // EC2 presents no source account or ARN when an instance assumes its profile's role.
    const role = new ServiceRole(this, "InstanceRole", { name: `${props.name}-ecs-instance`, service: "ec2.amazonaws.com" });
    grantEc2CapacityDeploy(this, props.name, props.region);
    const partition = partitionOf(props.region);
    for (const [id, policy] of [
      // The ECS agent's permissions, maintained by AWS.
      ["AgentPolicy", "service-role/AmazonEC2ContainerServiceforEC2Role"],
      // Session Manager instead of SSH: no key pairs, no inbound port.
      ["SessionManagerPolicy", "AmazonSSMManagedInstanceCore"],
    ]) {
      new IamRolePolicyAttachment(this, id, { role: role.role.name, policyArn: `arn:${partition}:iam::aws:policy/${policy}` });
    }
    const profile = new IamInstanceProfile(this, "InstanceProfile", { name: `${props.name}-ecs-instance`, role: role.role.name });

    this.securityGroup = securityGroup(this, "SecurityGroup", {
      name: `${props.name}-instances`,
      // The description is kept as first written: changing it replaces the group under running instances.
      description: `ECS instances of ${props.name}: nothing in, anything out`,
      vpcId: props.vpcId,
      // The agent, image pulls (ECR and S3), logs, SSM and package updates are all HTTPS; DNS, time
      // sync and instance metadata are link-local, which security groups do not filter.
      egressHttps: "HTTPS: ECS, ECR, S3, CloudWatch, SSM, package updates",
    });

    this.launchTemplate = new LaunchTemplate(this, "LaunchTemplate", {
      name: `${props.name}-ecs`,
      imageId: amiId,
      instanceType: this.instanceType,
      iamInstanceProfile: { arn: profile.arn },
      vpcSecurityGroupIds: [this.securityGroup.id],
      metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
      monitoring: { enabled: true },
      blockDeviceMappings: [
        {
          deviceName: "/dev/xvda",
          ebs: {
            volumeSize: props.rootVolumeGb,
            volumeType: "gp3",
            encrypted: "true",
            deleteOnTermination: "true",
          },
        },
      ],
      // The cluster name is a reference, so Terraform deletes the instances before the cluster.
      userData: Fn.base64encode(
        [
          "#!/bin/bash",
          "cat >> /etc/ecs/ecs.config <<'CONFIG'",
          `ECS_CLUSTER=${props.clusterName}`,
          // Tasks must not borrow the instance's role through the metadata endpoint.
          "ECS_AWSVPC_BLOCK_IMDS=true",
          "ECS_ENABLE_CONTAINER_METADATA=true",
          "CONFIG",
          "",
        ].join("\n"),
      ),
      tagSpecifications: ["instance", "volume"].map((resourceType) => ({
        resourceType,
        tags: { ...props.instanceTags, Name: `${props.name}-ecs` },
      })),
    });

    this.autoScalingGroup = new AutoscalingGroup(this, "AutoScalingGroup", {
      name: `${props.name}-ecs`,
      vpcZoneIdentifier: props.subnetIds,
      minSize: props.minInstances,
      maxSize: props.maxInstances,
      launchTemplate: { id: this.launchTemplate.id, version: this.launchTemplate.latestVersion.toString() },
      healthCheckType: "EC2",
      // Managed termination protection needs instances protected from scale-in...
      protectFromScaleIn: true,
      // ...and this lets `destroy` remove the group without waiting on those protected instances.
      forceDelete: true,
      instanceRefresh: { strategy: "Rolling", preferences: { minHealthyPercentage: 50 } },
      tag: [{ key: "AmazonECSManaged", value: "true", propagateAtLaunch: true }],
      // Managed scaling sets the desired capacity.
      lifecycle: { ignoreChanges: ["desired_capacity"] },
    });

    this.capacityProvider = new EcsCapacityProvider(this, "CapacityProvider", {
      name: capacityProviderName,
      autoScalingGroupProvider: {
        autoScalingGroupArn: this.autoScalingGroup.arn,
        managedTerminationProtection: "ENABLED",
        managedDraining: "ENABLED",
        managedScaling: {
          status: "ENABLED",
          targetCapacity: props.targetCapacityPercent,
          minimumScalingStepSize: 1,
          maximumScalingStepSize: Math.max(1, Math.min(10, needed)),
          instanceWarmupPeriod: 120,
        },
      },
    });
    // Every task on the instances: the Fargate providers stay registered, unused, so switching back is one setting.
    this.strategy = [{ capacityProvider: this.capacityProvider.name, base: 0, weight: 1 }];
    this.extraProviderNames = [this.capacityProvider.name];
  }
}

/**
 * The two AWS-managed policies the instance role carries, as the environment's boundary must allow
 * them: the ECS agent's (register, poll, pull, log) and Session Manager's. Both are AWS's own and broad
 * (`Resource: "*"`); the boundary copies their actions, so an AWS change to them waits for the boundary.
 */
const INSTANCE_ROLE_ACTIONS = [
  "ec2:DescribeTags",
  "ecs:CreateCluster",
  "ecs:DeregisterContainerInstance",
  "ecs:DiscoverPollEndpoint",
  "ecs:Poll",
  "ecs:RegisterContainerInstance",
  "ecs:StartTelemetrySession",
  "ecs:Submit*",
  "ecs:TagResource",
  "ecs:UpdateContainerInstancesState",
  "ecr:BatchCheckLayerAvailability",
  "ecr:BatchGetImage",
  "ecr:GetAuthorizationToken",
  "ecr:GetDownloadUrlForLayer",
  "logs:CreateLogStream",
  "logs:PutLogEvents",
  "ssm:DescribeAssociation",
  "ssm:DescribeDocument",
  "ssm:GetDeployablePatchSnapshotForInstance",
  "ssm:GetDocument",
  "ssm:GetManifest",
  "ssm:GetParameter",
  "ssm:GetParameters",
  "ssm:ListAssociations",
  "ssm:ListInstanceAssociations",
  "ssm:PutComplianceItems",
  "ssm:PutConfigurePackageResult",
  "ssm:PutInventory",
  "ssm:UpdateAssociationStatus",
  "ssm:UpdateInstanceAssociationStatus",
  "ssm:UpdateInstanceInformation",
  "ssmmessages:CreateControlChannel",
  "ssmmessages:CreateDataChannel",
  "ssmmessages:OpenControlChannel",
  "ssmmessages:OpenDataChannel",
  "ec2messages:AcknowledgeMessage",
  "ec2messages:DeleteMessage",
  "ec2messages:FailMessage",
  "ec2messages:GetEndpoint",
  "ec2messages:GetMessages",
  "ec2messages:SendReply",
];

/** The boundary for the instance role, and what the deploy role needs for the instances: template, group, profile, capacity provider. */
function grantEc2CapacityDeploy(scope: Construct, name: string, region: string): void {
  PermissionsBoundary.of(scope)?.allow([{ Sid: "EcsInstances", Action: INSTANCE_ROLE_ACTIONS, Resource: "*" }]);
  const deploy = DeployPermissions.of(scope);
  if (!deploy) return;
  grantEc2Deploy(
    deploy,
    ["ec2:CreateLaunchTemplate", "ec2:RunInstances"],
    ["ec2:CreateLaunchTemplateVersion", "ec2:DeleteLaunchTemplate", "ec2:ModifyLaunchTemplate", "ec2:RunInstances"],
  );
  deploy.allow([
    // The ECS-optimized AMI: AWS's, untagged, and its public parameter.
    { Sid: "Ec2Images", Action: "ec2:RunInstances", Resource: `arn:${deploy.partition}:ec2:${region}::image/*` },
    {
      Sid: "EcsAmiParameter",
      Action: ["ssm:GetParameter", "ssm:GetParameters"],
      Resource: `arn:${deploy.partition}:ssm:${region}::parameter/aws/service/ecs/*`,
    },
    { Sid: "AutoScalingRead", Action: "autoscaling:Describe*", Resource: "*" },
    {
      Sid: "InstanceProfiles",
      Action: [
        "iam:AddRoleToInstanceProfile",
        "iam:DeleteInstanceProfile",
        "iam:GetInstanceProfile",
        "iam:RemoveRoleFromInstanceProfile",
        "iam:TagInstanceProfile",
        "iam:UntagInstanceProfile",
      ],
      Resource: deploy.arn("iam", `instance-profile/${name}-ecs-instance`, ""),
      Condition: deploy.ownResource,
    },
    {
      Sid: "InstanceProfilesCreate",
      Action: ["iam:CreateInstanceProfile", "iam:TagInstanceProfile"],
      Resource: deploy.arn("iam", `instance-profile/${name}-ecs-instance`, ""),
      Condition: deploy.taggedRequest,
    },
  ]);
  deploy.service("AutoScaling", {
    create: ["autoscaling:CreateAutoScalingGroup", "autoscaling:CreateOrUpdateTags"],
    manage: [
      "autoscaling:CreateOrUpdateTags",
      "autoscaling:DeleteAutoScalingGroup",
      "autoscaling:DeleteTags",
      "autoscaling:SetInstanceProtection",
      "autoscaling:UpdateAutoScalingGroup",
    ],
  });
  deploy.service("Ecs", {
    create: ["ecs:CreateCapacityProvider", "ecs:TagResource"],
    manage: ["ecs:DeleteCapacityProvider", "ecs:DescribeCapacityProviders", "ecs:UpdateCapacityProvider"],
  });
  deploy.passRole("Ec2", ["ecs-instance"], "ec2.amazonaws.com");
  deploy.attachPolicies(["service-role/AmazonEC2ContainerServiceforEC2Role", "AmazonSSMManagedInstanceCore"]);
  deploy.serviceLinkedRole("autoscaling.amazonaws.com");
}
