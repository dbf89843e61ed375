import { Construct } from "constructs";
import { DefaultSecurityGroup } from "@cdktf/provider-aws/lib/default-security-group";
import { Eip } from "@cdktf/provider-aws/lib/eip";
import { FlowLog } from "@cdktf/provider-aws/lib/flow-log";
import { InternetGateway } from "@cdktf/provider-aws/lib/internet-gateway";
import { NatGateway } from "@cdktf/provider-aws/lib/nat-gateway";
import { Route } from "@cdktf/provider-aws/lib/route";
import { RouteTable } from "@cdktf/provider-aws/lib/route-table";
import { RouteTableAssociation } from "@cdktf/provider-aws/lib/route-table-association";
import { Subnet } from "@cdktf/provider-aws/lib/subnet";
import { Vpc } from "@cdktf/provider-aws/lib/vpc";
import { contains, parseBlock, parseCidr, subnet } from "../calculators/cidr";
import { ServiceRole } from "../core/iam";
import { logGroup } from "../core/log-group";
import { EnvironmentContext } from "../core/environment";
import { DeployPermissions } from "../core/deploy-permissions";
import { PermissionsBoundary } from "../core/permissions-boundary";
import { defaultVpcIds, grantEc2Deploy } from "../core/security-group";
import { holdings, ResourceKind } from "../core/resource-kind";
import { networkCost } from "../calculators/cost";
import * as z from "zod/mini";
import { fail, flag, retention, withDefault } from "../settings/rules";
import { noBlocks } from "../core/hcl";
import { VpcEndpoints } from "./vpc-endpoints";

/**
 * How private subnets reach the internet.
 * - `none`: no NAT gateway (cheapest). Tasks run in the public subnets with public IPs, and only
 *   their security group (admitting the load balancer alone) stands between them and the internet.
 * - `single`: one NAT gateway for all AZs; an AZ outage cuts the others' egress.
 * - `per-az`: one NAT gateway per AZ, highly available, one hourly NAT charge per AZ.
 */
export type NatMode = "none" | "single" | "per-az";

const PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"].map((r) => parseCidr(r)!);

const vpcCidr = z.string().check(
  z.superRefine((text, ctx) => {
    const cidr = parseBlock(text);
    if (!cidr) fail(ctx, [], text, "not an IPv4 CIDR block whose address is the start of its range", 'a block such as "10.0.0.0/16"');
    else if (!PRIVATE_RANGES.some((range) => contains(range, cidr)))
      fail(ctx, [], text, "not inside a private address range", "a block inside 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 or 100.64.0.0/10");
    else if (cidr.prefix < 16 || cidr.prefix > 24)
      fail(ctx, [], text, `a /${cidr.prefix} VPC is outside the sizes this starter lays out`, "a prefix from /16 (65,536 addresses) to /24 (256 addresses)");
  }),
);

/** An environment's name, as its `name` setting takes it. */
const ENVIRONMENT_NAME = /^[a-z][a-z0-9-]*[a-z0-9]$/;

const environmentNames = z.readonly(z.array(z.string())).check(
  z.superRefine((list, ctx) => {
    const bad = list.find((name) => !ENVIRONMENT_NAME.test(name));
    if (bad !== undefined) fail(ctx, [], list, `"${bad}" is not an environment name`, 'names of other environments, e.g. ["dev"]');
    else if (new Set(list).size !== list.length) fail(ctx, [], list, "an environment is named twice", "each environment once");
  }),
);

export const NetworkSettingsSchema = z.strictObject({
  /** VPC range, a private /16–/24; subnets are computed from it. One of its own: synth warns when it overlaps another environment's. @default "10.0.0.0/16" */
  cidr: withDefault(vpcCidr, "10.0.0.0/16"),
  /**
   * `none` (tasks in public subnets with public IPs, guarded only by security groups; cheapest), `single` (one NAT; an AZ outage cuts the others'
   * egress), `per-az` (highly available).
   * @default "single"
   */
  natMode: withDefault(z.enum(["none", "single", "per-az"]), "single"),
  /**
   * Interface endpoints for ECR, CloudWatch Logs and Secrets Manager in every AZ, and the free S3 gateway endpoint: AWS traffic stays in the
   * VPC and skips the NAT's $0.045/GB. About $7.30 a month per endpoint per AZ ($58 with two AZs), more than one NAT gateway.
   * @default false
   */
  endpoints: withDefault(flag, false),
  /**
   * Environments (their `name`) whose VPC range may overlap this one's on purpose; each must name the other, or synth warns, as peering, VPN and
   * Transit Gateway routes cannot join overlapping ranges.
   * @default []
   */
  sharedCidrWith: withDefault(environmentNames, []),
  /** Days VPC flow logs are kept. @default 30 */
  flowLogRetentionDays: withDefault(retention(), 30),
  /** `ALL`, `ACCEPT` or `REJECT`. @default "ALL" */
  flowLogTrafficType: withDefault(z.enum(["ALL", "ACCEPT", "REJECT"]), "ALL"),
});
/** The network's settings as written in an environment. */
export type NetworkSettings = z.input<typeof NetworkSettingsSchema>;
/** The same, checked and with every default applied. */
export type NetworkConfig = z.output<typeof NetworkSettingsSchema>;

