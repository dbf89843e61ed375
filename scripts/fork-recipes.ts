/**
 * The recipes of docs/forking.md ("## The recipes, proven") as data: each is a snippet in a ```ts block,
 * preceded by a marker that says where it goes, and applied to `environments/environments.ts` exactly as a
 * reader would paste it. The fork proof (scripts/fork-proof.ts) applies them to a clean copy and runs the
 * suite; a test holds the page's recipes to what this reads, so the docs cannot drift from what is proven.
 *
 *   <!-- fork-recipe id="region" into="dev" -->               properties into dev's settings (or dev's `loadBalancer`: into="dev.loadBalancer")
 *   <!-- fork-recipe id="rename" into="each environment" -->  the same into every environment declared in the file
 *   <!-- fork-recipe id="staging" into="environments/environments.ts" -->  declarations: each replaces its namesake, or is added
 *   <!-- fork-recipe id="no-database" into="dev" alone -->    proven in a fork of its own (it conflicts with another recipe)
 *
 * A property of the snippet replaces the property of the same name (the whole of it: `network: {...}`
 * replaces dev's `network`), or is added after the last one.
 *
 * What to run after a recipe is the page's numbered list after `<!-- fork-steps -->`, one command in
 * backticks at the start of each item (`readForkSteps`): the fork proof runs those, in that order.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";

/** One snippet of a recipe and where it goes. */
export interface RecipePart {
  /** An environment name (`dev`), a path into one (`prod.loadBalancer`), `each environment`, or a file (`environments/environments.ts`, `lib/cache/cache.ts`). */
  readonly into: string;
  /** The snippet, as the page shows it. */
  readonly code: string;
  /** A file the snippet is, whole (`new`): it must not exist yet. */
  readonly create?: boolean;
  /** Where in a file other than the environments' the snippet's lines go: after the line holding this text (its `import` lines after the file's last import). */
  readonly after?: string;
}

export interface Recipe extends RecipePart {
  readonly id: string;
  /** Proven in a fork of its own, not with the others. */
  readonly alone: boolean;
  /** The page's text between the previous recipe (or the section's start) and this marker: what it says the recipe costs. */
  readonly text: string;
  /** Every snippet of the recipe, in the page's order: markers with the same id, one after another, are one recipe (the first is the recipe's own `into` and `code`). */
  readonly parts: readonly RecipePart[];
  /** Commands the fork proof runs after the page's steps, for this recipe (`then="npm run lifecycle -- dev"`). */
  readonly then: readonly string[];
}

export const ENVIRONMENTS_FILE = "environments/environments.ts";
/** The page that holds the recipes, relative to the repository root. */
export const RECIPES_DOC = "docs/forking.md";
const MARKER = /<!--\s*fork-recipe\s+([^>]*?)\s*-->\s*\n```ts\n([\s\S]*?)\n```/g;
/** From the heading to the next `## ` heading, or to the end of the page. */
const SECTION = /^## The recipes, proven\n([\s\S]*?)(?=^## |(?![\s\S]))/m;

/** The recipes of docs/forking.md's "The recipes, proven" section, in order. */
export function readRecipes(doc: string): Recipe[] {
  const section = SECTION.exec(doc)?.[1];
  if (section === undefined) throw new Error(`${RECIPES_DOC} has no "## The recipes, proven" section`);
  const recipes: Recipe[] = [];
  let last = 0;
  for (const match of section.matchAll(MARKER)) {
    const attributes = match[1];
    const attribute = (name: string) => new RegExp(`\\b${name}="([^"]*)"`).exec(attributes)?.[1];
    const id = attribute("id");
    const into = attribute("into");
    if (!id || !into) throw new Error(`${RECIPES_DOC}: a fork-recipe marker needs id="…" and into="…": <!-- fork-recipe ${attributes} -->`);
    const word = (name: string) => new RegExp(`(^|\\s)${name}(\\s|$)`).test(attributes);
    const after = attribute("after");
    const then = attribute("then");
    if (then !== undefined && !PLAIN_COMMAND.test(then))
      throw new Error(`${RECIPES_DOC}: fork recipe "${id}": then="${then}" is not a plain npm or npx command, which the fork proof runs`);
    const part: RecipePart = { into, code: match[2], ...(word("new") ? { create: true } : {}), ...(after ? { after } : {}) };
    const previous = recipes.at(-1);
    // A marker with the id of the one before it is another part of that recipe.
    if (previous?.id === id) recipes[recipes.length - 1] = { ...previous, parts: [...previous.parts, part], then: [...previous.then, ...(then ? [then] : [])] };
    else recipes.push({ id, ...part, alone: word("alone"), text: section.slice(last, match.index), parts: [part], then: then ? [then] : [] });
    last = match.index! + match[0].length;
  }
  if (!recipes.length) throw new Error(`${RECIPES_DOC}: the "The recipes, proven" section has no <!-- fork-recipe … --> snippets`);
  const ids = recipes.map((r) => r.id);
  const twice = ids.find((id, i) => ids.indexOf(id) !== i);
  if (twice) throw new Error(`${RECIPES_DOC}: two fork recipes are called "${twice}"`);
  return recipes;
}

