import { Construct, type IConstruct } from "constructs";
import { Lazy, TerraformStack } from "cdktf";
import { IamPolicy } from "@cdktf/provider-aws/lib/iam-policy";
import { jsonString } from "./hcl";
import { MANAGED_POLICY_MAX, mergeStatement, policyObject, statementsSize, type Statement } from "./policy";
import { EnvironmentContext } from "./environment";

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
  private readonly environmentContext: EnvironmentContext;

  /** The environment (`EnvironmentContext`) names the policy `<prefix>-boundary` and gives the tags some statements check. */
  constructor(scope: Construct, id: string) {
    super(scope, id);
    const stack = TerraformStack.of(this);
    if (boundaries.has(stack)) throw new Error(`${this.node.path}: the stack already has a permissions boundary`);
    boundaries.set(stack, this);
    const environment = EnvironmentContext.of(this);
    this.environmentContext = environment;
    this.prefix = environment.prefix;
    this.name = `${this.prefix}-boundary`;
    this.arn = environment.arn("iam", `policy/${this.name}`, "");
    this.policy = new IamPolicy(this, "Policy", {
      name: this.name,
      description: `The most any role of ${this.prefix} may do; the CI deploy role cannot change it`,
      policy: Lazy.stringValue({ produce: () => this.document() }),
    });
    this.node.addValidation({ validate: () => this.check() });
  }

  get project(): string {
    return this.environmentContext.project;
  }

  get environment(): string {
    return this.environmentContext.environment;
  }

  get region(): string {
    return this.environmentContext.region;
  }

  /** `arn:<partition>:<service>:<region>:<account>:<resource>` in the environment's region and account. */
  arnOf(service: string, resource: string): string {
    return this.environmentContext.arn(service, resource);
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
    const size = statementsSize(this.statements, this.environmentContext.accountId);
    return size > MANAGED_POLICY_MAX
      ? [`the permissions boundary ${this.name} is about ${size} characters, over IAM's ${MANAGED_POLICY_MAX} for a managed policy: merge statements`]
      : [];
  }
}