/** Its names, region and log key are the environment's (`EnvironmentContext`). */
export interface NetworkProps extends NetworkConfig {
  /** One public and one private subnet in each; at least 2, as the load balancer and RDS need. */
  readonly availabilityZones: readonly string[];
}

/** VPC with public and private subnets per AZ, NAT per `natMode`, flow logs, and a closed default SG. */
export class Network extends Construct {
  readonly vpc: Vpc;
  readonly publicSubnets: Subnet[] = [];
  readonly privateSubnets: Subnet[] = [];
  readonly natGateways: NatGateway[] = [];
  readonly natMode: NatMode;
  /** The VPC endpoints, when `endpoints` is on. */
  readonly endpoints?: VpcEndpoints;
  readonly subnetCidrs: { readonly public: string[]; readonly private: string[] };

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    grantNetworkDeploy(this);
    const name = EnvironmentContext.of(this).prefix;
    const cidr = props.cidr;
    this.natMode = props.natMode;
    const azs = props.availabilityZones;
    this.subnetCidrs = layoutSubnets(cidr, azs.length);

    this.vpc = new Vpc(this, "Vpc", {
      cidrBlock: cidr,
      enableDnsHostnames: true,
      enableDnsSupport: true,
      tags: { Name: name },
    });

    // Adopting the default SG with no rules closes it: nothing can quietly use it.
    new DefaultSecurityGroup(this, "DefaultSecurityGroup", {
      vpcId: this.vpc.id,
      ingress: noBlocks(),
      egress: noBlocks(),
      tags: { Name: `${name}-default-closed` },
    });

    const igw = new InternetGateway(this, "InternetGateway", {
      vpcId: this.vpc.id,
      tags: { Name: name },
    });

    const publicRoutes = new RouteTable(this, "PublicRouteTable", {
      vpcId: this.vpc.id,
      tags: { Name: `${name}-public` },
    });
    new Route(this, "PublicDefaultRoute", {
      routeTableId: publicRoutes.id,
      destinationCidrBlock: "0.0.0.0/0",
      gatewayId: igw.id,
    });

    azs.forEach((az, i) => {
      const suffix = az.slice(-1);
      const pub = new Subnet(this, `Public${i}`, {
        vpcId: this.vpc.id,
        availabilityZone: az,
        cidrBlock: this.subnetCidrs.public[i],
        mapPublicIpOnLaunch: false,
        tags: { Name: `${name}-public-${suffix}`, Tier: "public" },
      });
      new RouteTableAssociation(this, `PublicAssociation${i}`, { subnetId: pub.id, routeTableId: publicRoutes.id });
      this.publicSubnets.push(pub);

      this.privateSubnets.push(
        new Subnet(this, `Private${i}`, {
          vpcId: this.vpc.id,
          availabilityZone: az,
          cidrBlock: this.subnetCidrs.private[i],
          mapPublicIpOnLaunch: false,
          tags: { Name: `${name}-private-${suffix}`, Tier: "private" },
        }),
      );
    });

    const natCount = { none: 0, single: 1, "per-az": azs.length }[this.natMode];
    for (let i = 0; i < natCount; i++) {
      const eip = new Eip(this, `NatIp${i}`, { domain: "vpc", tags: { Name: `${name}-nat-${i}` } });
      this.natGateways.push(
        new NatGateway(this, `Nat${i}`, {
          allocationId: eip.id,
          subnetId: this.publicSubnets[i].id,
          tags: { Name: `${name}-nat-${i}` },
          dependsOn: [igw],
        }),
      );
    }

    // One private route table per AZ, so moving from `single` to `per-az` only edits routes.
    const privateRoutes = this.privateSubnets.map((sub, i) => {
      const table = new RouteTable(this, `PrivateRouteTable${i}`, {
        vpcId: this.vpc.id,
        tags: { Name: `${name}-private-${azs[i].slice(-1)}` },
      });
      new RouteTableAssociation(this, `PrivateAssociation${i}`, { subnetId: sub.id, routeTableId: table.id });
      if (this.natGateways.length > 0) {
        new Route(this, `PrivateDefaultRoute${i}`, {
          routeTableId: table.id,
          destinationCidrBlock: "0.0.0.0/0",
          natGatewayId: this.natGateways[Math.min(i, this.natGateways.length - 1)].id,
        });
      }
      return table;
    });

