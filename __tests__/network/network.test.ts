import { layoutSubnets } from "../../lib/network/network";
import { env, only, ref, resources, rolePolicy, synth } from "../support/helpers";

describe("Network", () => {
  test("creates one public and one private subnet per availability zone", () => {
    const tf = synth(env({ availabilityZones: ["eu-west-1a", "eu-west-1b", "eu-west-1c"] }));
    const subnets = resources(tf, "aws_subnet");
    expect(subnets.filter((s) => s.tags.Tier === "public").map((s) => s.availability_zone)).toEqual(["eu-west-1a", "eu-west-1b", "eu-west-1c"]);
    expect(subnets.filter((s) => s.tags.Tier === "private")).toHaveLength(3);
  });

  test("computes subnet CIDRs from the VPC CIDR, public blocks first", () => {
    expect(layoutSubnets("10.0.0.0/16", 2)).toEqual({
      public: ["10.0.0.0/18", "10.0.64.0/18"],
      private: ["10.0.128.0/18", "10.0.192.0/18"],
    });
    expect(layoutSubnets("192.168.4.0/24", 3)).toEqual({
      public: ["192.168.4.0/27", "192.168.4.32/27", "192.168.4.64/27"],
      private: ["192.168.4.96/27", "192.168.4.128/27", "192.168.4.160/27"],
    });
  });

  test("never maps public IPs on launch, in any subnet", () => {
    const tf = synth(env());
    for (const subnet of resources(tf, "aws_subnet")) expect(subnet.map_public_ip_on_launch).toBe(false);
  });

  test("routes public subnets to the internet gateway", () => {
    const tf = synth(env());
    const igw = ref(tf, "aws_internet_gateway", only(tf, "aws_internet_gateway"), "id");
    expect(resources(tf, "aws_route").filter((r) => r.gateway_id === igw)).toHaveLength(1);
  });

  test("natMode single: one NAT gateway serves every private route table", () => {
    const tf = synth(env({ network: { natMode: "single" } }));
    const nat = ref(tf, "aws_nat_gateway", only(tf, "aws_nat_gateway"), "id");
    const natRoutes = resources(tf, "aws_route").filter((r) => r.nat_gateway_id);
    expect(natRoutes.map((r) => r.nat_gateway_id)).toEqual([nat, nat]);
  });

  test("natMode per-az: one NAT gateway per zone, each private route table uses its own", () => {
    const tf = synth(env({ availabilityZones: ["eu-west-1a", "eu-west-1b", "eu-west-1c"], network: { natMode: "per-az" } }));
    expect(resources(tf, "aws_nat_gateway")).toHaveLength(3);
    const targets = resources(tf, "aws_route")
      .filter((r) => r.nat_gateway_id)
      .map((r) => r.nat_gateway_id);
    expect(new Set(targets).size).toBe(3);
  });

  test("natMode none: no NAT gateway, no elastic IP and no default route from private subnets", () => {
    const tf = synth(env({ network: { natMode: "none" } }));
    expect(resources(tf, "aws_nat_gateway")).toHaveLength(0);
    expect(resources(tf, "aws_eip")).toHaveLength(0);
    expect(resources(tf, "aws_route").filter((r) => r.nat_gateway_id)).toHaveLength(0);
  });

  test("adopts the default security group and removes all its rules", () => {
    const sg = only(synth(env()), "aws_default_security_group");
    expect(sg.ingress).toEqual([]);
    expect(sg.egress).toEqual([]);
  });

  test("sends flow logs to a log group with retention, through a role scoped to that group", () => {
    const tf = synth(env({ network: { flowLogRetentionDays: 14 } }));
    const group = resources(tf, "aws_cloudwatch_log_group").find((g) => g.name === "/vpc/rest-api-test/flow-logs")!;
    expect(group.retention_in_days).toBe(14);
    const flowLog = only(tf, "aws_flow_log");
    expect(flowLog.log_destination).toBe(ref(tf, "aws_cloudwatch_log_group", group, "arn"));
    expect(flowLog.traffic_type).toBe("ALL");
    const policy = rolePolicy(tf, "-vpc-flow-logs", "Policy");
    expect(policy.Statement[0].Resource).toBe(`${ref(tf, "aws_cloudwatch_log_group", group, "arn")}:*`);
    expect(JSON.stringify(policy)).not.toContain('"*"');
  });

  describe("rejects bad settings at synth", () => {
    test.each([
      ["10.0.0.0/33", /network\.cidr = "10\.0\.0\.0\/33": not an IPv4 CIDR block/],
      ["10.0.0.1/16", /network\.cidr = "10\.0\.0\.1\/16": not an IPv4 CIDR block whose address is the start/],
      ["8.8.0.0/16", /network\.cidr = "8\.8\.0\.0\/16": not inside a private address range/],
      ["10.0.0.0/8", /network\.cidr = "10\.0\.0\.0\/8": a \/8 VPC is outside the sizes/],
    ])("cidr %s", (cidr, message) => {
      expect(() => synth(env({ network: { cidr } }))).toThrow(message);
    });

    test("a CIDR too small for the zones it must hold", () => {
      // us-east-1 is a region with six zones.
      const zones = ["a", "b", "c", "d", "e", "f"].map((z) => `us-east-1${z}`);
      expect(() => synth(env({ region: "us-east-1", availabilityZones: zones, network: { cidr: "10.0.0.0/24" } }))).toThrow(
        /network\.cidr = "10\.0\.0\.0\/24": too small for 12 subnets \(6 AZs x public and private\); each would be a \/28, and a load balancer subnet needs \/27 or larger.*Allowed: a VPC of \/23 or larger/,
      );
      expect(() => synth(env({ availabilityZones: ["eu-west-1a", "eu-west-1b", "eu-west-1c"], network: { cidr: "10.0.0.0/24" } }))).not.toThrow();
    });

    test("an unknown NAT mode", () => {
      expect(() => synth(env({ network: { natMode: "two" as never } }))).toThrow(
        'Invalid setting network.natMode = "two": not a supported value. Allowed: "none", "single", "per-az".',
      );
    });

    test("a retention CloudWatch does not accept", () => {
      expect(() => synth(env({ network: { flowLogRetentionDays: 10 } }))).toThrow(
        /network\.flowLogRetentionDays = 10: not a retention period CloudWatch Logs offers\. Allowed: one of 1, 3, 5, 7, 14, .*; nearest: 7, 14\./,
      );
    });
  });
});
