/**
 * `npm run docs`: the README's generated parts, rewritten from the code: the settings table (from the
 * settings' doc comments, scripts/settings-table.ts) and the cost table (from `npm run cost`). Tests fail
 * when either is stale, showing the lines that differ. Run it after changing a setting or an environment.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { costTable, estimates, readmeWithCostTable } from "./cost";
import { readmeWithTable } from "./settings-table";

void (async () => {
  const file = join(__dirname, "..", "README.md");
  const before = readFileSync(file, "utf8");
  const after = readmeWithCostTable(readmeWithTable(before), costTable(await estimates()));
  writeFileSync(file, after);
  console.log(before === after ? "README.md: generated tables up to date" : "README.md: generated tables rewritten (settings, cost)");
})();
