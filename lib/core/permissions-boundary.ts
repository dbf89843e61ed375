import { Construct, type IConstruct } from "constructs";
import { Lazy, TerraformStack } from "cdktf";
import { IamPolicy } from "@cdktf/provider-aws/lib/iam-policy";
import { jsonString } from "./hcl";
import { MANAGED_POLICY_MAX, mergeStatement, partitionOf, policyObject, statementsSize, type Statement } from "./policy";

export interface PermissionsBoundaryProps {
  /** `<project>-<environment>`: the policy is `<name>-boundary`. */
  readonly name: string;
  /** The `Project` and `Environment` tags of the environment's resources, which some of its statements check. */
  readonly project: string;
  readonly environment: string;
  readonly region: string;
  readonly accountId: string;
}

const boundaries = new WeakMap<TerraformStack, PermissionsBoundary>();

/**
 * The environment's permissions boundary: a managed policy every role and instance profile role of
 * the stack carries, the most any of them may ever do. Each construct that creates a role adds what
 * its role needs (`allow`), written as patterns of this environment's names, so the boundary changes
 * when a kind of role is added, not with every service. The CI deploy role may create or change a
 * role only with this boundary attached and may never change the boundary itself (lib/ci/ci-access.ts):
 * a role it writes, even with an inline `*:*`, can do no more than this environment's roles already do.
 */
export class PermissionsBoundary extends Construct {
  /** The boundary of the stack `scope` belongs to, if the stack has one. */
  static of(scope: IConstruct): PermissionsBoundary | undefined {
    return boundaries.get(TerraformStack.of(scope));
  }

  readonly policy: IamPolicy;
  /** The policy's ARN, built from its name (no reference), so the CI role's conditions name it without depending on it. */
  readonly arn: string;
  readonly name: string;
  /** `<project>-<environment>`, which the boundary's ARN patterns start with. */
  readonly prefix: string;
  private readonly statements: Statement[] = [];
  private readonly props: PermissionsBoundaryProps;

  constructor(scope: Construct, id: string, props: PermissionsBoundaryProps) {
    super(scope, id);
    const stack = TerraformStack.of(this);
    if (boundaries.has(stack)) throw new Error(`${this.node.path}: the stack already has a permissions boundary`);
    boundaries.set(stack, this);
    this.props = props;
    this.prefix = props.name;
    this.name = `${props.name}-boundary`;
    this.arn = `arn:${partitionOf(props.region)}:iam::${props.accountId}:policy/${this.name}`;
    this.policy = new IamPolicy(this, "Policy", {
      name: this.name,
      description: `The most any role of ${props.name} may do; the CI deploy role cannot change it`,
      policy: Lazy.stringValue({ produce: () => this.document() }),
    });
    this.node.addValidation({ validate: () => this.check() });
  }

  get project(): string {
    return this.props.project;
  }

  get environment(): string {
    return this.props.environment;
  }

  get region(): string {
    return this.props.region;
  }

  /** `arn:<partition>:<service>:<region>:<account>:<resource>` in the environment's region and account. */
  arnOf(service: string, resource: string): string {
    return `arn:${partitionOf(this.props.region)}:${service}:${this.props.region}:${this.props.accountId}:${resource}`;
  }

  /** Raises the ceiling by these statements, merged by Sid with what other constructs added. */
  allow(statements: readonly Statement[]): void {
    for (const statement of statements) mergeStatement(this.statements, statement, this.node.path);
  }

  /** The boundary's document as it stands. */
  document(): string {
    return jsonString(policyObject(this.statements.length ? this.statements : [{ Sid: "Nothing", Effect: "Deny", Action: "*", Resource: "*" }]));
  }

  private check(): string[] {
    const size = statementsSize(this.statements, this.props.accountId);
    return size > MANAGED_POLICY_MAX
      ? [`the permissions boundary ${this.name} is about ${size} characters, over IAM's ${MANAGED_POLICY_MAX} for a managed policy: merge statements`]
      : [];
  }
}
