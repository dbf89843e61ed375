/**
 * What a release may change, read from a plan: Terraform's own `terraform show -json` of it, against the
 * resource types the stack's constructs declared a release's (`DeployPermissions.release`, written into
 * the synthesized stack as `"//": { "releaseTypes": { "<type>": "updates" | "revisions" } }`, which
 * Terraform ignores). CI deploys with a
 * role that may change only those (docs/security.md, "Two kinds of change"); a plan that changes
 * anything else is refused before it applies anything, so a release never stops half-way on an
 * `AccessDenied`, and the administrator deploys that change instead.
 */

/** One entry of a plan's `resource_changes`. */
export interface PlannedResourceChange {
  readonly address: string;
  /** `managed` or `data` (a data source, read, never changed). */
  readonly mode?: string;
  readonly type: string;
  readonly change: { readonly actions: readonly string[] };
}

/** What of `terraform show -json <plan>` this reads. */
export interface PlanChanges {
  readonly resource_changes?: readonly PlannedResourceChange[];
}

/** The key of the synthesized stack's comment block that lists the release's resource types. */
export const RELEASE_TYPES_KEY = "releaseTypes";

/**
 * How a release may change each resource type (`DeployPermissions.releaseChanges`): `updates` in place, or
 * `revisions` (made anew, the old retired: task definitions). Any other type, or any other change, is the
 * administrator's.
 */
export type ReleaseTypes = Readonly<Record<string, "updates" | "revisions">>;

/** The release types a synthesized stack declares, or undefined when it has no release role (no `ci`). */
export function releaseTypesOf(stackJson: { readonly "//"?: Record<string, unknown> }): ReleaseTypes | undefined {
  const types = stackJson["//"]?.[RELEASE_TYPES_KEY];
  if (!types || typeof types !== "object" || Array.isArray(types)) return undefined;
  return Object.fromEntries(Object.entries(types).map(([type, changes]) => [type, changes === "revisions" ? "revisions" : "updates"]));
}

/**
 * Every change of the plan a release may not make, `<address>: <actions>`: a managed resource of a type a
 * release does not change, or one it changes only in place that the plan would create, delete or replace
 * (a service or a schedule made by a release would run on, unknown to the stack's reviewers).
 */
export function foundationChanges(plan: PlanChanges, releaseTypes: ReleaseTypes): string[] {
  const allowed = (type: string, actions: readonly string[]) =>
    releaseTypes[type] === "revisions" || (releaseTypes[type] === "updates" && actions.every((action) => action === "update"));
  return (plan.resource_changes ?? [])
    .filter((rc) => rc.mode !== "data")
    .filter((rc) => !rc.change.actions.every((action) => action === "no-op" || action === "read"))
    .filter((rc) => !allowed(rc.type, rc.change.actions))
    .map((rc) => `${rc.address}: ${rc.change.actions.join(", ")}`);
}
