import { resolve } from "node:path";
import { writeFileSync } from "node:fs";
import { describeResult, runLifecycle, TerraformWorkspace } from "../scripts/lifecycle";
import { apiLifecycle } from "../scripts/emulator/lifecycles";
import { examples } from "../__tests__/examples";
void (async () => {
  const settings = examples.find((e) => e.name === (process.argv[2] ?? "dev-workers"))!;
  const result = await runLifecycle(apiLifecycle(settings), new TerraformWorkspace(resolve(".emulator", "lifecycle-23")));
  console.log(describeResult(result));
  writeFileSync(".tmp23/lifecycle-result.json", JSON.stringify(result, null, 1));
  process.exit(result.ok ? 0 : 1);
})();
