import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Testing } from "cdktf";
import type { EnvironmentSettings, RunOptions } from "../../lib/settings/environment/settings";

export interface TfJson {
  terraform: { backend?: Record<string, Record<string, unknown>>; required_providers: Record<string, unknown> };
  provider: { aws: Record<string, any>[] };
  resource: Record<string, Record<string, any>>;
  output?: Record<string, { value: string; sensitive?: boolean }>;
  data?: Record<string, unknown>;
}

const synthesized = new Map<string, string>();
// One output folder per test file; Testing.app() would otherwise make a new temp folder per stack.
const outdir = mkdtempSync(join(tmpdir(), "cdktf-test-"));
// Removed when the file's tests end, so test runs leave no temp folders behind.
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

/**
 * The stack's Terraform JSON for these settings. Memoized per test file (synthesis is pure), and
 * parsed afresh on each call so no test can see another's changes. Settings synth refuses throw their
 * error, cached the same way (tests assert on its message).
 */
export function synth(settings: EnvironmentSettings, options: RunOptions = {}): TfJson {
  const key = JSON.stringify([settings, options]);
  let cached = synthesized.get(key) ?? fromRunCache(key);
  if (cached === undefined) {
    cached = synthesizeOrRefuse(settings, options);
    toRunCache(key, cached);
  }
  synthesized.set(key, cached);
  if (cached.startsWith(REFUSED)) throw refusedError(cached);
  return JSON.parse(cached);
}

/** Marks a cached refusal: Terraform JSON always starts with "{". */
const REFUSED = "refused:";

/** The refusal as synth threw it: its name (e.g. SettingError) and message. */
function refusedError(cached: string): Error {
  const { name, message } = JSON.parse(cached.slice(REFUSED.length)) as { name: string; message: string };
  return Object.assign(new Error(message), { name });
}

function synthesizeOrRefuse(settings: EnvironmentSettings, options: RunOptions): string {
  // Required here, not imported: a run whose stacks all come from the cache never loads the stack's
  // code (every construct and provider class), which is most of a warm test file's time.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { ApiStack } = require("../../stacks/api-stack") as typeof import("../../stacks/api-stack");
  const { variantError } = require("./variants") as typeof import("./variants");
  /* eslint-enable @typescript-eslint/no-require-imports */
  let stack: InstanceType<typeof ApiStack>;
  try {
    stack = new ApiStack(Testing.app({ outdir }), settings.name, settings, options);
  } catch (error) {
    // A variant that cannot apply what it inherits says so, naming itself (see variants.ts).
    const refusal = variantError(settings, error) ?? error;
    if (!(refusal instanceof Error)) throw refusal;
    return REFUSED + JSON.stringify({ name: refusal.name, message: refusal.message });
  }
  return Testing.synth(stack, true);
}

// Shared by the run's test files (see support/synth-cache.cjs); absent when jest runs without it.
const runCache = process.env.SYNTH_CACHE_DIR;
const cacheFile = (key: string) => join(runCache!, `${createHash("sha256").update(key).digest("hex")}.json`);

function fromRunCache(key: string): string | undefined {
  if (!runCache) return undefined;
  try {
    return readFileSync(cacheFile(key), "utf8");
  } catch {
    return undefined;
  }
}

function toRunCache(key: string, json: string): void {
  if (!runCache) return;
  // Written aside and renamed, so a reader in another worker never sees half a file. Best effort: a
  // cache that cannot be written (a folder another checkout's run pruned) only means synthesizing again.
  const file = cacheFile(key);
  try {
    writeFileSync(`${file}.${process.pid}`, json);
    renameSync(`${file}.${process.pid}`, file);
  } catch {
    // not cached
  }
}

/**
 * What deploying the whole stack calls, as its constructs contributed it (the administrator's deploy),
 * and the release role's share: `DeployPermissions` of a stack built here, uncached (plain data).
 */
export function deployPermissions(settings: EnvironmentSettings, options: RunOptions = { offline: true }) {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { ApiStack } = require("../../stacks/api-stack") as typeof import("../../stacks/api-stack");
  const { DeployPermissions } = require("../../lib/core/deploy-permissions") as typeof import("../../lib/core/deploy-permissions");
  /* eslint-enable @typescript-eslint/no-require-imports */
  const permissions = DeployPermissions.of(new ApiStack(Testing.app({ outdir }), settings.name, settings, options));
  if (!permissions) throw new Error(`${settings.name}: no CI access, so no deploy permissions`);
  return {
    statements: structuredClone(permissions.statements) as unknown as Record<string, any>[],
    release: structuredClone(permissions.releaseStatements) as unknown as Record<string, any>[],
    releaseChanges: permissions.releaseChanges,
    attachablePolicies: permissions.attachablePolicies,
  };
}

/** The bodies of every resource of one type. */
export function resources(tf: TfJson, type: string): Record<string, any>[] {
  return Object.values(tf.resource[type] ?? {});
}

/** The single resource of a type; fails the test if there is not exactly one. */
export function only(tf: TfJson, type: string): Record<string, any> {
  const found = resources(tf, type);
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0];
}

/** The Terraform address of a resource body, e.g. `aws_vpc.Network_Vpc_FAC8F4A5`. */
export function address(tf: TfJson, type: string, body: Record<string, any>): string {
  const name = Object.entries(tf.resource[type]).find(([, b]) => b === body)![0];
  return `${type}.${name}`;
}

/** The interpolation that references an attribute of a resource body, e.g. `${aws_vpc.X.id}`. */
export function ref(tf: TfJson, type: string, body: Record<string, any>, attribute: string): string {
  return `\${${address(tf, type, body)}.${attribute}}`;
}

/** A minimal valid environment for property tests, with overrides. */
export function env(overrides: Partial<EnvironmentSettings> = {}): EnvironmentSettings {
  return { name: "test", region: "eu-west-1", availabilityZones: ["eu-west-1a", "eu-west-1b"], ...overrides };
}

/** The app container's definition, parsed from the task definition. */
export function container(tf: TfJson): Record<string, any> {
  return JSON.parse(only(tf, "aws_ecs_task_definition").container_definitions)[0];
}

/** An inline IAM policy of the role whose name ends with `roleSuffix`, by policy name. */
export function rolePolicy(tf: TfJson, roleSuffix: string, policyName: string): { Statement: Record<string, any>[] } {
  const [roleName] = Object.entries(tf.resource.aws_iam_role).find(([, r]) => r.name.endsWith(roleSuffix))!;
  const policy = resources(tf, "aws_iam_role_policy").find((p) => p.role === `\${aws_iam_role.${roleName}.id}` && p.name === policyName);
  if (!policy) throw new Error(`no policy ${policyName} on role *${roleSuffix}`);
  return JSON.parse(policy.policy);
}

/** Terraform JSON without cdktf's "//" metadata (construct paths, the engine's version), which the app writes and in-process synth leaves out. */
export function withoutMetadata(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutMetadata);
  if (!value || typeof value !== "object") return value;
  return Object.fromEntries(Object.entries(value).flatMap(([k, v]) => (k === "//" ? [] : [[k, withoutMetadata(v)]])));
}

/** The process variables that change what a synth writes: a test running the synth app sets its own. */
const SYNTH_VARIABLES = ["IMAGE_TAG", "IMAGE_ENV", "OFFLINE", "AWS_EMULATOR_URL", "SYNTH_HCL_OUTPUT", "CDKTF_OUTDIR", "CDK_ENGINE"];

/** This process's environment without the variables that change what synth writes. */
export function withoutSynthVariables(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !SYNTH_VARIABLES.includes(name)));
}
