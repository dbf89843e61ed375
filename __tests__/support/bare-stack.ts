/**
 * Bare stacks: one construct tested on its own, with the environment context, key and load balancer
 * it is handed. Apart from helpers.ts so that a test of synthesized stacks alone loads none of them.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, DefaultTokenResolver, StringConcat, TerraformStack, Testing, Tokenization } from "cdktf";
import type { Construct } from "constructs";
import { EncryptionKey } from "../../lib/core/encryption-key";
import { EnvironmentContext } from "../../lib/core/environment";
import { LoadBalancer, LoadBalancerSettingsSchema } from "../../lib/edge/load-balancer";

// One output folder per test file; Testing.app() would otherwise make a new temp folder per stack.
const outdir = mkdtempSync(join(tmpdir(), "cdktf-bare-"));
// Removed when the file's tests end, so test runs leave no temp folders behind.
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

/** An app for a bare stack (a construct tested on its own), writing into this file's one temp folder. */
export function testApp(): App {
  return Testing.app({ outdir });
}

/** A value with its references written as Terraform writes them (`${aws_ecs_service.Service_X.name}`), e.g. a construct's metric. */
export function resolved<T>(scope: Construct, value: T): T {
  return Tokenization.resolve(value, { scope, resolver: new DefaultTokenResolver(new StringConcat()) });
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
