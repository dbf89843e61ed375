import { Construct } from "constructs";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { DeployPermissions } from "./deploy-permissions";
import { type AwsCall, holdings, ResourceKind } from "./resource-kind";

/** The account's default VPCs (AWS makes one per region), whose parts no stack makes. */
export async function defaultVpcIds(aws: AwsCall): Promise<Set<string>> {
  const vpcs: { VpcId?: string; IsDefault?: boolean }[] = (await aws("ec2", "DescribeVpcs")).Vpcs ?? [];
  return new Set(vpcs.filter((v) => v.IsDefault).flatMap((v) => (v.VpcId ? [v.VpcId] : [])));
}

/** Security groups and their rules, each rule a resource of its own (`connections.allowTo`, lib/core/connections.ts). */
export const SECURITY_GROUPS = new ResourceKind({
  name: "security groups",
  file: __filename,
  types: ["aws_security_group", "aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule"],
  deploy: { services: ["ec2"], tag: ["ec2:CreateTags"], untag: ["ec2:DeleteTags"] },
  endpoints: ["ec2"],
  price: { why: "security groups and their rules are free" },
  inventory: async (aws) => {
    const defaults = await defaultVpcIds(aws);
    const groups: { GroupId?: string; VpcId?: string }[] = (await aws("ec2", "DescribeSecurityGroups")).SecurityGroups ?? [];
    return holdings(
      "ec2",
      "security-group",
      groups.filter((g) => !defaults.has(g.VpcId ?? "")).map((g) => g.GroupId),
    );
  },
  alarms: { why: "a security group has no metrics; what it lets through shows in the load balancer's and the service's alarms" },
});

export interface SecurityGroupProps {
  readonly name: string;
  readonly description: string;
  readonly vpcId: string;
  /** Add a rule allowing outbound HTTPS (TCP 443) anywhere, with this description. @default no outbound rule */
  readonly egressHttps?: string;
}

/**
 * A security group with no inbound rules; callers add each one as its own rule resource, so two
 * groups can reference each other without a cycle. Terraform removes AWS's default allow-all egress.
 */
export function securityGroup(scope: Construct, id: string, props: SecurityGroupProps): SecurityGroup {
  const deploy = DeployPermissions.of(scope);
  // A group and its rules (each rule its own resource, tagged on create).
  if (deploy)
    grantEc2Deploy(
      deploy,
      SECURITY_GROUPS,
      ["ec2:AuthorizeSecurityGroupEgress", "ec2:AuthorizeSecurityGroupIngress", "ec2:CreateSecurityGroup"],
      [
        "ec2:AuthorizeSecurityGroupEgress",
        "ec2:AuthorizeSecurityGroupIngress",
        "ec2:CreateSecurityGroup",
        "ec2:DeleteSecurityGroup",
        "ec2:ModifySecurityGroupRules",
        "ec2:RevokeSecurityGroupEgress",
        "ec2:RevokeSecurityGroupIngress",
        "ec2:UpdateSecurityGroupRuleDescriptionsEgress",
        "ec2:UpdateSecurityGroupRuleDescriptionsIngress",
      ],
    );
  const group = new SecurityGroup(scope, id, {
    name: props.name,
    description: props.description,
    vpcId: props.vpcId,
    tags: { Name: props.name },
  });
  // Under the id the allow-all rule once had, so stacks that had it see the rule narrowed, not a new one.
  if (props.egressHttps) {
    new VpcSecurityGroupEgressRule(scope, `${id}Egress`, {
      securityGroupId: group.id,
      description: props.egressHttps,
      ipProtocol: "tcp",
      fromPort: 443,
      toPort: 443,
      cidrIpv4: "0.0.0.0/0",
    });
  }
  return group;
}

/** EC2's reads, and `creates` (tagged on create) and `manages` (on this environment's tagged resources). */
export function grantEc2Deploy(deploy: DeployPermissions, kind: ResourceKind, creates: readonly string[], manages: readonly string[]): void {
  deploy.service("Ec2", {
    read: ["ec2:Describe*"],
    create: creates,
    manage: [...manages, "ec2:CreateTags", "ec2:DeleteTags"],
    kind,
  });
  // Tags given in a create request are authorized as ec2:CreateTags with ec2:CreateAction set.
  deploy.allow([
    {
      Sid: "Ec2TagOnCreate",
      Action: "ec2:CreateTags",
      Resource: "*",
      Condition: { ...deploy.taggedRequest, Null: { "ec2:CreateAction": "false" } },
    },
  ]);
}
