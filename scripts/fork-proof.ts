/**
 * The fork proof: the recipes of docs/forking.md (scripts/fork-recipes.ts reads them from the page
 * itself) applied to a clean copy of this repository exactly as written, then what the page says a fork
 * runs after a recipe, read from the page too (its `<!-- fork-steps -->` list), in its order: the
 * generated tables, synth, the snapshots updated, the README's whole test command (`npm test`: the type
 * check, lint and every jest project, the offline plan and the REST API included, with no test edited)
 * and the cost within each budget. Every recipe that is not marked `alone` goes into one fork (one run
 * of the suite instead of one per recipe); each `alone` recipe gets a fork of its own. The cost each
 * recipe states in the page is checked against `npm run cost` measured before and after it.
 *
 *   npm run fork-proof                 # every recipe; prints each step as it happens, then each step's time
 *   npm run fork-proof -- --keep       # and leave the forks in the temp folder for a look
 *   npm run fork-proof -- --install    # `npm ci` in each fork instead of linking this checkout's node_modules
 *
 * Then the lean fork (docs/forking.md, "A lean fork"): a clean copy with node_modules of its own, never
 * linked (its `npm uninstall` would change them), the recipe's commands run as written, then its steps
 * (`npm ci` first), and the sizes the page states measured.
 *
 *   npm run fork-proof -- --lean-only  # the lean fork alone
 *
 * By default each recipe fork links this checkout's `node_modules` (a symlink) instead of installing: the
 * recipes change no dependency, and `npm ci` would add about a minute and a half per fork. `.ci/run`
 * has just installed them from the lock file, so what the fork runs is what a fresh install gives (the
 * app/ workspace has no node_modules of its own: `npm ci` hoists all of its dependencies to the root).
 */
import { spawn, spawnSync } from "node:child_process";
import {
  appendFileSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { defineCommand, killOnInterrupt, onCleanup, Reporter } from "../cli/cli.cjs";
import { applyParts, leanApplied, readForkSteps, readLeanRecipe, readRecipes, RECIPES_DOC, statedCosts, type LeanRecipe, type Recipe } from "./fork-recipes";

const ROOT = resolve(__dirname, "..");

export interface StepResult {
  readonly step: string;
  readonly seconds: number;
  readonly ok: boolean;
  /** The tail of a failed step's output. */
  readonly output?: string;
}

export interface ForkResult {
  readonly recipes: readonly string[];
  readonly dir: string;
  readonly steps: StepResult[];
  /** Problems found by comparing the page's stated costs with the measured ones. */
  readonly costProblems: string[];
  /** Measured cost change of each recipe, by environment (USD a month). */
  readonly costs: Record<string, Record<string, number>>;
  /** The lean fork's sizes against those the page states, when they differ; its measures otherwise. */
  readonly sizeProblems?: string[];
  readonly sizes?: string;
  readonly seconds: number;
}

/** The files of the working tree git knows (tracked, and untracked but not ignored), copied to `to`. */
export function copyProject(to: string): void {
  const listed = spawnSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: ROOT, encoding: "utf8" });
  if (listed.status !== 0) throw new Error(`git ls-files failed: ${listed.stderr}`);
  for (const file of listed.stdout.split("\0").filter(Boolean)) {
    const from = join(ROOT, file);
    // Deleted in the working tree but still tracked, or a folder (a submodule): nothing to copy.
    if (!existsSync(from) || !lstatSync(from).isFile()) continue;
    mkdirSync(dirname(join(to, file)), { recursive: true });
    copyFileSync(from, join(to, file));
  }
}

