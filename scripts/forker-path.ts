/**
 * `npm run forker-path`: what a forker reads first to understand what they fork, and how large it is:
 * main.ts, stacks/, lib/ (but the settings kit, lib/settings/) and environments/environments.ts; then what
 * lies outside that path, folder by folder (the settings kit, the emulator, the scripts, the tests with the
 * example variants, the app), which a fork keeps but need not read to change its infrastructure. The README's layout and docs/how-it-is-built.md state
 * these figures; __tests__/docs/forker-path.test.ts holds them to this count.
 *
 * A figure is the lines of the code files (TypeScript, JavaScript, Python, shell, SQL) git knows, tracked
 * or untracked but not ignored, as the fork proof copies them; comments and blank lines are counted, as
 * they are read. Not counted: the tools' configuration at the root, the dot-folders (.github/, .ci/),
 * the docs and other files that are not code.
 *
 *   npm run forker-path            # the table
 *   npm run forker-path -- --json  # { path: [...], outside: [...] }, each { path, lines, files, what }
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { defineCommand } from "../cli/cli.cjs";

const ROOT = resolve(__dirname, "..");
const CODE = /\.(ts|cts|mts|js|cjs|mjs|py|sh|sql)$/;

/** What a forker reads first, in reading order: a file, or a folder (ending in `/`) but the folders it excepts. */
export const FORKER_PATH: readonly { readonly path: string; readonly what: string; readonly except?: readonly string[] }[] = [
  { path: "main.ts", what: "one ApiStack per environment" },
  { path: "stacks/", what: "the stack that composes the constructs, and the app that reports bad settings" },
  { path: "lib/", what: "the constructs by area, each with its settings' section, and the calculators", except: ["lib/settings/"] },
  { path: "environments/environments.ts", what: "the environments: the settings a fork edits" },
];

/** What the folders outside the path hold; a folder not named here is still counted, in its own row. */
const OUTSIDE: Readonly<Record<string, string>> = {
  "lib/settings/": "the settings kit: rules, validation, AWS's lists, the environment's schema joined from the sections, releases",
  "environments/": "beside the environments",
  "emulator/": "the AWS emulator (moto) and the lifecycle every stack runs on it",
  "scripts/": "the tools behind npm run: synth, offline plan, cost, docs, release, task, fork proof, game day, bench",
  "cli/": "the command-line conventions every script follows",
  "__tests__/": "the proofs: every jest project but the app's, and the example variants they, the emulator and the game day run",
  "app/": "the REST API the tasks run, with its own tests (a workspace of its own)",
};

export interface Part {
  /** A file, or a folder ending in `/`; a folder partly in the path counts only its files outside it. */
  readonly path: string;
  readonly lines: number;
  readonly files: number;
  readonly what: string;
  /** The files of a folder partly in the path (the rest of a folder the path names a file of), by name. */
  readonly names?: readonly string[];
}

export interface ForkerPath {
  readonly path: readonly Part[];
  readonly outside: readonly Part[];
  /** The path's lines, all parts together. */
  readonly lines: number;
}

/** The code files of a project (relative paths, `/`), as git lists them: tracked, or untracked but not ignored. */
export function codeFiles(root: string = ROOT): string[] {
  const listed = spawnSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: root, encoding: "utf8" });
  if (listed.status !== 0) throw new Error(`git ls-files failed in ${root}: ${listed.stderr}${listed.error?.message ?? ""}`);
  // Deleted in the working tree but still tracked: nothing to read.
  return [...new Set(listed.stdout.split("\0"))].filter((file) => CODE.test(file) && existsSync(join(root, file))).sort();
}

/** Lines as `wc -l` counts them, and a last line without its newline. */
export function lineCount(text: string): number {
  if (text === "") return 0;
  return text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
}

const within = (file: string, path: string) => (path.endsWith("/") ? file.startsWith(path) : file === path);
const inPath = (file: string) => FORKER_PATH.some((p) => within(file, p.path) && !(p.except ?? []).some((folder) => within(file, folder)));

