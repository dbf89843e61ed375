import type * as z from "zod/mini";
import { parseSettings, unwrap } from "../../../lib/settings/environment/schema";
import { EnvironmentSettingsSchema } from "../../../lib/settings/environment/settings";
import { environments } from "../../../environments/environments";
import { examples, planOnlyExamples } from "../../support/variants";
import { settings } from "../../../scripts/settings-table";

/** The documented sections (objects the settings table in docs/settings.md opens); every other documented setting is a leaf. */
const SECTIONS = new Set(
  settings()
    .filter((s) => s.section)
    .map((s) => s.path),
);

/** Every setting the schema knows, opened where the docs have a section, the rest leaves, with its schema. */
function leaves(schema: z.core.$ZodType, path = ""): [string, z.core.$ZodType][] {
  let s = unwrap(schema);
  if (path && !SECTIONS.has(path)) return [[path, schema]];
  // A map (services) opens as `<path>.<key>.<field>`, as the settings table writes it.
  if (s._zod.def.type === "record") {
    s = unwrap((s as z.core.$ZodRecord)._zod.def.valueType);
    path = `${path}.<key>`;
  }
  return Object.entries((s as z.core.$ZodObject)._zod.def.shape).flatMap(([key, child]) => leaves(child, path ? `${path}.${key}` : key));
}

/** A documented default that is a literal (JSON, or a JavaScript object with bare keys), else undefined. */
function literal(text: string): { value: unknown } | undefined {
  for (const candidate of [text, text.replace(/([{,]\s*)(\w+):/g, '$1"$2":')]) {
    try {
      return { value: JSON.parse(candidate) };
    } catch {
      // prose, such as "the environment's region"
    }
  }
  return undefined;
}

const all = [...environments, ...examples, ...planOnlyExamples];

describe("the settings schema", () => {
  it("knows exactly the settings its doc comments declare (and docs/settings.md's table documents)", () => {
    const declared = settings()
      .filter((s) => !s.section)
      .map((s) => s.path);
    expect(
      leaves(EnvironmentSettingsSchema)
        .map(([path]) => path)
        .sort(),
    ).toEqual(declared.sort());
  });

  it("applies exactly the defaults its doc comments document, where they are literals", () => {
    const documented = new Map(settings().map((s) => [s.path, s.default]));
    const checked: string[] = [];
    for (const [path, schema] of leaves(EnvironmentSettingsSchema)) {
      const doc = documented.get(path);
      // A default with a <placeholder> follows from other settings (lib/settings/environment/schema.ts derives it).
      const value = doc === undefined || doc.includes("<") ? undefined : literal(doc);
      const isDefault = schema._zod.def.type === "default";
      if (value) {
        expect([path, isDefault]).toEqual([path, true]);
        expect([path, (schema._zod.def as unknown as { defaultValue: unknown }).defaultValue]).toEqual([path, value.value]);
        checked.push(path);
      }
    }
    expect(checked.length).toBeGreaterThan(60);
  });

  it.each(all.map((e) => [e.name, e] as const))("keeps every value of the shipped settings of %s as written", (_, written) => {
    expect(parseSettings(written)).toMatchObject(JSON.parse(JSON.stringify(written)));
  });

  it("fills every default, so constructs hold none of their own", () => {
    const config = parseSettings({ name: "bare" });
    expect(config).toMatchObject({
      project: "rest-api",
      region: "us-east-1",
      availabilityZones: ["us-east-1a", "us-east-1b"],
      state: { backend: "local" },
      network: { cidr: "10.0.0.0/16", natMode: "single" },
      task: { cpu: 512, memory: 1024, containerPort: 8080, environment: { APP_ENV: "bare" }, user: "1000:1000", image: {} },
      loadBalancer: { allowedCidrs: ["0.0.0.0/0"], healthCheck: { path: "/health", intervalSeconds: 10, timeoutSeconds: 5 } },
      database: { enabled: true, engineVersion: "17", instanceClass: "db.t4g.micro" },
      compute: { mode: "fargate" },
    });
    expect(config.ci).toBeUndefined();
    expect(config.loadBalancer.https).toBeUndefined();
  });

  it("derives the defaults that follow from other settings", () => {
    const config = parseSettings({
      name: "derived",
      project: "shop",
      region: "eu-west-1",
      state: { backend: "s3", bucket: "shop-state" },
      ci: { githubRepository: "acme/shop" },
      task: { cpuArchitecture: "ARM64" },
      compute: { mode: "ec2" },
    });
    expect(config.availabilityZones).toEqual(["eu-west-1a", "eu-west-1b"]);
    expect(config.state).toEqual({ backend: "s3", bucket: "shop-state", key: "shop/derived/terraform.tfstate", region: "eu-west-1" });
    expect(config.ci?.environments).toEqual(["derived"]);
    expect(config.compute).toMatchObject({ mode: "ec2", ec2: { instanceType: "t4g.medium", minInstances: 1 } });
  });
});