/** One step in the fork, its output kept for the report; an interrupt stops it (and so the proof). */
function run(dir: string, step: string, command: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<StepResult> {
  const started = Date.now();
  return new Promise((done) => {
    const child = killOnInterrupt(
      spawn(command, args, { cwd: dir, env: { ...process.env, CI: "true", CHECKPOINT_DISABLE: "1", ...env }, stdio: ["ignore", "pipe", "pipe"] }),
    );
    let output = "";
    // Only the tail is reported; a whole npm test's output is kept no longer than needed.
    const keep = (chunk: Buffer) => (output = (output + chunk.toString("utf8")).slice(-20_000));
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    const finish = (ok: boolean, extra = "") => {
      const seconds = (Date.now() - started) / 1000;
      done({ step, seconds, ok, ...(ok ? {} : { output: `${output}${extra}`.trim().slice(-6000) }) });
    };
    child.once("error", (error) => finish(false, error.message));
    child.once("close", (code, signal) => finish(code === 0, code === 0 ? "" : `\n(exit ${code ?? signal})`));
  });
}

/** A step of docs/forking.md's list as the proof runs it: the command split at its spaces, run without a shell. */
export function forkStepArgs(command: string): { command: string; args: string[] } {
  const [program, ...args] = command.split(" ");
  return { command: program, args };
}

/**
 * The copy made a git checkout of its own, committed as copied, as a forker's clone is: what asks git
 * what the project holds (`copyProject`, `git diff` of the snapshots) works in the fork as in a clone.
 * `node_modules`, linked after this, is left out as `.gitignore` leaves out the folder `npm ci` makes.
 */
export function commitCopy(dir: string): void {
  const commit = [
    "-c",
    "user.name=fork proof",
    "-c",
    "user.email=fork-proof@localhost",
    "-c",
    "commit.gpgsign=false",
    "commit",
    "-q",
    "--no-verify",
    "-m",
    "fork",
  ];
  for (const args of [["init", "-q"], ["add", "-A"], commit]) {
    const result = spawnSync("git", args, { cwd: dir, encoding: "utf8" });
    if (result.status !== 0) throw new Error(`git ${args.join(" ")} failed in ${dir}: ${result.stderr}${result.error?.message ?? ""}`);
  }
  appendFileSync(join(dir, ".git", "info", "exclude"), "/node_modules\n");
}

/** Each environment's monthly total, as `npm run cost` computes it in `dir`. */
function totals(dir: string): Record<string, number> {
  const result = spawnSync(process.execPath, ["--import", "tsx", "scripts/cost.ts", "--json"], { cwd: dir, encoding: "utf8", maxBuffer: 1 << 26 });
  if (!result.stdout.trim()) throw new Error(`npm run cost failed in ${dir}:\n${result.stderr}`);
  const report = JSON.parse(result.stdout) as Record<string, { total: number }>;
  return Object.fromEntries(Object.entries(report).map(([name, { total }]) => [name, total]));
}

/** What changed between two measurements: environments added or changed by at least a cent. */
export function costChange(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const names = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  const change = names.map((name) => [name, Math.round(((after[name] ?? 0) - (before[name] ?? 0)) * 100) / 100] as const);
  return Object.fromEntries(change.filter(([, usd]) => Math.abs(usd) >= 0.01));
}

const usd = (n: number) => `${n < 0 ? "-" : "+"}$${Math.abs(n).toFixed(2)}`;
/** How docs/forking.md states a change: "Costs nothing", or "Costs: dev +$8.76, staging +$49.98 a month". */
export function describeCosts(change: Record<string, number>): string {
  const entries = Object.entries(change);
  return entries.length ? `Costs: ${entries.map(([env, n]) => `${env} ${usd(n)}`).join(", ")} a month` : "Costs nothing";
}

/** One fork: a clean copy (a git checkout of its own), the recipes applied one by one (each costed), then the page's steps. */
export async function proveFork(
  recipes: readonly Recipe[],
  options: { install: boolean; base: string; steps: readonly string[]; reporter?: Reporter },
): Promise<ForkResult> {
  const reporter = options.reporter ?? Reporter.silent();
  const name = recipes.map((r) => r.id).join("+");
  const timed = async (step: string, work: () => Promise<StepResult>) => {
    const progress = reporter.step(`fork ${name}: ${step}`);
    const result = await work();
    if (result.ok) progress.done();
    else progress.fail(result.output?.split("\n").find((line) => /FAIL|error|Error/.test(line)));
    return result;
  };
  const started = Date.now();
  const dir = mkdtempSync(join(options.base, `fork-${recipes.map((r) => r.id).join("+")}-`));
  const steps: StepResult[] = [];
  const costProblems: string[] = [];
  const costs: Record<string, Record<string, number>> = {};
  copyProject(dir);
  commitCopy(dir);
  if (options.install) steps.push(await timed("npm ci", () => run(dir, "npm ci", "npm", ["ci", "--no-audit", "--no-fund"])));
  else symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"), "dir");
  const t0 = Date.now();
  const costing = reporter.step(`fork ${name}: apply ${recipes.length} recipe(s), costing each`);
  let before = totals(dir);
  for (const recipe of recipes) {
    applyParts(
      recipe,
      (path) => (existsSync(join(dir, path)) ? readFileSync(join(dir, path), "utf8") : undefined),
      (path, text) => {
        mkdirSync(dirname(join(dir, path)), { recursive: true });
        writeFileSync(join(dir, path), text);
      },
    );
    const after = totals(dir);
    const change = costChange(before, after);
    costs[recipe.id] = change;
    const stated = statedCosts(recipe);
    if (stated === undefined) costProblems.push(`${recipe.id}: ${RECIPES_DOC} does not say what it costs; measured: "${describeCosts(change)}."`);
    else if (describeCosts(stated) !== describeCosts(change))
      costProblems.push(`${recipe.id}: ${RECIPES_DOC} says "${describeCosts(stated)}", measured "${describeCosts(change)}"`);
    before = after;
  }
  steps.push({ step: `apply ${recipes.length} recipe(s), costing each`, seconds: (Date.now() - t0) / 1000, ok: true });
  if (costProblems.length) costing.fail(costProblems[0]);
  else costing.done();
  // What docs/forking.md says to run after a recipe, as written and in its order; each must pass as the
  // page promises, with no test edited (the snapshots are updated by a step of their own).
  // Then what a recipe adds for itself (the Valkey recipe's emulator lifecycle), once per command.
  // A lean fork (docs/forking.md) has no emulator lifecycle: a recipe's own `npm run` of a script its
  // package.json lacks is skipped there, saying so; the page's steps always run.
  const scripts = (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { scripts?: Record<string, string> }).scripts ?? {};
  const own = new Set(recipes.flatMap((r) => r.then));
  for (const step of [...options.steps, ...own]) {
    const script = /^npm run (\S+)/.exec(step)?.[1];
    if (own.has(step) && !options.steps.includes(step) && script && !Object.hasOwn(scripts, script)) {
      steps.push({ step: `${step} (skipped: package.json has no script ${JSON.stringify(script)}, as in a lean fork)`, seconds: 0, ok: true });
      continue;
    }
    const { command, args } = forkStepArgs(step);
    steps.push(await timed(step, () => run(dir, step, command, args)));
  }
  return { recipes: recipes.map((r) => r.id), dir, steps, costProblems, costs, seconds: (Date.now() - started) / 1000 };
}

/** The package folders installed in `nodeModules` (each `name` or `@scope/name` with a package.json, nested ones too). */
export function installedPackages(nodeModules: string): number {
  if (!existsSync(nodeModules)) return 0;
  let count = 0;
  const visit = (folder: string) => {
    if (!existsSync(join(folder, "package.json"))) return;
    count++;
    walk(join(folder, "node_modules"));
  };
  const walk = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name.startsWith(".") || !entry.isDirectory()) continue;
      if (entry.name.startsWith("@"))
        for (const scoped of readdirSync(join(dir, entry.name), { withFileTypes: true })) {
          if (scoped.isDirectory()) visit(join(dir, entry.name, scoped.name));
        }
      else visit(join(dir, entry.name));
    }
  };
  walk(nodeModules);
  return count;
}