/** The path's parts and the folders outside it, counted from the files given (default: the project's). */
export function forkerPath(root: string = ROOT, files: readonly string[] = codeFiles(root)): ForkerPath {
  const lines = new Map(files.map((file) => [file, lineCount(readFileSync(join(root, file), "utf8"))]));
  const sum = (of: readonly string[]) => of.reduce((total, file) => total + lines.get(file)!, 0);

  const path = FORKER_PATH.map(({ path, what }) => {
    const of = files.filter((file) => within(file, path) && inPath(file));
    if (!of.length) throw new Error(`${path} holds no code file: the forker path (scripts/forker-path.ts) names what a fork has`);
    return { path, lines: sum(of), files: of.length, what };
  });

  // Outside: each top-level folder's files not in the path, and each folder the path excepts on its own;
  // the root's files and dot-folders are not counted.
  const excepted = FORKER_PATH.flatMap((p) => p.except ?? []);
  const folders = new Map<string, string[]>();
  for (const file of files) {
    const slash = file.indexOf("/");
    if (slash < 0 || file.startsWith(".") || inPath(file)) continue;
    const folder = excepted.find((except) => within(file, except)) ?? file.slice(0, slash + 1);
    folders.set(folder, [...(folders.get(folder) ?? []), file]);
  }
  const known = Object.keys(OUTSIDE);
  const order = (folder: string) => (known.includes(folder) ? known.indexOf(folder) : known.length);
  const outside = [...folders]
    .sort(([a], [b]) => order(a) - order(b) || a.localeCompare(b))
    .map(([folder, of]) => {
      const partly = FORKER_PATH.some((p) => p.path.startsWith(folder));
      return {
        path: folder,
        lines: sum(of),
        files: of.length,
        what: OUTSIDE[folder] ?? "",
        ...(partly ? { names: of.map((file) => file.slice(folder.length)) } : {}),
      };
    });
  return { path, outside, lines: path.reduce((total, part) => total + part.lines, 0) };
}

const figure = (n: number) => n.toLocaleString("en-US");

/** The table `npm run forker-path` prints. */
export function render({ path, outside, lines }: ForkerPath): string {
  const label = (part: Part) => (part.names ? `${part.path} (the rest)` : part.path);
  const width = Math.max(...[...path, ...outside].map((part) => label(part).length));
  const row = (part: Part) =>
    `  ${label(part).padEnd(width)}  ${figure(part.lines).padStart(6)} lines  ${String(part.files).padStart(3)} file${part.files === 1 ? " " : "s"}  ${part.what}${
      part.names ? `: ${part.names.join(", ")}` : ""
    }`;
  const outsideLines = outside.reduce((total, part) => total + part.lines, 0);
  return [
    `What a forker reads first: ${figure(lines)} lines`,
    ...path.map(row),
    "",
    `Outside that path (not needed to understand what you fork): ${figure(outsideLines)} lines`,
    ...outside.map(row),
    "",
    "Lines of code files (TypeScript, JavaScript, Python, shell, SQL) git knows, comments and blank lines included;",
    "the root's tool configuration, the dot-folders and the docs are not counted.",
  ].join("\n");
}

export const FORKER_PATH_COMMAND = defineCommand({
  name: "forker-path",
  summary: "What a forker reads first (main.ts, stacks/, lib/ but lib/settings/, environments/environments.ts) and what lies outside it, in lines of code.",
  options: { json: { type: "boolean", description: "print { path, outside, lines } for scripts" } },
  needs: ["git on PATH: it counts the files git knows, as the fork proof copies them"],
  examples: ["npm run forker-path", "npm run forker-path -- --json"],
});

if (require.main === module) {
  const { values } = FORKER_PATH_COMMAND.start();
  const counted = forkerPath();
  console.log(values.json ? JSON.stringify(counted) : render(counted));
}
