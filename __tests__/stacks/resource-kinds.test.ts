/**
 * Every kind of AWS resource the stacks make is described once, by its construct (lib/core/resource-kind.ts):
 * what deploying it calls and tags, its price, its emulator endpoints, its leftover inventory and its alarms.
 * Each failure names the file a fork changes.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
// The stack's modules describe every kind a stack can make.
import "../../stacks/api-stack";
import { type AwsCall, isReason, ResourceKind } from "../../lib/core/resource-kind";
import { EMULATED_SERVICES } from "../../emulator/mode";
import { environments } from "../../environments/environments";
import { examples, planOnlyExamples } from "../support/variants";
import { deployPermissions, synth } from "../support/helpers";
import { leanApplied, readLeanRecipe, RECIPES_DOC } from "../../scripts/fork-recipes";

const root = join(__dirname, "..", "..");
const lean = readLeanRecipe(readFileSync(join(root, RECIPES_DOC), "utf8"));
/** A package the lean fork's recipe uninstalls, in a fork that has applied it. */
const droppedByLean = (name: string) => leanApplied(root, lean) && lean.packages.includes(name);

const ROOT = join(__dirname, "../..");
const everyStack = [...environments, ...examples, ...planOnlyExamples];

/** Every TypeScript file of lib/ and stacks/. */
function sources(folder: string): string[] {
  return readdirSync(join(ROOT, folder), { recursive: true, encoding: "utf8" })
    .filter((file) => file.endsWith(".ts"))
    .map((file) => join(folder, file));
}

/** Each Terraform resource type a construct file can make (the provider classes it imports as values) → those files. */
function madeBy(): Map<string, string[]> {
  const made = new Map<string, string[]>();
  for (const file of [...sources("lib"), ...sources("stacks")]) {
    const text = readFileSync(join(ROOT, file), "utf8");
    for (const [, names, module] of text.matchAll(/^import \{([^}]+)\} from "@cdktf\/provider-aws\/lib\/([a-z0-9-]+)";/gm)) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const exported = require(`@cdktf/provider-aws/lib/${module}`) as Record<string, { tfResourceType?: string }>;
      for (const name of names.split(",").map((n) => n.trim())) {
        if (name.startsWith("type ")) continue;
        const type = exported[name]?.tfResourceType;
        if (typeof type === "string" && type.startsWith("aws_") && module !== "provider" && !module.startsWith("data-"))
          made.set(type, [...(made.get(type) ?? []), file]);
      }
    }
  }
  return made;
}

const made = madeBy();
const synthesized = everyStack.map((settings) => ({ settings, tf: synth(settings, { offline: true }) }));