/** What the lean section says the fork weighs: "1,192 packages installed", "1.1 GB of `node_modules`". */
export function statedLeanSize(lean: LeanRecipe): { packages?: number; gb?: number } {
  const text = lean.text.replace(/\s+/g, " ");
  const packages = /([\d,]+) packages installed/.exec(text)?.[1];
  const gb = /([\d.]+) GB of `node_modules`/.exec(text)?.[1];
  return { ...(packages ? { packages: Number(packages.replace(/,/g, "")) } : {}), ...(gb ? { gb: Number(gb) } : {}) };
}

/** Where measured sizes are off from the stated ones: packages by more than 3%, size by more than 0.1 GB. */
export function leanSizeProblems(stated: { packages?: number; gb?: number }, measured: { packages: number; gb: number }): string[] {
  const problems: string[] = [];
  if (stated.packages === undefined || stated.gb === undefined)
    problems.push(`${RECIPES_DOC}'s lean fork does not state its size ("N packages installed", "X GB of \`node_modules\`")`);
  if (stated.packages !== undefined && Math.abs(stated.packages - measured.packages) > stated.packages * 0.03)
    problems.push(`${RECIPES_DOC} says ${stated.packages.toLocaleString("en-US")} packages installed; measured ${measured.packages.toLocaleString("en-US")}`);
  if (stated.gb !== undefined && Math.abs(stated.gb - measured.gb) > 0.1)
    problems.push(`${RECIPES_DOC} says ${stated.gb} GB of node_modules; measured ${measured.gb.toFixed(2)} GB`);
  return problems;
}

