/**
 * dev's emulator lifecycle once on the cdktn engine (docs/engines.md): the steps of
 * __tests__/integration/lifecycle.emulator.test.ts (the previous main's dev, which cdktf synthesized, deployed and
 * upgraded; the placeholder deployed; a release; a re-plan; destroy) with every stack synthesized by
 * cdktn. Two cross-checks run cdktf 0.21's synth of the same stack over the same state: the upgrade must
 * plan exactly the changes cdktn plans, and after the release nothing must change but the emulator's
 * known gaps. The state, the addresses and the resources carry over between the engines, both ways.
 *
 * Needs terraform and moto; set SKIP_EMULATOR_TESTS=1 to skip this file deliberately.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { App } from "cdktf";
import { BACKGROUND_NICENESS, describeResult, LifecycleResult, runLifecycle, StepResult, TerraformWorkspace, type Step } from "../../emulator/lifecycle";
import { checkEmulatorInstalled } from "../../emulator/server";
import { apiLifecycle, RELEASE_TAG, UPGRADE_BASELINES } from "../../emulator/lifecycles";
import { terraformVersion } from "../../scripts/offline-plan";
import { dev } from "../../environments/environments";
import { parseSettings } from "../../lib/settings/environment/schema";
import type { EnvironmentSettings, RunOptions } from "../../lib/settings/environment/settings";
import { emulatorTarget } from "../../emulator/mode";

// Every `cdktf` import, this file's, the lifecycle's, the stacks' and the provider bindings', loads cdktn.
jest.mock("cdktf", () => jest.requireActual("cdktn"));
// jest.config.js's stand-in for the token stack-trace module, with the name cdktn calls (see engines.test.ts).
jest.mock("../support/no-stack-trace", () => ({ captureStackTrace: () => [], captureCreationStack: () => [] }));

const skip = ["1", "true"].includes(process.env.SKIP_EMULATOR_TESTS ?? "");
const workDir = resolve(".emulator", "jest-cdktn");
let result: LifecycleResult;
/** The library version in the metadata of each stack the lifecycle ran, by step. */
const versions: Record<string, string> = {};

/** dev as cdktf 0.21 synthesizes it, in a module registry of its own where `cdktf` is cdktf. */
function cdktfJson(settings: EnvironmentSettings, options: RunOptions): { "//": { metadata: { version: string } } } {
  const outdir = mkdtempSync(join(tmpdir(), "engine-lifecycle-cdktf-"));
  try {
    jest.dontMock("cdktf");
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded afresh in this registry, on this engine
      const { App: CdktfApp } = require("cdktf") as typeof import("cdktf");
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded afresh in this registry, on this engine
      const { ApiStack } = require("../../stacks/api-stack") as typeof import("../../stacks/api-stack");
      const app = new CdktfApp({ outdir, stackTraces: false });
      new ApiStack(app, dev.name, settings, options);
      app.synth();
    });
    return JSON.parse(readFileSync(join(outdir, "stacks", dev.name, "cdk.tf.json"), "utf8"));
  } finally {
    jest.doMock("cdktf", () => jest.requireActual("cdktn"));
    rmSync(outdir, { recursive: true, force: true });
  }
}

function step(name: string): StepResult {
  const found = result.steps.find((s) => s.name.startsWith(name));
  if (!found) throw new Error(`step "${name}" did not run:\n${describeResult(result)}`);
  return found;
}

