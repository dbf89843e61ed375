import { Construct } from "constructs";
import { VpcEndpoint } from "@cdktf/provider-aws/lib/vpc-endpoint";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import type { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { grantEc2Deploy, securityGroup } from "../core/security-group";
import { holdings, ResourceKind } from "../core/resource-kind";
import { endpointCost } from "../calculators/cost";
import { DeployPermissions } from "../core/deploy-permissions";
import { EnvironmentContext } from "../core/environment";

/** The AWS services a task reaches to start and run: its image (ECR's API and registry), its logs, its secrets. */
export const INTERFACE_ENDPOINT_SERVICES = ["ecr.api", "ecr.dkr", "logs", "secretsmanager"] as const;

/** VPC endpoints: interface endpoints by the hour, the S3 gateway free. */
export const VPC_ENDPOINTS = new ResourceKind({
  name: "VPC endpoints",
  file: __filename,
  types: ["aws_vpc_endpoint"],
  deploy: { services: ["ec2"], tag: ["ec2:CreateTags"], untag: ["ec2:DeleteTags"] },
  endpoints: ["ec2"],
  price: endpointCost,
  inventory: async (aws) =>
    holdings(
      "ec2",
      "vpc-endpoint",
      ((await aws("ec2", "DescribeVpcEndpoints")).VpcEndpoints ?? [])
        .filter((e: { State?: string }) => String(e.State).toLowerCase() !== "deleted")
        .map((e: { VpcEndpointId?: string }) => e.VpcEndpointId),
    ),
  alarms: { why: "an endpoint that fails shows as tasks that cannot pull their image or write logs, which the service's alarms catch" },
});

/** Its names and the region of its services are the environment's (`EnvironmentContext`). */
export interface VpcEndpointsProps {
  readonly vpcId: string;
  /** Who may use the interface endpoints, on 443: the VPC's range. */
  readonly vpcCidr: string;
  /** One subnet per AZ for each interface endpoint's network interface. */
  readonly subnetIds: readonly string[];
  /** The route tables that get the S3 gateway endpoint's route (image layers are in S3). */
  readonly routeTableIds: readonly string[];
}

/**
 * Private ways to the AWS services tasks need: interface endpoints for ECR, CloudWatch Logs and
 * Secrets Manager (private DNS, so the SDKs and the ECS agent use them unchanged), and the free S3
 * gateway endpoint, where ECR keeps image layers. Traffic to them stays in the VPC and skips the NAT's
 * per-GB charge.
 */
export class VpcEndpoints extends Construct {
  readonly securityGroup: SecurityGroup;
  /** The interface endpoints, by service (`ecr.api`, …). */
  readonly interfaceEndpoints: Readonly<Record<string, VpcEndpoint>>;
  readonly s3Gateway: VpcEndpoint;

  constructor(scope: Construct, id: string, props: VpcEndpointsProps) {
    super(scope, id);
    const { prefix: name, region } = EnvironmentContext.of(this);
    const deploy = DeployPermissions.of(this);
    if (deploy) grantEc2Deploy(deploy, VPC_ENDPOINTS, ["ec2:CreateVpcEndpoint"], ["ec2:CreateVpcEndpoint", "ec2:DeleteVpcEndpoints", "ec2:ModifyVpcEndpoint"]);
    this.securityGroup = securityGroup(this, "SecurityGroup", {
      name: `${name}-endpoints`,
      description: `VPC endpoints of ${name}: HTTPS from the VPC`,
      vpcId: props.vpcId,
    });
    new VpcSecurityGroupIngressRule(this, "HttpsFromVpc", {
      securityGroupId: this.securityGroup.id,
      description: "HTTPS from the VPC",
      ipProtocol: "tcp",
      fromPort: 443,
      toPort: 443,
      cidrIpv4: props.vpcCidr,
    });
    const pascal = (service: string) =>
      service
        .split(/[.-]/)
        .map((part) => part[0].toUpperCase() + part.slice(1))
        .join("");
    this.interfaceEndpoints = Object.fromEntries(
      INTERFACE_ENDPOINT_SERVICES.map((service) => [
        service,
        new VpcEndpoint(this, pascal(service), {
          vpcId: props.vpcId,
          serviceName: `com.amazonaws.${region}.${service}`,
          vpcEndpointType: "Interface",
          privateDnsEnabled: true,
          subnetIds: [...props.subnetIds],
          securityGroupIds: [this.securityGroup.id],
          tags: { Name: `${name}-${service}` },
        }),
      ]),
    );
    this.s3Gateway = new VpcEndpoint(this, "S3", {
      vpcId: props.vpcId,
      serviceName: `com.amazonaws.${region}.s3`,
      vpcEndpointType: "Gateway",
      routeTableIds: [...props.routeTableIds],
      tags: { Name: `${name}-s3` },
    });
  }
}
