/**
 * Sections a fork's own constructs add to an environment's settings, without touching the environments'
 * schema: the construct's file registers its settings schema under a name (`settingsSection`), and tells
 * TypeScript the section exists by augmenting `ExtraSections`:
 *
 *   export const CacheSettingsSchema = settingsSection("cache", z.strictObject({ ... }), { file: __filename, usable: true });
 *   declare module "../settings/sections" {
 *     interface ExtraSections {
 *       readonly cache?: z.input<typeof CacheSettingsSchema>;
 *     }
 *   }
 *
 * The environment then takes `cache: { ... }`, checked by that schema with the same messages as every
 * setting (setting, value, what is allowed); a `usable` section is one a service or job asks for by name
 * (`service.uses: ["cache"]`, `jobs.<key>.uses`), which the stack hands them (`ApiStack.use`).
 */
import * as z from "zod/mini";
import { matching, rule } from "./rules";

/** The sections the loaded constructs add: each augments this interface where it registers its schema. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface ExtraSections {}

/** A section as registered. */
export interface Section {
  readonly name: string;
  readonly schema: z.ZodMiniType;
  /** The registering construct's file, for messages. */
  readonly file: string;
  /** Whether a service or job may ask for it by name (`uses`). */
  readonly usable: boolean;
}

const sections = new Map<string, Section>();

/** Registers `schema` as the settings section `name` (a module loaded twice registers again); returns the schema. */
export function settingsSection<S extends z.ZodMiniType>(name: string, schema: S, options: { readonly file: string; readonly usable?: boolean }): S {
  const other = sections.get(name);
  if (other && other.file !== options.file) throw new Error(`${options.file}: the settings section "${name}" is already ${other.file}'s`);
  sections.set(name, { name, schema, file: options.file, usable: options.usable ?? false });
  return schema;
}

/** What a service or job `uses`: section names, each once (checked against the environment's sections by the schema). */
export const USES = z.readonly(
  z
    .array(matching(/^[a-z][a-zA-Z0-9]{0,31}$/, "not a section's name", 'the name of a section this environment sets, e.g. "cache"'))
    .check(rule<string[]>((v) => new Set(v).size === v.length, "names one twice", "each name once")),
);

/** Every section the loaded constructs registered, by name. */
export function extraSections(): ReadonlyMap<string, Section> {
  return sections;
}