/** `<!-- fork-steps … -->`, then a numbered list: each item starts with its command in backticks. */
const STEPS = /<!--\s*fork-steps\b[^>]*-->\s*\n((?:\d+\. .*\n(?:[ \t]+\S.*\n)*)+)/;
/** What the fork proof runs each command with: no shell, so no operators, quotes, variables or globs. */
const PLAIN_COMMAND = /^(npm|npx) [\w:@./=-]+( [\w:@./=-]+)*$/;

/**
 * The commands docs/forking.md says to run after a recipe, in order: its numbered list after the
 * `<!-- fork-steps -->` marker, each item's first code span. Each is a plain `npm …` or `npx …`
 * command (the fork proof splits it at spaces and runs it without a shell).
 */
export function readForkSteps(doc: string): string[] {
  const list = STEPS.exec(doc)?.[1];
  if (list === undefined) throw new Error(`${RECIPES_DOC} has no numbered list after a <!-- fork-steps --> marker: the steps a fork runs after a recipe`);
  const items = list.split(/^(?=\d+\. )/m);
  return items.map((item) => {
    const command = /^\d+\. `([^`]+)`/.exec(item)?.[1];
    if (command === undefined || !PLAIN_COMMAND.test(command))
      throw new Error(
        `${RECIPES_DOC}: each fork step starts with a plain npm or npx command in backticks, which the fork proof runs: ${item.trim().split("\n")[0]}`,
      );
    return command;
  });
}

interface Edit {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

function applyEdits(source: string, edits: readonly Edit[]): string {
  return [...edits].sort((a, b) => b.start - a.start).reduce((text, e) => text.slice(0, e.start) + e.text + text.slice(e.end), source);
}

const parse = (text: string) => ts.createSourceFile("environments.ts", text, ts.ScriptTarget.Latest, true);
const nameOf = (p: ts.ObjectLiteralElementLike, file: ts.SourceFile) => p.name?.getText(file).replace(/^["']|["']$/g, "");

/** `export const dev: EnvironmentSettings = { ... }`: each environment's object, by its `name` (or the variable's). */
export function environmentObjects(file: ts.SourceFile): Map<string, ts.ObjectLiteralExpression> {
  const found = new Map<string, ts.ObjectLiteralExpression>();
  for (const statement of file.statements) {
    if (!ts.isVariableStatement(statement)) continue;
    for (const declaration of statement.declarationList.declarations) {
      if (!declaration.initializer || !ts.isObjectLiteralExpression(declaration.initializer)) continue;
      if (declaration.type?.getText(file) !== "EnvironmentSettings") continue;
      const nameProperty = declaration.initializer.properties.find((p) => nameOf(p, file) === "name");
      const literal =
        nameProperty && ts.isPropertyAssignment(nameProperty) && ts.isStringLiteral(nameProperty.initializer) ? nameProperty.initializer.text : undefined;
      found.set(literal ?? declaration.name.getText(file), declaration.initializer);
    }
  }
  return found;
}

/** The indentation of the line `position` is on. */
function indentAt(text: string, position: number): string {
  const lineStart = text.lastIndexOf("\n", position - 1) + 1;
  return /^[ \t]*/.exec(text.slice(lineStart))![0];
}

const reindent = (code: string, indent: string) =>
  code
    .split("\n")
    .map((line, i) => (i === 0 || line === "" ? line : indent + line))
    .join("\n");

/** Edits that put each property of `snippet` into `target`, replacing its namesake or after the last property. */
function propertyEdits(source: string, file: ts.SourceFile, target: ts.ObjectLiteralExpression, snippet: string, where: string): Edit[] {
  const wrapper = parse(`const snippet = {\n${snippet}\n};`);
  const statement = wrapper.statements[0];
  const literal = ts.isVariableStatement(statement) ? statement.declarationList.declarations[0].initializer : undefined;
  if (!literal || !ts.isObjectLiteralExpression(literal) || hasErrors(wrapper))
    throw new Error(`the snippet for ${where} is not a list of settings (\`key: value,\` lines)`);
  const edits: Edit[] = [];
  const added: string[] = [];
  const last = target.properties.at(-1);
  const indent = last ? indentAt(source, last.getStart(file)) : `${indentAt(source, target.getStart(file))}  `;
  for (const property of literal.properties) {
    const text = reindent(property.getText(wrapper), indent);
    const existing = target.properties.find((p) => nameOf(p, file) === nameOf(property, wrapper));
    if (existing) edits.push({ start: existing.getStart(file), end: existing.getEnd(), text });
    else added.push(text);
  }
  if (added.length) {
    if (last) {
      const comma = source.slice(last.getEnd()).match(/^\s*,/) ? "" : ",";
      // After the last property (and its comma): one new line per property.
      const after = last.getEnd() + (comma ? 0 : source.slice(last.getEnd()).indexOf(",") + 1);
      edits.push({ start: after, end: after, text: `${comma}${added.map((t) => `\n${indent}${t},`).join("")}` });
    } else {
      const open = target.getStart(file) + 1;
      edits.push({
        start: open,
        end: target.getEnd() - 1,
        text: `${added.map((t) => `\n${indent}${t},`).join("")}\n${indentAt(source, target.getStart(file))}`,
      });
    }
  }
  return edits;
}

