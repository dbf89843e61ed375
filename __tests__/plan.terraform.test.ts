/**
 * The offline proof: every environment (and every example variant) is synthesized in offline mode,
 * then `terraform init`, `validate` and `plan` run with no credentials and no network.
 * The same stacks as `cdktf synth --hcl` writes them (HCL, cdk.tf) must validate and plan the same.
 * Set SKIP_TERRAFORM_TESTS=1 to skip this file where terraform is not installed.
 */
import { mkdirSync, readFileSync, rmSync } from "node:fs";
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
  const hclResults = new Map<string, PlanResult>();

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

      // The same stacks as `cdktf synth --hcl` writes them: cdktf's switch is this variable.
      const hclOutdir = join(work, "cdktf.out.hcl");
      rmSync(hclOutdir, { recursive: true, force: true });
      mkdirSync(hclOutdir, { recursive: true });
      process.env.SYNTH_HCL_OUTPUT = "true";
      try {
        const hclApp = new App({ outdir: hclOutdir });
        for (const settings of all) new ApiStack(hclApp, settings.name, settings, { offline: true });
        hclApp.synth();
      } finally {
        delete process.env.SYNTH_HCL_OUTPUT;
      }
      for (const result of planStacks(stackDirs(hclOutdir), offlineTerraformEnv(work))) hclResults.set(result.stack, result);
    },
    20 * 60 * 1000,
  );

  test.each(all.map((s) => s.name))("%s is valid and plans only creations, of the expected resources", (name) => {
    const result = results.get(name)!;
    expect(result.otherActions).toEqual([]);
    expect(result.creates).toEqual(EXPECTED_CREATES[name]);
  });

  test.each(all.map((s) => s.name))("%s as `cdktf synth --hcl` writes it (cdk.tf) is valid and plans the same resources and values as cdk.tf.json", (name) => {
    const json = results.get(name)!;
    const hcl = hclResults.get(name)!;
    expect(readFileSync(join(".offline", "jest", "cdktf.out.hcl", "stacks", name, "cdk.tf"), "utf8")).toMatch(/^resource "aws_ecs_task_definition"/m);
    expect(hcl.otherActions).toEqual([]);
    expect(Object.keys(hcl.planned).sort()).toEqual(Object.keys(json.planned).sort());
    expect(hcl.planned).toEqual(json.planned);
  });
});
