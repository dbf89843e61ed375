/**
 * What a forker reads first, and how large it is, held to the count: the README's layout and
 * docs/how-it-is-built.md's "What a forker reads first" name the path (main.ts, stacks/, lib/ but its
 * settings kit, environments/environments.ts) with its size, and each folder outside it with its own, and name the
 * script that counts them (npm run forker-path, scripts/forker-path.ts). A figure may be off from the
 * count by 5%, or by 50 lines where that is more: rounded to the hundred, it stays true through a few
 * edits and a fork's first construct, and fails when a folder moves into or out of the path.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { leanApplied, readLeanRecipe, RECIPES_DOC } from "../../scripts/fork-recipes";
import { forkerPath, lineCount, type ForkerPath } from "../../scripts/forker-path";
import { ROOT as root } from "../support/doc-links";

const TOLERANCE = { share: 0.05, lines: 50 };
/** Where each page states the figures: the README's layout, the build page's own section. */
const PLACES = [
  { page: "README.md", heading: "## Layout" },
  { page: "docs/how-it-is-built.md", heading: "## What a forker reads first" },
];

/** A page's section under a `## ` heading, to the next one, its whitespace made single spaces. */
function sectionOf(text: string, page: string, heading: string): string {
  const start = text.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`${page} has no heading "${heading}"`);
  const end = text.indexOf("\n## ", start + 1);
  return text.slice(start, end < 0 ? undefined : end).replace(/\s+/g, " ");
}

const figure = (n: number) => n.toLocaleString("en-US");
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * The folders whose figures a lean fork (docs/forking.md) leaves as the starter's: those its recipe removes
 * files from, once it has. The path's own figure is still held there: the recipe removes nothing of it.
 */
function leanFolders(): string[] {
  const lean = readLeanRecipe(readFileSync(join(root, RECIPES_DOC), "utf8"));
  return leanApplied(root, lean) ? [...new Set(lean.removes.map((path) => `${path.split("/")[0]}/`))] : [];
}

/** What is wrong with one place's figures against the count: one line each, naming the page and the figure; empty when all hold. */
function wrongFigures(where: string, section: string, counted: ForkerPath, unheld: readonly string[] = []): string[] {
  const problems: string[] = [];
  const check = (what: string, stated: string | undefined, lines: number) => {
    if (stated === undefined) problems.push(`${where}: states no size for ${what}; npm run forker-path counts ${figure(lines)} lines`);
    else if (Math.abs(Number(stated.replace(/,/g, "")) - lines) > Math.max(TOLERANCE.share * lines, TOLERANCE.lines))
      problems.push(`${where}: says ${what} is about ${stated} lines; npm run forker-path counts ${figure(lines)}: update the figure`);
  };
  if (!section.includes("`npm run forker-path`")) problems.push(`${where}: does not name the script that counts the figures, \`npm run forker-path\``);
  for (const { path } of counted.path) if (!section.includes(`\`${path}\``)) problems.push(`${where}: does not name \`${path}\` in what a forker reads first`);
  check("what a forker reads first", /reads first\b[\s\S]*?about ([\d,]+) lines/.exec(section)?.[1], counted.lines);
  for (const { path, lines } of counted.outside.filter((part) => !unheld.includes(part.path)))
    check(`\`${path}\``, new RegExp(`\`${escape(path)}\` \\(about ([\\d,]+) lines`).exec(section)?.[1], lines);
  return problems;
}