function hasErrors(file: ts.SourceFile): boolean {
  return ((file as unknown as { parseDiagnostics?: unknown[] }).parseDiagnostics ?? []).length > 0;
}

/** `environments/environments.ts` with the recipe applied, as a reader pasting the snippet would leave it. */
export function applyRecipe(source: string, recipe: Recipe): string {
  const file = parse(source);
  const where = `fork recipe "${recipe.id}" (into="${recipe.into}")`;
  if (recipe.into === ENVIRONMENTS_FILE) return applyEdits(source, declarationEdits(source, file, recipe.code, where));
  const environments = environmentObjects(file);
  if (recipe.into === "each environment") {
    if (!environments.size) throw new Error(`${where}: ${ENVIRONMENTS_FILE} declares no \`EnvironmentSettings\` object`);
    return applyEdits(
      source,
      [...environments.values()].flatMap((target) => propertyEdits(source, file, target, recipe.code, where)),
    );
  }
  const [environment, ...path] = recipe.into.split(".");
  let target = environments.get(environment);
  if (!target) throw new Error(`${where}: no environment "${environment}" in ${ENVIRONMENTS_FILE}; there are ${[...environments.keys()].join(", ")}`);
  for (const key of path) {
    const property: ts.ObjectLiteralElementLike | undefined = target.properties.find((p) => nameOf(p, file) === key);
    if (!property) return applyEdits(source, propertyEdits(source, file, target, `${key}: {\n${recipe.code.replace(/^/gm, "  ")}\n},`, where));
    if (!ts.isPropertyAssignment(property) || !ts.isObjectLiteralExpression(property.initializer))
      throw new Error(`${where}: ${environment}'s ${key} is not written as an object literal`);
    target = property.initializer;
  }
  return applyEdits(source, propertyEdits(source, file, target, recipe.code, where));
}

/** Each top-level declaration of the snippet replaces its namesake in the file; new ones go before the first replaced (or at the end). */
function declarationEdits(source: string, file: ts.SourceFile, snippet: string, where: string): Edit[] {
  const added = parse(snippet);
  if (hasErrors(added)) throw new Error(`${where}: the snippet is not TypeScript`);
  const declared = (statement: ts.Statement, f: ts.SourceFile) =>
    ts.isVariableStatement(statement) ? statement.declarationList.declarations.map((d) => d.name.getText(f)) : [];
  const edits: Edit[] = [];
  const fresh: string[] = [];
  let firstReplaced: number | undefined;
  for (const statement of added.statements) {
    const text = snippet.slice(statement.getStart(added, true), statement.getEnd());
    if (ts.isImportDeclaration(statement)) {
      edits.push(...importEdits(source, file, text));
      continue;
    }
    const names = declared(statement, added);
    const existing = file.statements.find((s) => declared(s, file).some((n) => names.includes(n)));
    if (existing) {
      const start = existing.getStart(file, true);
      firstReplaced = Math.min(firstReplaced ?? start, start);
      edits.push({ start, end: existing.getEnd(), text });
    } else fresh.push(text);
  }
  if (fresh.length) {
    const at = firstReplaced ?? source.length;
    edits.push({ start: at, end: at, text: firstReplaced === undefined ? `\n${fresh.join("\n\n")}\n` : `${fresh.join("\n\n")}\n\n` });
  }
  return edits;
}

