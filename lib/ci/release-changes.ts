/**
 * What a release may change, read from a plan: Terraform's own `terraform show -json` of it, against the
 * resource types the stack's constructs declared a release's (`DeployPermissions.release`, written into
 * the synthesized stack as `"//": { "releaseTypes": [...] }`, which Terraform ignores). CI deploys with a
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

/** The resource types a synthesized stack declares a release's, or undefined when it has no release role (no `ci`). */
export function releaseTypesOf(stackJson: { readonly "//"?: Record<string, unknown> }): string[] | undefined {
  const types = stackJson["//"]?.[RELEASE_TYPES_KEY];
  return Array.isArray(types) ? types.map(String) : undefined;
}

/** Every change of the plan a release may not make, `<address>: <actions>`: a managed resource of any other type that is not left as it is. */
export function foundationChanges(plan: PlanChanges, releaseTypes: Iterable<string>): string[] {
  const allowed = new Set(releaseTypes);
  return (plan.resource_changes ?? [])
    .filter((rc) => rc.mode !== "data" && !allowed.has(rc.type))
    .filter((rc) => !rc.change.actions.every((action) => action === "no-op" || action === "read"))
    .map((rc) => `${rc.address}: ${rc.change.actions.join(", ")}`);
}
