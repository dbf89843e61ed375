import { Construct } from "constructs";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { jsonString } from "./hcl";
import { PermissionsBoundary } from "./permissions-boundary";
import { policyDocument, type Condition, type Statement } from "./policy";
import { holdings, ResourceKind } from "./resource-kind";

// The policy helpers are part of what a role file offers its callers.
export * from "./policy";

/**
 * IAM roles and policies: the tasks', the services' and the CI role's, and the permissions boundary. The
 * deploy role's IAM calls are the CI access's own (lib/ci/ci-access.ts), held to `<prefix>-*` and the boundary.
 */
export const IAM_ROLES = new ResourceKind({
  name: "IAM roles and policies",
  file: __filename,
  types: ["aws_iam_role", "aws_iam_role_policy", "aws_iam_role_policy_attachment", "aws_iam_policy"],
  deploy: { services: ["iam"], tag: ["iam:TagRole"], untag: ["iam:UntagRole"] },
  endpoints: ["iam"],
  price: { why: "IAM charges nothing for roles, policies or providers" },
  inventory: async (aws) => [
    ...holdings(
      "iam",
      "role",
      ((await aws("iam", "ListRoles")).Roles ?? [])
        .filter((r: { Path?: string }) => !r.Path?.startsWith("/aws-service-role/"))
        .map((r: { RoleName?: string }) => r.RoleName),
    ),
    ...holdings(
      "iam",
      "policy",
      ((await aws("iam", "ListPolicies", { Scope: "Local" })).Policies ?? []).map((p: { PolicyName?: string }) => p.PolicyName),
    ),
  ],
  alarms: { why: "a role has no metrics; what it is refused shows as the failures of what uses it" },
});

/**
 * Who may ask the service to assume a role, against the confused deputy: the account the request
 * comes from (`aws:SourceAccount`) and, where the service names it, the resource it acts for
 * (`aws:SourceArn`, ARN patterns). Write exactly what the service's confused-deputy page documents,
 * and name the page beside it: a condition on a key the service does not send, or on another value
 * than it sends (a schedule where Scheduler sends its group), keeps the role from ever being assumed,
 * and neither synth, the emulator nor a plan notices. __tests__/iam/trust-cases.ts evaluates every
 * service trust with the request the service sends.
 */
export interface TrustConditions {
  readonly sourceAccount: string;
  readonly sourceArn?: string;
}

export interface ServiceRoleProps {
  /** Role name; the caller keeps it within IAM's 64 characters. */
  readonly name: string;
  /** Service principal allowed to assume the role, e.g. `ecs-tasks.amazonaws.com`. */
  readonly service: string;
  /** `aws:SourceAccount` and `aws:SourceArn` the service must present. @default none (services whose page documents none, e.g. EC2 instance profiles) */
  readonly trust?: TrustConditions;
  /** Inline permissions; none by default. */
  readonly statements?: readonly Statement[];
}

/**
 * An IAM role one AWS service may assume, with inline least-privilege permissions, carrying the
 * environment's permissions boundary (`PermissionsBoundary`) when the stack has one.
 */
export class ServiceRole extends Construct {
  readonly role: IamRole;

  constructor(scope: Construct, id: string, props: ServiceRoleProps) {
    super(scope, id);
    const boundary = PermissionsBoundary.of(this);
    const trust = props.trust;
    const condition: Condition | undefined = trust && {
      StringEquals: { "aws:SourceAccount": trust.sourceAccount },
      ...(trust.sourceArn ? { ArnLike: { "aws:SourceArn": trust.sourceArn } } : {}),
    };
    this.role = new IamRole(this, "Role", {
      name: props.name,
      // The policy's reference (not its ARN as a string), so Terraform creates the boundary first.
      ...(boundary ? { permissionsBoundary: boundary.policy.arn } : {}),
      assumeRolePolicy: jsonString({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: props.service }, Action: "sts:AssumeRole", ...(condition ? { Condition: condition } : {}) }],
      }),
    });
    if (props.statements?.length) this.addStatements("Policy", props.statements);
  }

  get arn(): string {
    return this.role.arn;
  }

  /**
   * Adds an inline policy; separate policies let each construct grant what it owns. The environment's
   * permissions boundary caps them: a statement beyond it is allowed by the policy and denied by IAM.
   */
  addStatements(id: string, statements: readonly Statement[]): IamRolePolicy {
    return new IamRolePolicy(this, id, {
      role: this.role.id,
      name: id,
      policy: policyDocument(statements),
    });
  }
}
