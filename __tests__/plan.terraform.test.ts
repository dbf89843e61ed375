/**
 * The offline proof: every environment (and every example variant) is synthesized in offline mode,
 * then `terraform init`, `validate` and `plan` run with no credentials and no network.
 * Set SKIP_TERRAFORM_TESTS=1 to skip this file where terraform is not installed.
 */
import { mkdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { App } from "cdktf";
import { offlineTerraformEnv, planStacks, PlanResult, stackDirs, terraformVersion } from "../scripts/offline-plan";
import { ApiStack } from "../stacks/api-stack";
import { environments } from "../stacks/environments";
import { EXPECTED_CREATES, examples, planOnlyExamples } from "./examples";

const skip = ["1", "true"].includes(process.env.SKIP_TERRAFORM_TESTS ?? "");
const all = [...environments, ...examples, ...planOnlyExamples];

(skip ? describe.skip : describe)("offline terraform validate + plan", () => {
  const results = new Map<string, PlanResult>();

  beforeAll(
    () => {
      terraformVersion(); // throws a clear error when terraform is missing
      const work = resolve(".offline", "jest");
      const outdir = join(work, "cdktf.out");
      rmSync(outdir, { recursive: true, force: true });
      mkdirSync(outdir, { recursive: true });
      const app = new App({ outdir });
      for (const settings of all) new ApiStack(app, settings.name, settings, { offline: true });
      app.synth();
      for (const result of planStacks(stackDirs(outdir), offlineTerraformEnv(work))) results.set(result.stack, result);
    },
    15 * 60 * 1000,
  );

  test.each(all.map((s) => s.name))("%s is valid and plans only creations, of the expected resources", (name) => {
    const result = results.get(name)!;
    expect(result.otherActions).toEqual([]);
    expect(result.creates).toEqual(EXPECTED_CREATES[name]);
  });
});
