import { readFileSync } from "node:fs";
import { join } from "node:path";
import type * as z from "zod/mini";
import { EnvironmentSettingsSchema, unwrap } from "../stacks/schema";
import { environments } from "../stacks/environments";
import { examples, planOnlyExamples } from "./examples";

/** Every leaf setting the schema knows, as README's table names them (objects opened, the rest leaves). */
function leaves(schema: z.core.$ZodType, prefix = ""): string[] {
  const s = unwrap(schema);
  if (s._zod.def.type === "union") return [...new Set((s as z.core.$ZodDiscriminatedUnion)._zod.def.options.flatMap((o) => leaves(o, prefix)))];
  if (s._zod.def.type !== "object" || prefix === "task.healthCheck.") return [prefix.slice(0, -1)];
  return Object.entries((s as z.core.$ZodObject)._zod.def.shape).flatMap(([key, child]) => leaves(child, `${prefix}${key}.`));
}

describe("the settings schema", () => {
  it("knows exactly the settings README's table documents", () => {
    const readme = readFileSync(join(__dirname, "..", "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("\n## Settings"), readme.indexOf("\n## ", readme.indexOf("\n## Settings") + 1));
    const documented = new Set([...section.matchAll(/^\| `([\w.]+)` \|/gm)].map((m) => m[1]));
    // Documented as a whole (their own sub-table or heading) rather than field by field.
    const wholes = ["state", "state.backend", "state.bucket", "state.key", "state.region", "state.kmsKeyId", "ci.githubRepository"];
    const known = leaves(EnvironmentSettingsSchema).filter((p) => !wholes.includes(p));
    expect(known.filter((p) => !documented.has(p))).toEqual([]);
    expect([...documented].filter((p) => !known.includes(p) && !wholes.includes(p) && !known.some((k) => k.startsWith(`${p}.`)))).toEqual([]);
  });

  it.each([...environments, ...examples, ...planOnlyExamples].map((e) => [e.name, e] as const))(
    "accepts the shipped settings of %s unchanged",
    (_, settings) => {
      const parsed = EnvironmentSettingsSchema.parse(settings);
      expect(parsed).toEqual(JSON.parse(JSON.stringify(settings)));
    },
  );
});
