/**
 * Connections (issue 31, item 2): one way to open network access between two things with security groups,
 * both ends made by the constructs that own them, with ids that never rename a deployed rule.
 */
import { TerraformStack, Testing } from "cdktf";
import { Construct } from "constructs";
import { Connections, type IConnectable } from "../../lib/core/connections";
import { testApp } from "../support/bare-stack";

const rules = (stack: TerraformStack, type: string) =>
  Object.entries((JSON.parse(Testing.synth(stack)).resource?.[type] ?? {}) as Record<string, Record<string, any>>).map(([id, r]) => ({
    id: id.replace(/_[0-9A-F]{8}$/, ""),
    group: r.security_group_id,
    peer: r.referenced_security_group_id,
    port: r.from_port,
    description: r.description,
  }));

function connectable(stack: TerraformStack, id: string, kind: string, defaultPort?: number): IConnectable {
  return {
    connections: new Connections(new Construct(stack, id), {
      securityGroupId: `sg-${id.toLowerCase()}`,
      kind,
      defaultPort,
      ingressDescription: (from) => `${id} from ${from.kind}`,
      egressDescription: `to ${id}`,
    }),
  };
}

test("given a service and a database, when the service is allowed to it, then both ends exist, each under its owner, on the database's port", () => {
  const stack = new TerraformStack(testApp(), "s");
  const service = connectable(stack, "Api", "Service", 8080);
  const database = connectable(stack, "Db", "Database", 5432);
  service.connections.allowTo(database);
  expect(rules(stack, "aws_vpc_security_group_egress_rule")).toEqual([
    { id: "Api_EgressToDatabase", group: "sg-api", peer: "sg-db", port: 5432, description: "to Db" },
  ]);
  expect(rules(stack, "aws_vpc_security_group_ingress_rule")).toEqual([
    { id: "Db_IngressFromService", group: "sg-db", peer: "sg-api", port: 5432, description: "Db from Service" },
  ]);
});

test("given two sources of one kind, when both are allowed in, then the second rule is numbered and the first keeps its id; a repeat adds nothing", () => {
  const stack = new TerraformStack(testApp(), "s");
  const database = connectable(stack, "Db", "Database", 5432);
  const api = connectable(stack, "Api", "Service");
  database.connections.allowFrom(api);
  database.connections.allowFrom(connectable(stack, "Worker", "Service"));
  api.connections.allowTo(database);
  expect(
    rules(stack, "aws_vpc_security_group_ingress_rule")
      .map((r) => [r.id, r.peer])
      .sort(),
  ).toEqual([
    ["Db_IngressFromService", "sg-api"],
    ["Db_IngressFromService2", "sg-worker"],
  ]);
});

test("given a port named, when allowed, then it is that port; given none and no default, then it is refused naming both ends", () => {
  const stack = new TerraformStack(testApp(), "s");
  const lb = connectable(stack, "Lb", "LoadBalancer");
  const admin = connectable(stack, "Admin", "Service");
  lb.connections.allowTo(admin, 9000);
  expect(rules(stack, "aws_vpc_security_group_ingress_rule").map((r) => [r.id, r.port])).toEqual([["Admin_IngressFromLoadBalancer", 9000]]);
  expect(() => admin.connections.allowTo(lb)).toThrow("s/Admin: no port to reach s/Lb on; give one, or a defaultPort to its connections");
});
