import { Construct } from "constructs";
import { Fn } from "cdktf";
import { AutoscalingGroup } from "@cdktf/provider-aws/lib/autoscaling-group";
import { EcsCapacityProvider } from "@cdktf/provider-aws/lib/ecs-capacity-provider";
import { IamInstanceProfile } from "@cdktf/provider-aws/lib/iam-instance-profile";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { LaunchTemplate } from "@cdktf/provider-aws/lib/launch-template";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import type { Capacity, CapacityProviderStrategy } from "../capacity";
import { ServiceRole } from "../../core/iam";
import { EnvironmentContext } from "../../core/environment";
import { DeployPermissions } from "../../core/deploy-permissions";
import { holdings, ResourceKind } from "../../core/resource-kind";
import { instanceCost } from "../../calculators/cost";

/** EC2 capacity: the Auto Scaling group, its launch template and instance profile, and the ECS capacity provider over it. */
export const EC2_CAPACITY = new ResourceKind({
  name: "EC2 capacity",
  file: __filename,
  types: ["aws_autoscaling_group", "aws_launch_template", "aws_iam_instance_profile", "aws_ecs_capacity_provider"],
  deploy: {
    services: ["autoscaling", "ec2", "ecs", "iam", "ssm"],
    tag: ["autoscaling:CreateOrUpdateTags", "ec2:CreateTags", "ecs:TagResource", "iam:TagInstanceProfile"],
    untag: ["autoscaling:DeleteTags", "ec2:DeleteTags", "iam:UntagInstanceProfile"],
  },
  // The ECS-optimized AMI by its public parameter (ssm).
  endpoints: ["autoscaling", "ec2", "ecs", "iam", "ssm"],
  price: instanceCost,
  inventory: async (aws) => [
    ...holdings(
      "autoscaling",
      "group",
      ((await aws("auto-scaling", "DescribeAutoScalingGroups")).AutoScalingGroups ?? []).map((g: { AutoScalingGroupName?: string }) => g.AutoScalingGroupName),
    ),
    ...holdings(
      "ec2",
      "launch-template",
      ((await aws("ec2", "DescribeLaunchTemplates")).LaunchTemplates ?? []).map((t: { LaunchTemplateName?: string }) => t.LaunchTemplateName),
    ),
    ...holdings(
      "iam",
      "instance-profile",
      ((await aws("iam", "ListInstanceProfiles")).InstanceProfiles ?? []).map((p: { InstanceProfileName?: string }) => p.InstanceProfileName),
    ),
    ...holdings(
      "ecs",
      "capacity-provider",
      ((await aws("ecs", "DescribeCapacityProviders")).capacityProviders ?? [])
        .map((p: { name?: string }) => p.name)
        .filter((name: string | undefined) => !["FARGATE", "FARGATE_SPOT"].includes(name ?? "")),
    ),
  ],
  alarms: { why: "too little capacity shows as tasks the service cannot place, which its running-tasks alarm catches" },
});
import { PermissionsBoundary } from "../../core/permissions-boundary";
import { grantEc2Deploy } from "../../core/security-group";
import { securityGroup } from "../../core/security-group";
import * as z from "zod/mini";
import { INSTANCE_TYPES } from "../../calculators/instance-types";
import { sizeEc2, type Ec2Sizing, type Ec2SizingProblem, type HostedWorkload } from "../../calculators/ec2-sizing";
import { int, matching, withDefault } from "../../settings/rules";
import { check } from "../../settings/validate";
import type { Statement } from "../../core/policy";

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
/** The same, checked, with every default applied, and sized for the tasks it hosts (`sizeEc2`, lib/calculators/ec2-sizing.ts). */
export type Ec2Config = Omit<z.output<typeof Ec2SettingsSchema>, "instanceType" | "maxInstances"> & Ec2Sizing;

/**
 * The settings sized for the services' and jobs' tasks at their maximum counts, once (the schema
 * resolves it, the capacity builds from it), or the first setting that cannot work.
 */