describe("what a forker reads first (npm run forker-path)", () => {
  const counted = forkerPath();

  test("counts the path the docs name, and the folders outside it", () => {
    expect(counted.path.map((part) => part.path)).toEqual(["main.ts", "stacks/", "lib/", "environments/environments.ts"]);
    expect(counted.lines).toBe(counted.path.reduce((total, part) => total + part.lines, 0));
    expect(counted.lines).toBeGreaterThan(1_000);
    // The settings kit, the tests (with the example variants), the scripts and the app are outside it; environments/
    // holds nothing but the environments.
    expect(counted.outside.map((part) => part.path)).toEqual(expect.arrayContaining(["lib/settings/", "scripts/", "__tests__/", "app/"]));
    expect(counted.outside.map((part) => part.path)).not.toContain("environments/");
  });

  test.each(PLACES)("$page states it, its size and what lies outside it, as counted", ({ page, heading }) => {
    const section = sectionOf(readFileSync(join(root, page), "utf8"), page, heading);
    expect(wrongFigures(page, section, counted, leanFolders())).toEqual([]);
  });

  test("the check fails on a figure off by more than the tolerance, a folder left unnamed, a missing script name", () => {
    const section = sectionOf(readFileSync(join(root, "README.md"), "utf8"), "README.md", "## Layout");
    const stated = /reads first\b[\s\S]*?about ([\d,]+) lines/.exec(section)![1];
    const off = Math.round(counted.lines * 1.1);
    expect(wrongFigures("README.md", section.replace(`about ${stated} lines`, `about ${figure(off)} lines`), counted, leanFolders())).toEqual([
      `README.md: says what a forker reads first is about ${figure(off)} lines; npm run forker-path counts ${figure(counted.lines)}: update the figure`,
    ]);
    // Within the tolerance: still true.
    const near = Math.round(counted.lines * 1.04);
    expect(wrongFigures("README.md", section.replace(`about ${stated} lines`, `about ${figure(near)} lines`), counted, leanFolders())).toEqual([]);

    const moved: ForkerPath = { ...counted, outside: [...counted.outside, { path: "proofs/", lines: 3_000, files: 9, what: "" }] };
    expect(wrongFigures("README.md", section.replace("`npm run forker-path`", "a script"), moved, leanFolders())).toEqual([
      "README.md: does not name the script that counts the figures, `npm run forker-path`",
      "README.md: states no size for `proofs/`; npm run forker-path counts 3,000 lines",
    ]);
  });

  test("counts lines as wc -l does, groups what is outside by folder, and leaves out the root's files and the dot-folders", () => {
    expect([lineCount(""), lineCount("a\n"), lineCount("a\nb"), lineCount("a\n\n// b\n")]).toEqual([0, 1, 2, 3]);

    const dir = mkdtempSync(join(tmpdir(), "forker-path-"));
    try {
      const files: Record<string, string> = {
        "main.ts": "a\nb\n",
        "stacks/stack.ts": "a\n",
        "lib/core/x.ts": "a\nb\nc\n",
        "lib/network/y.ts": "a\n",
        "lib/settings/environment/schema.ts": "a\nb\nc\nd\ne\n",
        "environments/environments.ts": "a\nb\n",
        "environments/variants.ts": "a\nb\nc\nd\n",
        "proofs/emulator.ts": "a\n",
        "app/src/app.ts": "a\nb\n",
        "jest.config.js": "a\n",
        ".ci/node.sh": "a\n",
      };
      for (const [file, text] of Object.entries(files)) {
        mkdirSync(join(dir, dirname(file)), { recursive: true });
        writeFileSync(join(dir, file), text);
      }
      const fork = forkerPath(dir, Object.keys(files));
      expect(fork.path.map(({ path, lines, files }) => [path, lines, files])).toEqual([
        ["main.ts", 2, 1],
        ["stacks/", 1, 1],
        ["lib/", 4, 2],
        ["environments/environments.ts", 2, 1],
      ]);
      expect(fork.lines).toBe(9);
      // A folder the path excepts is a row of its own; a folder the path names a file of lists the rest by name.
      expect(fork.outside.map(({ path, lines, names }) => [path, lines, names])).toEqual([
        ["lib/settings/", 5, undefined],
        ["environments/", 4, ["variants.ts"]],
        ["app/", 2, undefined],
        ["proofs/", 1, undefined],
      ]);
      // A fork without a part of the path is told so, not counted as empty.
      expect(() => forkerPath(dir, ["main.ts", "lib/core/x.ts", "environments/environments.ts"])).toThrow(/stacks\/ holds no code file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
