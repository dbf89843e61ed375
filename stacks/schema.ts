// zod/mini: the same checks as zod with a tree-shakable API; bundled into the synth app it loads in
// about 10 ms instead of 60 (npm run bench prints it).
import * as z from "zod/mini";
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
const names = z.readonly(z.array(text));
const variables = z.readonly(z.record(text, text));

const state = z.discriminatedUnion("backend", [
  z.strictObject({ backend: z.literal("local") }),
  z.strictObject({ backend: z.literal("s3"), bucket: text, key: z.optional(text), region: z.optional(text), kmsKeyId: z.optional(text) }),
]);

const healthCheck = z.strictObject({
  command: z.union([text, names]),
  intervalSeconds: z.optional(int),
  timeoutSeconds: z.optional(int),
  retries: z.optional(int),
  startPeriodSeconds: z.optional(int),
});

const task = z.strictObject({
  cpu: z.optional(int),
  memory: z.optional(int),
  cpuArchitecture: z.optional(z.enum(["X86_64", "ARM64"])),
  containerPort: z.optional(int),
  environment: z.optional(variables),
  secrets: z.optional(variables),
  healthCheck: z.optional(z.nullable(healthCheck)),
  stopTimeoutSeconds: z.optional(int),
  readonlyRootFilesystem: z.optional(flag),
  scratchPath: z.optional(text),
  user: z.optional(z.nullable(text)),
  logRetentionDays: z.optional(int),
  image: z.optional(z.strictObject({ tag: z.optional(text), uri: z.optional(text) })),
});

const loadBalancer = z.strictObject({
  internal: z.optional(flag),
  allowedCidrs: z.optional(names),
  idleTimeoutSeconds: z.optional(int),
  deletionProtection: z.optional(flag),
  deregistrationDelaySeconds: z.optional(int),
  healthCheck: z.optional(
    z.strictObject({
      path: z.optional(text),
      matcher: z.optional(text),
      intervalSeconds: z.optional(int),
      timeoutSeconds: z.optional(int),
      healthyThreshold: z.optional(int),
      unhealthyThreshold: z.optional(int),
    }),
  ),
  https: z.optional(
    z.strictObject({ certificateArn: z.optional(text), domainName: z.optional(text), hostedZoneId: z.optional(text), sslPolicy: z.optional(text) }),
  ),
  accessLogs: z.optional(flag),
  accessLogsExpiryDays: z.optional(int),
});