    if (props.endpoints) {
      this.endpoints = new VpcEndpoints(this, "Endpoints", {
        vpcId: this.vpc.id,
        vpcCidr: cidr,
        subnetIds: this.privateSubnetIds,
        // Tasks without a NAT run in the public subnets: they get the S3 route too.
        routeTableIds: [publicRoutes.id, ...privateRoutes.map((t) => t.id)],
      });
    }

    this.addFlowLogs(props);
  }

  get publicSubnetIds(): string[] {
    return this.publicSubnets.map((s) => s.id);
  }

  get privateSubnetIds(): string[] {
    return this.privateSubnets.map((s) => s.id);
  }

  /** Subnets the app runs in: private behind NAT, or public (with public IPs) when there is no NAT. */
  get appSubnetIds(): string[] {
    return this.natMode === "none" ? this.publicSubnetIds : this.privateSubnetIds;
  }

  /** Whether tasks and instances need a public IP to reach ECR and CloudWatch. */
  get appNeedsPublicIp(): boolean {
    return this.natMode === "none";
  }

  private addFlowLogs(props: NetworkProps): void {
    const { prefix: name, region, accountId, partition } = EnvironmentContext.of(this);
    const trafficType = props.flowLogTrafficType;
    const group = logGroup(this, "FlowLogGroup", {
      name: `/vpc/${name}/flow-logs`,
      retentionDays: props.flowLogRetentionDays,
    });
    const role = new ServiceRole(this, "FlowLogRole", {
      name: `${name}-vpc-flow-logs`,
      service: "vpc-flow-logs.amazonaws.com",
      // Confused deputy: "IAM role for publishing flow logs to CloudWatch Logs",
      // https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-iam-role.html: the flow log's owner
      // (aws:SourceAccount) and ARN (aws:SourceArn), its id a wildcard as the page allows (the flow log,
      // which names this role, does not exist yet when the role is written).
      trust: { sourceAccount: accountId, sourceArn: `arn:${partition}:ec2:${region}:${accountId}:vpc-flow-log/*` },
      statements: [
        {
          Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
          Resource: `${group.arn}:*`,
        },
      ],
    });
    PermissionsBoundary.of(this)?.allow([
      {
        Sid: "WriteLogs",
        Action: ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
        Resource: `arn:${partition}:logs:${region}:${accountId}:log-group:/vpc/${name}/flow-logs:*`,
      },
    ]);
    DeployPermissions.of(this)?.passRole("FlowLogs", ["vpc-flow-logs"], "vpc-flow-logs.amazonaws.com");
    new FlowLog(this, "FlowLog", {
      vpcId: this.vpc.id,
      trafficType,
      logDestinationType: "cloud-watch-logs",
      logDestination: group.arn,
      iamRoleArn: role.arn,
      maxAggregationInterval: 60,
      tags: { Name: name },
    });
  }
}

/** The prefix of each subnet when a VPC of prefix `vpcPrefix` is split for `azCount` AZs (public and private). */
export function subnetPrefix(vpcPrefix: number, azCount: number): number {
  return vpcPrefix + Math.ceil(Math.log2(azCount * 2));
}

/** The smallest subnet a load balancer accepts. */
export const SMALLEST_SUBNET_PREFIX = 27;

/**
 * Splits the VPC into equal blocks, public subnets first, then private, one of each per AZ.
 * Exported so tests and the docs can show the layout a CIDR gives. The settings schema has already
 * held the CIDR to a private /16–/24 with room for a /27 per subnet.
 */
export function layoutSubnets(cidrText: string, azCount: number): { public: string[]; private: string[] } {
  const cidr = parseCidr(cidrText)!;
  const prefix = subnetPrefix(cidr.prefix, azCount);
  const indexes = Array.from({ length: azCount }, (_, i) => i);
  return {
    public: indexes.map((i) => subnet(cidr, prefix, i)),
    private: indexes.map((i) => subnet(cidr, prefix, azCount + i)),
  };
}