/**
 * The lean fork: a clean copy (a git checkout of its own) with no node_modules linked, since the recipe's
 * `npm uninstall` installs and removes packages in place; the recipe's commands as written, stopping at
 * the first that fails; then the page's steps after it (its `npm ci` gives the fork node_modules of its
 * own); then its size against the page's.
 */
export async function proveLeanFork(lean: LeanRecipe, options: { base: string; reporter?: Reporter }): Promise<ForkResult> {
  const reporter = options.reporter ?? Reporter.silent();
  const started = Date.now();
  const dir = mkdtempSync(join(options.base, "fork-lean-"));
  const steps: StepResult[] = [];
  copyProject(dir);
  commitCopy(dir);
  for (const step of [...lean.commands, ...lean.steps]) {
    const progress = reporter.step(`fork lean: ${step.length > 60 ? `${step.slice(0, 57)}...` : step}`);
    const { command, args } = forkStepArgs(step);
    const result = await run(dir, step, command, args);
    steps.push(result);
    if (result.ok) progress.done();
    else {
      progress.fail(result.output?.split("\n").find((line) => /FAIL|error|Error/.test(line)));
      if (lean.commands.includes(step)) break;
    }
  }
  const du = spawnSync("du", ["-sk", join(dir, "node_modules")], { encoding: "utf8" });
  const measured = { packages: installedPackages(join(dir, "node_modules")), gb: Number(du.stdout.split("\t")[0]) / 1024 / 1024 };
  const sizeProblems = steps.every((step) => step.ok) ? leanSizeProblems(statedLeanSize(lean), measured) : [];
  const sizes = `${measured.packages.toLocaleString("en-US")} packages installed, ${measured.gb.toFixed(2)} GB of node_modules`;
  return { recipes: ["lean"], dir, steps, costProblems: [], costs: {}, sizeProblems, sizes, seconds: (Date.now() - started) / 1000 };
}

/** The forks the recipes make: every recipe not marked `alone` in one, each `alone` recipe in its own. */
export function forksOf(recipes: readonly Recipe[]): Recipe[][] {
  const together = recipes.filter((r) => !r.alone);
  return [...(together.length ? [together] : []), ...recipes.filter((r) => r.alone).map((r) => [r])];
}

const forkOk = (fork: ForkResult) => fork.steps.every((s) => s.ok) && !fork.costProblems.length && !fork.sizeProblems?.length;