describe("each kind of resource is described once, by its construct", () => {
  test("every resource type a construct can make, and every type a stack synthesizes, has a kind", () => {
    const types = new Set([...made.keys(), ...synthesized.flatMap(({ tf }) => Object.keys(tf.resource ?? {}))]);
    const missing = [...types]
      .filter((type) => !ResourceKind.of(type))
      .map(
        (type) => `${type} (made in ${(made.get(type) ?? ["a file that imports it under another name"]).join(", ")}): describe it with a ResourceKind there`,
      );
    expect(missing).toEqual([]);
  });

  test("a kind names its file, and every part says something: a price or why it is free, an inventory or why none, alarms or why none", () => {
    const problems = ResourceKind.all().flatMap((kind) => {
      const where = `${kind.file} (${kind.name})`;
      const found: string[] = [];
      if (!readFileSync(join(ROOT, kind.file), "utf8").includes(`"${kind.types[0]}"`)) found.push(`${where}: the file does not describe ${kind.types[0]}`);
      for (const [part, value] of [
        ["price", kind.price],
        ["inventory", kind.inventory],
        ["alarms", kind.alarms],
      ] as const)
        if (isReason(value) && value.why.trim().split(/\s+/).length < 4) found.push(`${where}: its ${part} reason "${value.why}" says too little to review`);
      if (!kind.deploy.services.length) found.push(`${where}: names no IAM service its deploy calls`);
      if (!kind.endpoints.length) found.push(`${where}: names no provider endpoint`);
      return found;
    });
    expect(problems).toEqual([]);
  });

  test("the emulator serves every endpoint a kind reaches", () => {
    const missing = ResourceKind.all().flatMap((kind) => kind.endpoints.filter((e) => !EMULATED_SERVICES.includes(e)).map((e) => `${kind.file}: ${e}`));
    expect(missing).toEqual([]);
  });

  test("each inventory calls what the AWS SDK's client package has, and says what it found", async () => {
    const problems: string[] = [];
    for (const kind of ResourceKind.all()) {
      if (isReason(kind.inventory)) continue;
      const called: string[] = [];
      const aws: AwsCall = async (client, command) => {
        called.push(command);
        let sdk: Record<string, unknown>;
        try {
          // eslint-disable-next-line @typescript-eslint/no-require-imports
          sdk = require(`@aws-sdk/client-${client}`) as Record<string, unknown>;
        } catch {
          // A lean fork (docs/forking.md) drops the emulator's inventory with the clients it calls.
          if (!droppedByLean(`@aws-sdk/client-${client}`)) problems.push(`${kind.file}: @aws-sdk/client-${client} is not a devDependency`);
          return {};
        }
        if (!sdk[`${command}Command`]) problems.push(`${kind.file}: @aws-sdk/client-${client} has no ${command}Command`);
        return {};
      };
      expect(await kind.inventory(aws, { accountId: "123456789012", region: "us-east-1" })).toEqual([]);
      if (!called.length) problems.push(`${kind.file}: its inventory calls nothing`);
    }
    expect(problems).toEqual([]);
  });

  test("a kind with alarms has one in every stack that makes it and has alarms at all", () => {
    const problems = synthesized.flatMap(({ settings, tf }) => {
      const alarms = Object.values(tf.resource.aws_cloudwatch_metric_alarm ?? {});
      if (!alarms.length) return [];
      const namespaces = new Set(
        alarms.flatMap((a: any) => [a.namespace, ...(a.metric_query ?? []).map((q: any) => q.metric?.namespace)].filter(Boolean) as string[]),
      );
      const present = ResourceKind.all().filter((kind) => kind.types.some((type) => tf.resource[type]));
      return present.flatMap((kind) =>
        !isReason(kind.alarms) && !namespaces.has(kind.alarms.namespace)
          ? [`${settings.name}: ${kind.file} (${kind.name}) says its alarms are in ${kind.alarms.namespace}, but none is`]
          : [],
      );
    });
    expect(problems).toEqual([]);
  });

  test("a stack with CI access grants each of its kinds' services and declares their tag calls, so the CI role's denies hold them", () => {
    const withCi = everyStack.filter((settings) => settings.ci);
    expect(withCi.length).toBeGreaterThan(0);
    const problems = withCi.flatMap((settings) => {
      const tf = synthesized.find((s) => s.settings === settings)!.tf;
      const { statements } = deployPermissions(settings);
      const granted = statements.filter((s) => s.Effect !== "Deny").flatMap((s) => [s.Action ?? []].flat() as string[]);
      const denied = JSON.stringify(Object.values(tf.resource.aws_iam_role_policy ?? {}).map((p: any) => p.policy));
      const present = ResourceKind.all().filter((kind) => kind.types.some((type) => tf.resource[type]));
      return present.flatMap((kind) => [
        ...kind.deploy.services
          // IAM's calls are the CI access's own inline policy, not a construct's grant.
          .filter((service) => service !== "iam" && !granted.some((action) => action.startsWith(`${service}:`)))
          .map((service) => `${settings.name}: ${kind.file} (${kind.name}) deploys through ${service}, which no construct granted`),
        ...[...kind.tagging.tag, ...kind.tagging.untag]
          .filter((call) => !denied.includes(call))
          .map((call) => `${settings.name}: ${kind.file} (${kind.name}) tags with ${call}, which the CI role's denies do not name`),
      ]);
    });
    expect(problems).toEqual([]);
  });

  test("a type belongs to one kind, and kinds are found from their files", () => {
    const types = ResourceKind.all().flatMap((kind) => kind.types);
    expect(types.length).toBe(new Set(types).size);
    for (const kind of ResourceKind.all()) expect(relative(ROOT, join(ROOT, kind.file))).toBe(kind.file);
  });
});
