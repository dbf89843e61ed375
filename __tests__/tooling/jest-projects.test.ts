/**
 * Every folder of test files runs in exactly one jest project. jest.config.js picks each project's tests
 * by folder glob, the unit project every folder of __tests__/ that mirrors a folder of lib/, so a new area
 * (lib/cache/, __tests__/cache/) is tested with no edit there; a folder of any other name runs in no
 * project until one names it, and a folder two projects pick runs twice. Both fail here, naming the
 * folder. Folders that hold no test files (__tests__/support/, __snapshots__/) are not checked.
 */
import { readdirSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { globsToMatcher } from "jest-util";

const root = join(__dirname, "../..");
/** Where test files live: the stack's tests and the app's (its own project). */
const TEST_ROOTS = ["__tests__", "app/__tests__"];
const TEST_FILE = /\.test\.ts$/;

interface Project {
  readonly name: string;
  /** Whether the project runs this file (a path relative to the repository root, with `/`). */
  readonly runs: (file: string) => boolean;
}

/** A project as jest matches its files: its testMatch globs, <rootDir> resolved, against the absolute path. */
function project(name: string, testMatch: readonly string[]): Project {
  const matches = globsToMatcher(testMatch.map((glob) => glob.replace("<rootDir>", root)));
  return { name, runs: (file) => matches(join(root, file)) };
}

/** The projects of jest.config.js. */
function jestProjects(): Project[] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const config = require(join(root, "jest.config.js")) as { projects: { displayName: string; testMatch: string[] }[] };
  return config.projects.map(({ displayName, testMatch }) => project(displayName, testMatch));
}

/** Each folder under `dirs` that holds test files directly, with their names: folder (relative, `/`) → files. */
function testFolders(dirs: readonly string[]): Map<string, string[]> {
  const folders = new Map<string, string[]>();
  const walk = (dir: string) => {
    const entries = readdirSync(join(root, dir), { withFileTypes: true });
    const tests = entries.filter((e) => e.isFile() && TEST_FILE.test(e.name)).map((e) => e.name);
    if (tests.length) folders.set(dir, tests.sort());
    for (const e of entries)
      if (e.isDirectory() && e.name !== "node_modules")
        walk(
          relative(root, join(root, dir, e.name))
            .split(sep)
            .join("/"),
        );
  };
  for (const dir of dirs) walk(dir);
  return folders;
}

/**
 * What is wrong with the folders' claims: one line per folder whose files run in no project, or in more
 * than one, naming the folder, the projects and the files. Empty when every test file runs in one project.
 */
function misclaimedFolders(folders: ReadonlyMap<string, readonly string[]>, projects: readonly Project[]): string[] {
  const problems: string[] = [];
  for (const [folder, files] of [...folders].sort(([a], [b]) => a.localeCompare(b))) {
    const claims = files.map((file) => ({ file, by: projects.filter((p) => p.runs(`${folder}/${file}`)).map((p) => p.name) }));
    const none = claims.filter(({ by }) => by.length === 0).map(({ file }) => file);
    if (none.length) problems.push(`${folder}/ belongs to no jest project (jest.config.js): ${none.join(", ")} would never run`);
    const twice = new Map<string, string[]>();
    for (const { file, by } of claims.filter(({ by }) => by.length > 1)) twice.set(by.join(" and "), [...(twice.get(by.join(" and ")) ?? []), file]);
    for (const [by, twiceRun] of twice) problems.push(`${folder}/ belongs to more than one jest project, ${by}: ${twiceRun.join(", ")} would run in each`);
  }
  return problems;
}

describe("the jest projects (jest.config.js)", () => {
  const projects = jestProjects();

  test("every folder of test files belongs to exactly one project", () => {
    const folders = testFolders(TEST_ROOTS);
    // The walk sees the tree: the unit areas, the other projects' folders, a nested one, the app's.
    expect(folders.size).toBeGreaterThan(15);
    expect([...folders.keys()]).toEqual(expect.arrayContaining(["__tests__/core", "__tests__/tooling", "__tests__/compute/ec2", "app/__tests__"]));
    expect(misclaimedFolders(folders, projects)).toEqual([]);
  });

  test("the unit project takes every folder that mirrors a folder of lib/, so a new area needs no edit to jest.config.js", () => {
    const unit = projects.find((p) => p.name === "unit")!;
    const areas = readdirSync(join(root, "lib"), { withFileTypes: true }).filter((e) => e.isDirectory());
    expect(areas.length).toBeGreaterThan(5);
    for (const { name } of areas) expect([name, unit.runs(`__tests__/${name}/${name}.test.ts`)]).toEqual([name, true]);
    expect(unit.runs("__tests__/compute/ec2/capacity.test.ts")).toBe(true);
    // A folder that mirrors nothing in lib/ is not the unit project's.
    expect(unit.runs("__tests__/no-such-area/x.test.ts")).toBe(false);
    expect(unit.runs("__tests__/tooling/x.test.ts")).toBe(false);
  });

  test("the check names a folder that belongs to no project and one that belongs to two", () => {
    const folders = new Map([
      ["__tests__/core", ["environment.test.ts"]],
      ["__tests__/cache-proofs", ["cache.test.ts", "eviction.test.ts"]],
      ["__tests__/docs", ["docs.test.ts"]],
      ["__tests__/support", ["stray.test.ts"]],
    ]);
    expect(misclaimedFolders(folders, projects)).toEqual([
      "__tests__/cache-proofs/ belongs to no jest project (jest.config.js): cache.test.ts, eviction.test.ts would never run",
      "__tests__/support/ belongs to no jest project (jest.config.js): stray.test.ts would never run",
    ]);

    // A second project that also globs __tests__/docs/: the folder runs twice.
    const doubled = [...projects, project("docs", ["<rootDir>/__tests__/docs/**/*.test.ts"])];
    expect(misclaimedFolders(folders, doubled)).toEqual([
      "__tests__/cache-proofs/ belongs to no jest project (jest.config.js): cache.test.ts, eviction.test.ts would never run",
      "__tests__/docs/ belongs to more than one jest project, tooling and docs: docs.test.ts would run in each",
      "__tests__/support/ belongs to no jest project (jest.config.js): stray.test.ts would never run",
    ]);
  });
});
