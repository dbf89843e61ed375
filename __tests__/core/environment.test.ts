/**
 * The environment context: what every construct of one stack reads (prefix, region, account,
 * partition, tags, key) instead of being handed it prop by prop.
 */
import { TerraformStack, Testing } from "cdktf";
import { Construct } from "constructs";
import { EnvironmentContext } from "../../lib/core/environment";
import { EncryptionKey } from "../../lib/core/encryption-key";
import { DeployPermissions } from "../../lib/core/deploy-permissions";
import { Registry, RegistrySettingsSchema } from "../../lib/registry/registry";
import { ApiStack } from "../../stacks/api-stack";
import { env, resources, type TfJson } from "../support/helpers";
import { testApp } from "../support/bare-stack";

const shopDev = { project: "shop", environment: "dev", region: "eu-west-1", accountId: "111122223333" };

describe("EnvironmentContext.of", () => {
  test("given a construct in no stack, when it asks for its environment, then it is told it is not in a stack", () => {
    const loose = new Construct(testApp(), "Loose");
    expect(() => EnvironmentContext.of(loose)).toThrow(
      "Loose: not in a stack, so it has no environment context; build it inside the environment's TerraformStack",
    );
  });

  test("given a stack that made no context, when a construct of it asks, then it is told the stack has none and how to make one", () => {
    const stack = new TerraformStack(testApp(), "s");
    expect(() => EnvironmentContext.of(new Construct(stack, "A"))).toThrow(
      "s/A: stack s has no environment context; make one with new EnvironmentContext(stack, ...) before its constructs",
    );
  });

  test("given a stack's context, when a construct deep inside the stack asks, then it gets the stack's prefix, region, account, partition and tags", () => {
    const stack = new TerraformStack(testApp(), "s");
    new EnvironmentContext(stack, { ...shopDev, region: "cn-north-1", tags: { CostCenter: "42" } });
    const environment = EnvironmentContext.of(new Construct(new Construct(stack, "A"), "B"));
    expect(environment).toMatchObject({ prefix: "shop-dev", region: "cn-north-1", accountId: "111122223333", partition: "aws-cn", production: false });
    // The stack's own tags after the user's, so a user's tag cannot shadow them.
    expect(environment.tags).toEqual({ CostCenter: "42", Project: "shop", Environment: "dev", ManagedBy: "cdktf" });
    expect(environment.arn("sqs", "shop-dev-worker")).toBe("arn:aws-cn:sqs:cn-north-1:111122223333:shop-dev-worker");
  });

  test("given two stacks of one app, when a construct of each asks, then each gets its own stack's environment", () => {
    const app = testApp();
    const [dev, prod] = ["dev", "prod"].map((name) => {
      const stack = new TerraformStack(app, name);
      new EnvironmentContext(stack, { ...shopDev, environment: name });
      return stack;
    });
    expect(EnvironmentContext.of(new Construct(dev, "A")).prefix).toBe("shop-dev");
    expect(EnvironmentContext.of(new Construct(prod, "A")).prefix).toBe("shop-prod");
  });

  test("given a stack with a context, when a second is made, then it is refused: one environment per stack", () => {
    const stack = new TerraformStack(testApp(), "s");
    new EnvironmentContext(stack, shopDev);
    expect(() => new EnvironmentContext(stack, shopDev)).toThrow("s: the stack already has an environment context");
  });

  test("given no EncryptionKey yet, when a construct asks for the environment's key, then it is told to make the key first", () => {
    const stack = new TerraformStack(testApp(), "s");
    new EnvironmentContext(stack, shopDev);
    expect(() => EncryptionKey.of(new Construct(stack, "LogsSomething"))).toThrow(
      "s/LogsSomething: asked for the environment's encryption key before stack s made it; make the EncryptionKey before the constructs that encrypt with it",
    );
  });

  test("given an EncryptionKey, when a second is made in the same environment, then it is refused", () => {
    const stack = new TerraformStack(testApp(), "s");
    new EnvironmentContext(stack, shopDev);
    const key = new EncryptionKey(stack, "Key", { keyDeletionWindowDays: 7 });
    expect(EncryptionKey.of(stack)).toBe(key);
    expect(() => new EncryptionKey(stack, "Again", { keyDeletionWindowDays: 7 })).toThrow(
      "s/Again: environment shop-dev already has an encryption key (s/Key)",
    );
  });
});

describe("the environment's scope is made in order, and asking too early is an error naming the asker", () => {
  test("given a stack that collects deploy permissions, when a construct asks before they are made, then it is told, not handed nothing", () => {
    const stack = new TerraformStack(testApp(), "s");
    new EnvironmentContext(stack, { ...shopDev, collectsDeployPermissions: true });
    expect(() => DeployPermissions.of(new Construct(stack, "EarlyBird"))).toThrow(
      "s/EarlyBird: asked for the deploy permissions before stack s made them; make DeployPermissions right after the EnvironmentContext",
    );
    const permissions = new DeployPermissions(stack);
    expect(DeployPermissions.of(new Construct(stack, "OnTime"))?.grantor).toBe("s/OnTime");
    expect(permissions.grantor).toBe("s");
  });

  test("given a stack without CI access, when a construct asks, then there is nothing to grant", () => {
    const stack = new TerraformStack(testApp(), "s");
    new EnvironmentContext(stack, shopDev);
    expect(DeployPermissions.of(new Construct(stack, "Any"))).toBeUndefined();
  });
});

describe("constructs read their stack's environment", () => {
  test("given a stack's context, when a construct is built in it, then it names its resources with the stack's prefix and encrypts with its key", () => {
    const stack = new TerraformStack(testApp(), "s");
    new EnvironmentContext(stack, shopDev);
    new EncryptionKey(stack, "Key", { keyDeletionWindowDays: 7 });
    const registry = new Registry(stack, "Registry", RegistrySettingsSchema.parse({}));
    const tf = JSON.parse(Testing.synth(stack)) as TfJson;
    const [repository] = resources(tf, "aws_ecr_repository");
    expect(registry.name).toBe("shop-dev");
    expect(repository.name).toBe("shop-dev");
    expect(repository.encryption_configuration[0].kms_key).toMatch(/^\$\{aws_kms_key\.Key_[0-9A-F]+\.arn\}$/);
    expect(resources(tf, "aws_kms_alias")[0].name).toBe("alias/shop-dev");
  });

  test("given an ApiStack, when any of its constructs asks, then it gets the environment the stack made from its settings", () => {
    const stack = new ApiStack(testApp(), "test", env({ project: "shop", region: "eu-central-1", availabilityZones: ["eu-central-1a", "eu-central-1b"] }));
    const environment = EnvironmentContext.of(stack.service);
    expect(environment).toBe(stack.environment);
    expect(environment).toMatchObject({ prefix: "shop-test", region: "eu-central-1", environment: "test" });
    expect(EncryptionKey.of(stack.registry)).toBe(stack.encryptionKey);
  });
});