/**
 * What the recipe's text says it costs a month, by environment: "Costs: dev +$8.76 a month" (several
 * as "dev +$8.76, staging +$49.98"), or "Costs nothing". Undefined when it says neither.
 */
export function statedCosts(recipe: Recipe): Record<string, number> | undefined {
  const text = recipe.text.replace(/\s+/g, " ");
  if (/\bCosts nothing\b/.test(text)) return {};
  const claim = /\bCosts: (.*?) a month\b/.exec(text)?.[1];
  if (claim === undefined) return undefined;
  return Object.fromEntries(
    [...claim.matchAll(/`?([a-z][a-z0-9-]*)`? ([+-])\$([\d,]+\.\d\d)/g)].map(([, env, sign, usd]) => [env, Number(`${sign}${usd.replace(/,/g, "")}`)]),
  );
}

/** An import the file lacks, after its last import (or at its start). */
function importEdits(source: string, file: ts.SourceFile, text: string): Edit[] {
  if (source.includes(text.trim())) return [];
  const imports = file.statements.filter(ts.isImportDeclaration);
  const at = imports.length ? imports.at(-1)!.getEnd() : 0;
  return [{ start: at, end: at, text: imports.length ? `\n${text.trim()}` : `${text.trim()}\n` }];
}

/** The file a part changes: the environments' for an environment or the file itself, else its own. */
export function partFile(part: RecipePart): string {
  return part.create || part.after || (part.into.includes("/") && part.into !== ENVIRONMENTS_FILE) ? part.into : ENVIRONMENTS_FILE;
}

/**
 * The recipe applied to a fork's files, part by part, as a reader would: a `new` part written as the file it is,
 * an `after` part's lines put after the line that holds its text (its imports after the file's last import,
 * each line indented as that line), every other part into the environments' file (`applyRecipe`).
 */
export function applyParts(recipe: Recipe, read: (path: string) => string | undefined, write: (path: string, text: string) => void): void {
  for (const part of recipe.parts) {
    const path = partFile(part);
    const where = `fork recipe "${recipe.id}" (into="${part.into}")`;
    const source = read(path);
    if (part.create) {
      // Applied already (a fork's own tests read the page too): the same file stands.
      if (source !== undefined && source.trimEnd() !== part.code.trimEnd()) throw new Error(`${where}: ${path} exists already; a new file's recipe makes it`);
      write(path, `${part.code.trimEnd()}\n`);
    } else if (source === undefined) throw new Error(`${where}: there is no ${path}`);
    else if (part.after) write(path, insertAfter(source, part.after, part.code, where));
    else write(path, applyRecipe(source, { ...recipe, ...part }));
  }
}

/** `code`'s import lines after the file's last import, the rest after the line holding `marker`, indented as it. */
export function insertAfter(source: string, marker: string, code: string, where = "fork recipe"): string {
  const rest = code.split("\n").filter((line) => !line.startsWith("import ") && line.trim() !== "");
  // Each import as an import into the environments' file goes: after the last, unless the file has it.
  const withImports = code
    .split("\n")
    .filter((line) => line.startsWith("import "))
    .reduce((text, line) => applyEdits(text, importEdits(text, parse(text), line)), source);
  const lines = withImports.split("\n");
  const at = lines.findIndex((line) => line.includes(marker));
  if (at < 0) throw new Error(`${where}: no line holds "${marker}"`);
  const indent = /^[ \t]*/.exec(lines[at])![0];
  const added = rest.map((line) => indent + line);
  // Applied already: the lines follow the marker.
  if (added.every((line, i) => lines[at + 1 + i] === line)) return withImports;
  lines.splice(at + 1, 0, ...added);
  return lines.join("\n");
}

/**
 * The lean fork of docs/forking.md ("## A lean fork"): the optional proofs dropped with their dependencies.
 * Its commands are a ```sh block after `<!-- fork-lean -->`, one per line, each of three plain forms the fork
 * proof runs as written (no shell): `git rm -r -q <path>…`, `npm pkg delete scripts.<name>…` and
 * `npm uninstall <package>…`. What to run after it is the numbered list after `<!-- fork-lean-steps -->`.
 */