/** The VPC and what routes in it: subnets, route tables, the internet and NAT gateways, their addresses, the flow log. */
export const NETWORK = new ResourceKind({
  name: "VPC network",
  file: __filename,
  types: [
    "aws_vpc",
    "aws_subnet",
    "aws_route_table",
    "aws_route",
    "aws_route_table_association",
    "aws_internet_gateway",
    "aws_nat_gateway",
    "aws_eip",
    "aws_default_security_group",
    "aws_flow_log",
  ],
  deploy: { services: ["ec2"], tag: ["ec2:CreateTags"], untag: ["ec2:DeleteTags"] },
  endpoints: ["ec2"],
  price: networkCost,
  // What a fresh account already holds (the default VPC and its parts) is left out.
  inventory: async (aws) => {
    const defaults = await defaultVpcIds(aws);
    const own = (vpcId?: string) => !defaults.has(vpcId ?? "");
    const ec2 = async <T>(command: string, key: string): Promise<T[]> => ((await aws("ec2", command))[key] ?? []) as T[];
    type Item = { VpcId?: string; State?: string };
    return [
      ...holdings(
        "ec2",
        "vpc",
        (await ec2<Item>("DescribeVpcs", "Vpcs")).filter((v) => own(v.VpcId)).map((v) => v.VpcId),
      ),
      ...holdings(
        "ec2",
        "subnet",
        (await ec2<Item & { SubnetId?: string }>("DescribeSubnets", "Subnets")).filter((s) => own(s.VpcId)).map((s) => s.SubnetId),
      ),
      ...holdings(
        "ec2",
        "nat-gateway",
        (await ec2<Item & { NatGatewayId?: string }>("DescribeNatGateways", "NatGateways")).filter((n) => n.State !== "deleted").map((n) => n.NatGatewayId),
      ),
      ...holdings(
        "ec2",
        "address",
        (await ec2<{ AllocationId?: string }>("DescribeAddresses", "Addresses")).map((a) => a.AllocationId),
      ),
      ...holdings(
        "ec2",
        "internet-gateway",
        (await ec2<{ InternetGatewayId?: string; Attachments?: Item[] }>("DescribeInternetGateways", "InternetGateways"))
          .filter((g) => !(g.Attachments ?? []).some((a) => !own(a.VpcId)))
          .map((g) => g.InternetGatewayId),
      ),
      ...holdings(
        "ec2",
        "route-table",
        (await ec2<Item & { RouteTableId?: string }>("DescribeRouteTables", "RouteTables")).filter((t) => own(t.VpcId)).map((t) => t.RouteTableId),
      ),
      ...holdings(
        "ec2",
        "flow-log",
        (await ec2<{ FlowLogId?: string }>("DescribeFlowLogs", "FlowLogs")).map((f) => f.FlowLogId),
      ),
    ];
  },
  alarms: { why: "the network's failures show in the load balancer's, the services' and the database's alarms; NAT port exhaustion is left to the dashboard" },
});

/**
 * What the deploy role needs for the VPC and what sits in it (lib/core/security-group.ts and
 * lib/network/vpc-endpoints.ts add theirs under the same Sids): every EC2 create tagged with the environment,
 * every other change on resources tagged with it (a create's parents too: a subnet only in this
 * environment's VPC).
 */
export function grantNetworkDeploy(scope: Construct): void {
  const deploy = DeployPermissions.of(scope);
  if (!deploy) return;
  const creates = [
    "ec2:AllocateAddress",
    "ec2:CreateFlowLogs",
    "ec2:CreateInternetGateway",
    "ec2:CreateNatGateway",
    "ec2:CreateRouteTable",
    "ec2:CreateSubnet",
    "ec2:CreateVpc",
  ];
  grantEc2Deploy(deploy, NETWORK, creates, [
    // The parents a create names: the VPC of a subnet, the subnet and address of a NAT gateway.
    ...creates.filter((a) => a !== "ec2:CreateVpc" && a !== "ec2:AllocateAddress" && a !== "ec2:CreateInternetGateway"),
    "ec2:AssociateRouteTable",
    "ec2:AttachInternetGateway",
    "ec2:CreateRoute",
    "ec2:DeleteFlowLogs",
    "ec2:DeleteInternetGateway",
    "ec2:DeleteNatGateway",
    "ec2:DeleteRoute",
    "ec2:DeleteRouteTable",
    "ec2:DeleteSubnet",
    "ec2:DeleteVpc",
    "ec2:DetachInternetGateway",
    "ec2:DisassociateAddress",
    "ec2:DisassociateRouteTable",
    "ec2:ModifySubnetAttribute",
    "ec2:ModifyVpcAttribute",
    "ec2:ReleaseAddress",
    "ec2:ReplaceRoute",
    "ec2:RevokeSecurityGroupEgress",
    "ec2:RevokeSecurityGroupIngress",
  ]);
  // AWS makes a VPC's default security group untagged; Terraform adopts it (tags it, removes its rules).
  // Tagging an untagged group is allowed only with this environment's tags (see docs/security.md, what AWS cannot scope).
  deploy.allow([
    {
      Sid: "Ec2AdoptDefaultSecurityGroup",
      Action: "ec2:CreateTags",
      Resource: deploy.arn("ec2", "security-group/*"),
      Condition: { ...deploy.taggedRequest, Null: { "aws:ResourceTag/Environment": "true" } },
    },
  ]);
}
