import { Construct } from "constructs";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { jsonString } from "./hcl";

export interface Statement {
  readonly Sid?: string;
  readonly Effect?: "Allow" | "Deny";
  readonly Action: string | string[];
  readonly Resource: string | string[];
  readonly Condition?: Record<string, Record<string, unknown>>;
}

export function policyDocument(statements: readonly Statement[]): string {
  return jsonString({
    Version: "2012-10-17",
    Statement: statements.map((s) => ({ Effect: "Allow", ...s })),
  });
}

export interface ServiceRoleProps {
  /** Role name; the caller keeps it within IAM's 64 characters. */
  readonly name: string;
  /** Service principal allowed to assume the role, e.g. `ecs-tasks.amazonaws.com`. */
  readonly service: string;
  /** Inline permissions; none by default. */
  readonly statements?: readonly Statement[];
}

/** An IAM role one AWS service may assume, with inline least-privilege permissions. */
export class ServiceRole extends Construct {
  readonly role: IamRole;

  constructor(scope: Construct, id: string, props: ServiceRoleProps) {
    super(scope, id);
    this.role = new IamRole(this, "Role", {
      name: props.name,
      assumeRolePolicy: jsonString({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: props.service }, Action: "sts:AssumeRole" }],
      }),
    });
    if (props.statements?.length) this.addStatements("Policy", props.statements);
  }

  get arn(): string {
    return this.role.arn;
  }

  /** Adds an inline policy; separate policies let each construct grant what it owns. */
  addStatements(id: string, statements: readonly Statement[]): IamRolePolicy {
    return new IamRolePolicy(this, id, {
      role: this.role.id,
      name: id,
      policy: policyDocument(statements),
    });
  }
}

/** The partition from the region name, so ARNs of AWS-managed policies need no lookup. */
export function partitionOf(region: string): string {
  if (region.startsWith("cn-")) return "aws-cn";
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  return "aws";
}