function report(results: readonly ForkResult[], seconds: number): string {
  const lines: string[] = [];
  for (const fork of results) {
    const ok = forkOk(fork);
    lines.push(`fork of ${fork.recipes.join(", ")}: ${ok ? "green" : "FAILED"} in ${fork.seconds.toFixed(0)} s (${fork.dir})`);
    for (const [id, change] of Object.entries(fork.costs)) lines.push(`  ${id.padEnd(14)} ${describeCosts(change)}`);
    for (const step of fork.steps) {
      lines.push(`  ${step.seconds.toFixed(1).padStart(6)} s  ${step.ok ? "ok    " : "FAILED"}  ${step.step}`);
      if (step.output) lines.push(step.output.replace(/^/gm, "           | "));
    }
    for (const problem of fork.costProblems) lines.push(`  cost stated wrongly: ${problem}`);
    if (fork.sizes) lines.push(`  measured: ${fork.sizes}`);
    for (const problem of fork.sizeProblems ?? []) lines.push(`  size stated wrongly: ${problem}`);
  }
  lines.push(`fork proof: ${results.length} fork(s), ${seconds.toFixed(0)} s wall time`);
  return lines.join("\n");
}

if (require.main === module) {
  const { values } = defineCommand({
    name: "fork-proof",
    summary: `Applies the recipes of ${RECIPES_DOC} to clean copies of this checkout, exactly as written, and runs in each what the page says a fork runs after a recipe (npm test among it).`,
    options: {
      keep: { type: "boolean", description: "leave the forks in the temp folder for a look (their paths are printed)" },
      install: { type: "boolean", description: "`npm ci` in each fork instead of linking this checkout's node_modules" },
      "lean-only": { type: "boolean", description: "only the lean fork (docs/forking.md, A lean fork): its recipe, npm ci, synth, npm test, cost" },
    },
    needs: [
      "what npm test needs in each fork: terraform 1.10 or newer on PATH, moto for the worker test (or SKIP_TERRAFORM_TESTS / SKIP_EMULATOR_TESTS)",
      "git (each fork is a checkout of its own), and about 4 minutes on 2 cores, then the lean fork's about 7 more",
      "the npm registry, for the lean fork's npm uninstall and npm ci",
    ],
    examples: ["npm run fork-proof", "npm run fork-proof -- --keep"],
  }).start();
  const keep = values.keep === true;
  const install = values.install === true;
  const leanOnly = values["lean-only"] === true;
  const started = Date.now();
  const doc = readFileSync(join(ROOT, RECIPES_DOC), "utf8");
  const recipes = leanOnly ? [] : readRecipes(doc);
  const lean = readLeanRecipe(doc);
  const steps = readForkSteps(doc);
  const base = mkdtempSync(join(tmpdir(), "fork-proof-"));
  const removeBase = () => {
    if (!keep) rmSync(base, { recursive: true, force: true });
  };
  // Interrupted, the forks go too (their running steps are stopped first).
  onCleanup(removeBase);
  if (!leanOnly) {
    console.log(
      `fork proof: ${recipes.length} recipes from ${RECIPES_DOC} (${recipes.map((r) => r.id).join(", ")}), node_modules ${install ? "installed with npm ci" : "linked from this checkout"}`,
    );
    console.log(`after the recipes, each fork runs: ${steps.join(", ")}`);
  }
  console.log(`the lean fork runs its ${lean.commands.length} commands, then: ${lean.steps.join(", ")}`);
  const reporter = new Reporter();
  void (async () => {
    const results: ForkResult[] = [];
    try {
      for (const fork of forksOf(recipes)) results.push(await proveFork(fork, { install, base, steps, reporter }));
      // A lean fork proves its recipe forks; the lean recipe has nothing left to remove there.
      if (leanApplied(ROOT, lean)) console.log(`the lean fork: skipped, this checkout has applied it (${RECIPES_DOC}, A lean fork)`);
      else results.push(await proveLeanFork(lean, { base, reporter }));
      reporter.close();
      console.log(report(results, (Date.now() - started) / 1000));
    } finally {
      removeBase();
    }
    process.exit(results.every(forkOk) ? 0 : 1);
  })();
}
