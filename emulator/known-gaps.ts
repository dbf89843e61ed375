/**
 * What the emulator does not do as AWS does, in two lists:
 *   - EMULATOR_GAPS: every emulator-only concession, and how the harness copes with it (a patch in
 *     emulator/moto_server.py, a step of the lifecycle, or a proof elsewhere);
 *   - KNOWN_GAPS: the attributes a plan made right after apply cannot compare, because moto does not
 *     store them, so the provider reads back something other than what it wrote.
 * Each is moto's, not the stack's; real AWS stores them. Anything not in KNOWN_GAPS is a perpetual diff
 * and fails the lifecycle. None of it changes the stacks.
 */

/** Something the emulator does not do as AWS does, and what the harness does about it. */
export interface EmulatorGap {
  /** What moto does differently, and what the harness does instead. */
  readonly why: string;
  /**
   * What emulator/moto_server.py replaces or sets in moto for it: the `Class.member` names it assigns,
   * or the `MOTO_*` settings it sets. A test holds the two to each other (every patch is listed under a
   * gap, and every name listed is patched), so neither list outlives the other.
   */
  readonly patches?: readonly string[];
  /** The project files that work around it in the harness, or prove instead what moto cannot show. */
  readonly provenBy?: readonly string[];
}

/** The one list of emulator-only concessions; docs/emulator.md repeats it for users. */
export const EMULATOR_GAPS: Readonly<Record<string, EmulatorGap>> = {
  managedPolicies: {
    why: "AWS-managed IAM policies exist in moto only when it starts with MOTO_IAM_LOAD_MANAGED_POLICIES=true; the harness sets it.",
    patches: ["MOTO_IAM_LOAD_MANAGED_POLICIES"],
  },
  tasksNeverRun: {
    why: "moto runs no containers: every ECS service reports its desired count running, so wait_for_steady_state settles. No task pulls an image, reads a secret or answers a health check there; the game day runs the tasks.",
    patches: ["EcsService.__init__"],
    provenBy: ["scripts/gameday/run.ts", "__tests__/integration/gameday.emulator.test.ts"],
  },
  serviceSettings: {
    why: "moto 5.2 drops a service's capacity provider strategy, placement strategy, health check grace period, managed tags and AZ rebalancing, so every apply would replace every service; they are stored and returned as AWS does, and a release updates the service in place.",
    patches: ["EC2ContainerServiceResponse.create_service"],
  },
  defaultCaCertificate: {
    why: 'moto 5.2 gives a new DB instance the CA "rds-ca-default", which does not exist; AWS gives the region\'s default (rds-ca-rsa2048-g1). The provider modifies an instance whose CA differs from ca_cert_identifier right after creating it, so every database create waited out a second RDS waiter; with the default, a database is created in one call, as on AWS.',
    patches: ["DBInstance.__init__"],
  },
  missingActions: {
    why: "moto 5.2 lacks Application Auto Scaling tagging, DescribeCapacityProviders without names, CloudWatch Logs' AssociateKmsKey and DisassociateKmsKey, and AWS Budgets' tagging, subscriber calls and UpdateBudget; they are added. Budgets never see a bill there: no alert fires.",
    patches: [
      "ApplicationAutoScalingResponse.tag_resource",
      "ApplicationAutoScalingResponse.untag_resource",
      "ApplicationAutoScalingResponse.list_tags_for_resource",
      "ApplicationAutoScalingResponse.register_scalable_target",
      "EC2ContainerServiceBackend.describe_capacity_providers",
      "LogsResponse.associate_kms_key",
      "LogsResponse.disassociate_kms_key",
      "BudgetsResponse.describe_subscribers_for_notification",
      "BudgetsResponse.create_subscriber",
      "BudgetsResponse.delete_subscriber",
      "BudgetsResponse.update_budget",
      "BudgetsResponse.create_budget",
      "BudgetsResponse.delete_budget",
      "BudgetsResponse.tag_resource",
      "BudgetsResponse.untag_resource",
      "BudgetsResponse.list_tags_for_resource",
    ],
  },
  storedDifferently: {
    why: "moto 5.2 drops RDS monitoring settings and parameter sources and the description of a security group rule that names a group or a prefix list, copies launch template tags into the template data, and makes hosted zone ids that do not start with Z; they are stored and made as AWS does, so a re-plan is not a false diff.",
    patches: [
      "DBInstance.__init__",
      "DBInstance.update",
      "DBParameterGroup.update_parameters",
      "SecurityGroupRule.__init__",
      "SecurityGroupRule.description",
      "LaunchTemplateBackend.create_launch_template",
      "route53_models.create_route53_zone_id",
    ],
  },
  refusedDescriptions: {
    why: "moto 5.2 takes any security group or rule description; EC2 refuses one outside its character set or over 255 characters, mid-apply. The emulator refuses them as EC2 does.",
    patches: [
      "SecurityGroupBackend.create_security_group",
      "SecurityGroupBackend.authorize_security_group_ingress",
      "SecurityGroupBackend.authorize_security_group_egress",
      "SecurityGroupBackend.modify_security_group_rules",
    ],
    provenBy: ["__tests__/integration/harness.emulator.test.ts", "__tests__/stacks/security-group-text.test.ts"],
  },
  queuesAndSchedules: {
    why: "moto keeps but never returns an SQS queue's redrive-allow policy, and returns its redrive policy with spaces AWS does not write; both are returned as AWS does. No schedule fires and no message moves a worker: scaling, runs and their alarms are proven by the plan and property tests.",
    patches: ["SqsQueue.BASE_ATTRIBUTES", "SqsQueue.__init__", "SqsQueue.attributes"],
    provenBy: ["__tests__/workers/workers.test.ts", "app/__tests__/worker.test.ts"],
  },
  elastiCache: {
    why:
      "moto 5.2 keeps an ElastiCache replication group without its member clusters (the provider reads node type, engine, parameter group, subnet and security groups, maintenance window and encryption from the first one, so every read failed), builds one member whatever NumCacheClusters says, never removes a deleted group (the provider would wait 45 minutes), and has no ModifyReplicationGroup, IncreaseReplicaCount, DecreaseReplicaCount, DeleteCacheSubnetGroup or ModifyCacheSubnetGroup. They are answered as the Amazon ElastiCache API Reference's pages of those names say, and an AuthToken AWS refuses (without transit encryption, or outside 16 to 128 characters with only !&#$^<>- as specials) is refused. " +
      "Still unproven there: no cache node runs, so nothing checks the auth token, TLS, encryption at rest, failover or Multi-AZ; engine_version_actual is the version asked for (AWS reports the running patch); log delivery is recorded, nothing is delivered; every change applies at once (no maintenance window passes, so apply_immediately = false is not exercised); replica counts change only for a group without cluster mode, and a change of shards (ModifyReplicationGroupShardConfiguration) is refused at once, saying so. The provider's fixed 30-second waits before its first poll on create, on delete and on a replica count change still run.",
    patches: [
      "ElastiCacheBackend.create_replication_group",
      "ElastiCacheBackend.delete_replication_group",
      "ElastiCacheResponse.delete_replication_group",
      "ElastiCacheResponse.modify_replication_group",
      "ElastiCacheResponse.increase_replica_count",
      "ElastiCacheResponse.decrease_replica_count",
      "ElastiCacheResponse.modify_replication_group_shard_configuration",
      "ElastiCacheResponse.delete_cache_subnet_group",
      "ElastiCacheResponse.modify_cache_subnet_group",
    ],
  },
  unstoredAttributes: {
    why: "Attributes moto does not store at all (KNOWN_GAPS below, each with its reason) are not compared by the re-plan check.",
    provenBy: ["emulator/known-gaps.ts"],
  },
  oneEmulatorPerStack: {
    why: "moto's generated RDS resource ids repeat across DB instances of one server, so two stacks on one emulator confuse the provider's waiters; the lifecycle starts one emulator per stack.",
    provenBy: ["emulator/lifecycle.ts"],
  },
  certificates: {
    why: "moto issues DNS-validated ACM certificates after MOTO_ACM_VALIDATION_WAIT (1 s here) without any DNS; the harness creates the hosted zone prod names. Certificate validation is not proven.",
    patches: ["MOTO_ACM_VALIDATION_WAIT"],
    provenBy: ["emulator/lifecycles.ts"],
  },
  waf: {
    why: "moto stores web ACLs, their association and logging but inspects no request: which requests the rules block is AWS's managed rule groups' business; the rules' order and actions are proven by property tests.",
    provenBy: ["__tests__/edge/web-acl.test.ts"],
  },
  iamNotEnforced: {
    why: "moto does not evaluate IAM policies: least privilege is proven by the IAM evaluator instead.",
    provenBy: ["__tests__/iam/least-privilege.test.ts"],
  },
};

/**
 * Attributes a re-plan cannot compare, keyed by resource type, then by top-level attribute, with the
 * reason. Gaps that cost time or hid real diffs are patched in moto instead (EMULATOR_GAPS).
 */
export const KNOWN_GAPS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  aws_autoscaling_group: {
    capacity_reservation_specification: "moto does not return a group's capacity reservation specification",
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
