import type * as z from "zod/mini";
import { EnvironmentSettingsSchema, unwrap } from "../stacks/schema";
import { environments } from "../stacks/environments";
import { examples, planOnlyExamples } from "./examples";
import { settings } from "../scripts/settings-table";

/** The documented sections (objects the README table opens); every other documented setting is a leaf. */
const SECTIONS = new Set(
  settings()
    .filter((s) => s.section)
    .map((s) => s.path),
);

/** Every setting the schema knows, opened where the interfaces have a section, the rest leaves. */
function leaves(schema: z.core.$ZodType, path = ""): string[] {
  const s = unwrap(schema);
  if (path && !SECTIONS.has(path)) return [path];
  return Object.entries((s as z.core.$ZodObject)._zod.def.shape).flatMap(([key, child]) => leaves(child, path ? `${path}.${key}` : key));
}

describe("the settings schema", () => {
  it("knows exactly the settings the interfaces declare (and README's table documents)", () => {
    const declared = settings()
      .filter((s) => !s.section)
      .map((s) => s.path);
    expect(leaves(EnvironmentSettingsSchema).sort()).toEqual(declared.sort());
  });

  it.each([...environments, ...examples, ...planOnlyExamples].map((e) => [e.name, e] as const))(
    "accepts the shipped settings of %s unchanged",
    (_, settings) => {
      const parsed = EnvironmentSettingsSchema.parse(settings);
      expect(parsed).toEqual(JSON.parse(JSON.stringify(settings)));
    },
  );
});
