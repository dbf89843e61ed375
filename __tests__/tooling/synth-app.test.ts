/**
 * The synth app (`scripts/synth.cjs`, what `npm run synth` and every cdktf command run): a bundle of
 * main.ts with cdktf and the provider classes inside, rebuilt only when an input changed.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { environments } from "../../environments/environments";
import { synth, withoutMetadata, withoutSynthVariables } from "../support/helpers";

const app = resolve("scripts", "synth.cjs");
const manifest = resolve(".build", "main.inputs.json");
const bundle = resolve(".build", "main.js");
// A folder with no releases/ of its own, so the output is each environment's unreleased stack.
const cwd = mkdtempSync(join(tmpdir(), "synth-app-"));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

const clean = withoutSynthVariables();
function runApp(env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [app], { cwd, env: { ...clean, ...env }, encoding: "utf8" });
}
function written(name: string) {
  return withoutMetadata(JSON.parse(readFileSync(join(cwd, "cdktf.out", "stacks", name, "cdk.tf.json"), "utf8")));
}

test("given an input that changed since the last build, the app rebuilds the bundle and writes what the stacks build in-process", () => {
  // given: the manifest says main.ts looked different at the last build
  mkdirSync(resolve(".build"), { recursive: true });
  const inputs = existsSync(manifest) ? JSON.parse(readFileSync(manifest, "utf8")) : {};
  writeFileSync(manifest, JSON.stringify({ ...inputs, "main.ts": "0:0" }));
  const before = statSync(bundle, { throwIfNoEntry: false })?.mtimeMs ?? 0;
  // when
  const run = runApp();
  // then
  expect(run.status).toBe(0);
  expect(statSync(bundle).mtimeMs).toBeGreaterThan(before);
  for (const settings of environments) {
    expect([settings.name, written(settings.name)]).toEqual([settings.name, withoutMetadata(synth(settings))]);
  }
});

test("given a build from any working directory, the manifest names each input from the project's root", () => {
  // given: a build run from a folder outside the project (CI's checkout sat deeper than the temp folder,
  // and inputs recorded relative to the cwd resolved to paths that do not exist)
  writeFileSync(manifest, JSON.stringify({ "main.ts": "0:0" }));
  // when
  expect(runApp().status).toBe(0);
  // then
  const inputs = Object.keys(JSON.parse(readFileSync(manifest, "utf8")));
  expect(inputs).toEqual(expect.arrayContaining(["main.ts", join("scripts", "synth.cjs"), join(".build", "main.js")]));
  expect(inputs.filter((file) => isAbsolute(file) || file.startsWith("..") || !existsSync(resolve(file)))).toEqual([]);
});

test("given a current bundle, the app runs it without building", () => {
  // Piped: the synth app's warnings are for a person at a terminal, not for the test's output.
  execFileSync(process.execPath, [app], { cwd, env: clean, stdio: "pipe" });
  const before = statSync(bundle).mtimeMs;
  expect(runApp().status).toBe(0);
  expect(statSync(bundle).mtimeMs).toBe(before);
});

test("a bad setting prints one line naming it, no stack trace, and exits 1", () => {
  const run = runApp({ IMAGE_TAG: "bad tag!" });
  expect(run.status).toBe(1);
  expect(run.stderr.trim().split("\n")).toEqual([expect.stringMatching(/^error: Invalid setting IMAGE_TAG = "bad tag!": .* Allowed: /)]);
});
