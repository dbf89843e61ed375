/**
 * Text EC2 takes in a security group: a description (the group's, and each rule's) of at most 255
 * characters from EC2's set, as its API answers an apply that breaks it ("Invalid security group
 * description. Valid descriptions are strings less than 256 characters from the following set:
 * a-zA-Z0-9. _-:/()#,@[]+=&;{}!$*"). The Terraform provider does not check it and neither does moto,
 * so only AWS would refuse it, mid-apply: an apostrophe in a fixed description once did.
 */
import { environments } from "../../environments/environments";
import { examples, planOnlyExamples } from "../support/variants";
import { synth, type TfJson } from "../support/helpers";

const EC2_DESCRIPTION = /^[a-zA-Z0-9. _\-:/()#,@[\]+=&;{}!$*]{0,255}$/;
const GROUP_TYPES = ["aws_security_group"];
const RULE_TYPES = ["aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule", "aws_security_group_rule"];

/** Every description EC2 will be sent, by resource address, that it would refuse. */
function refusedDescriptions(tf: TfJson): string[] {
  const refused: string[] = [];
  const check = (where: string, description: unknown) => {
    if (description !== undefined && !EC2_DESCRIPTION.test(String(description))) refused.push(`${where}: ${JSON.stringify(description)}`);
  };
  for (const type of [...GROUP_TYPES, ...RULE_TYPES]) {
    for (const [name, body] of Object.entries(tf.resource[type] ?? {})) {
      check(`${type}.${name}`, body.description);
      for (const direction of ["ingress", "egress"])
        (body[direction] ?? []).forEach((rule: { description?: string }, i: number) => check(`${type}.${name}.${direction}[${i}]`, rule.description));
    }
  }
  return refused;
}

test.each([...environments, ...examples, ...planOnlyExamples].map((s) => [s.name, s] as const))(
  "%s: every security group and rule description is one EC2 accepts",
  (_name, settings) => {
    const tf = synth(settings);
    expect(Object.keys(tf.resource.aws_security_group ?? {}).length).toBeGreaterThan(0);
    expect(refusedDescriptions(tf)).toEqual([]);
  },
);

test("the check refuses what EC2 refuses: an apostrophe, a character beyond ASCII, 256 characters", () => {
  const tf = {
    resource: {
      aws_security_group: { a: { description: "the service's port" }, b: { description: "ok", ingress: [{ description: "tasks → db" }] } },
      aws_vpc_security_group_egress_rule: { c: { description: "x".repeat(256) }, d: { description: "x".repeat(255) } },
    },
  } as unknown as TfJson;
  expect(refusedDescriptions(tf)).toEqual([
    `aws_security_group.a: "the service's port"`,
    `aws_security_group.b.ingress[0]: "tasks → db"`,
    `aws_vpc_security_group_egress_rule.c: "${"x".repeat(256)}"`,
  ]);
});
