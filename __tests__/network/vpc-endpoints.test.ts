/** VPC endpoints: a setting of the network, off by default (they cost more than a NAT gateway). */
import { INTERFACE_ENDPOINT_SERVICES } from "../../lib/network/vpc-endpoints";
import { environments } from "../../environments/environments";
import { env, ref, resources, synth } from "../support/helpers";

describe("VPC endpoints", () => {
  const tf = synth(env({ network: { endpoints: true } }));
  const endpoints = resources(tf, "aws_vpc_endpoint");
  const privateSubnets = resources(tf, "aws_subnet")
    .filter((s) => s.tags.Tier === "private")
    .map((s) => ref(tf, "aws_subnet", s, "id"));

  test("are off unless network.endpoints is set; no shipped environment pays for them", () => {
    expect(resources(synth(env()), "aws_vpc_endpoint")).toEqual([]);
    for (const settings of environments) expect([settings.name, resources(synth(settings), "aws_vpc_endpoint")]).toEqual([settings.name, []]);
  });

  test("given endpoints, ECR (API and registry), CloudWatch Logs and Secrets Manager each get an interface endpoint in every AZ, with private DNS", () => {
    const interfaces = endpoints.filter((e) => e.vpc_endpoint_type === "Interface");
    expect(interfaces.map((e) => e.service_name).sort()).toEqual(INTERFACE_ENDPOINT_SERVICES.map((s) => `com.amazonaws.eu-west-1.${s}`).sort());
    for (const endpoint of interfaces) {
      expect(endpoint).toMatchObject({ private_dns_enabled: true, subnet_ids: privateSubnets });
    }
  });

  test("their security group admits HTTPS from the VPC only, and nothing else", () => {
    const group = resources(tf, "aws_security_group").find((g) => g.name === "rest-api-test-endpoints")!;
    const id = ref(tf, "aws_security_group", group, "id");
    for (const endpoint of endpoints.filter((e) => e.vpc_endpoint_type === "Interface")) expect(endpoint.security_group_ids).toEqual([id]);
    expect(resources(tf, "aws_vpc_security_group_ingress_rule").filter((r) => r.security_group_id === id)).toEqual([
      expect.objectContaining({ ip_protocol: "tcp", from_port: 443, to_port: 443, cidr_ipv4: "10.0.0.0/16" }),
    ]);
    expect(resources(tf, "aws_vpc_security_group_egress_rule").filter((r) => r.security_group_id === id)).toEqual([]);
  });

  test("the S3 gateway endpoint (image layers) routes every subnet, public ones too, as tasks without a NAT run there", () => {
    const gateway = endpoints.find((e) => e.vpc_endpoint_type === "Gateway")!;
    expect(gateway.service_name).toBe("com.amazonaws.eu-west-1.s3");
    const tables = resources(tf, "aws_route_table").map((t) => ref(tf, "aws_route_table", t, "id"));
    expect([...gateway.route_table_ids].sort()).toEqual(tables.sort());
  });
});
