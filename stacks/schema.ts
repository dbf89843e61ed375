import { z } from "zod";
import { SettingError, closest } from "../lib/validate";
import type { EnvironmentSettings } from "./settings";

/**
 * The shape of `EnvironmentSettings`, checked before any construct sees it: every object is strict
 * (a misspelled key such as `task.memmory` is refused, with the closest known key), and every value
 * has its type (a number where a string belongs, an array as a command). Ranges, AWS's lists and the
 * rules that join settings stay with the construct that owns them (lib/), which names the setting too.
 */
const text = z.string();
// Whole-number and range rules belong to the construct (checkInt), which names the allowed range.
const int = z.number();
const flag = z.boolean();
const names = z.array(text).readonly();
const variables = z.record(text, text).readonly();

const state = z.discriminatedUnion("backend", [
  z.strictObject({ backend: z.literal("local") }),
  z.strictObject({ backend: z.literal("s3"), bucket: text, key: text.optional(), region: text.optional(), kmsKeyId: text.optional() }),
]);

const healthCheck = z.strictObject({
  command: z.union([text, names]),
  intervalSeconds: int.optional(),
  timeoutSeconds: int.optional(),
  retries: int.optional(),
  startPeriodSeconds: int.optional(),
});

const task = z.strictObject({
  cpu: int.optional(),
  memory: int.optional(),
  cpuArchitecture: z.enum(["X86_64", "ARM64"]).optional(),
  containerPort: int.optional(),
  environment: variables.optional(),
  secrets: variables.optional(),
  healthCheck: healthCheck.nullable().optional(),
  stopTimeoutSeconds: int.optional(),
  readonlyRootFilesystem: flag.optional(),
  scratchPath: text.optional(),
  user: text.nullable().optional(),
  logRetentionDays: int.optional(),
  image: z.strictObject({ tag: text.optional(), uri: text.optional() }).optional(),
});

const loadBalancer = z.strictObject({
  internal: flag.optional(),
  allowedCidrs: names.optional(),
  idleTimeoutSeconds: int.optional(),
  deletionProtection: flag.optional(),
  deregistrationDelaySeconds: int.optional(),
  healthCheck: z
    .strictObject({
      path: text.optional(),
      matcher: text.optional(),
      intervalSeconds: int.optional(),
      timeoutSeconds: int.optional(),
      healthyThreshold: int.optional(),
      unhealthyThreshold: int.optional(),
    })
    .optional(),
  https: z.strictObject({ certificateArn: text.optional(), domainName: text.optional(), hostedZoneId: text.optional(), sslPolicy: text.optional() }).optional(),
  accessLogs: flag.optional(),
  accessLogsExpiryDays: int.optional(),
});

export const EnvironmentSettingsSchema = z.strictObject({
  name: text,
  project: text.optional(),
  region: text.optional(),
  availabilityZones: names.optional(),
  tags: variables.optional(),
  state: state.optional(),
  network: z
    .strictObject({
      cidr: text.optional(),
      natMode: z.enum(["none", "single", "per-az"]).optional(),
      flowLogRetentionDays: int.optional(),
      flowLogTrafficType: z.enum(["ALL", "ACCEPT", "REJECT"]).optional(),
    })
    .optional(),
  registry: z.strictObject({ keepImages: int.optional(), untaggedExpiryDays: int.optional(), forceDelete: flag.optional() }).optional(),
  cluster: z
    .strictObject({
      containerInsights: flag.optional(),
      onDemandBase: int.optional(),
      onDemandWeight: int.optional(),
      spotWeight: int.optional(),
      logRetentionDays: int.optional(),
    })
    .optional(),
  task: task.optional(),
  service: z
    .strictObject({
      desiredCount: int.optional(),
      healthCheckGracePeriodSeconds: int.optional(),
      enableExecuteCommand: flag.optional(),
      waitForSteadyState: flag.optional(),
    })
    .optional(),
  autoscaling: z
    .strictObject({
      enabled: flag.optional(),
      minCapacity: int.optional(),
      maxCapacity: int.optional(),
      cpuTargetPercent: int.optional(),
      memoryTargetPercent: int.optional(),
      requestsPerTarget: int.optional(),
      scaleInCooldownSeconds: int.optional(),
      scaleOutCooldownSeconds: int.optional(),
    })
    .optional(),
  loadBalancer: loadBalancer.optional(),
  database: z
    .strictObject({
      enabled: flag.optional(),
      engineVersion: text.optional(),
      instanceClass: text.optional(),
      allocatedStorageGb: int.optional(),
      maxAllocatedStorageGb: int.optional(),
      databaseName: text.optional(),
      username: text.optional(),
      multiAz: flag.optional(),
      deletionProtection: flag.optional(),
      backupRetentionDays: int.optional(),
      skipFinalSnapshot: flag.optional(),
      performanceInsights: flag.optional(),
      monitoringIntervalSeconds: int.optional(),
      logRetentionDays: int.optional(),
      applyImmediately: flag.optional(),
      keyDeletionWindowDays: int.optional(),
    })
    .optional(),
  compute: z
    .strictObject({
      mode: z.enum(["fargate", "ec2"]).optional(),
      ec2: z
        .strictObject({
          instanceType: text.optional(),
          amiId: text.optional(),
          minInstances: int.optional(),
          maxInstances: int.optional(),
          targetCapacityPercent: int.optional(),
          rootVolumeGb: int.optional(),
        })
        .optional(),
    })
    .optional(),
  ci: z
    .strictObject({
      githubRepository: text,
      environments: names.optional(),
      branch: text.optional(),
      oidcProviderArn: text.optional(),
      permissionsBoundaryArn: text.optional(),
      pullFrom: names.optional(),
    })
    .optional(),
});

