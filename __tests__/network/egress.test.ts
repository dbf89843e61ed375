import { environments } from "../../environments/environments";
import { resourcePrefix } from "../../lib/settings/environment/settings";
import { examples } from "../support/variants";
import { env, ref, resources, synth, type TfJson } from "../support/helpers";

/** Where the tasks may go: HTTPS anywhere, PostgreSQL to the database where granted, and what `service.egress` adds. */
function egressOf(tf: TfJson, groupName: string) {
  const [address] = Object.entries(tf.resource.aws_security_group).find(([, g]) => g.name === groupName)!;
  return resources(tf, "aws_vpc_security_group_egress_rule")
    .filter((r) => r.security_group_id === `\${aws_security_group.${address}.id}`)
    .map((r) => ({ protocol: r.ip_protocol, port: r.from_port, to: r.cidr_ipv4 ?? r.referenced_security_group_id }));
}
const dbGroup = (tf: TfJson) =>
  ref(
    tf,
    "aws_security_group",
    resources(tf, "aws_security_group").find((g) => g.name.endsWith("-db"))!,
    "id",
  );

describe.each([...environments, ...examples].map((s) => [s.name, s] as const))("%s", (_name, settings) => {
  const tf = synth(settings);
  const taskGroups = resources(tf, "aws_security_group")
    .map((g) => g.name as string)
    .filter((n) => n.endsWith("-tasks"));

  test("no task may send anything anywhere: every rule out names a port", () => {
    for (const group of taskGroups) expect([group, egressOf(tf, group).filter((r) => r.protocol === "-1")]).toEqual([group, []]);
  });

  test("every service's tasks reach HTTPS anywhere (ECR, logs, secrets, AWS APIs) and, where granted, the database only", () => {
    for (const group of taskGroups) {
      const rules = egressOf(tf, group);
      expect(rules).toContainEqual({ protocol: "tcp", port: 443, to: "0.0.0.0/0" });
      const database = rules.filter((r) => r.port === 5432);
      expect(database.every((r) => r.to === dbGroup(tf))).toBe(true);
    }
  });
});

test("dev-services: the worker, granted the database, reaches it; the admin API, not granted, does not", () => {
  const variant = examples.find((e) => e.name === "dev-services")!;
  const tf = synth(variant);
  expect(egressOf(tf, `${resourcePrefix(variant)}-worker-tasks`)).toContainEqual({ protocol: "tcp", port: 5432, to: dbGroup(tf) });
  expect(egressOf(tf, `${resourcePrefix(variant)}-admin-tasks`).filter((r) => r.port === 5432)).toEqual([]);
});

test("service.egress opens one more port to one more block", () => {
  const tf = synth(env({ service: { egress: [{ cidr: "10.0.8.0/24", port: 587, description: "SMTP relay" }] } }));
  expect(egressOf(tf, "rest-api-test-tasks")).toContainEqual({ protocol: "tcp", port: 587, to: "10.0.8.0/24" });
});

test("a block that is not a CIDR is refused at synth, naming its place", () => {
  expect(() => synth(env({ service: { egress: [{ cidr: "smtp.example.com", port: 587 }] } }))).toThrow(
    'Invalid setting service.egress.0.cidr = "smtp.example.com": not an IPv4 CIDR block. Allowed: a block such as "10.0.8.0/24" or "203.0.113.7/32".',
  );
});