export const EnvironmentSettingsSchema = z.strictObject({
  name: text,
  project: z.optional(text),
  region: z.optional(text),
  availabilityZones: z.optional(names),
  tags: z.optional(variables),
  state: z.optional(state),
  network: z.optional(
    z.strictObject({
      cidr: z.optional(text),
      natMode: z.optional(z.enum(["none", "single", "per-az"])),
      flowLogRetentionDays: z.optional(int),
      flowLogTrafficType: z.optional(z.enum(["ALL", "ACCEPT", "REJECT"])),
    }),
  ),
  registry: z.optional(z.strictObject({ keepImages: z.optional(int), untaggedExpiryDays: z.optional(int), forceDelete: z.optional(flag) })),
  cluster: z.optional(
    z.strictObject({
      containerInsights: z.optional(flag),
      onDemandBase: z.optional(int),
      onDemandWeight: z.optional(int),
      spotWeight: z.optional(int),
      logRetentionDays: z.optional(int),
    }),
  ),
  task: z.optional(task),
  service: z.optional(
    z.strictObject({
      desiredCount: z.optional(int),
      healthCheckGracePeriodSeconds: z.optional(int),
      enableExecuteCommand: z.optional(flag),
      waitForSteadyState: z.optional(flag),
    }),
  ),
  autoscaling: z.optional(
    z.strictObject({
      enabled: z.optional(flag),
      minCapacity: z.optional(int),
      maxCapacity: z.optional(int),
      cpuTargetPercent: z.optional(int),
      memoryTargetPercent: z.optional(int),
      requestsPerTarget: z.optional(int),
      scaleInCooldownSeconds: z.optional(int),
      scaleOutCooldownSeconds: z.optional(int),
    }),
  ),
  loadBalancer: z.optional(loadBalancer),
  database: z.optional(
    z.strictObject({
      enabled: z.optional(flag),
      engineVersion: z.optional(text),
      instanceClass: z.optional(text),
      allocatedStorageGb: z.optional(int),
      maxAllocatedStorageGb: z.optional(int),
      databaseName: z.optional(text),
      username: z.optional(text),
      multiAz: z.optional(flag),
      deletionProtection: z.optional(flag),
      backupRetentionDays: z.optional(int),
      skipFinalSnapshot: z.optional(flag),
      performanceInsights: z.optional(flag),
      monitoringIntervalSeconds: z.optional(int),
      logRetentionDays: z.optional(int),
      applyImmediately: z.optional(flag),
      keyDeletionWindowDays: z.optional(int),
    }),
  ),
  compute: z.optional(
    z.strictObject({
      mode: z.optional(z.enum(["fargate", "ec2"])),
      ec2: z.optional(
        z.strictObject({
          instanceType: z.optional(text),
          amiId: z.optional(text),
          minInstances: z.optional(int),
          maxInstances: z.optional(int),
          targetCapacityPercent: z.optional(int),
          rootVolumeGb: z.optional(int),
        }),
      ),
    }),
  ),
  ci: z.optional(
    z.strictObject({
      githubRepository: text,
      environments: z.optional(names),
      branch: z.optional(text),
      oidcProviderArn: z.optional(text),
      permissionsBoundaryArn: z.optional(text),
      pullFrom: z.optional(names),
    }),
  ),
});

// What the schema accepts must be an EnvironmentSettings (checked by the compiler here); that it
// knows every documented setting is checked by __tests__/schema.test.ts.
const _accepts: (parsed: z.output<typeof EnvironmentSettingsSchema>) => EnvironmentSettings = (parsed) => parsed;
void _accepts;

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
  const value = valueAt(issue.path);
  const setting = at(issue.path) || "settings";
  if (issue.code === "invalid_value") return new SettingError(setting, value, "not a supported value", issue.values.map((v) => JSON.stringify(v)).join(", "));
  if (issue.path.at(-1) === "command")
    return new SettingError(setting, value, "not a command", 'a shell command string, or an array of strings such as ["/bin/probe", "--quick"]');
  if (issue.path[0] === "state" && (issue.code === "invalid_union" || issue.path.at(-1) === "backend")) {
    const allowed = issue.path.at(-1) === "backend" ? '"local" or "s3"' : '{ backend: "local" } or { backend: "s3", bucket, key?, region?, kmsKeyId? }';
    return new SettingError(setting, value, "not a state backend", allowed);
  }
  if (issue.code === "invalid_type") {
    const expected = `${/^[aeiou]/.test(issue.expected) ? "an" : "a"} ${issue.expected}`;
    return new SettingError(setting, value, value === undefined ? "required, but not set" : `not ${expected}`, expected);
  }
  return new SettingError(setting, value, issue.message, "see the settings table in README.md");
}

/** The object schema at a path of the settings (for the known keys of a misspelled one). */
function shapeAt(path: readonly PropertyKey[]): Record<string, unknown> {
  let schema: z.core.$ZodType = unwrap(EnvironmentSettingsSchema);
  for (const key of path) {
    if (schema._zod.def.type !== "object") return {};
    schema = unwrap((schema as z.core.$ZodObject)._zod.def.shape[String(key)]);
  }
  return schema._zod.def.type === "object" ? (schema as z.core.$ZodObject)._zod.def.shape : {};
}

/** The schema inside optional, nullable and readonly wrappers. */
export function unwrap(schema: z.core.$ZodType): z.core.$ZodType {
  let current = schema;
  while (["optional", "nullable", "readonly"].includes(current._zod.def.type))
    current = (current._zod.def as unknown as { innerType: z.core.$ZodType }).innerType;
  return current;
}
