import { Construct } from "constructs";
import { Fn } from "cdktf";
import { AutoscalingGroup } from "@cdktf/provider-aws/lib/autoscaling-group";
import { EcsCapacityProvider } from "@cdktf/provider-aws/lib/ecs-capacity-provider";
import { IamInstanceProfile } from "@cdktf/provider-aws/lib/iam-instance-profile";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { LaunchTemplate } from "@cdktf/provider-aws/lib/launch-template";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { partitionOf, ServiceRole } from "./iam";
import { securityGroup } from "./security-group";
import { INSTANCE_TYPES, InstanceType, taskMemoryOf } from "./instance-types";
import { check, checkInt } from "./validate";

export interface Ec2Settings {
  /** Must fit the task; known types are in `lib/instance-types.ts`. @default `"t3.medium"` / `"t4g.medium"` (ARM64) */
  readonly instanceType?: string;
  /** Pin an AMI (offline plans do). @default latest ECS-optimized AL2023, resolved by EC2 at launch from the public SSM parameter */
  readonly amiId?: string;
  /** Fewest instances. @default 1 */
  readonly minInstances?: number;
  /** Most instances. @default twice what `autoscaling.maxCapacity` needs, as deployments run old and new tasks side by side */
  readonly maxInstances?: number;
  /** How full managed scaling keeps instances, in %; below 100 leaves room for fast scale-out. @default 100 */
  readonly targetCapacityPercent?: number;
  /** Root volume size. @default 30 */
  readonly rootVolumeGb?: number;
}

export interface Ec2CapacityProps extends Ec2Settings {
  readonly name: string;
  readonly region: string;
  readonly clusterName: string;
  readonly vpcId: string;
  readonly subnetIds: string[];
  /** The task each instance hosts copies of, to check the instance type against it. */
  readonly task: { readonly cpu: number; readonly memory: number; readonly cpuArchitecture: "X86_64" | "ARM64" };
  /** The most tasks the service may run. */
  readonly maxTasks: number;
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
export class Ec2Capacity extends Construct {
  readonly capacityProvider: EcsCapacityProvider;
  readonly autoScalingGroup: AutoscalingGroup;
  readonly launchTemplate: LaunchTemplate;
  readonly securityGroup: SecurityGroup;
  readonly instanceType: string;
  /** Copies of the task one instance holds: the least of CPU, memory and network interfaces allow. */
  readonly tasksPerInstance: number;

  constructor(scope: Construct, id: string, props: Ec2CapacityProps) {
    super(scope, id);
    const arch = props.task.cpuArchitecture;
    this.instanceType = props.instanceType ?? (arch === "ARM64" ? "t4g.medium" : "t3.medium");
    const type = checkInstanceType(this.instanceType, props.task);
    this.tasksPerInstance = Math.min(Math.floor((type.vcpus * 1024) / props.task.cpu), Math.floor(taskMemoryOf(type) / props.task.memory), type.enis - 1);
    const minInstances = checkInt("compute.ec2.minInstances", props.minInstances ?? 1, 0, 1000);
    const needed = Math.ceil(props.maxTasks / this.tasksPerInstance);
    const maxInstances = checkInt("compute.ec2.maxInstances", props.maxInstances ?? Math.max(minInstances, 1, needed * 2), 1, 1000);
    check(
      minInstances <= maxInstances,
      "compute.ec2.minInstances",
      minInstances,
      `greater than compute.ec2.maxInstances (${maxInstances})`,
      `at most ${maxInstances}`,
    );
    check(
      maxInstances >= needed,
      "compute.ec2.maxInstances",
      maxInstances,
      `${maxInstances} x ${this.instanceType} hold ${maxInstances * this.tasksPerInstance} tasks (${this.tasksPerInstance} each), fewer than the service's maximum of ${props.maxTasks}`,
      `${needed} or more, or a larger instance type`,
    );
    const amiId = props.amiId ?? `resolve:ssm:${SSM_AMI_PARAMETER[arch]}`;
    if (props.amiId)
      check(/^ami-[0-9a-f]{8,17}$/.test(props.amiId), "compute.ec2.amiId", props.amiId, "not an AMI id", '"ami-" followed by 8 or 17 hex digits');
    const capacityProviderName = `${props.name}-ec2`;
    check(
      !/^(aws|ecs|fargate)/i.test(capacityProviderName),
      "project",
      props.name,
      `the capacity provider name "${capacityProviderName}" starts with a prefix AWS reserves`,
      'a project name not starting with "aws", "ecs" or "fargate"',
    );

    const role = new ServiceRole(this, "InstanceRole", { name: `${props.name}-ecs-instance`, service: "ec2.amazonaws.com" });
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
      description: `ECS instances of ${props.name}: nothing in, anything out`,
      vpcId: props.vpcId,
      egressAnywhere: "ECS, ECR and CloudWatch endpoints",
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
            volumeSize: checkInt("compute.ec2.rootVolumeGb", props.rootVolumeGb ?? 30, 30, 16384),
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
      minSize: minInstances,
      maxSize: maxInstances,
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
          targetCapacity: checkInt("compute.ec2.targetCapacityPercent", props.targetCapacityPercent ?? 100, 1, 100),
          minimumScalingStepSize: 1,
          maximumScalingStepSize: Math.max(1, Math.min(10, needed)),
          instanceWarmupPeriod: 120,
        },
      },
    });
  }
}

function checkInstanceType(name: string, task: Ec2CapacityProps["task"]): InstanceType {
  const type = INSTANCE_TYPES[name];
  check(
    Boolean(type),
    "compute.ec2.instanceType",
    name,
    "not a type this starter knows the size of",
    `one listed in lib/instance-types.ts (e.g. "t3.medium", "m7g.large"), or add it there`,
  );
  check(
    type.arch === task.cpuArchitecture,
    "compute.ec2.instanceType",
    name,
    `a ${type.arch} type, but task.cpuArchitecture is ${task.cpuArchitecture}`,
    task.cpuArchitecture === "ARM64" ? 'a Graviton type such as "t4g.medium" or "m7g.large"' : 'an x86 type such as "t3.medium" or "m7i.large"',
  );
  check(
    taskMemoryOf(type) >= task.memory,
    "compute.ec2.instanceType",
    name,
    `${name} leaves about ${taskMemoryOf(type)} MiB for tasks, less than task.memory (${task.memory} MiB)`,
    "a type with more memory, or a smaller task.memory",
  );
  check(
    type.vcpus * 1024 >= task.cpu,
    "compute.ec2.instanceType",
    name,
    `${name} has ${type.vcpus * 1024} CPU units, fewer than task.cpu (${task.cpu})`,
    "a type with more vCPUs, or a smaller task.cpu",
  );
  return type;
}