export function resolveEc2(settings: z.output<typeof Ec2SettingsSchema>, workloads: readonly HostedWorkload[]): { config: Ec2Config } | Ec2SizingProblem {
  const sized = sizeEc2(settings, workloads);
  return "sizing" in sized ? { config: { ...settings, ...sized.sizing } } : sized;
}

/** Its names, region and the instances' tags are the environment's (`EnvironmentContext`). */
export interface Ec2CapacityProps extends Ec2Config {
  readonly clusterName: string;
  readonly vpcId: string;
  readonly subnetIds: string[];
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
    const environment = EnvironmentContext.of(this);
    const name = environment.prefix;
    const arch = props.cpuArchitecture;
    this.instanceType = props.instanceType;
    check(
      INSTANCE_TYPES[this.instanceType]?.arch === arch,
      "compute.ec2.instanceType",
      this.instanceType,
      "not a known type for the task's architecture",
      "a type from lib/calculators/instance-types.ts (sizeEc2 picks one)",
    );
    const amiId = props.amiId ?? `resolve:ssm:${SSM_AMI_PARAMETER[arch]}`;
    const capacityProviderName = `${name}-ec2`;

    // No confused-deputy condition: EC2 presents no aws:SourceAccount or aws:SourceArn when an instance
    // assumes its profile's role, and "Amazon ECS container instance IAM role",
    // https://docs.aws.amazon.com/AmazonECS/latest/developerguide/instance_IAM_role.html, documents the
    // trust without one. An instance profile cannot be used from another account; iam:PassRole guards it.
    const role = new ServiceRole(this, "InstanceRole", { name: `${name}-ecs-instance`, service: "ec2.amazonaws.com" });
    grantEc2CapacityDeploy(this, name, environment.region);
    const partition = environment.partition;
    for (const [id, policy] of [
      // The ECS agent's permissions, maintained by AWS.
      ["AgentPolicy", "service-role/AmazonEC2ContainerServiceforEC2Role"],
      // Session Manager instead of SSH: no key pairs, no inbound port.
      ["SessionManagerPolicy", "AmazonSSMManagedInstanceCore"],
    ]) {
      new IamRolePolicyAttachment(this, id, { role: role.role.name, policyArn: `arn:${partition}:iam::aws:policy/${policy}` });
    }
    const profile = new IamInstanceProfile(this, "InstanceProfile", { name: `${name}-ecs-instance`, role: role.role.name });

    this.securityGroup = securityGroup(this, "SecurityGroup", {
      name: `${name}-instances`,
      // The description is kept as first written: changing it replaces the group under running instances.
      description: `ECS instances of ${name}: nothing in, anything out`,
      vpcId: props.vpcId,
      // The agent, image pulls (ECR and S3), logs, SSM and package updates are all HTTPS; DNS, time
      // sync and instance metadata are link-local, which security groups do not filter.
      egressHttps: "HTTPS: ECS, ECR, S3, CloudWatch, SSM, package updates",
    });

