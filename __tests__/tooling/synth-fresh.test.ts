/**
 * Synth writes exactly what the code says, every time. A copy of the project has its settings edited
 * between synths, each edit keeping every file's length and its modification time (the two things a
 * cache keyed by less than content would miss: V8 checks only a code cache's source length), and each
 * synth, through every entry a user runs, is compared with a synth from nothing (no `.build`):
 *
 *   npm run synth                    the synth app, cdktf (what the docs' first command runs)
 *   CDK_ENGINE=cdktn npm run synth   the synth app, cdktn
 *   npx cdktf synth                  the engine's own synth, what `cdktf deploy` runs first
 *   npx cdktn synth                  the same on cdktn (its CLI needs Node.js 22.19 or newer)
 *
 * A refused setting is refused by each of them, and the fix after it synthesizes: no refusal outlives
 * the change that caused it. SKIP_CDKTN_CLI=1 leaves the cdktn CLI out deliberately, on an older Node.js.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { cliNodeProblem, cliOf, ENGINES, installedEngines } from "../../scripts/engine.cjs";
import { copyProject } from "../../scripts/fork-proof";
import { withoutSynthVariables } from "../support/helpers";

const ENVIRONMENTS_FILE = join("environments", "environments.ts");
const work = mkdtempSync(join(tmpdir(), "synth-fresh-"));
const project = join(work, "project");
afterAll(() => rmSync(work, { recursive: true, force: true }));

// Both engines here; cdktf alone in a lean fork, which uninstalls cdktn (docs/forking.md).
const engines = installedEngines().map((engine) => engine.name);
const withCdktn = engines.includes("cdktn");
const skipCdktnCli = !withCdktn || ["1", "true"].includes(process.env.SKIP_CDKTN_CLI ?? "");
const cdktnCliProblem = withCdktn ? cliNodeProblem(cliOf(ENGINES.cdktn)) : undefined;

// The variables that change what synth writes are the test's, not the caller's.
const env: NodeJS.ProcessEnv = {
  ...withoutSynthVariables(),
  CI: "true",
  CHECKPOINT_DISABLE: "1",
  DISABLE_VERSION_CHECK: "true",
};

interface Entry {
  readonly name: string;
  readonly engine: "cdktf" | "cdktn";
  readonly command: readonly string[];
}
const ENTRIES: readonly Entry[] = [
  { name: "npm run synth", engine: "cdktf", command: ["npm", "run", "--silent", "synth"] },
  ...(withCdktn ? [{ name: "CDK_ENGINE=cdktn npm run synth", engine: "cdktn", command: ["npm", "run", "--silent", "synth"] } as const] : []),
  { name: "npx cdktf synth", engine: "cdktf", command: [join("node_modules", ".bin", "cdktf"), "synth"] },
  ...(skipCdktnCli ? [] : [{ name: "npx cdktn synth", engine: "cdktn", command: [join("node_modules", ".bin", "cdktn"), "synth"] } as const]),
];

interface Synthesized {
  readonly status: number | null;
  readonly output: string;
  /** Each stack's cdk.tf.json, by stack name. */
  readonly stacks: Record<string, unknown>;
}

function stacksIn(outdir: string): Record<string, unknown> {
  const dir = join(outdir, "stacks");
  if (!existsSync(dir)) return {};
  return Object.fromEntries(readdirSync(dir).map((name) => [name, JSON.parse(readFileSync(join(dir, name, "cdk.tf.json"), "utf8"))]));
}

