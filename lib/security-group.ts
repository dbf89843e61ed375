import { Construct } from "constructs";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";

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
