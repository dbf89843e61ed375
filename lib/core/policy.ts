/**
 * IAM policy documents as data: statements, how they merge, and how big IAM counts them. Apart from
 * the roles and the boundary that use them, so neither imports the other for a helper.
 */
import { jsonString } from "./hcl";

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

/** The partition from the region name, so ARNs of AWS-managed policies need no lookup. */
export function partitionOf(region: string): string {
  if (region.startsWith("cn-")) return "aws-cn";
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  return "aws";
}