export interface LeanRecipe {
  /** The commands, as the page shows them, in order. */
  readonly commands: readonly string[];
  /** The files and folders its `git rm` removes. */
  readonly removes: readonly string[];
  /** The npm scripts its `npm pkg delete` removes from package.json. */
  readonly scripts: readonly string[];
  /** The packages its `npm uninstall` removes. */
  readonly packages: readonly string[];
  /** What the page says to run after it, in order. */
  readonly steps: readonly string[];
  /** The section's text, what it says the lean fork keeps, loses and weighs. */
  readonly text: string;
}

const LEAN_SECTION = /^## A lean fork\b[^\n]*\n([\s\S]*?)(?=^## |(?![\s\S]))/m;
const LEAN_COMMANDS = /<!--\s*fork-lean\s*(?::[^>]*)?-->\s*\n```sh\n([\s\S]*?)\n```/;
const LEAN_STEPS = /<!--\s*fork-lean-steps\b[^>]*-->\s*\n((?:\d+\. .*\n(?:[ \t]+\S.*\n)*)+)/;
const LEAN_FORMS: readonly [RegExp, keyof Pick<LeanRecipe, "removes" | "scripts" | "packages">][] = [
  [/^git rm -r -q ((?:[\w.@/-]+ ?)+)$/, "removes"],
  [/^npm pkg delete ((?:scripts\.[\w:-]+ ?)+)$/, "scripts"],
  [/^npm uninstall ((?:@?[\w.-]+(?:\/[\w.-]+)? ?)+)$/, "packages"],
];

/** The lean fork's recipe, read from docs/forking.md. */
export function readLeanRecipe(doc: string): LeanRecipe {
  const text = LEAN_SECTION.exec(doc)?.[1];
  if (text === undefined) throw new Error(`${RECIPES_DOC} has no "## A lean fork" section`);
  const block = LEAN_COMMANDS.exec(text)?.[1];
  if (block === undefined) throw new Error(`${RECIPES_DOC}: the lean fork has no \`\`\`sh block after a <!-- fork-lean --> marker`);
  const lists = { removes: [] as string[], scripts: [] as string[], packages: [] as string[] };
  const commands = block.split("\n").filter((line) => line.trim() !== "");
  for (const command of commands) {
    const form = LEAN_FORMS.find(([pattern]) => pattern.test(command));
    if (!form)
      throw new Error(
        `${RECIPES_DOC}: each lean fork command is \`git rm -r -q <paths>\`, \`npm pkg delete scripts.<name>…\` or \`npm uninstall <packages>\`, which the fork proof runs as written: ${command}`,
      );
    const names = form[0].exec(command)![1].trim().split(" ");
    lists[form[1]].push(...names.map((name) => (form[1] === "scripts" ? name.slice("scripts.".length) : name.replace(/\/$/, ""))));
  }
  const list = LEAN_STEPS.exec(text)?.[1];
  if (list === undefined) throw new Error(`${RECIPES_DOC}: the lean fork has no numbered list after a <!-- fork-lean-steps --> marker`);
  const steps = list.split(/^(?=\d+\. )/m).map((item) => {
    const command = /^\d+\. `([^`]+)`/.exec(item)?.[1];
    if (command === undefined || !PLAIN_COMMAND.test(command))
      throw new Error(`${RECIPES_DOC}: each lean fork step starts with a plain npm or npx command in backticks: ${item.trim().split("\n")[0]}`);
    return command;
  });
  return { commands, ...lists, steps, text };
}

/**
 * True in a fork that has applied the lean recipe: none of what it removes is left. The docs of a lean fork
 * still describe the proofs it dropped (the page says so), so the docs' checks let their names be absent
 * there, and only there: in this starter, every path the recipe removes exists (__tests__/docs/lean-fork.test.ts).
 */
export function leanApplied(root: string, lean: LeanRecipe): boolean {
  return lean.removes.every((path) => !existsSync(join(root, path)));
}

/** Whether `path` (a file or folder of the project) is one the lean recipe removes, or inside one. */
export function removedByLean(path: string, lean: LeanRecipe): boolean {
  const clean = path.replace(/\/$/, "");
  return lean.removes.some((removed) => clean === removed || clean.startsWith(`${removed}/`));
}
