import { Construct } from "constructs";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { DeployPermissions } from "./deploy-permissions";

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
export function grantEc2Deploy(deploy: DeployPermissions, creates: readonly string[], manages: readonly string[]): void {
  deploy.service("Ec2", {
    read: ["ec2:Describe*"],
    create: creates,
    manage: [...manages, "ec2:CreateTags", "ec2:DeleteTags"],
    tagging: ["ec2:CreateTags"],
    untagging: ["ec2:DeleteTags"],
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
