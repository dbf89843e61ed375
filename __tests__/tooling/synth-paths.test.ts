/**
 * One path: whatever runs synth, the stacks are the same. The tests synthesize in-process (jest's
 * transform, `helpers.synth`); `npm run synth`, `cdktf deploy` and the offline plan run the synth app's
 * bundle (scripts/synth.cjs); the emulator lifecycle, the cost and the game day run the sources under
 * tsx. Every one of them builds its stacks with `ApiStack`, through `addEnvironmentStacks` where it is
 * an app of environments, so what can differ is the runtime: a bundle (with the engine's alias and its
 * stand-in for the token stack traces) against modules loaded one by one.
 *
 * This holds them equal for every environment and example variant, on both engines, with each run mode
 * a user has: a deploy (no switch), the offline plan (OFFLINE=1) and the emulator (AWS_EMULATOR_URL).
 * The bundle is built by the synth app's own build options, of an entry that is main.ts's app with the
 * variants added (__tests__/support/synth-entry.ts); main.ts itself, through every entry a user runs,
 * is held to a synth from nothing by synth-fresh.test.ts and to the in-process stacks by synth-app.test.ts.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { build } from "esbuild";
import { environments } from "../../environments/environments";
import { runOptionsFromEnv } from "../../lib/settings/environment/settings";
import { examples, planOnlyExamples } from "../support/variants";
import { installedEngines } from "../../scripts/engine.cjs";
import { esbuildOptions } from "../../scripts/synth.cjs";
import { synth, withoutMetadata, withoutSynthVariables } from "../support/helpers";

const ALL = [...environments, ...examples, ...planOnlyExamples];
const MODES: Record<string, NodeJS.ProcessEnv> = {
  deploy: {},
  offline: { OFFLINE: "1" },
  emulator: { AWS_EMULATOR_URL: "http://127.0.0.1:4566" },
};
const work = mkdtempSync(join(tmpdir(), "synth-paths-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const clean = withoutSynthVariables();

const bundled: Record<string, Record<string, Record<string, unknown>>> = {};

beforeAll(async () => {
  for (const engine of installedEngines()) {
    const bundle = join(work, `${engine.build}.js`);
    await build(esbuildOptions(engine, resolve("__tests__", "support", "synth-entry.ts"), bundle));
    for (const [mode, switches] of Object.entries(MODES)) {
      const outdir = join(work, `${engine.name}-${mode}`);
      const run = spawnSync(process.execPath, [bundle], { cwd: work, env: { ...clean, ...switches, CDKTF_OUTDIR: outdir }, encoding: "utf8" });
      if (run.status !== 0) throw new Error(`the ${engine.name} bundle failed in ${mode} mode:\n${run.stderr}`);
      const stacks = join(outdir, "stacks");
      bundled[`${engine.name} ${mode}`] = Object.fromEntries(
        readdirSync(stacks).map((name) => [
          name,
          withoutMetadata(JSON.parse(readFileSync(join(stacks, name, "cdk.tf.json"), "utf8"))) as Record<string, unknown>,
        ]),
      );
    }
  }
}, 120_000);

const cases = installedEngines().flatMap((engine) => Object.keys(MODES).map((mode) => [`${engine.name} ${mode}`, mode] as const));

test.each(cases)("%s: every environment and variant, bundled as the synth app bundles, is what the tests synthesize in-process", (key, mode) => {
  const stacks = bundled[key];
  expect(Object.keys(stacks).sort()).toEqual(ALL.map((settings) => settings.name).sort());
  for (const settings of ALL) {
    expect([settings.name, stacks[settings.name]]).toEqual([settings.name, withoutMetadata(synth(settings, runOptionsFromEnv(MODES[mode])))]);
  }
});
