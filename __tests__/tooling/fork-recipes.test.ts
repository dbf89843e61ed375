/**
 * The recipes of docs/forking.md, as the fork proof (scripts/fork-proof.ts, in CI) reads and applies
 * them: where each goes, what it says it costs, and that pasting one leaves `environments/environments.ts` as
 * a reader would; and the steps the page says to run after one, which the fork proof reads and runs.
 * The whole suite over the applied recipes is the fork proof's job; this holds the parts.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ts from "typescript";
import { commitCopy, costChange, describeCosts, forksOf, forkStepArgs } from "../../scripts/fork-proof";
import {
  applyParts,
  applyRecipe,
  insertAfter,
  partFile,
  environmentObjects,
  ENVIRONMENTS_FILE,
  readForkSteps,
  readRecipes,
  RECIPES_DOC,
  statedCosts,
  type Recipe,
} from "../../scripts/fork-recipes";
import { commandLine } from "../../scripts/npm-scripts.cjs";

const root = join(__dirname, "../..");
const doc = readFileSync(join(root, RECIPES_DOC), "utf8");
const shipped = readFileSync(join(root, ENVIRONMENTS_FILE), "utf8");
const recipe = (into: string, code: string, extra: Partial<Recipe> = {}): Recipe => ({
  id: "test",
  into,
  alone: false,
  code,
  text: "",
  parts: [{ into, code }],
  then: [],
  ...extra,
});
const environmentsOf = (source: string) => environmentObjects(ts.createSourceFile("e.ts", source, ts.ScriptTarget.Latest, true));

describe("the recipes of docs/forking.md", () => {
  const recipes = readRecipes(doc);

  test("cover what a fork does first: rename, another region, another environment, a worker and a second API, EC2 mode, HTTPS with a certificate, no database", () => {
    expect(recipes.map((r) => r.id)).toEqual(["rename", "region", "staging", "services", "ec2", "certificate", "no-database", "cache"]);
  });

  test("each part goes where its marker says: an environment the shipped file has (or the file itself), a new file, or after a line a file has", () => {
    const names = [...environmentsOf(shipped).keys()];
    for (const r of recipes)
      for (const part of r.parts) {
        const file = partFile(part);
        const target = part.into.split(".")[0];
        const fits = part.create
          ? !existsSync(join(root, file)) || readFileSync(join(root, file), "utf8").trimEnd() === part.code.trimEnd()
          : part.after
            ? readFileSync(join(root, file), "utf8").includes(part.after)
            : part.into === "each environment" || part.into === ENVIRONMENTS_FILE || names.includes(target);
        expect([r.id, part.into, fits]).toEqual([r.id, part.into, true]);
      }
  });

  test("a resource of your own (the Valkey cache) takes three files of infrastructure, and is deployed on the emulator", () => {
    const cache = recipes.find((r) => r.id === "cache")!;
    expect([...new Set(cache.parts.map(partFile))].sort()).toEqual(["environments/environments.ts", "lib/cache/cache.ts", "stacks/api-stack.ts"]);
    expect(cache.then).toEqual(["npm run lifecycle -- dev"]);
  });

  test("its parts, applied to copies of the shipped files, leave TypeScript: a new file, an import after the last, a line after the marker", () => {
    const files = new Map<string, string>();
    const read = (path: string) => files.get(path) ?? (existsSync(join(root, path)) ? readFileSync(join(root, path), "utf8") : undefined);
    applyParts(
      recipes.find((r) => r.id === "cache")!,
      read,
      (path, text) => files.set(path, text),
    );
    expect([...files.keys()].sort()).toEqual(["environments/environments.ts", "lib/cache/cache.ts", "stacks/api-stack.ts"]);
    for (const [path, text] of files) {
      const file = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
      expect([path, (file as unknown as { parseDiagnostics: unknown[] }).parseDiagnostics]).toEqual([path, []]);
    }
    const stack = files.get("stacks/api-stack.ts")!.split("\n");
    const marker = stack.findIndex((line) => line.includes("A fork's own resources go here"));
    expect(stack[marker + 1]).toBe('    this.use("cache", Cache.fromSettings(this, config.sections, this.network));');
    const imports = stack.filter((line) => line.startsWith("import "));
    expect(imports.at(-1)).toBe('import { Cache } from "../lib/cache/cache";');
    // Applied twice, nothing changes (a fork's tests read the page too); over another file of that name, refused.
    const again = new Map(files);
    applyParts(
      recipes.find((r) => r.id === "cache")!,
      (path) => again.get(path) ?? read(path),
      (path, text) => again.set(path, text),
    );
    expect(again).toEqual(files);
    expect(() =>
      applyParts(
        recipes.find((r) => r.id === "cache")!,
        (path) => (path === "lib/cache/cache.ts" ? "// another file\n" : read(path)),
        () => undefined,
      ),
    ).toThrow(/lib\/cache\/cache\.ts exists already/);
    expect(() => insertAfter("a\nb", "no such line", "c")).toThrow(/no line holds "no such line"/);
  });

  test("each says what it costs a month, which the fork proof checks against npm run cost", () => {
    for (const r of recipes) expect([r.id, statedCosts(r)]).toEqual([r.id, expect.any(Object)]);
  });

  test("all but the ones marked alone are proven in one fork; those each in their own", () => {
    const ids = (forks: Recipe[][]) => forks.map((fork) => fork.map((r) => r.id));
    // the page's recipes, each proven once, in the page's order
    expect(ids(forksOf(recipes)).flat().sort()).toEqual(recipes.map((r) => r.id).sort());
    expect(ids(forksOf(recipes))[0]).toEqual(recipes.filter((r) => !r.alone).map((r) => r.id));
    // and the rule, on recipes made for it
    const made = [recipe("dev", "a: 1", { id: "a" }), recipe("dev", "b: 1", { id: "b", alone: true }), recipe("prod", "c: 1", { id: "c" })];
    expect(ids(forksOf(made))).toEqual([["a", "c"], ["b"]]);
  });

  test("applied in order, they leave TypeScript that still declares every environment, the new one too", () => {
    let source = shipped;
    const others = new Map<string, string>();
    const read = (path: string) =>
      path === ENVIRONMENTS_FILE ? source : (others.get(path) ?? (existsSync(join(root, path)) ? readFileSync(join(root, path), "utf8") : undefined));
    for (const r of forksOf(recipes)[0]) applyParts(r, read, (path, text) => (path === ENVIRONMENTS_FILE ? (source = text) : others.set(path, text)));
    const file = ts.createSourceFile("e.ts", source, ts.ScriptTarget.Latest, true);
    expect((file as unknown as { parseDiagnostics: unknown[] }).parseDiagnostics).toEqual([]);
    expect([...environmentObjects(file).keys()]).toEqual(["dev", "prod", "staging"]);
    expect(source).toMatch(/export const environments: readonly EnvironmentSettings\[] = \[dev, staging, prod\];/);
  });
});

describe("what a fork runs after a recipe (docs/forking.md's list, which the fork proof reads and runs in order)", () => {
  const steps = readForkSteps(doc);
  const scripts: Record<string, string> = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).scripts;
  /** The README's quick-start line that runs the tests, without its comment. */
  const readmeTestCommand = readFileSync(join(root, "README.md"), "utf8")
    .split("\n")
    .map((line) => line.replace(/\s+#.*$/, "").trim())
    .find((line) => /^npm (run )?test\b/.test(line));

  test("the generated tables, synth, the snapshots updated, the README's whole test command, the cost within each budget", () => {
    expect(steps).toEqual(["npm run docs", "npm run synth", "npx jest --selectProjects stacks -u", "npm test", "npm run cost"]);
  });

  test("the README's test command is one of them, unchanged, after the snapshots are updated", () => {
    expect(readmeTestCommand).toBe("npm test");
    expect(steps.filter((step) => step === readmeTestCommand)).toHaveLength(1);
    expect(steps.indexOf(readmeTestCommand!)).toBeGreaterThan(steps.indexOf("npx jest --selectProjects stacks -u"));
  });

  test("only the snapshot step updates snapshots, and its project holds every snapshot of the repository", () => {
    expect(steps.filter((step) => /(^| )(-u|--updateSnapshot|--ci=false)( |$)/.test(step))).toEqual(["npx jest --selectProjects stacks -u"]);
    const snapshotFolders = (dir: string): string[] =>
      readdirSync(join(root, dir), { withFileTypes: true })
        .filter((entry) => entry.isDirectory())
        .flatMap((entry) => (entry.name === "__snapshots__" ? [dir] : snapshotFolders(join(dir, entry.name))));
    const folders = [...snapshotFolders("__tests__"), ...snapshotFolders(join("app", "__tests__"))];
    expect(folders.length).toBeGreaterThan(0);
    // The stacks project's test files are __tests__/environments/ and __tests__/stacks/ (jest.config.js).
    expect(folders.filter((folder) => !/^__tests__\/(environments|stacks)(\/|$)/.test(folder))).toEqual([]);
  });

  test("each is an npm script of package.json, or jest", () => {
    for (const step of steps) {
      const { command, args } = forkStepArgs(step);
      if (command === "npx") expect(args[0]).toBe("jest");
      else expect([step, args[0] === "test" || (args[0] === "run" && scripts[args[1]] !== undefined)]).toEqual([step, true]);
    }
  });

  test("the fork proof runs each as written: split at its spaces, without a shell", () => {
    expect(forkStepArgs("npx jest --selectProjects stacks -u")).toEqual({ command: "npx", args: ["jest", "--selectProjects", "stacks", "-u"] });
    expect(forkStepArgs("npm test")).toEqual({ command: "npm", args: ["test"] });
  });

  test("a fork is a git checkout of its own, as a forker's clone is: its files committed, the linked node_modules left out", () => {
    const dir = mkdtempSync(join(tmpdir(), "fork-commit-"));
    try {
      writeFileSync(join(dir, "a.ts"), "export {};\n");
      commitCopy(dir);
      symlinkSync(root, join(dir, "node_modules"), "dir");
      const git = (...args: string[]) => spawnSync("git", args, { cwd: dir, encoding: "utf8" }).stdout.trim();
      expect(git("ls-files")).toBe("a.ts");
      expect(git("status", "--porcelain")).toBe("");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("read as the numbered list after the marker, each item's leading command; one the proof cannot run is refused", () => {
    expect(readForkSteps("<!-- fork-steps: these -->\n1. `npm run docs`: the tables,\n   continued\n2. `npm test`: all\n\n3. `npm run other`\n")).toEqual([
      "npm run docs",
      "npm test",
    ]);
    expect(() => readForkSteps("No list.")).toThrow(/no numbered list after a <!-- fork-steps --> marker/);
    expect(() => readForkSteps("<!-- fork-steps -->\n1. `npm test && npm run cost`: both\n")).toThrow(/a plain npm or npx command in backticks/);
    expect(() => readForkSteps("<!-- fork-steps -->\n1. Run the tests\n")).toThrow(/1\. Run the tests/);
  });
});

describe("applying a recipe", () => {
  const source = `export const dev: EnvironmentSettings = {
  name: "dev",
  // the region
  region: "us-east-1",
  network: { cidr: "10.10.0.0/16", natMode: "none" },
};

export const prod: EnvironmentSettings = {
  name: "prod",
  loadBalancer: {
    deletionProtection: true,
    https: { domainName: "api.example.com", hostedZoneId: "Z0EXAMPLE0REPLACEME0" },
  },
};

export const environments: readonly EnvironmentSettings[] = [dev, prod];
`;

  test("a property replaces its namesake, whole, and keeps the comment above it", () => {
    const out = applyRecipe(source, recipe("dev", 'region: "eu-west-1",\nnetwork: { cidr: "10.10.0.0/16" },'));
    expect(out).toContain('  // the region\n  region: "eu-west-1",\n  network: { cidr: "10.10.0.0/16" },\n};');
    expect(out).not.toContain("natMode");
  });

  test("a new property is added after the last one, indented as the others, over several lines as written", () => {
    const out = applyRecipe(source, recipe("dev", "services: {\n  worker: {},\n},"));
    expect(out).toContain('  network: { cidr: "10.10.0.0/16", natMode: "none" },\n  services: {\n    worker: {},\n  },\n};');
  });

  test("into a section of an environment: its other settings stay", () => {
    const out = applyRecipe(source, recipe("prod.loadBalancer", 'https: { certificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/x" },'));
    expect(out).toContain('    deletionProtection: true,\n    https: { certificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/x" },\n  },');
  });

  test("into each environment: every EnvironmentSettings object of the file", () => {
    const out = applyRecipe(source, recipe("each environment", 'project: "orders",'));
    expect(out.match(/project: "orders",/g)).toHaveLength(2);
  });

  test("declarations into the file: a new one goes before the one it replaces, which it replaces", () => {
    const out = applyRecipe(
      source,
      recipe(
        ENVIRONMENTS_FILE,
        'export const staging: EnvironmentSettings = { ...dev, name: "staging" };\n\nexport const environments: readonly EnvironmentSettings[] = [dev, staging, prod];',
      ),
    );
    expect(out).toMatch(
      /export const staging: EnvironmentSettings = \{ \.\.\.dev, name: "staging" \};\n\nexport const environments: readonly EnvironmentSettings\[] = \[dev, staging, prod\];\n$/,
    );
    expect(out.match(/export const environments/g)).toHaveLength(1);
  });

  test("an environment the file does not have is refused, naming the recipe and the ones it has", () => {
    expect(() => applyRecipe(source, recipe("staging", "region: 1,"))).toThrow(
      /fork recipe "test" \(into="staging"\): no environment "staging" .* there are dev, prod/,
    );
  });
});

describe("what a recipe costs", () => {
  test("the change is each environment added or changed by a cent or more, said as docs/forking.md says it", () => {
    const change = costChange({ dev: 49.98, prod: 323.85 }, { dev: 66.9, prod: 323.85, staging: 49.98 });
    expect(change).toEqual({ dev: 16.92, staging: 49.98 });
    expect(describeCosts(change)).toBe("Costs: dev +$16.92, staging +$49.98 a month");
    expect(describeCosts({})).toBe("Costs nothing");
    expect(describeCosts({ dev: -13.28 })).toBe("Costs: dev -$13.28 a month");
  });

  test("read from the page's text before the snippet", () => {
    expect(statedCosts(recipe("dev", "", { text: "Costs: dev +$16.92, `staging` +$49.98 a month." }))).toEqual({ dev: 16.92, staging: 49.98 });
    expect(statedCosts(recipe("dev", "", { text: "So it says: Costs nothing." }))).toEqual({});
    expect(statedCosts(recipe("dev", "", { text: "No figure." }))).toBeUndefined();
  });
});

test("CI runs the fork proof (.ci/run's integration proofs), so the recipes of docs/forking.md stay proven", () => {
  const scripts = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).scripts;
  expect(readFileSync(join(root, ".ci", "run"), "utf8")).toMatch(/^npm run test:integration$/m);
  // The chain lives in scripts/npm-scripts.cjs, which package.json's test:integration runs.
  expect(scripts["test:integration"]).toBe("node scripts/npm-scripts.cjs test:integration");
  expect(commandLine("test:integration")).toMatch(/(^|&& )npm run fork-proof( &&|$)/);
});