    this.launchTemplate = new LaunchTemplate(this, "LaunchTemplate", {
      name: `${name}-ecs`,
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
        tags: { ...environment.tags, Name: `${name}-ecs` },
      })),
    });

    this.autoScalingGroup = new AutoscalingGroup(this, "AutoScalingGroup", {
      name: `${name}-ecs`,
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
          maximumScalingStepSize: Math.max(1, Math.min(10, props.neededInstances)),
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
 * The two AWS-managed policies the instance role carries, the ECS agent's
 * (`service-role/AmazonEC2ContainerServiceforEC2Role`: register, poll, pull, log) and Session Manager's
 * (`AmazonSSMManagedInstanceCore`), are AWS's own and allow `"*"`. The boundary caps them to this
 * environment's names wherever the action takes a resource (AWS's Service Authorization Reference:
 * "Actions, resources, and condition keys" for Amazon ECS, Amazon ECR, CloudWatch Logs and Systems Manager),
 * so no role under the boundary (the instance role, or one the deploy role writes) reads another
 * environment's parameters or images, writes its logs or deregisters its instances:
 * - the agent's cluster calls on the environment's cluster (`cluster/<prefix>`) and its container
 *   instances (`container-instance/<prefix>/*`); its tags only as ECS sets them on register;
 * - image pulls from the environment's repository, and log writes to its `/ecs/` log groups: the task
 *   definition's boundary statements (EcrPull, WriteLogs) already hold exactly those, so none are added here;
 * - `ssm:GetParameter(s)` only on AWS's public ECS parameters (`parameter/aws/service/ecs/*`):
 *   the instances need no other (EC2 resolves the AMI's parameter at launch, the tasks' secrets go through the execution role);
 * - what takes no resource, or only the instance's own (the agent's poll endpoint, `ec2:DescribeTags`,
 *   Session Manager's channels, documents and instance reports), on `"*"`: none reads another environment's data.
 * An AWS change to the managed policies waits for the boundary.
 */
const INSTANCE_ANYWHERE = [
  "ec2:DescribeTags",
  "ecs:DiscoverPollEndpoint",
  "ssm:DescribeAssociation",
  "ssm:DescribeDocument",
  "ssm:GetDeployablePatchSnapshotForInstance",
  "ssm:GetDocument",
  "ssm:GetManifest",
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
/** The agent's calls on its cluster (RegisterContainerInstance, the state changes it submits). */
const INSTANCE_CLUSTER = ["ecs:CreateCluster", "ecs:DeregisterContainerInstance", "ecs:RegisterContainerInstance", "ecs:Submit*"];
/** The agent's calls on its own container instance. */
const INSTANCE_CONTAINER_INSTANCE = ["ecs:Poll", "ecs:StartTelemetrySession", "ecs:UpdateContainerInstancesState"];

/** The instance role's ceiling in the environment's boundary (see above). */
export function instanceBoundary(boundary: PermissionsBoundary, partition: string, region: string): Statement[] {
  const cluster = boundary.arnOf("ecs", `cluster/${boundary.prefix}`);
  const instances = boundary.arnOf("ecs", `container-instance/${boundary.prefix}/*`);
  return [
    { Sid: "EcsInstances", Action: INSTANCE_ANYWHERE, Resource: "*" },
    { Sid: "EcsInstancesCluster", Action: INSTANCE_CLUSTER, Resource: cluster },
    { Sid: "EcsInstancesOwn", Action: INSTANCE_CONTAINER_INSTANCE, Resource: instances },
    {
      Sid: "EcsInstancesTagOnRegister",
      Action: "ecs:TagResource",
      Resource: [cluster, instances],
      Condition: { StringEquals: { "ecs:CreateAction": ["CreateCluster", "RegisterContainerInstance"] } },
    },
    // AWS writes a public parameter's ARN with no account; the account pattern covers the form with one. No account's own
    // parameter can be under /aws/ (Systems Manager refuses names that begin with "aws").
    {
      Sid: "EcsAmiParameters",
      Action: ["ssm:GetParameter", "ssm:GetParameters"],
      Resource: [`arn:${partition}:ssm:${region}::parameter/aws/service/ecs/*`, `arn:${partition}:ssm:${region}:*:parameter/aws/service/ecs/*`],
    },
  ];
}

/** The boundary for the instance role, and what the deploy role needs for the instances: template, group, profile, capacity provider. */
function grantEc2CapacityDeploy(scope: Construct, name: string, region: string): void {
  const boundary = PermissionsBoundary.of(scope);
  const environment = EnvironmentContext.of(scope);
  boundary?.allow(instanceBoundary(boundary, environment.partition, region));
  const deploy = DeployPermissions.of(scope);
  if (!deploy) return;
  grantEc2Deploy(
    deploy,
    EC2_CAPACITY,
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
    kind: EC2_CAPACITY,
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
    kind: EC2_CAPACITY,
    create: ["ecs:CreateCapacityProvider", "ecs:TagResource"],
    manage: ["ecs:DeleteCapacityProvider", "ecs:DescribeCapacityProviders", "ecs:UpdateCapacityProvider"],
  });
  deploy.passRole("Ec2", ["ecs-instance"], "ec2.amazonaws.com");
  deploy.attachPolicies(["service-role/AmazonEC2ContainerServiceforEC2Role", "AmazonSSMManagedInstanceCore"]);
  deploy.serviceLinkedRole("autoscaling.amazonaws.com");
}
