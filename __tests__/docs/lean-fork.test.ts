/**
 * The lean fork of docs/forking.md held to the code, so it cannot drift: every file and folder it removes
 * exists, every npm script and package it removes is declared, and nothing it leaves imports what it
 * removes (a relative import of a removed file, or a removed package outside a workspace that declares it
 * itself), runs it (package.json's scripts, the workflows, .ci/) or names it in its configuration. The
 * fork proof (npm run fork-proof) then applies it to a clean copy and runs the lean fork's tests.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, posix } from "node:path";
import { installedPackages, leanSizeProblems, statedLeanSize } from "../../scripts/fork-proof";
import { leanApplied, readLeanRecipe, removedByLean, RECIPES_DOC } from "../../scripts/fork-recipes";
import { codeFiles } from "../../scripts/forker-path";
import { ROOT as root } from "../support/doc-links";

const read = (path: string) => readFileSync(join(root, path), "utf8");
const lean = readLeanRecipe(read(RECIPES_DOC));
const packageJson = JSON.parse(read("package.json")) as { scripts: Record<string, string>; devDependencies: Record<string, string> };
const appPackageJson = JSON.parse(read("app/package.json")) as { dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
/** In a fork that has applied the recipe, what it removes is gone: only what it leaves is checked there. */
const applied = leanApplied(root, lean);
const inStarter = applied ? test.skip : test;

/** The code the recipe leaves: what git knows, but what it removes. */
const kept = codeFiles(root).filter((file) => !removedByLean(file, lean));
const EXTENSIONS = ["", ".ts", ".cjs", ".js", ".mjs", ".d.cts", ".json", "/index.ts"];
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|\brequire\.resolve\s*\(\s*)["']([^"']+)["']/g;

/** Each import of a file: relative ones as the project path they name, bare ones as their package. */
function importsOf(file: string): { relative: string[]; packages: string[] } {
  const specifiers = [...read(file).matchAll(SPECIFIER)].map((m) => m[1]);
  return {
    relative: specifiers.filter((s) => s.startsWith(".")).map((s) => posix.normalize(posix.join(posix.dirname(file), s))),
    packages: specifiers
      .filter((s) => !s.startsWith(".") && !s.startsWith("node:"))
      .map((s) =>
        s
          .split("/")
          .slice(0, s.startsWith("@") ? 2 : 1)
          .join("/"),
      ),
  };
}

