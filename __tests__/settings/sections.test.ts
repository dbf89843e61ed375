/**
 * A fork's own settings section (lib/settings/sections.ts): checked by the construct's schema with the messages
 * every setting has, and asked for by the services and jobs that use it. The whole way through a stack is
 * proven by the fork proof's Valkey recipe (docs/forking.md).
 */
import * as z from "zod/mini";
import { extraSections, settingsSection } from "../../lib/settings/sections";
import { int, withDefault } from "../../lib/settings/rules";
import { parseSettings } from "../../lib/settings/environment/schema";
import { dev } from "../../environments/environments";
import type { EnvironmentSettings } from "../../lib/settings/environment/settings";
import { synth } from "../support/helpers";

const SketchSchema = settingsSection("sketch", z.strictObject({ nodes: withDefault(int(1, 5), 2) }), {
  file: "__tests__/settings/sections.test.ts",
  usable: true,
});
settingsSection("notes", z.strictObject({ pages: withDefault(int(1, 9), 1) }), { file: "__tests__/settings/sections.test.ts" });

/** dev without the sections a fork gave it and without what its service uses, so a fork's stays green. */
const base = { ...Object.fromEntries(Object.entries(dev).filter(([key]) => !extraSections().has(key))), service: { desiredCount: 1 } };
/** dev with the sections and settings given (sections are not in EnvironmentSettings' type until a construct augments it). */
const withSections = (extra: Record<string, unknown>): EnvironmentSettings => ({ ...base, ...extra }) as EnvironmentSettings;

describe("a section a fork's construct adds to the settings", () => {
  test("is checked by its own schema and handed over with its defaults; an environment without it has none", () => {
    expect(parseSettings(withSections({ sketch: {} })).sections).toEqual({ sketch: z.parse(SketchSchema, {}) });
    expect(parseSettings(withSections({ sketch: { nodes: 4 } })).sections.sketch).toEqual({ nodes: 4 });
    expect(parseSettings(withSections({})).sections).toEqual({});
  });

  test("a bad value names the setting, the value and what is allowed; a misspelled key its section's known keys", () => {
    expect(() => parseSettings(withSections({ sketch: { nodes: 9 } }))).toThrow(/^Invalid setting sketch\.nodes = 9: .*Allowed: a whole number from 1 to 5/);
    expect(() => parseSettings(withSections({ sketch: { node: 2 } }))).toThrow(/sketch\.node = 2: not a setting of sketch.*"nodes"/);
  });

  test("a misspelled section is refused naming the sections there are, the fork's among them", () => {
    expect(() => parseSettings(withSections({ sketsh: {} }))).toThrow(/sketsh.*did you mean "sketch"\?.*Known: .*sketch/);
  });

  test("a service or job uses only what this environment sets for tasks to use, by name", () => {
    const uses = (extra: Record<string, unknown>, service: object) => () => parseSettings(withSections({ ...extra, service: { ...base.service, ...service } }));
    expect(uses({}, { uses: ["sketch"] })).toThrow(/^Invalid setting service\.uses = \["sketch"\]: "sketch" is not set in this environment/);
    expect(uses({ sketch: {} }, { uses: ["notes"] })).toThrow(
      /"notes" \(__tests__\/settings\/sections\.test\.ts\) is not something tasks use\. Allowed: .*sketch/,
    );
    expect(uses({ sketch: {} }, { uses: ["nosuch"] })).toThrow(/"nosuch" is no resource a construct adds/);
    expect(uses({ sketch: {} }, { uses: ["sketch", "sketch"] })).toThrow(/names one twice/);
    expect(parseSettings(withSections({ sketch: {}, service: { ...base.service, uses: ["sketch"] } })).allServices[0].service.uses).toEqual(["sketch"]);
    expect(() =>
      parseSettings(withSections({ jobs: { nightly: { schedule: "cron(0 3 * * ? *)", task: { command: ["dist/housekeeping.mjs"] }, uses: ["sketch"] } } })),
    ).toThrow(/^Invalid setting jobs\.nightly\.uses = \["sketch"\]: "sketch" is not set in this environment/);
  });

  test("a section the settings set and a service uses, but the stack hands to no task, stops synth naming where to add it", () => {
    expect(() => synth(withSections({ sketch: {}, service: { ...base.service, uses: ["sketch"] } }), { offline: true })).toThrow(
      /service\.uses: "sketch" is set in the environment, but the stack hands it to no task; add this\.use\("sketch", \.\.\.\) to stacks\/api-stack\.ts/,
    );
  });
});