(skip ? describe.skip : describe)("dev's emulator lifecycle on cdktn", () => {
  const CROSS_UPGRADE = "cdktf 0.21 plans the same upgrade";
  const CROSS_CHECK = "cdktf 0.21 plans the same release over the state cdktn deployed";

  beforeAll(
    async () => {
      terraformVersion(); // each throws a message naming what is missing and how to install it
      checkEmulatorInstalled();
      mkdirSync(workDir, { recursive: true });
      const spec = apiLifecycle(dev);
      const upgrade = spec.steps.find((s) => s.name.startsWith("upgrade: plan this code"))!;
      const release = spec.steps.find((s) => s.name.startsWith("release"))!;
      const planAgain = spec.steps.find((s) => s.name.startsWith("plan again"))!;
      // Which library wrote each stack the steps run: read back from the stack the step built.
      const recorded = (s: Step): Step =>
        s.stack
          ? {
              ...s,
              stack: async (app: App, ctx) => {
                const stack = await s.stack!(app, ctx);
                // What the stack writes as its metadata's version: the App's context, set by the library.
                versions[s.name] = stack.node.tryGetContext("cdktfVersion");
                return stack;
              },
            }
          : s;
      // The previous main's state, planned with the settings its team kept (see apiLifecycle), on cdktf.
      const crossUpgrade: Step = {
        name: `${CROSS_UPGRADE} over the previous main's state`,
        action: "upgrade-plan",
        terraformJson: ({ url }) => {
          const json = cdktfJson(UPGRADE_BASELINES.dev.settings, { target: emulatorTarget(url) });
          versions[CROSS_UPGRADE] = json["//"].metadata.version;
          return json;
        },
      };
      const crossCheck: Step = {
        name: `${CROSS_CHECK}: no change but the emulator's known gaps`,
        action: "replan",
        terraformJson: ({ url }) => {
          const json = cdktfJson(dev, { target: emulatorTarget(url), imageTag: RELEASE_TAG });
          versions[CROSS_CHECK] = json["//"].metadata.version;
          return json;
        },
      };
      const steps = spec.steps.flatMap((s): Step[] => {
        if (s === upgrade) return [recorded(s), crossUpgrade];
        if (s === release) return [recorded(s), crossCheck];
        // Back on cdktn for the re-plan (and the destroy after it): the release's stack again.
        if (s === planAgain) return [recorded({ ...s, stack: release.stack })];
        return [recorded(s)];
      });
      const started = Date.now();
      result = await runLifecycle({ ...spec, name: dev.name, steps }, new TerraformWorkspace(workDir), {
        niceness: BACKGROUND_NICENESS, // beside the lifecycle test: see runLifecycles
      });
      console.log(`${describeResult(result)}\non cdktn: ${((Date.now() - started) / 1000).toFixed(0)} s`);
    },
    20 * 60 * 1000,
  );

  test("every step did what it must", () => {
    expect(result.steps.filter((s) => s.error && s.action !== "refused-destroy").map((s) => `${s.name}: ${s.error}`)).toEqual([]);
    expect(result.ok).toBe(true);
  });

  test("every stack the lifecycle built was cdktn's, and the cross-checks' were cdktf's", () => {
    const crossChecks = [CROSS_UPGRADE, CROSS_CHECK];
    const built = result.steps
      .filter((s) => versions[s.name] !== undefined && !crossChecks.some((c) => s.name.startsWith(c)))
      .map((s) => [s.name, versions[s.name]]);
    expect(built.length).toBeGreaterThanOrEqual(4); // the upgrade plan, the placeholder, the release, the re-plan
    expect(built).toEqual(built.map(([name]) => [name, "0.24.0"]));
    expect(crossChecks.map((c) => versions[c])).toEqual(["0.21.0", "0.21.0"]);
  });

  test(`cdktn plans the upgrade from the previous main's dev (${UPGRADE_BASELINES.dev.commit}, which cdktf deployed) exactly as cdktf 0.21 does, deleting and replacing nothing but for the emulator's known gaps`, () => {
    // What the upgrade may change is docs/upgrading.md's notes, asserted by lifecycle.emulator.test.ts; here, that both engines plan the same.
    expect(step("deploy the previous main").error).toBeUndefined();
    const [cdktn, cdktf] = [step("upgrade: plan this code"), step(CROSS_UPGRADE)];
    expect([cdktn.unexpected, cdktf.unexpected]).toEqual([[], []]);
    expect(cdktn.changes!.length).toBeGreaterThan(0);
    expect(cdktn.changes).toEqual(cdktf.changes);
  });

  test("the first deploy's outputs resolve, and the release runs the repository's image in a new task definition revision", () => {
    const deployed = step("deploy with the placeholder image");
    // dev's outputs, from its settings: the database's and the budget's where it has them.
    const config = parseSettings(dev);
    const expected = ["AlarmTopicArn", "ClusterName", "LogGroupName", "RepositoryUrl", "ServiceName", "ServiceUrl"];
    if (config.database.enabled) expected.push("DatabaseEndpoint", "DatabaseSecretArn");
    if (config.budget.enabled) expected.push("BudgetName");
    if (!config.alarms.enabled) expected.splice(expected.indexOf("AlarmTopicArn"), 1);
    expect(Object.keys(deployed.outputs!).sort()).toEqual(expected.sort());
    const before = deployed.observed as { service: { taskDefinition?: string } };
    const after = step("release").observed as { image?: string; repository: { uri?: string }; service: { taskDefinition?: string } };
    expect(after.image).toBe(`${after.repository.uri}:${RELEASE_TAG}`);
    const revision = (arn?: string) => Number(arn?.split(":").pop());
    expect(revision(after.service.taskDefinition)).toBeGreaterThan(revision(before.service.taskDefinition));
  });

  test("cdktf's synth of the release plans no change over cdktn's state, nor does cdktn's again", () => {
    expect(step(CROSS_CHECK).unexpected).toEqual([]);
    expect(step("plan again").unexpected).toEqual([]);
  });

  test("destroy leaves nothing behind", () => {
    expect(step("destroy: nothing left").leftovers).toEqual([]);
  });
});