describe(`the lean fork (${RECIPES_DOC}, "A lean fork")`, () => {
  test("is read from the page: git rm, npm pkg delete and npm uninstall commands, then the steps the fork runs", () => {
    expect(lean.commands.length).toBeGreaterThanOrEqual(3);
    expect(lean.removes.length).toBeGreaterThan(5);
    expect(lean.scripts.length).toBeGreaterThan(0);
    expect(lean.packages).toEqual(expect.arrayContaining(["cdktn", "cdktn-cli"]));
    expect(lean.steps).toEqual(expect.arrayContaining(["npm ci", "npm run synth", "npm test"]));
    expect(() => readLeanRecipe("## A lean fork\n\n<!-- fork-lean -->\n```sh\nrm -rf emulator\n```\n")).toThrow(/each lean fork command is/);
  });

  inStarter("removes files and folders that exist, scripts package.json declares and packages it depends on", () => {
    expect(lean.removes.filter((path) => !existsSync(join(root, path)))).toEqual([]);
    expect(lean.scripts.filter((name) => packageJson.scripts[name] === undefined)).toEqual([]);
    expect(lean.packages.filter((name) => packageJson.devDependencies[name] === undefined)).toEqual([]);
  });

  test("leaves nothing that imports a file or folder it removes", () => {
    expect(kept.length).toBeGreaterThan(100);
    const broken = kept.flatMap((file) =>
      importsOf(file)
        .relative.filter((target) => EXTENSIONS.some((ext) => removedByLean(target + ext, lean)))
        .map((target) => `${file} imports ${target}`),
    );
    expect(broken).toEqual([]);
  });

  test("leaves nothing that imports a package it uninstalls, but in the app, whose own package.json declares it", () => {
    const uninstalled = new Set(lean.packages);
    const appDeclares = new Set(Object.keys({ ...appPackageJson.dependencies, ...appPackageJson.devDependencies }));
    const broken = kept.flatMap((file) =>
      importsOf(file)
        .packages.filter((name) => uninstalled.has(name) && !(file.startsWith("app/") && appDeclares.has(name)))
        .map((name) => `${file} imports ${name}`),
    );
    expect(broken).toEqual([]);
  });

  test("uninstalls every AWS SDK client nothing it leaves imports (the emulator's inventory loads them by name, from each resource kind)", () => {
    const imported = new Set(kept.flatMap((file) => importsOf(file).packages));
    const uninstalled = new Set(lean.packages);
    const declared = Object.keys(packageJson.devDependencies).filter((name) => name.startsWith("@aws-sdk/"));
    expect(declared.filter((name) => !imported.has(name) && !uninstalled.has(name))).toEqual([]);
  });

  test("leaves no script, workflow or CI step that runs a script it removes or names a file it removes", () => {
    const removedScripts = new Set(lean.scripts);
    const scripts = Object.entries(packageJson.scripts)
      .filter(([name]) => !removedScripts.has(name))
      .map(([name, command]) => ({ where: `package.json scripts.${name}`, text: command }));
    const ci = [".ci", join(".github", "workflows")].flatMap((dir) =>
      existsSync(join(root, dir)) ? readdirSync(join(root, dir)).map((file) => ({ where: join(dir, file), text: read(join(dir, file)) })) : [],
    );
    const configs = ["jest.config.js", "eslint.config.mjs", "tsconfig.json", ".dependency-cruiser.cjs"].map((file) => ({ where: file, text: read(file) }));
    const problems = [...scripts, ...ci, ...configs].flatMap(({ where, text }) => [
      ...[...text.matchAll(/npm run ([\w:-]+)/g)].filter((m) => removedScripts.has(m[1])).map((m) => `${where} runs npm run ${m[1]}`),
      ...lean.removes.filter((path) => path.includes(".") && text.includes(path)).map((path) => `${where} names ${path}`),
    ]);
    expect(problems).toEqual([]);
  });

  test("states the fork's size, which the fork proof measures and holds it to (3% of the packages, 0.1 GB)", () => {
    const stated = statedLeanSize(lean);
    expect(stated.packages).toBeGreaterThan(500);
    expect(stated.gb).toBeGreaterThan(0.1);
    const measured = { packages: stated.packages!, gb: stated.gb! };
    expect(leanSizeProblems(stated, measured)).toEqual([]);
    expect(leanSizeProblems(stated, { ...measured, packages: Math.round(measured.packages * 1.1) })).toEqual([
      expect.stringMatching(/packages installed; measured/),
    ]);
    expect(leanSizeProblems(stated, { ...measured, gb: measured.gb + 0.3 })).toEqual([expect.stringMatching(/GB of node_modules; measured/)]);
    expect(leanSizeProblems({}, measured)).toEqual([expect.stringMatching(/does not state its size/)]);
  });

  test("the fork proof counts installed packages as package folders, scoped and nested ones included", () => {
    const dir = mkdtempSync(join(tmpdir(), "lean-count-"));
    try {
      for (const folder of ["a", "@scope/b", "a/node_modules/c", ".bin", "not-a-package"]) mkdirSync(join(dir, folder), { recursive: true });
      for (const folder of ["a", "@scope/b", "a/node_modules/c"]) writeFileSync(join(dir, folder, "package.json"), "{}");
      expect(installedPackages(dir)).toBe(3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the check finds an import of a removed file", () => {
    const removed = lean.removes.find((path) => /\.ts$/.test(path))!;
    const importer = posix.join(dirname(removed), "x.ts");
    const target = posix.normalize(posix.join(posix.dirname(importer), `./${posix.basename(removed, ".ts")}`));
    expect(EXTENSIONS.some((ext) => removedByLean(target + ext, lean))).toBe(true);
  });
});