// The schema and the documented interface cannot drift apart: what the schema accepts must be an
// EnvironmentSettings, and every EnvironmentSettings key must be one the schema knows.
type Parsed = z.output<typeof EnvironmentSettingsSchema>;
const _accepts: (parsed: Parsed) => EnvironmentSettings = (parsed) => parsed;
const _knows: (settings: EnvironmentSettings) => Record<keyof EnvironmentSettings, unknown> = (settings) => settings as Record<keyof Parsed, unknown>;
void _accepts;
void _knows;

/** Checks the shape of one environment's settings; the first problem stops synth, named like every other. */
export function checkSettingsShape(input: unknown): EnvironmentSettings {
  const result = EnvironmentSettingsSchema.safeParse(input);
  if (result.success) return input as EnvironmentSettings;
  // A misspelled key explains the other problems it causes (a required key then missing), so it goes first.
  const issue = result.error.issues.find((i) => i.code === "unrecognized_keys") ?? result.error.issues[0];
  throw toSettingError(issue, input);
}

function toSettingError(issue: z.core.$ZodIssue, input: unknown): SettingError {
  const at = (path: readonly PropertyKey[]) => path.map(String).join(".");
  const valueAt = (path: readonly PropertyKey[]) => path.reduce<unknown>((value, key) => (value as Record<PropertyKey, unknown> | undefined)?.[key], input);
  const known = (path: readonly PropertyKey[]) => Object.keys(shapeAt(path));
  if (issue.code === "unrecognized_keys") {
    const key = issue.keys[0];
    const path = [...issue.path, key];
    const options = known(issue.path);
    return new SettingError(
      at(path),
      valueAt(path),
      `not a setting${issue.path.length ? ` of ${at(issue.path)}` : ""}`,
      `did you mean ${closest(key, options, 1).map((k) => `"${k}"`)[0]}? Known: ${options.join(", ")}`,
    );
  }
  if (issue.code === "invalid_union" && issue.path.at(-1) === undefined) {
    return new SettingError("settings", input, "not an object", "an EnvironmentSettings object");
  }
  const value = valueAt(issue.path);
  const setting = at(issue.path) || "settings";
  if (issue.code === "invalid_value") return new SettingError(setting, value, "not a supported value", issue.values.map((v) => JSON.stringify(v)).join(", "));
  if (issue.code === "invalid_union" && issue.path.at(-1) === "state") {
    return new SettingError(setting, value, "not a state backend", '{ backend: "local" } or { backend: "s3", bucket, key?, region?, kmsKeyId? }');
  }
  if (issue.path.at(-1) === "command")
    return new SettingError(setting, value, "not a command", 'a shell command string, or an array of strings such as ["/bin/probe", "--quick"]');
  if (issue.path[0] === "state" && (issue.code === "invalid_union" || issue.path.at(-1) === "backend")) {
    return new SettingError(setting, value, "not a state backend", '"local" or "s3"');
  }
  if (issue.code === "invalid_type") {
    const expected = issue.expected === "int" ? "a whole number" : `a ${issue.expected}`;
    return new SettingError(setting, value, value === undefined ? "required, but not set" : `not ${expected}`, expected);
  }
  return new SettingError(setting, value, issue.message, "see the settings table in README.md");
}

/** The object schema at a path of the settings (for the known keys of a misspelled one). */
function shapeAt(path: readonly PropertyKey[]): Record<string, unknown> {
  let schema: z.ZodType = EnvironmentSettingsSchema;
  for (const key of path) {
    schema = unwrap(schema);
    if (schema instanceof z.ZodDiscriminatedUnion) return {};
    schema = (schema as z.ZodObject).shape[String(key)] as z.ZodType;
  }
  schema = unwrap(schema);
  return schema instanceof z.ZodObject ? schema.shape : {};
}

function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  while (current instanceof z.ZodOptional || current instanceof z.ZodNullable || current instanceof z.ZodReadonly) current = current.unwrap() as z.ZodType;
  return current;
}
