import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, DefaultTokenResolver, StringConcat, TerraformStack, Testing, Tokenization } from "cdktf";
import type { Construct } from "constructs";
import { EncryptionKey } from "../../lib/core/encryption-key";
import { EnvironmentContext } from "../../lib/core/environment";
import { LoadBalancer, LoadBalancerSettingsSchema } from "../../lib/edge/load-balancer";
import { ApiStack } from "../../stacks/api-stack";
import type { EnvironmentSettings, RunOptions } from "../../environments/settings";
import { variantError } from "../../environments/variants";

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

/** An app for a bare stack (a construct tested on its own), writing into this file's one temp folder. */
export function testApp(): App {
  return Testing.app({ outdir });
}

/**
 * The stack's Terraform JSON for these settings. Memoized per test file (synthesis is pure), and
 * parsed afresh on each call so no test can see another's changes.
 */
export function synth(settings: EnvironmentSettings, options: RunOptions = {}): TfJson {
  const key = JSON.stringify([settings, options]);
  let json = synthesized.get(key) ?? fromRunCache(key);
  if (json === undefined) {
    let stack: ApiStack;
    try {
      stack = new ApiStack(Testing.app({ outdir }), settings.name, settings, options);
    } catch (error) {
      // A variant that cannot apply what it inherits says so, naming itself (see examples.ts).
      throw variantError(settings, error) ?? error;
    }
    json = Testing.synth(stack, true);
    toRunCache(key, json);
  }
  synthesized.set(key, json);
  return JSON.parse(json);
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

/** A value with its references written as Terraform writes them (`${aws_ecs_service.Service_X.name}`), e.g. a construct's metric. */
export function resolved<T>(scope: Construct, value: T): T {
  return Tokenization.resolve(value, { scope, resolver: new DefaultTokenResolver(new StringConcat()) });
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

/** A load balancer with every default setting on a bare stack, for constructs handed one. */
export function testLoadBalancer(stack: Construct, id = "LoadBalancer"): LoadBalancer {
  testEnvironment(stack);
  return new LoadBalancer(stack, id, {
    ...LoadBalancerSettingsSchema.parse({}),
    vpcId: "vpc-1",
    publicSubnetIds: ["subnet-a", "subnet-b"],
    privateSubnetIds: ["subnet-c", "subnet-d"],
  });
}

/** The environment of every bare stack: resource names start with `test-bare`. */
export const TEST_ENVIRONMENT = { project: "test", environment: "bare", region: "eu-west-1", accountId: "123456789012" } as const;

const testEnvironments = new WeakMap<TerraformStack, EnvironmentContext>();
/** The environment context of a bare stack (made once per stack), which every construct reads its prefix, region and account from. */
export function testEnvironment(scope: Construct): EnvironmentContext {
  const stack = TerraformStack.of(scope);
  let environment = testEnvironments.get(stack);
  if (!environment) {
    environment = new EnvironmentContext(stack, TEST_ENVIRONMENT);
    testEnvironments.set(stack, environment);
  }
  return environment;
}

const testKeys = new WeakMap<Construct, EncryptionKey>();
/** The environment key of a bare stack (one per stack, with its environment), as constructs that create log groups or encrypt need. */
export function testKey(stack: Construct): EncryptionKey {
  let key = testKeys.get(stack);
  if (!key) {
    testEnvironment(stack);
    key = new EncryptionKey(stack, "EncryptionKey", { keyDeletionWindowDays: 30 });
    testKeys.set(stack, key);
  }
  return key;
}
