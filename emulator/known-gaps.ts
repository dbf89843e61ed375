/**
 * The emulator's known gaps in a plan made right after apply: attributes moto does not store or returns
 * in another form, so the provider reads back something other than what it wrote. Each is moto's, not
 * the stack's; real AWS stores them. Anything not listed here is a perpetual diff and fails the lifecycle.
 *
 * Keyed by resource type, then by top-level attribute, with the reason. Gaps that cost time or hid real
 * diffs are patched in moto instead (emulator/moto_server.py): RDS monitoring settings and
 * parameter sources, launch template tags.
 */
export const KNOWN_GAPS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  aws_autoscaling_group: {
    capacity_reservation_specification: "moto does not return a group's capacity reservation specification",
  },
  aws_ecs_service: {
    capacity_provider_strategy: "moto does not store a service's capacity provider strategy (this forces the replacement)",
    health_check_grace_period_seconds: "moto does not store the health check grace period",
    enable_ecs_managed_tags: "moto does not store enableECSManagedTags",
    deployment_controller: "moto does not return the deployment controller",
    availability_zone_rebalancing: "moto does not return availabilityZoneRebalancing",
    ordered_placement_strategy: "moto does not store a service's placement strategy (this forces the replacement)",
  },
  aws_vpc_security_group_ingress_rule: {
    description: "moto does not store the description of a security group rule",
  },
  aws_vpc_security_group_egress_rule: {
    description: "moto does not store the description of a security group rule",
  },
};

/** Attributes that a replacement makes unknown: consequences of a gap, never a cause. */
const COMPUTED_ON_REPLACE = new Set(["id", "arn", "iam_role", "launch_type", "platform_version", "triggers"]);

export interface PlanJson {
  resource_changes?: {
    address: string;
    type: string;
    change: {
      actions: string[];
      before: Record<string, unknown> | null;
      after: Record<string, unknown> | null;
      after_unknown?: Record<string, unknown>;
      replace_paths?: (string | number)[][];
    };
  }[];
}

/** null, {}, [] and a missing value all mean "none set" to the provider. */
function isEmpty(value: unknown): boolean {
  if (value === null || value === undefined) return true;
  if (Array.isArray(value)) return value.length === 0;
  return typeof value === "object" && Object.keys(value as object).length === 0;
}

function stable(value: unknown): string {
  return isEmpty(value) ? "null" : JSON.stringify(sortDeep(value));
}

function sortDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortDeep);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value as object)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => [k, sortDeep(v)]),
    );
  }
  return value;
}

/**
 * Every planned change that is not a known gap, as `<address>: <action> <attribute>` lines. Empty means
 * the plan after apply is clean but for the emulator.
 */
export function unexpectedChanges(plan: PlanJson, gaps = KNOWN_GAPS): string[] {
  const found: string[] = [];
  for (const rc of plan.resource_changes ?? []) {
    const actions = rc.change.actions.join(",");
    if (actions === "no-op" || actions === "read") continue;
    const known = gaps[rc.type] ?? {};
    if (actions !== "update" && actions !== "delete,create" && actions !== "create,delete") {
      found.push(`${rc.address}: ${actions}`);
      continue;
    }
    const before = rc.change.before ?? {};
    const after = rc.change.after ?? {};
    const unknown = rc.change.after_unknown ?? {};
    const replacing = actions !== "update";
    const changed = new Set<string>();
    for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
      if (key in unknown && unknown[key] === true) {
        if (!(replacing && COMPUTED_ON_REPLACE.has(key))) changed.add(key);
      } else if (key in after && stable(before[key]) !== stable(after[key])) changed.add(key);
    }
    for (const path of rc.change.replace_paths ?? []) changed.add(String(path[0]));
    const unexplained = [...changed].filter((key) => !(key in known)).sort();
    if (unexplained.length) found.push(`${rc.address}: ${actions} ${unexplained.join(", ")}`);
  }
  return found;
}

/** Resources that hold data or identity others depend on: an upgrade must never delete or replace them. */
export const STATEFUL_TYPES: ReadonlySet<string> = new Set([
  "aws_cloudwatch_log_group",
  "aws_db_instance",
  "aws_ecr_repository",
  "aws_kms_key",
  "aws_lb",
  "aws_s3_bucket",
  "aws_secretsmanager_secret",
  "aws_sns_topic",
]);

/**
 * What an upgrade plan (this code over an older version's state) may not do: delete or replace a
 * stateful resource, unless the replacement is one of the emulator's known gaps. Creating, changing in
 * place and replacing stateless resources (a security group rule, a task definition revision) are what
 * an upgrade is; they are listed by `plannedChanges`.
 */
export function upgradeProblems(plan: PlanJson, gaps = KNOWN_GAPS): string[] {
  const destructive = (plan.resource_changes ?? []).filter((rc) => STATEFUL_TYPES.has(rc.type) && rc.change.actions.includes("delete"));
  return unexpectedChanges({ resource_changes: destructive }, gaps);
}

/**
 * Every planned change as `<address>: <actions>`, for the record; a change that only the emulator's
 * known gaps cause (an attribute moto does not store) is the emulator's, not the upgrade's, and left out.
 */
export function plannedChanges(plan: PlanJson, gaps = KNOWN_GAPS): string[] {
  return (plan.resource_changes ?? [])
    .filter((rc) => !["no-op", "read"].includes(rc.change.actions.join(",")))
    .filter((rc) => unexpectedChanges({ resource_changes: [rc] }, gaps).length > 0)
    .map((rc) => `${rc.address}: ${rc.change.actions.join(",")}`);
}