function run(command: readonly string[], engine: string, extra: NodeJS.ProcessEnv = {}): { status: number | null; output: string } {
  const result = spawnSync(command[0], command.slice(1), {
    cwd: project,
    env: { ...env, ...(engine === "cdktn" ? { CDK_ENGINE: "cdktn" } : {}), ...extra },
    encoding: "utf8",
    maxBuffer: 1 << 26,
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}${result.error?.message ?? ""}` };
}

/** Synth through one entry, as a user runs it, with the caches the entries before it left. */
function through(entry: Entry): Synthesized {
  rmSync(join(project, "cdktf.out"), { recursive: true, force: true });
  const { status, output } = run(entry.command, entry.engine);
  return { status, output, stacks: stacksIn(join(project, "cdktf.out")) };
}

/** Synth from nothing: no bundle, no manifest, no code cache (they are put back after). */
function fromNothing(engine: string): Synthesized {
  const build = join(project, ".build");
  const aside = join(work, "build-aside");
  rmSync(aside, { recursive: true, force: true });
  if (existsSync(build)) renameSync(build, aside);
  const outdir = join(work, `fresh-${engine}`);
  rmSync(outdir, { recursive: true, force: true });
  try {
    const { status, output } = run([process.execPath, join("scripts", "synth.cjs")], engine, { CDKTF_OUTDIR: outdir });
    return { status, output, stacks: stacksIn(outdir) };
  } finally {
    rmSync(build, { recursive: true, force: true });
    if (existsSync(aside)) renameSync(aside, build);
  }
}

/**
 * The first setting matched in the environments file, changed to another value of the same length.
 * Read from the file as a fork has it, so the test follows the fork's own values.
 */
interface SameLengthEdit {
  readonly setting: string;
  readonly pattern: RegExp;
  readonly change: (match: RegExpExecArray) => string | undefined;
}
/** n ± 1 with as many digits as n. */
const neighbour = (digits: string) => [Number(digits) + 1, Number(digits) - 1].map(String).find((n) => n.length === digits.length && Number(n) >= 1);
const SIZES: Record<string, string> = { micro: "small", small: "micro", large: "small", medium: "xlarge", xlarge: "medium" };
const EDITS: readonly SameLengthEdit[] = [
  { setting: "database.instanceClass", pattern: /(instanceClass: "db\.[a-z0-9]+\.)([a-z0-9]+)(")/, change: (m) => SIZES[m[2]] },
  { setting: "network.cidr", pattern: /(cidr: "\d+\.)(\d+)(\.0\.0\/16")/, change: (m) => neighbour(m[2]) },
  { setting: "registry.keepImages", pattern: /(keepImages: )(\d+)(,)/, change: (m) => neighbour(m[2]) },
];

/** Rewrites the environments file in place with `edit`, keeping its length and its modification time. */
function rewrite(edit: (source: string) => string): void {
  const file = join(project, ENVIRONMENTS_FILE);
  const before = readFileSync(file, "utf8");
  const { atime, mtime } = statSync(file);
  const after = edit(before);
  expect(after).not.toBe(before);
  expect(after.length).toBe(before.length);
  writeFileSync(file, after);
  utimesSync(file, atime, mtime);
}

function sameLengthEdits(source: string): string {
  let applied = 0;
  for (const { pattern, change } of EDITS) {
    const match = pattern.exec(source);
    const value = match && change(match);
    if (!match || !value) continue;
    source = source.slice(0, match.index) + match[1] + value + match[3] + source.slice(match.index + match[0].length);
    applied++;
  }
  // At least two of the three, so a fork that dropped one of these settings still proves the rest.
  expect(applied).toBeGreaterThanOrEqual(2);
  return source;
}

/** Every entry agrees with a synth from nothing, stack for stack. */
function expectFresh(): Record<string, Record<string, unknown>> {
  const fresh = Object.fromEntries(engines.map((engine) => [engine, fromNothing(engine)])) as Record<"cdktf" | "cdktn", Synthesized>;
  for (const engine of engines) expect([engine, fresh[engine].status, fresh[engine].output]).toEqual([engine, 0, expect.any(String)]);
  for (const entry of ENTRIES) {
    const result = through(entry);
    expect([entry.name, result.status]).toEqual([entry.name, 0]);
    expect([entry.name, Object.keys(result.stacks).sort()]).toEqual([entry.name, Object.keys(fresh[entry.engine].stacks).sort()]);
    for (const [stack, json] of Object.entries(fresh[entry.engine].stacks))
      expect([entry.name, stack, result.stacks[stack]]).toEqual([entry.name, stack, json]);
  }
  return Object.fromEntries(engines.map((engine) => [engine, fresh[engine].stacks]));
}

beforeAll(() => {
  copyProject(project);
  symlinkSync(resolve("node_modules"), join(project, "node_modules"), "dir");
  // The copy's own caches, as a checkout that has synthesized before has them.
  rmSync(join(project, ".build"), { recursive: true, force: true });
});

test("the cdktn CLI can run here, or is left out deliberately", () => {
  if (!skipCdktnCli && cdktnCliProblem)
    throw new Error(`${cdktnCliProblem}. Run the tests on the Node.js that .node-version names, or set SKIP_CDKTN_CLI=1 to leave it out.`);
});

test("edits that keep every file's length and time, a refused setting and its fix: every entry writes what a synth from nothing writes", () => {
  // given: every entry has synthesized once, so each cache (bundle, manifest, code cache) is warm
  const before = expectFresh();
  const bundleSize = statSync(join(project, ".build", "main.js")).size;

  // when: settings change, keeping the file's length and time
  rewrite(sameLengthEdits);
  // then: every entry writes the new stacks, and the edit did change them
  const edited = expectFresh();
  expect(edited.cdktf).not.toEqual(before.cdktf);
  // the bundle kept its length: the case a code cache checked by length alone gets wrong
  expect(statSync(join(project, ".build", "main.js")).size).toBe(bundleSize);

  // when: a refused CIDR (host bits set), of the same length
  rewrite((source) => source.replace(/(cidr: "\d+\.\d+\.)0(\.0\/16")/, "$15$2"));
  // then: every entry refuses it, naming the setting, and writes no stack
  for (const entry of ENTRIES) {
    const result = through(entry);
    expect([entry.name, result.status === 0, /network\.cidr/.test(result.output)]).toEqual([entry.name, false, true]);
  }

  // when: fixed, to yet another range of the same length
  rewrite((source) => sameLengthEdits(source.replace(/(cidr: "\d+\.\d+\.)5(\.0\/16")/, "$10$2")));
  // then: no refusal is remembered; every entry writes the fixed stacks
  const fixed = expectFresh();
  expect(fixed.cdktf).not.toEqual(edited.cdktf);
}, 240_000);
