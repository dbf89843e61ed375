/**
 * Two engines (docs/engines.md): cdktf 0.21 as pinned, and its community fork cdktn, selected by
 * CDK_ENGINE. The proof: every environment and variant, in each run mode, synthesized on both engines
 * in-process (cdktn standing in for every `cdktf` import, the provider bindings' too, as the synth
 * bundle's alias and scripts/engine-hook.cjs do), and the cdk.tf.json files compared: the same but for
 * the version metadata. Then the switch itself: the synth bundle, the hook, the CLI launcher.
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import {
  aliasRequest,
  buildFiles,
  cliMismatch,
  cliNodeProblem,
  cliOf,
  ENGINES,
  engineFromEnv,
  invokingCli,
  libraryOf,
  type EngineName,
} from "../../scripts/engine.cjs";
import { compareOutdirs, describeDifference, jsonDifferences, stacksIn } from "../../scripts/engine-compare";
import { environments } from "../../environments/environments";
import type { RunOptions } from "../../lib/settings/environment/settings";
import { examples, planOnlyExamples } from "../support/variants";
import { emulatorTarget } from "../../emulator/mode";

// jest.config.js stands __tests__/support/no-stack-trace.js in for the library's token stack-trace module; cdktn
// calls it by a name of its own, `captureCreationStack`, which the stand-in does not have.
jest.mock("../support/no-stack-trace", () => ({ captureStackTrace: () => [], captureCreationStack: () => [] }));

const work = mkdtempSync(join(tmpdir(), "engines-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Every stack the project synthesizes or plans: main.ts's environments, the lifecycle variants, the plan-only ones. */
const ALL = [...environments, ...examples, ...planOnlyExamples];
/** The run modes: a deploy's (what `npm run synth` and the CLI write), the offline plan's, the emulator's. */
const MODES: Record<string, RunOptions> = { deploy: {}, offline: { offline: true }, emulator: { target: emulatorTarget("http://127.0.0.1:4566") } };

/** Every stack in every mode on one engine, each mode an app of its own: `<work>/<engine>/<mode>/`. */
function synthesizeOn(engine: EngineName): string {
  const out = join(work, engine);
  jest.isolateModules(() => {
    // A registry of its own: the stacks, the provider bindings and the library load afresh for this engine.
    if (engine === "cdktn") jest.doMock("cdktf", () => jest.requireActual("cdktn"));
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded afresh in this registry, on this engine
      const { App } = require("cdktf") as typeof import("cdktf");
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded afresh in this registry, on this engine
      const { ApiStack } = require("../../stacks/api-stack") as typeof import("../../stacks/api-stack");
      for (const [mode, options] of Object.entries(MODES)) {
        mkdirSync(join(out, mode), { recursive: true });
        const app = new App({ outdir: join(out, mode), stackTraces: false });
        for (const settings of ALL) new ApiStack(app, settings.name, settings, options);
        app.synth();
      }
    } finally {
      jest.dontMock("cdktf");
    }
  });
  return out;
}

const out = { cdktf: "", cdktn: "" };
beforeAll(() => {
  out.cdktf = synthesizeOn("cdktf");
  out.cdktn = synthesizeOn("cdktn");
});

const stackJson = (dir: string, stack: string) => JSON.parse(readFileSync(join(dir, "stacks", stack, "cdk.tf.json"), "utf8"));

describe("the same Terraform on both engines", () => {
  test("each engine really ran: its own version in the metadata of every stack", () => {
    const versions = (engine: EngineName) => [
      ...new Set(Object.keys(MODES).flatMap((mode) => ALL.map((s) => stackJson(join(out[engine], mode), s.name)["//"].metadata.version))),
    ];
    expect(versions("cdktf")).toEqual(["0.21.0"]);
    expect(versions("cdktn")).toEqual([libraryOf(ENGINES.cdktn).version]);
    expect(libraryOf(ENGINES.cdktn)).toEqual({ name: "cdktn", version: "0.24.0" });
  });

  test.each(Object.keys(MODES))("%s mode: every environment and variant is identical on cdktn but for the version metadata", (mode) => {
    const [cdktf, cdktn] = [join(out.cdktf, mode), join(out.cdktn, mode)];
    // Nothing skipped: every stack of the list is there, on both sides.
    expect([stacksIn(cdktf), stacksIn(cdktn)]).toEqual([ALL.map((s) => s.name).sort(), ALL.map((s) => s.name).sort()]);
    expect(compareOutdirs(cdktf, cdktn).map(describeDifference)).toEqual([]);
  });
});

