import { Construct } from "constructs";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { jsonString } from "./hcl";
import { PermissionsBoundary } from "./permissions-boundary";

export type Condition = Record<string, Record<string, unknown>>;

export interface Statement {
  readonly Sid?: string;
  readonly Effect?: "Allow" | "Deny";
  /** One of Action and NotAction. */
  readonly Action?: string | string[];
  readonly NotAction?: string | string[];
  readonly Resource: string | string[];
  readonly Condition?: Condition;
}

export function policyDocument(statements: readonly Statement[]): string {
  return jsonString(policyObject(statements));
}

export function policyObject(statements: readonly Statement[]): { Version: string; Statement: Statement[] } {
  return { Version: "2012-10-17", Statement: statements.map((s) => ({ Effect: "Allow", ...s })) };
}

const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : typeof v === "string" ? [v] : v);
const one = (values: string[]): string | string[] => (values.length === 1 ? values[0] : values);
const union = (a: string[], b: string[]) => [...new Set([...a, ...b])].sort();
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Adds `added` to `statements`, merging it into the statement of the same Sid: several constructs
 * grant under one Sid (every log group, every task definition), and the policy names each action and
 * resource once. Two statements of one Sid merge only when they share effect and condition and either
 * their actions or their resources, so a merge never lets an action reach a resource neither granted.
 */
export function mergeStatement(statements: Statement[], added: Statement, where: string): void {
  const index = added.Sid === undefined ? -1 : statements.findIndex((s) => s.Sid === added.Sid);
  if (index < 0) {
    statements.push(added);
    return;
  }
  const old = statements[index];
  const key = (s: Statement) => (s.Action === undefined ? "NotAction" : "Action");
  const mergeable = (old.Effect ?? "Allow") === (added.Effect ?? "Allow") && key(old) === key(added) && same(old.Condition, added.Condition);
  const actions = [list(old[key(old)]), list(added[key(added)])].map((a) => [...a].sort());
  const resources = [list(old.Resource), list(added.Resource)].map((r) => [...r].sort());
  if (mergeable && same(actions[0], actions[1])) statements[index] = { ...old, Resource: one(union(resources[0], resources[1])) };
  else if (mergeable && same(resources[0], resources[1])) statements[index] = { ...old, [key(old)]: one(union(actions[0], actions[1])) };
  else throw new Error(`${where}: two statements "${added.Sid}" that cannot be merged; give one another Sid`);
}

/** IAM's limit on a managed policy (and a permissions boundary), counted without whitespace. */
export const MANAGED_POLICY_MAX = 6144;
/** IAM's limit on all inline policies of one role together, counted without whitespace. */
export const INLINE_POLICIES_MAX = 10240;
/**
 * How many characters a policy takes once Terraform has filled in its references: the account id as
 * its 12 digits (so a stack packs its policies the same offline and online), any other `${...}` as an
 * ARN of 120 characters, the longest the stack's references resolve to.
 */
export function policySize(document: string, accountId?: string): number {
  if (accountId) document = document.split(accountId).join("x".repeat(12));
  return document
    .replace(/\$\{data\.aws_caller_identity\.[A-Za-z0-9_]+\.account_id\}/g, "x".repeat(12))
    .replace(/\$\{[^}]*\}/g, "x".repeat(120))
    .replace(/\s/g, "").length;
}

/** The size `policySize` gives the policy of these statements, measured before any HCL rendering. */
export function statementsSize(statements: readonly Statement[], accountId: string): number {
  return policySize(JSON.stringify(policyObject(statements)), accountId);
}

/**
 * Who may ask the service to assume a role, against the confused deputy: the account the request
 * comes from (`aws:SourceAccount`) and, where the service names it, the resource it acts for
 * (`aws:SourceArn`, ARN patterns).
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
  /** `aws:SourceAccount` and `aws:SourceArn` the service must present. @default none (services that send neither, e.g. EC2 instance profiles) */
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

/** The partition from the region name, so ARNs of AWS-managed policies need no lookup. */
export function partitionOf(region: string): string {
  if (region.startsWith("cn-")) return "aws-cn";
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  return "aws";
}