describe("the comparison", () => {
  test("fails on any other difference, naming the stack and the JSON path; the version metadata alone is let through", () => {
    // given: cdktn's output with a changed CIDR, a changed construct path, a stack gone and a version bumped
    const altered = join(work, "altered");
    cpSync(join(out.cdktn, "deploy"), altered, { recursive: true });
    const file = join(altered, "stacks", "dev", "cdk.tf.json");
    const doc = stackJson(altered, "dev");
    const [vpc] = Object.keys(doc.resource.aws_vpc);
    doc.resource.aws_vpc[vpc].cidr_block = "10.99.0.0/16";
    doc.resource.aws_vpc[vpc]["//"].metadata.path = "dev/Moved/Vpc";
    doc["//"].metadata.version = "9.9.9";
    writeFileSync(file, JSON.stringify(doc));
    rmSync(join(altered, "stacks", "dev-lite"), { recursive: true });
    // when
    const differences = compareOutdirs(join(out.cdktf, "deploy"), altered);
    // then
    expect(differences).toEqual([
      { stack: "dev", path: `/resource/aws_vpc/${vpc}/~1~1/metadata/path`, cdktf: "dev/Network/Vpc", cdktn: "dev/Moved/Vpc" },
      { stack: "dev", path: `/resource/aws_vpc/${vpc}/cidr_block`, cdktf: "10.10.0.0/16", cdktn: "10.99.0.0/16" },
      { stack: "dev-lite", path: "", cdktf: expect.objectContaining({ resource: expect.any(Object) }), cdktn: undefined },
    ]);
    expect(describeDifference(differences[1])).toBe(`dev: /resource/aws_vpc/${vpc}/cidr_block: cdktf "10.10.0.0/16", cdktn "10.99.0.0/16"`);
    expect(describeDifference(differences[2])).toMatch(/^dev-lite: \(the whole document\): cdktf \{.*, cdktn \(absent\)$/);
  });

  test("reports a type, a list's length, a key on one side only, and escapes / and ~ in the pointer", () => {
    const a = { list: [1, 2], "a/b": { "c~d": true }, kept: { x: 1 }, n: null };
    const b = { list: [1, 2, 3], "a/b": { "c~d": "true" }, kept: { x: 1, y: 2 }, n: 0 };
    expect(jsonDifferences(a, b)).toEqual([
      { path: "/a~1b/c~0d", a: true, b: "true" },
      { path: "/kept/y", a: undefined, b: 2 },
      { path: "/list/2", a: undefined, b: 3 },
      { path: "/n", a: null, b: 0 },
    ]);
    expect(jsonDifferences(a, structuredClone(a))).toEqual([]);
    expect(jsonDifferences({ v: 1, w: 1 }, { v: 2, w: 2 }, new Set(["/v"]))).toEqual([{ path: "/w", a: 1, b: 2 }]);
  });
});

describe("the switch: CDK_ENGINE", () => {
  const app = resolve("scripts", "synth.cjs");
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !["CDK_ENGINE", "IMAGE_TAG", "IMAGE_ENV", "OFFLINE", "AWS_EMULATOR_URL", "SYNTH_HCL_OUTPUT", "CDKTF_OUTDIR"].includes(k),
    ),
  );
  const node = (args: string[], env: NodeJS.ProcessEnv, cwd = resolve(".")) =>
    spawnSync(process.execPath, args, { cwd, env: { ...clean, ...env }, encoding: "utf8" });

  test("unset or empty is cdktf, cdktn is cdktn; anything else is refused in one line naming the setting", () => {
    expect([engineFromEnv({}).name, engineFromEnv({ CDK_ENGINE: "" }).name, engineFromEnv({ CDK_ENGINE: "cdktn" }).name]).toEqual(["cdktf", "cdktf", "cdktn"]);
    expect(() => engineFromEnv({ CDK_ENGINE: "CDKTN" })).toThrow(
      'Invalid setting CDK_ENGINE = "CDKTN": not an engine. Allowed: cdktf or cdktn (default cdktf).',
    );
    const run = node([app], { CDK_ENGINE: "terraform" });
    expect(run.status).toBe(1);
    expect(run.stderr.trim().split("\n")).toEqual([expect.stringMatching(/^error: Invalid setting CDK_ENGINE = "terraform": not an engine\. Allowed: /)]);
  });

  test("the synth app on cdktn builds a bundle of its own, with cdktn and no cdktf inside, and writes what cdktn builds in-process", () => {
    // given: a folder with no releases/ of its own, as in-process synth has none
    const cwd = join(work, "app");
    mkdirSync(cwd);
    const files = buildFiles(ENGINES.cdktn);
    expect(files).toEqual({ bundle: resolve(".build", "main.cdktn.js"), manifest: resolve(".build", "main.cdktn.inputs.json") });
    expect(files.bundle).not.toBe(buildFiles(ENGINES.cdktf).bundle);
    // when
    const run = node([app], { CDK_ENGINE: "cdktn" }, cwd);
    // then
    expect(run.status).toBe(0);
    const inputs = Object.keys(JSON.parse(readFileSync(files.manifest, "utf8")));
    expect(inputs.filter((f) => f.startsWith("node_modules/cdktn/lib/")).length).toBeGreaterThan(50);
    expect(inputs.filter((f) => f.startsWith("node_modules/cdktf/"))).toEqual([]);
    for (const { name } of environments) {
      expect([name, jsonDifferences(stackJson(join(cwd, "cdktf.out"), name), stackJson(join(out.cdktn, "deploy"), name))]).toEqual([name, []]);
    }
  });

  test("the hook loads cdktn for every cdktf import on cdktn, the provider bindings' too, and changes nothing on cdktf", () => {
    const hook = resolve("scripts", "engine-hook.cjs");
    const probe = `const p = require.resolve("@cdktf/provider-aws/package.json");
      console.log(require("cdktf/package.json").name, require(require.resolve("cdktf/package.json", { paths: [p] })).name)`;
    expect(node(["--require", hook, "-e", probe], { CDK_ENGINE: "cdktn" }).stdout.trim()).toBe("cdktn cdktn");
    expect(node(["--require", hook, "-e", probe], {}).stdout.trim()).toBe("cdktf cdktf");
    expect(aliasRequest(ENGINES.cdktn, "cdktf/lib/tokens")).toBe("cdktn/lib/tokens");
    expect(aliasRequest(ENGINES.cdktn, "cdktf-cli")).toBe("cdktf-cli");
    expect(aliasRequest(ENGINES.cdktf, "cdktf")).toBe("cdktf");
  });

  test("each engine has its CLI, and the synth app refuses the other engine's CLI", () => {
    expect([cliOf(ENGINES.cdktf).name, cliOf(ENGINES.cdktn).name]).toEqual(["cdktf", "cdktn"]);
    for (const engine of Object.values(ENGINES)) expect(existsSync(cliOf(engine).bin)).toBe(true);
    expect(cliMismatch(ENGINES.cdktf, "cdktf")).toBeUndefined();
    expect(cliMismatch(ENGINES.cdktn, "cdktn")).toBeUndefined();
    expect(cliMismatch(ENGINES.cdktf, "cdktn")?.message).toMatch(
      /^Invalid setting CDK_ENGINE = .*: the `cdktn` CLI runs this app, and the cdktf engine's CLI is `cdktf`/,
    );
    expect(cliMismatch(ENGINES.cdktn, "cdktf")?.message).toMatch(/the `cdktf` CLI runs this app, and the cdktn engine's CLI is `cdktn`/);
    // No CLI above a test: nothing to refuse.
    expect(invokingCli()).toBeUndefined();
  });

  (existsSync("/proc/self/cmdline") ? test : test.skip)("the synth app run by the cdktn CLI on the cdktf engine stops before synthesizing, in one line", () => {
    // given: a stand-in for the CLI, named like it, that runs cdktf.json's app as the CLI does
    const cli = join(work, "bin", "cdktn");
    mkdirSync(join(work, "bin"), { recursive: true });
    writeFileSync(cli, `process.exit(require("node:child_process").spawnSync(process.execPath, [${JSON.stringify(app)}], { stdio: "inherit" }).status ?? 1);`);
    // when: CDK_ENGINE unset, so the app is cdktf's
    const run = node([cli], {});
    // then
    expect(run.status).toBe(1);
    expect(run.stderr.trim().split("\n")).toEqual([
      expect.stringMatching(
        /^error: Invalid setting CDK_ENGINE = "": the `cdktn` CLI runs this app, and the cdktf engine's CLI is `cdktf`\. Allowed: CDK_ENGINE=cdktn with `cdktn`/,
      ),
    ]);
  });

  test("the launcher names the engine; cdktn's CLI on a Node.js older than its 22.19 is refused in one line", () => {
    expect(node(["scripts/engine.cjs"], {}).stdout).toMatch(/^engine cdktf: library cdktf 0\.21\.0, CLI `cdktf` \(cdktf-cli\)/);
    expect(node(["scripts/engine.cjs"], { CDK_ENGINE: "cdktn" }).stdout).toMatch(/^engine cdktn: library cdktn 0\.24\.0, CLI `cdktn` \(cdktn-cli\)/);
    expect(cliNodeProblem({ package: "cdktn-cli" }, "20.20.2")).toMatch(/^cdktn-cli needs Node\.js 22\.19\.0 or newer, and this is 20\.20\.2/);
    expect(["22.18.9", "22.19.0", "23.1.0", "24.0.0"].map((v) => cliNodeProblem({ package: "cdktn-cli" }, v) === undefined)).toEqual([false, true, true, true]);
    // The CLI's own options go after `--` (`npm run cdk -- -- --version`): before it, they are the launcher's.
    const version = node(["scripts/engine.cjs", "--", "--version"], { CDK_ENGINE: "cdktn", CHECKPOINT_DISABLE: "1" });
    if (cliNodeProblem(cliOf(ENGINES.cdktn))) {
      expect([version.status, version.stderr.trim().split("\n")]).toEqual([1, [expect.stringMatching(/^error: cdktn-cli needs Node\.js 22\.19\.0 or newer/)]]);
    } else {
      expect([version.status, version.stdout]).toEqual([0, expect.stringMatching(/^0\.24\.0$/m)]);
    }
  });
});
